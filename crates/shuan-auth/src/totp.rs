//! TOTP second factors (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps — what every
//! authenticator app uses), with a one-step clock tolerance and replay refusal.

use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

/// Why a TOTP code is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// Not the code of this step or a neighbour.
    #[error("动态口令错误 (the one-time code is wrong)")]
    Wrong,
    /// The code of a step already used (or older).
    #[error(
        "动态口令已使用过，请等待下一个 (this one-time code was already used; wait for the next)"
    )]
    Replayed,
    /// The secret is unusable or the random generator failed.
    #[error("TOTP secret unusable: {0}")]
    Secret(String),
}

/// Seconds per step.
const STEP: u64 = 30;

/// A TOTP secret (20 random bytes). Its `Debug` shows nothing of it.
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

impl TotpSecret {
    /// A new random secret.
    pub fn generate() -> Result<TotpSecret, TotpError> {
        let mut b = Zeroizing::new(vec![0u8; 20]);
        getrandom::fill(&mut b).map_err(|e| TotpError::Secret(e.to_string()))?;
        Ok(TotpSecret(b))
    }

    /// A secret from its bytes (as stored, decrypted by the keyring).
    pub fn from_bytes(bytes: &[u8]) -> TotpSecret {
        TotpSecret(Zeroizing::new(bytes.to_vec()))
    }

    /// The bytes, to be encrypted before they are stored.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, digits: usize) -> Result<TOTP, TotpError> {
        TOTP::new(Algorithm::SHA1, digits, 1, STEP, self.0.to_vec())
            .map_err(|e| TotpError::Secret(e.to_string()))
    }

    /// The code for `unix_time` (seconds).
    pub fn code_at(&self, unix_time: u64) -> Result<String, TotpError> {
        Ok(self.totp(6)?.generate(unix_time))
    }

    /// Checks `code` at `unix_time`, accepting the previous, current and next step. A
    /// step at or before `last_used_step` (the account's last accepted step) is refused
    /// as a replay. Returns the step to remember as the new last used one.
    pub fn verify(
        &self,
        code: &str,
        unix_time: u64,
        last_used_step: Option<u64>,
    ) -> Result<u64, TotpError> {
        let totp = self.totp(6)?;
        let now = unix_time / STEP;
        let mut matched = None;
        for step in [now.saturating_sub(1), now, now + 1] {
            let expected = totp.generate(step * STEP);
            // Constant-time comparison of equal-length ASCII digits.
            let same = expected.len() == code.len()
                && expected
                    .bytes()
                    .zip(code.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0;
            if same {
                matched = Some(step);
            }
        }
        let step = matched.ok_or(TotpError::Wrong)?;
        if last_used_step.is_some_and(|last| step <= last) {
            return Err(TotpError::Replayed);
        }
        Ok(step)
    }

    /// The `otpauth://` URI an authenticator app scans (as a QR code), naming the issuer
    /// and the account.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        // The encoded form displays as its base32 text (RFC 4648, no padding).
        let secret = Zeroizing::new(
            totp_rs::Secret::Raw(self.0.to_vec())
                .to_encoded()
                .to_string(),
        );
        let (issuer, account) = (urlencoding::encode(issuer), urlencoding::encode(account));
        format!(
            "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits=6&period={STEP}",
            secret.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (secret "12345678901234567890", 8 digits).
    #[test]
    fn rfc6238_vectors() {
        let s = TotpSecret::from_bytes(b"12345678901234567890");
        let t = s.totp(8).unwrap();
        for (time, code) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(t.generate(time), code, "t = {time}");
        }
    }

    #[test]
    fn codes_verify_within_one_step_and_are_not_replayed() {
        let s = TotpSecret::generate().unwrap();
        let t = 1_800_000_000u64;
        let code = s.code_at(t).unwrap();
        let step = s.verify(&code, t, None).unwrap();
        assert_eq!(step, t / 30);
        assert_eq!(s.verify(&code, t, Some(step)), Err(TotpError::Replayed));
        // A clock 30 s behind or ahead still works, 90 s does not.
        assert!(s.verify(&code, t + 30, None).is_ok());
        assert!(s.verify(&code, t - 30, None).is_ok());
        assert_eq!(s.verify(&code, t + 90, None), Err(TotpError::Wrong));
        assert_eq!(s.verify("12345", t, None), Err(TotpError::Wrong));
        assert_eq!(format!("{s:?}"), "TotpSecret(…)");
    }

    #[test]
    fn the_uri_names_issuer_account_and_base32_secret() {
        let s = TotpSecret::from_bytes(b"12345678901234567890");
        let uri = s.otpauth_uri("数安 shuan", "zhang.san");
        assert!(
            uri.starts_with("otpauth://totp/%E6%95%B0%E5%AE%89%20shuan:zhang.san?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&"),
            "{uri}"
        );
    }
}
