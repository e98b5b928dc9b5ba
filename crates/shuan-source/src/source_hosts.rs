//! Which database hosts a server may connect to on a user's behalf.
//!
//! A steward who registers a source or starts a scan job gives the server a database URL,
//! and the server connects to it: without a limit, that is a way to make the server probe
//! or attack hosts its network reaches and the user's does not (server-side request
//! forgery). The operator names the hosts once (`shuan serve --source-hosts`); every URL
//! is checked against them before a connection is tried. The default is loopback only.

use std::fmt;

/// Hosts the server may connect to: names or addresses, each optionally with a port, or
/// everything (`*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceHosts {
    any: bool,
    entries: Vec<(String, Option<u16>)>,
}

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceHostError {
    /// A host of the URL is not in the list.
    #[error("host {host} is not among the database hosts this server may connect to ({allowed}); the operator adds it with `shuan serve --source-hosts`")]
    NotAllowed {
        /// The host as the URL names it (port included when given).
        host: String,
        /// The list, for the message.
        allowed: String,
    },
    /// The URL's hosts could not be read, so they cannot be checked.
    #[error("cannot read the host of the database URL: {0}")]
    Unreadable(String),
}

/// A bad entry of a host list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad source host `{0}`: use a name or address, optionally with :PORT ([::1]:5432 for IPv6), or * for any")]
pub struct BadSourceHost(pub String);

impl Default for SourceHosts {
    /// Loopback only: `localhost`, `127.0.0.1`, `::1` and local sockets.
    fn default() -> Self {
        SourceHosts {
            any: false,
            entries: ["localhost", "127.0.0.1", "::1"]
                .iter()
                .map(|h| (h.to_string(), None))
                .collect(),
        }
    }
}

impl fmt::Display for SourceHosts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.any {
            return f.write_str("*");
        }
        let shown: Vec<String> = self
            .entries
            .iter()
            .map(|(h, p)| match p {
                Some(p) if h.contains(':') => format!("[{h}]:{p}"),
                Some(p) => format!("{h}:{p}"),
                None => h.clone(),
            })
            .collect();
        f.write_str(&shown.join(","))
    }
}

impl SourceHosts {
    /// Any host (`*`): for a network where the server's reach is limited otherwise.
    pub fn any() -> SourceHosts {
        SourceHosts {
            any: true,
            entries: Vec::new(),
        }
    }

    /// A comma-separated list: `db1.internal,10.0.0.8:5432,[fd00::5]:3306`, or `*`.
    /// Loopback is not added: a list names every host allowed.
    pub fn parse(list: &str) -> Result<SourceHosts, BadSourceHost> {
        let mut out = SourceHosts {
            any: false,
            entries: Vec::new(),
        };
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "*" {
                out.any = true;
                continue;
            }
            let (host, port) =
                split_host_port(item).ok_or_else(|| BadSourceHost(item.to_string()))?;
            if host.is_empty()
                || host
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "/@?#".contains(c))
            {
                return Err(BadSourceHost(item.to_string()));
            }
            out.entries.push((host, port));
        }
        if !out.any && out.entries.is_empty() {
            return Err(BadSourceHost(list.to_string()));
        }
        Ok(out)
    }

    /// Whether every host the database URL `url` would connect to is allowed. Local
    /// sockets count as `localhost`. Query parameters that name another host (`host`,
    /// `hostaddr` of PostgreSQL, `socket` of MySQL) are checked too.
    pub fn check(&self, url: &str) -> Result<(), SourceHostError> {
        if self.any {
            return Ok(());
        }
        for (host, port) in url_hosts(url)? {
            let allowed = self
                .entries
                .iter()
                .any(|(h, p)| *h == host && p.is_none_or(|p| Some(p) == port));
            if !allowed {
                return Err(SourceHostError::NotAllowed {
                    host: match port {
                        Some(p) if host.contains(':') => format!("[{host}]:{p}"),
                        Some(p) => format!("{host}:{p}"),
                        None => host,
                    },
                    allowed: self.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address; the host in lower
/// case without brackets.
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse().ok()?),
        };
        return Some((host.to_ascii_lowercase(), port));
    }
    match s.matches(':').count() {
        0 => Some((s.to_ascii_lowercase(), None)),
        1 => {
            let (h, p) = s.split_once(':')?;
            let port = if p.is_empty() {
                None
            } else {
                Some(p.parse().ok()?)
            };
            Some((h.to_ascii_lowercase(), port))
        }
        // A bare IPv6 address has no port.
        _ => Some((s.to_ascii_lowercase(), None)),
    }
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(a), Some(b)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(a * 16 + b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The hosts (with ports when given) a `postgres://` or `mysql://` URL connects to.
fn url_hosts(url: &str) -> Result<Vec<(String, Option<u16>)>, SourceHostError> {
    let unreadable = |why: &str| SourceHostError::Unreadable(why.to_string());
    let (_, rest) = url
        .split_once("://")
        .ok_or_else(|| unreadable("no scheme://"))?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // User info ends at the authority's last `@` (a password may hold `@`).
    let authority = &rest[..authority_end];
    let hosts_part = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    // A password with an unencoded `/`, `?` or `#` makes the reading ambiguous: by the
    // URL standard the authority ends at it, while redact_url (and a person) take the
    // last `@` of the URL as the end of the user info. Both readings are checked.
    let mut readings = vec![hosts_part];
    if let Some(at) = rest.rfind('@').filter(|at| *at >= authority_end) {
        let after = &rest[at + 1..];
        readings.push(&after[..after.find(['/', '?', '#']).unwrap_or(after.len())]);
    }
    let mut out = Vec::new();
    for h in readings
        .iter()
        .flat_map(|r| r.split(','))
        .filter(|h| !h.is_empty())
    {
        let decoded = percent_decode(h);
        if decoded.starts_with('/') {
            // A socket directory given as the host (`postgres://%2Fvar%2Frun%2Fpostgresql/db`).
            out.push(("localhost".to_string(), None));
            continue;
        }
        out.push(split_host_port(&decoded).ok_or_else(|| unreadable(h))?);
    }
    // Query parameters that choose the host.
    let tail = &rest[authority_end.min(rest.len())..];
    if let Some(q) = tail.split_once('?').map(|(_, q)| q) {
        let q = q.split('#').next().unwrap_or(q);
        for pair in q.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_decode(k).to_ascii_lowercase();
            let v = percent_decode(v);
            match k.as_str() {
                "host" | "hostaddr" => {
                    for h in v.split(',').filter(|h| !h.is_empty()) {
                        if h.starts_with('/') {
                            out.push(("localhost".to_string(), None));
                        } else {
                            out.push(split_host_port(h).ok_or_else(|| unreadable(h))?);
                        }
                    }
                }
                "socket" => out.push(("localhost".to_string(), None)),
                _ => {}
            }
        }
    }
    if out.is_empty() {
        // No host: the driver's default, a local socket or localhost.
        out.push(("localhost".to_string(), None));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_by_default() {
        let d = SourceHosts::default();
        for ok in [
            "postgres://u:p@127.0.0.1:5432/test",
            "postgres://localhost/test",
            "mysql://root@127.0.0.1:3306/test",
            "postgres://u@[::1]:5432/db",
            "postgres:///db",
            "postgres://%2Fvar%2Frun%2Fpostgresql/db",
            "mysql://root@localhost/db?socket=/run/mysqld/mysqld.sock",
        ] {
            assert_eq!(d.check(ok), Ok(()), "{ok}");
        }
        for bad in [
            "postgres://u:p@db.example:5432/x",
            "postgres://u:p@10.0.0.8/x",
            "mysql://root:p@ss/w?rd@169.254.169.254/db",
            "mysql://root:p/w@169.254.169.254/db",
            "mysql://root:p@localhost/w?rd@169.254.169.254/db",
            "postgres://u@127.0.0.1/db?host=10.0.0.9",
            "postgres://u@127.0.0.1/db?hostaddr=10.0.0.9",
            "postgres://u@127.0.0.1:5432,db.example:5432/db",
        ] {
            assert!(d.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_with_ports_and_any() {
        let l = SourceHosts::parse(" db1.internal, 10.0.0.8:5432 ,[FD00::5]:3306").unwrap();
        assert_eq!(l.check("postgres://u:p@DB1.internal/x"), Ok(()));
        assert_eq!(l.check("postgres://u:p@10.0.0.8:5432/x"), Ok(()));
        assert!(l.check("postgres://u:p@10.0.0.8:5433/x").is_err());
        assert!(
            l.check("postgres://u:p@10.0.0.8/x").is_err(),
            "port required"
        );
        assert_eq!(l.check("mysql://r@[fd00::5]:3306/x"), Ok(()));
        assert!(
            l.check("postgres://localhost/x").is_err(),
            "loopback not implied"
        );
        let e = l.check("postgres://u:secret@evil.example/x").unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("evil.example") && m.contains("--source-hosts"),
            "{m}"
        );
        assert!(!m.contains("secret"), "{m}");
        assert_eq!(
            SourceHosts::parse("*")
                .unwrap()
                .check("postgres://u@anywhere/x"),
            Ok(())
        );
        for bad in ["", " , ", "a/b", "host:port", "[::1", "h:99999", "u@h"] {
            assert!(SourceHosts::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(l.to_string(), "db1.internal,10.0.0.8:5432,[fd00::5]:3306");
    }

    #[test]
    fn odd_urls_never_panic() {
        for u in [
            "",
            "://",
            "postgres://@",
            "postgres://[",
            "postgres://%",
            "postgres://a%zz/x",
            "postgres://x?host=",
            "mysql://a@b@c",
            "postgres://é:1/x?%ff=%",
        ] {
            let _ = SourceHosts::default().check(u);
        }
    }
}
