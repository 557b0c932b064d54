//! Speaking to the upstream proxy: a tunnel to a host and port (HTTP `CONNECT` or SOCKS5
//! `CONNECT`), a plain http request's connection, and the check made before a launch.

use std::net::IpAddr;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{PROXY_TIMEOUT, ProxyError, ProxyScheme, UpstreamProxy};

/// The largest response head accepted from a proxy.
pub(super) const MAX_HEAD: usize = 64 * 1024;

/// Where [`check`] asks the proxy to open a tunnel to. Only the proxy's verdict on the
/// credentials matters (a 407, or a SOCKS5 authentication failure); whether it then reaches
/// the host does not, so an offline proxy passes too. Port 443, as many proxies refuse
/// `CONNECT` to other ports before they look at credentials.
const CHECK_TARGET: (&str, u16) = ("example.com", 443);

/// Asks the proxy once whether it answers and accepts the credentials: for HTTP, a `CONNECT`
/// (anything but 407 passes); for SOCKS5, the greeting and the authentication, no connection.
pub async fn check(proxy: &UpstreamProxy) -> Result<(), ProxyError> {
    let mut stream = connect(proxy).await?;
    let attempt = async {
        match proxy.scheme {
            ProxyScheme::Http => {
                let (status, line) = http_connect(proxy, &mut stream, CHECK_TARGET).await?;
                if status == 407 {
                    return Err(refused(proxy, &line));
                }
                Ok(())
            }
            ProxyScheme::Socks5 => socks_greet(proxy, &mut stream).await,
        }
    };
    timeout(PROXY_TIMEOUT, attempt)
        .await
        .unwrap_or_else(|_| Err(unreachable(proxy, "no answer in time")))
}

/// A connection through the proxy to `target`, ready for the client's bytes.
pub(super) async fn tunnel(
    proxy: &UpstreamProxy,
    target: (&str, u16),
) -> Result<TcpStream, ProxyError> {
    let mut stream = connect(proxy).await?;
    let attempt = async {
        match proxy.scheme {
            ProxyScheme::Http => {
                let (status, line) = http_connect(proxy, &mut stream, target).await?;
                match status {
                    200..=299 => Ok(()),
                    407 => Err(refused(proxy, &line)),
                    _ => Err(failed(proxy, format!("it answered {line}"))),
                }
            }
            ProxyScheme::Socks5 => {
                socks_greet(proxy, &mut stream).await?;
                socks_connect(proxy, &mut stream, target).await
            }
        }
    };
    timeout(PROXY_TIMEOUT, attempt)
        .await
        .unwrap_or_else(|_| Err(unreachable(proxy, "no answer in time")))?;
    Ok(stream)
}

/// A TCP connection to the proxy itself.
pub(super) async fn connect(proxy: &UpstreamProxy) -> Result<TcpStream, ProxyError> {
    match timeout(PROXY_TIMEOUT, TcpStream::connect(proxy.address())).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(e)) => Err(unreachable(proxy, &e.to_string())),
        Err(_) => Err(unreachable(proxy, "connecting timed out")),
    }
}

/// The `Proxy-Authorization` header line (with its CRLF), or nothing.
pub(super) fn authorization(proxy: &UpstreamProxy) -> String {
    match &proxy.credentials {
        Some(c) => {
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", c.username, c.password));
            format!("Proxy-Authorization: Basic {token}\r\n")
        }
        None => String::new(),
    }
}

/// Sends `CONNECT target` and reads the answer's head: its status and status line.
async fn http_connect(
    proxy: &UpstreamProxy,
    stream: &mut TcpStream,
    (host, port): (&str, u16),
) -> Result<(u16, String), ProxyError> {
    let authority = authority(host, port);
    let request = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{}\r\n",
        authorization(proxy)
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| unreachable(proxy, &e.to_string()))?;
    let head = read_head(stream)
        .await
        .map_err(|e| unreachable(proxy, &e.to_string()))?
        .ok_or_else(|| failed(proxy, "it closed the connection without an answer".into()))?;
    // A CONNECT's answer has no body for the client to see before its own bytes: anything
    // after the head is not expected, and a tunnel that does not open is dropped anyway.
    status_of(&head.head).ok_or_else(|| failed(proxy, "it did not answer in HTTP".into()))
}

/// A response or request head read off a stream, and what came after it.
pub(super) struct Head {
    /// Up to and including the blank line.
    pub(super) head: Vec<u8>,
    /// Bytes read past the head.
    pub(super) rest: Vec<u8>,
}

/// Reads until the end of an HTTP head; `None` if the stream ends first.
pub(super) async fn read_head<R: tokio::io::AsyncRead + Unpin>(
    stream: &mut R,
) -> std::io::Result<Option<Head>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        let searched_from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = find(&buf[searched_from..], b"\r\n\r\n") {
            let end = searched_from + at + 4;
            let rest = buf.split_off(end);
            return Ok(Some(Head { head: buf, rest }));
        }
        if buf.len() > MAX_HEAD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "HTTP head too large",
            ));
        }
    }
}

/// The status code and status line of a response head.
pub(super) fn status_of(head: &[u8]) -> Option<(u16, String)> {
    let line = head.split(|b| *b == b'\r').next()?;
    // Shown in errors: a proxy's status line, not whatever it chose to send.
    let line: String = String::from_utf8_lossy(line).chars().take(120).collect();
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    Some((status, line))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `host:port`, an IPv6 address in brackets.
pub(super) fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// SOCKS5 greeting and, with credentials, username/password authentication.
async fn socks_greet(proxy: &UpstreamProxy, stream: &mut TcpStream) -> Result<(), ProxyError> {
    let io = |e: std::io::Error| unreachable(proxy, &e.to_string());
    let method = if proxy.credentials.is_some() { 2 } else { 0 };
    stream.write_all(&[5, 1, method]).await.map_err(io)?;
    let mut reply = [0u8; 2];
    stream.read_exact(&mut reply).await.map_err(io)?;
    if reply[0] != 5 {
        return Err(failed(proxy, "it did not answer in SOCKS5".into()));
    }
    if reply[1] == 0xFF {
        return Err(refused(proxy, "no acceptable authentication method"));
    }
    if reply[1] != method {
        return Err(failed(
            proxy,
            format!(
                "it chose an authentication method not offered ({})",
                reply[1]
            ),
        ));
    }
    if let Some(c) = &proxy.credentials {
        let mut auth = vec![1u8];
        // Lengths were checked (at most 255) when the proxy was made.
        auth.push(u8::try_from(c.username.len()).unwrap_or(u8::MAX));
        auth.extend_from_slice(c.username.as_bytes());
        auth.push(u8::try_from(c.password.len()).unwrap_or(u8::MAX));
        auth.extend_from_slice(c.password.as_bytes());
        stream.write_all(&auth).await.map_err(io)?;
        let mut status = [0u8; 2];
        stream.read_exact(&mut status).await.map_err(io)?;
        if status[1] != 0 {
            return Err(refused(proxy, "username/password authentication failed"));
        }
    }
    Ok(())
}

/// SOCKS5 `CONNECT` to `target` (names resolved by the proxy).
async fn socks_connect(
    proxy: &UpstreamProxy,
    stream: &mut TcpStream,
    (host, port): (&str, u16),
) -> Result<(), ProxyError> {
    let io = |e: std::io::Error| unreachable(proxy, &e.to_string());
    let mut request = vec![5u8, 1, 0];
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        Ok(IpAddr::V6(ip)) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            let Ok(len) = u8::try_from(host.len()) else {
                return Err(failed(proxy, "the host name is too long for SOCKS5".into()));
            };
            request.push(3);
            request.push(len);
            request.extend_from_slice(host.as_bytes());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request).await.map_err(io)?;
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply).await.map_err(io)?;
    if reply[0] != 5 {
        return Err(failed(proxy, "it did not answer in SOCKS5".into()));
    }
    if reply[1] != 0 {
        return Err(failed(proxy, socks_reply(reply[1]).into()));
    }
    let address_len = match reply[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await.map_err(io)?;
            usize::from(len[0])
        }
        _ => return Err(failed(proxy, "it answered an unknown address type".into())),
    };
    let mut bound = vec![0u8; address_len + 2];
    stream.read_exact(&mut bound).await.map_err(io)?;
    Ok(())
}

fn socks_reply(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown SOCKS5 error",
    }
}

fn unreachable(proxy: &UpstreamProxy, reason: &str) -> ProxyError {
    ProxyError::Unreachable {
        proxy: proxy.to_string(),
        reason: reason.to_string(),
    }
}

pub(super) fn refused(proxy: &UpstreamProxy, answer: &str) -> ProxyError {
    let verdict = if proxy.credentials.is_some() {
        "wrong username or password"
    } else {
        "it requires a username and password"
    };
    ProxyError::Refused {
        proxy: proxy.to_string(),
        reason: format!("{verdict} (it answered: {answer})"),
    }
}

pub(super) fn failed(proxy: &UpstreamProxy, reason: String) -> ProxyError {
    ProxyError::Failed {
        proxy: proxy.to_string(),
        reason,
    }
}
