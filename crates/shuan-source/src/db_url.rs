//! Database URLs without their secrets, for display and errors.

/// Removes the password from a URL (`scheme://user:pass@host` → `scheme://user@host`) and
/// the value of any `password=`/`pass=`/`pwd=` query parameter. Works on malformed URLs
/// too: everything between `://` and the last `@` before the path is treated as user info.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..rest_start]);
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            out.push_str(user);
            out.push_str(&authority[at..]);
        }
        None => out.push_str(authority),
    }
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
    fn identifiers_are_quoted() {
        assert_eq!(quote_double("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_backtick("户籍`人口"), "`户籍``人口`");
    }
}
