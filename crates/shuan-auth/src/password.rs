//! The password policy, argon2id hashes and one-time passwords.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use zeroize::Zeroizing;

/// Why a password is refused, or could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than the policy's minimum.
    #[error("密码至少需要{0}个字符 (the password must have at least {0} characters)")]
    TooShort(usize),
    /// Too few character classes.
    #[error(
        "密码需包含大写字母、小写字母、数字、符号中的至少{0}类 (use at least {0} of: upper case, \
         lower case, digits, symbols)"
    )]
    TooFewClasses(usize),
    /// Contains the account name.
    #[error("密码不能包含用户名 (the password must not contain the user name)")]
    ContainsUsername,
    /// A well-known weak password or pattern.
    #[error("密码过于常见，容易被猜中 (the password is a common one and easily guessed)")]
    Common,
    /// One of the account's recent passwords.
    #[error("不能使用最近{0}次用过的密码 (the password was one of the last {0})")]
    Reused(usize),
    /// The hasher failed (the system random generator, memory).
    #[error("the password could not be hashed: {0}")]
    Hashing(String),
}

/// The password rules a security administrator sets. The defaults follow common
/// Chinese government practice: 12 characters, three classes, five remembered, 90 days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Minimum length in characters.
    pub min_length: usize,
    /// How many of the four classes (upper, lower, digit, symbol) must appear.
    pub min_classes: usize,
    /// How many previous passwords may not be reused.
    pub history: usize,
    /// Days until a password must be changed (0: never).
    pub max_age_days: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 12,
            min_classes: 3,
            history: 5,
            max_age_days: 90,
        }
    }
}

/// Passwords and fragments found in every leaked-password list; a password made of one of
/// these plus digits or symbols is refused too.
const COMMON: &[&str] = &[
    "password", "passw0rd", "123456", "12345678", "qwerty", "admin", "welcome", "abc123", "111111",
    "iloveyou", "123qwe", "qwe123", "1q2w3e", "woaini", "aa123456", "zxcvbn",
];

impl PasswordPolicy {
    /// Checks `password` for `username` against the rules and the account's recent
    /// password hashes (`history`, newest first; only the first [`Self::history`] count).
    pub fn check(
        &self,
        username: &str,
        password: &str,
        history: &[String],
    ) -> Result<(), PasswordError> {
        if password.chars().count() < self.min_length {
            return Err(PasswordError::TooShort(self.min_length));
        }
        let classes = [
            password.chars().any(|c| c.is_uppercase()),
            password.chars().any(|c| c.is_lowercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_alphanumeric()),
        ]
        .iter()
        .filter(|&&b| b)
        .count();
        if classes < self.min_classes {
            return Err(PasswordError::TooFewClasses(self.min_classes));
        }
        let lower = password.to_lowercase();
        if !username.is_empty() && lower.contains(&username.to_lowercase()) {
            return Err(PasswordError::ContainsUsername);
        }
        let letters: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
        let digits: String = lower.chars().filter(|c| c.is_ascii_digit()).collect();
        if COMMON.iter().any(|w| {
            letters == *w
                || digits == *w
                || lower.trim_end_matches(|c: char| !c.is_alphabetic()) == *w
        }) {
            return Err(PasswordError::Common);
        }
        if history
            .iter()
            .take(self.history)
            .any(|h| verify_password(password, h))
        {
            return Err(PasswordError::Reused(self.history));
        }
        Ok(())
    }
}

/// An argon2id hash of `password` in PHC string form (`$argon2id$v=19$…`), with a random
/// salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (constant-time in argon2). A hash that
/// does not parse matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A random one-time password for a new account (shown once; it only allows changing the
/// password and enrolling TOTP): 16 characters from an alphabet without look-alikes,
/// with every class present so that the default policy would accept it.
pub fn one_time_password() -> Result<Zeroizing<String>, PasswordError> {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"#%+=@";
    const LEN: usize = 16;
    loop {
        let mut bytes = Zeroizing::new([0u8; LEN]);
        getrandom::fill(bytes.as_mut()).map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let mut out = Zeroizing::new(String::with_capacity(LEN));
        for (i, b) in bytes.iter().enumerate() {
            // Rejection-free enough: the class per position rotates, the byte picks within it.
            let set = match i % 4 {
                0 => UPPER,
                1 => LOWER,
                2 => DIGIT,
                _ => SYMBOL,
            };
            out.push(char::from(set[usize::from(*b) % set.len()]));
        }
        if PasswordPolicy::default().check("", &out, &[]).is_ok() {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_refuses_weak_passwords_with_a_reason() {
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check("zhang", "Short1!", &[]),
            Err(PasswordError::TooShort(12))
        );
        assert_eq!(
            p.check("zhang", "alllowercaseletters", &[]),
            Err(PasswordError::TooFewClasses(3))
        );
        assert_eq!(
            p.check("zhangsan", "Xx-zhangsan-2026", &[]),
            Err(PasswordError::ContainsUsername)
        );
        assert_eq!(
            p.check("li", "Password123456!", &[]),
            Err(PasswordError::Common)
        );
        assert!(p.check("li", "Rk7#tV9q!mW2pz", &[]).is_ok());
    }

    #[test]
    fn hashes_verify_only_their_password_and_history_is_enforced() {
        let h = hash_password("Rk7#tV9q!mW2pz").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("Rk7#tV9q!mW2pz", &h));
        assert!(!verify_password("Rk7#tV9q!mW2pZ", &h));
        assert!(!verify_password("Rk7#tV9q!mW2pz", "not a hash"));
        let p = PasswordPolicy::default();
        assert_eq!(
            p.check("li", "Rk7#tV9q!mW2pz", std::slice::from_ref(&h)),
            Err(PasswordError::Reused(5))
        );
        // Two hashes of one password differ (random salt).
        assert_ne!(h, hash_password("Rk7#tV9q!mW2pz").unwrap());
    }

    #[test]
    fn one_time_passwords_are_random_and_meet_the_policy() {
        let a = one_time_password().unwrap();
        let b = one_time_password().unwrap();
        assert_ne!(*a, *b);
        assert_eq!(a.chars().count(), 16);
        assert!(PasswordPolicy::default().check("sysadmin", &a, &[]).is_ok());
    }
}
