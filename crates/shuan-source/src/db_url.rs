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

/// Query parameters that say which server, database or user a URL reaches; every other
/// parameter (timeouts, TLS mode, application name, secrets) is left out of the canonical
/// name because it does not change what is read.
const IDENTITY_PARAMETERS: [&str; 6] = ["host", "hostaddr", "port", "dbname", "user", "socket"];

/// The name of a database source for the inventory and reports: the same server and
/// database always give the same name, and the name holds no secret. Without password
/// (user info and query), scheme and host lowercased, `postgresql://` → `postgres://`,
/// `mariadb://` → `mysql://`, the default port written out (5432, 3306), a bare `/` path
/// dropped, only [`IDENTITY_PARAMETERS`] kept from the query (sorted), fragment dropped.
/// So `postgresql://u:pw@DB.example/hr?sslmode=require` and `postgres://u@db.example:5432/hr`
/// are one source. Host names are not resolved (`localhost` and `127.0.0.1` stay distinct).
pub fn canonical_url(url: &str) -> String {
    let redacted = redact_url(url);
    let Some((scheme, rest)) = redacted.split_once("://") else {
        return redacted;
    };
    let scheme = scheme.to_ascii_lowercase();
    let (scheme, default_port) = match scheme.as_str() {
        "postgres" | "postgresql" => ("postgres", Some(5432u16)),
        "mysql" | "mariadb" => ("mysql", Some(3306)),
        other => (other, None),
    };
    let rest = rest.split('#').next().unwrap_or(rest);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let (user, host_port) = match authority.rsplit_once('@') {
        Some((user, host_port)) => (Some(user), host_port),
        None => (None, authority),
    };
    let host_port = host_port.to_ascii_lowercase();
    // `[v6]:port`, `host:port`, `host`; several hosts (`h1,h2:5433`) are left as given.
    let (host, port) = if let Some(close) = host_port.strip_prefix('[').and_then(|r| r.find(']')) {
        let (host, after) = host_port.split_at(close + 2);
        (
            host.to_string(),
            after.strip_prefix(':').map(str::to_string),
        )
    } else if host_port.contains(',') {
        (host_port.clone(), None)
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), Some(port.to_string())),
            None => (host_port.clone(), None),
        }
    };
    let port = match (port.filter(|p| !p.is_empty()), default_port) {
        (Some(p), _) => Some(p.parse::<u16>().map_or(p, |n| n.to_string())),
        (None, Some(default)) if !host.is_empty() && !host.contains(',') => {
            Some(default.to_string())
        }
        (None, _) => None,
    };
    let tail = &rest[authority_end..];
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, query),
        None => (tail, ""),
    };
    let path = if path == "/" { "" } else { path };
    let mut identity: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            IDENTITY_PARAMETERS
                .iter()
                .any(|k| key.eq_ignore_ascii_case(k))
        })
        .collect();
    identity.sort_unstable();
    let mut out = format!("{scheme}://");
    if let Some(user) = user.filter(|u| !u.is_empty()) {
        out.push_str(user);
        out.push('@');
    }
    out.push_str(&host);
    if let Some(port) = port {
        out.push(':');
        out.push_str(&port);
    }
    out.push_str(path);
    if !identity.is_empty() {
        out.push('?');
        out.push_str(&identity.join("&"));
    }
    out
}

/// Quotes an identifier for PostgreSQL/SQLite (`"a""b"`): the one quoting every shuan
/// crate uses, so a hostile column or table name is data, never SQL.
pub fn quote_double(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// Quotes an identifier for MySQL/MariaDB (`` `a``b` ``).
pub fn quote_backtick(identifier: &str) -> String {
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
    fn one_database_has_one_canonical_name() {
        // Regression (issue 10 item 5): the inventory keyed a database by the URL as typed.
        let canonical = "postgres://alice@db.example.org:5432/hr";
        for typed in [
            "postgres://alice@db.example.org:5432/hr",
            "postgresql://alice:s3cret@DB.Example.ORG/hr",
            "POSTGRES://alice@db.example.org:05432/hr?sslmode=require&connect_timeout=5",
            "postgres://alice@db.example.org/hr?password=s3cret#frag",
        ] {
            assert_eq!(canonical_url(typed), canonical, "{typed}");
        }
        assert_eq!(
            canonical_url("mariadb://root:p@ss/w?rd@127.0.0.1/test"),
            "mysql://root@127.0.0.1:3306/test"
        );
        assert_eq!(
            canonical_url("mysql://root@127.0.0.1:3306/"),
            "mysql://root@127.0.0.1:3306"
        );
        assert_eq!(
            canonical_url("postgres://u:pw@[::1]/db"),
            "postgres://u@[::1]:5432/db"
        );
        assert_eq!(
            canonical_url("postgres://[::1]:6543/db"),
            "postgres://[::1]:6543/db"
        );
        // Identity parameters are kept (sorted), others and secrets dropped.
        assert_eq!(
            canonical_url("postgres:///hr?sslmode=disable&host=/run/postgresql&user=bob&pwd=x"),
            "postgres:///hr?host=/run/postgresql&user=bob"
        );
        // Different databases, users, ports and hosts stay different sources.
        let names: std::collections::HashSet<String> = [
            "postgres://alice@h/hr",
            "postgres://alice@h/finance",
            "postgres://bob@h/hr",
            "postgres://alice@h:5433/hr",
            "postgres://alice@other/hr",
            "mysql://alice@h/hr",
        ]
        .iter()
        .map(|u| canonical_url(u))
        .collect();
        assert_eq!(names.len(), 6, "{names:?}");
        for secret in ["hunter2", "pa:ss/wo?rd"] {
            let name = canonical_url(&format!("mysql://root:{secret}@h/db?password=hunter3"));
            assert_eq!(name, "mysql://root@h:3306/db");
        }
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_double("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_backtick("户籍`人口"), "`户籍``人口`");
    }
}
