//! A browser's way out through an upstream proxy (HTTP or SOCKS5, with or without a username
//! and password), without giving Chromium the credentials.
//!
//! Each browser with a proxy gets a small forwarding [`Relay`] on 127.0.0.1 and is launched with
//! `--proxy-server=http://127.0.0.1:<relay port>`. The relay opens every connection through the
//! upstream proxy itself (HTTP `CONNECT` for tunnels, absolute-form requests for plain http,
//! SOCKS5 `CONNECT` with username/password), adding the credentials there: they never reach
//! Chromium's command line, its profile, a page or a CDP client, and the relay counts the bytes
//! that went through the proxy. [`check`] asks the proxy once, before a browser is launched,
//! whether it answers and accepts the credentials.
//!
//! Nothing here prints a credential: [`ProxyCredentials`]' `Debug` is redacted, and
//! [`UpstreamProxy`]'s `Display` (what errors and logs use) is `scheme://host:port`.

mod relay;
mod upstream;

use std::fmt;
use std::time::Duration;

pub use relay::Relay;
pub use upstream::check;

/// How Tandem speaks to an upstream proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyScheme {
    /// An HTTP proxy: `CONNECT` for tunnels, absolute-form requests for plain http, Basic
    /// `Proxy-Authorization` when there are credentials.
    Http,
    /// A SOCKS5 proxy (RFC 1928), names resolved by the proxy, username/password
    /// authentication (RFC 1929) when there are credentials.
    Socks5,
}

impl ProxyScheme {
    /// The URL scheme, as shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyScheme::Http => "http",
            ProxyScheme::Socks5 => "socks5",
        }
    }
}

/// A proxy's username and password. Its `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyCredentials {
    /// The username.
    pub username: String,
    /// The password (may be empty).
    pub password: String,
}

impl fmt::Debug for ProxyCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProxyCredentials(<redacted>)")
    }
}

/// An upstream proxy a browser's traffic goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamProxy {
    /// HTTP or SOCKS5.
    pub scheme: ProxyScheme,
    /// Host name or IP address (an IPv6 address without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Username and password, if the proxy wants them.
    pub credentials: Option<ProxyCredentials>,
}

/// Shown as `scheme://host:port`, never with its credentials: safe for logs and errors.
impl fmt::Display for UpstreamProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(
                f,
                "{}://[{}]:{}",
                self.scheme.as_str(),
                self.host,
                self.port
            )
        } else {
            write!(f, "{}://{}:{}", self.scheme.as_str(), self.host, self.port)
        }
    }
}

/// Why a proxy URL is not usable. The message never repeats the URL (it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid proxy URL: {0}")]
pub struct ProxyUrlError(&'static str);

impl UpstreamProxy {
    /// Parses `http://user:pass@host:port` or `socks5://...` (`socks5h` is taken as
    /// `socks5`: the proxy always resolves names). The user and password may be
    /// percent-encoded; the port is required.
    pub fn parse(url: &str) -> Result<UpstreamProxy, ProxyUrlError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or(ProxyUrlError("expected scheme://[user:password@]host:port"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => ProxyScheme::Http,
            "socks5" | "socks5h" => ProxyScheme::Socks5,
            _ => return Err(ProxyUrlError("the scheme must be http, socks5 or socks5h")),
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') || rest.contains('?') || rest.contains('#') {
            return Err(ProxyUrlError("a proxy URL has no path"));
        }
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, rest),
        };
        let credentials = match userinfo {
            Some(userinfo) => {
                let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                Some(ProxyCredentials {
                    username: percent_decode(user)
                        .ok_or(ProxyUrlError("bad percent-encoding in the user"))?,
                    password: percent_decode(pass)
                        .ok_or(ProxyUrlError("bad percent-encoding in the password"))?,
                })
            }
            None => None,
        };
        let (host, port) = split_host_port(hostport).ok_or(ProxyUrlError(
            "expected host:port with a port from 1 to 65535",
        ))?;
        UpstreamProxy::new(scheme, host, port, credentials)
    }

    /// A proxy from its parts (`customProxy` of the API); the host must be a plain name or
    /// address and the port non-zero.
    pub fn new(
        scheme: ProxyScheme,
        host: &str,
        port: u16,
        credentials: Option<ProxyCredentials>,
    ) -> Result<UpstreamProxy, ProxyUrlError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty()
            || host
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "/@?#\\".contains(c))
        {
            return Err(ProxyUrlError("the host must be a name or an IP address"));
        }
        if port == 0 {
            return Err(ProxyUrlError("the port must be from 1 to 65535"));
        }
        if let Some(c) = &credentials
            && (c.username.len() > 255 || c.password.len() > 255)
        {
            return Err(ProxyUrlError(
                "the username and password must be at most 255 bytes each",
            ));
        }
        Ok(UpstreamProxy {
            scheme,
            host: host.to_string(),
            port,
            credentials,
        })
    }

    /// `host:port` as a socket address to connect to.
    fn address(&self) -> (String, u16) {
        (self.host.clone(), self.port)
    }
}

/// How long reaching the proxy and its first answer may take.
pub const PROXY_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong with an upstream proxy. Messages name the proxy as `scheme://host:port`
/// and never hold its credentials.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProxyError {
    /// The proxy could not be reached or did not answer in time.
    #[error("the proxy {proxy} cannot be reached: {reason}")]
    Unreachable {
        /// `scheme://host:port`.
        proxy: String,
        /// The network error.
        reason: String,
    },
    /// The proxy refused the credentials (or wanted some and had none).
    #[error("the proxy {proxy} refused the credentials: {reason}")]
    Refused {
        /// `scheme://host:port`.
        proxy: String,
        /// The proxy's answer.
        reason: String,
    },
    /// The proxy answered something else than a proxy's answer, or refused the connection.
    #[error("the proxy {proxy} failed: {reason}")]
    Failed {
        /// `scheme://host:port`.
        proxy: String,
        /// What it answered.
        reason: String,
    },
}

fn split_host_port(s: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':')?)
    } else {
        s.rsplit_once(':')?
    };
    let port: u16 = port.parse().ok()?;
    (port != 0 && !host.is_empty()).then_some((host, port))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_their_credentials() {
        let p = UpstreamProxy::parse("http://al%40ice:s3cr%3At@proxy.example:3128").unwrap();
        assert_eq!(p.scheme, ProxyScheme::Http);
        assert_eq!((p.host.as_str(), p.port), ("proxy.example", 3128));
        let c = p.credentials.clone().unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("al@ice", "s3cr:t")
        );
        assert_eq!(p.to_string(), "http://proxy.example:3128");
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("s3cr") && !debug.contains("al@ice"),
            "{debug}"
        );

        let s = UpstreamProxy::parse("socks5h://[::1]:1080").unwrap();
        assert_eq!(s.scheme, ProxyScheme::Socks5);
        assert_eq!((s.host.as_str(), s.port), ("::1", 1080));
        assert_eq!(s.to_string(), "socks5://[::1]:1080");
        assert!(s.credentials.is_none());
    }

    #[test]
    fn bad_urls_are_refused_without_repeating_them() {
        for bad in [
            "proxy.example:3128",
            "ftp://h:1",
            "http://user:secret@host",
            "http://user:secret@host:0",
            "http://user:secret@host:1/path",
            "http://user:%zz@host:1",
        ] {
            let err = UpstreamProxy::parse(bad).unwrap_err().to_string();
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
