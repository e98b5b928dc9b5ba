//! Database URLs without their secrets, for display and errors.

/// Removes the password from a URL (`scheme://user:pass@host` → `scheme://user@host`) and
/// the value of any `password=`/`pass=`/`pwd=` query parameter. Works on malformed URLs
/// too: users often paste passwords without percent-encoding, and such a password may
/// hold `@`, `/`, `?` or `#` (`mysql://root:p@ss/w?rd@host/db`). So when a `:` follows
/// the user name and an `@` comes later, everything up to the last `@` of the URL is
/// taken as user info; this may hide more than the password (never less).
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..rest_start]);
    let user_end = rest.find([':', '@', '/', '?', '#']).unwrap_or(rest.len());
    let password_at = match (rest[user_end..].starts_with(':'), rest.rfind('@')) {
        (true, Some(at)) if at > user_end => Some(at),
        _ => None,
    };
    let host_start = match password_at {
        Some(at) => {
            out.push_str(&rest[..user_end]);
            at
        }
        None => 0,
    };
    let authority_end = host_start
        + rest[host_start..]
            .find(['/', '?', '#'])
            .unwrap_or(rest.len() - host_start);
    out.push_str(&rest[host_start..authority_end]);
    let tail = &rest[authority_end..];
    match tail.find('?') {
        Some(q) => {
            out.push_str(&tail[..q + 1]);
            let query = &tail[q + 1..];
            let (query, fragment) = match query.find('#') {
                Some(h) => (&query[..h], &query[h..]),
                None => (query, ""),
            };
            let parts: Vec<String> = query
                .split('&')
                .map(|pair| {
                    let key = pair.split('=').next().unwrap_or("");
                    let secret = ["password", "pass", "pwd", "passwd", "sslpassword"]
                        .iter()
                        .any(|k| key.eq_ignore_ascii_case(k));
                    if secret {
                        format!("{key}=***")
                    } else {
                        pair.to_string()
                    }
                })
                .collect();
            out.push_str(&parts.join("&"));
            out.push_str(fragment);
        }
        None => out.push_str(tail),
    }
    out
}

/// Quotes an identifier for PostgreSQL/SQLite (`"a""b"`).
pub(crate) fn quote_double(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// Quotes an identifier for MySQL (`` `a``b` ``).
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn quote_backtick(identifier: &str) -> String {
    format!("`{}`", identifier.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_removed() {
        assert_eq!(
            redact_url("postgres://alice:s3cr%40t@db.example:5432/hr"),
            "postgres://alice@db.example:5432/hr"
        );
        assert_eq!(
            redact_url("mysql://root:p@ss@127.0.0.1:3306/test"),
            "mysql://root@127.0.0.1:3306/test"
        );
        assert_eq!(
            redact_url("postgres://db/x?user=a&password=hunter2&sslmode=disable"),
            "postgres://db/x?user=a&password=***&sslmode=disable"
        );
        assert_eq!(
            redact_url("mysql://root@127.0.0.1/test"),
            "mysql://root@127.0.0.1/test"
        );
        assert_eq!(redact_url("/data/a.csv"), "/data/a.csv");
        assert!(!redact_url("postgres://u:topsecret@h").contains("topsecret"));
    }

    #[test]
    fn unencoded_passwords_with_url_delimiters_are_removed() {
        // Regression: the user info used to end at the first '/', '?' or '#', so the part
        // of such a password after it was printed in errors.
        for (url, secret) in [
            ("mysql://root:p@ss/word@127.0.0.1:3306/test", "word"),
            ("postgres://u:pa?ss@h/db", "ss"),
            ("postgres://u:pa#ss@h/db", "ss"),
            ("postgres://u:a/b?c#d@h:5432/db", "b?c#d"),
        ] {
            let shown = redact_url(url);
            assert!(!shown.contains(secret), "{url} shown as {shown}");
            assert!(
                shown.starts_with("postgres://u@") || shown.starts_with("mysql://root@"),
                "{shown}"
            );
        }
        assert_eq!(
            redact_url("mysql://root:p@ss/word@127.0.0.1:3306/test"),
            "mysql://root@127.0.0.1:3306/test"
        );
        // No password: an '@' in the path or query is left alone.
        assert_eq!(
            redact_url("postgres://db/x?user=a@b"),
            "postgres://db/x?user=a@b"
        );
        assert_eq!(redact_url("postgres://h:5432/db"), "postgres://h:5432/db");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_double("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_backtick("户籍`人口"), "`户籍``人口`");
    }
}
