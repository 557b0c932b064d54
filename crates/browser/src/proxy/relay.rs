//! The per-browser forwarding relay on 127.0.0.1: Chromium's proxy, which opens every
//! connection through the upstream proxy with the credentials and counts the bytes.
//!
//! It takes what Chromium sends an HTTP proxy: `CONNECT host:port` (https, wss) and
//! absolute-form requests (`GET http://host/path`) for plain http. A plain request is sent on
//! with `Connection: close`, so each connection carries one request and every request gets
//! the credentials (keep-alive would need the relay to frame request bodies); the connection
//! from Chromium to the relay is loopback and costs next to nothing. When the upstream proxy
//! fails, Chromium gets a 502: a tunnel then fails with Chromium's own proxy error page
//! (`ERR_TUNNEL_CONNECTION_FAILED`), a plain request shows the relay's one-line reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::upstream::{self, Head, read_head, status_of};
use super::{ProxyError, ProxyScheme, UpstreamProxy};

/// A running relay; dropping it stops it and every connection through it.
pub struct Relay {
    port: u16,
    upstream: Arc<UpstreamProxy>,
    bytes: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("port", &self.port)
            .field("upstream", &self.upstream.to_string())
            .finish()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        // The accept task owns every connection's task (a `JoinSet`): all end with it.
        self.task.abort();
    }
}

impl Relay {
    /// Starts a relay to `upstream` on a free port of 127.0.0.1.
    pub async fn start(upstream: UpstreamProxy) -> std::io::Result<Relay> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let upstream = Arc::new(upstream);
        let bytes = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept(listener, upstream.clone(), bytes.clone()));
        Ok(Relay {
            port,
            upstream,
            bytes,
            task,
        })
    }

    /// The relay's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What Chromium's `--proxy-server` gets.
    pub fn proxy_server(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The upstream proxy (its `Display` has no credentials).
    pub fn upstream(&self) -> &UpstreamProxy {
        &self.upstream
    }

    /// Bytes sent to and received from the upstream proxy so far, both ways, heads included.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

async fn accept(listener: TcpListener, upstream: Arc<UpstreamProxy>, bytes: Arc<AtomicU64>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    let _ = client.set_nodelay(true);
                    connections.spawn(serve(client, upstream.clone(), bytes.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "proxy relay cannot accept");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One connection from Chromium.
async fn serve(mut client: TcpStream, upstream: Arc<UpstreamProxy>, bytes: Arc<AtomicU64>) {
    let Ok(Some(Head { head, rest })) = read_head(&mut client).await else {
        return;
    };
    let Some(request) = Request::parse(&head) else {
        let _ = respond(
            &mut client,
            400,
            "Tandem's proxy relay: not a proxy request",
        )
        .await;
        return;
    };
    let result = if request.method.eq_ignore_ascii_case("CONNECT") {
        connect(&mut client, &upstream, &request, rest, &bytes).await
    } else {
        match forward(&upstream, &request, rest, &bytes).await {
            Ok(stream) => {
                relay_response(client, stream, &upstream, &bytes).await;
                return;
            }
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(Some(upstream_stream)) => splice(client, upstream_stream, &bytes).await,
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(target_host = %request.host, error = %e, "proxy relay: the upstream proxy failed");
            let _ = respond(&mut client, 502, &format!("Tandem: {e}")).await;
        }
    }
}

/// A `CONNECT`: the tunnel through the upstream proxy, once Chromium was told it is open.
async fn connect(
    client: &mut TcpStream,
    upstream: &UpstreamProxy,
    request: &Request,
    early: Vec<u8>,
    bytes: &AtomicU64,
) -> Result<Option<TcpStream>, ProxyError> {
    let mut stream = upstream::tunnel(upstream, (&request.host, request.port)).await?;
    // Bytes Chromium sent before the tunnel's answer (it should not): they go first.
    if !early.is_empty() && stream.write_all(&early).await.is_err() {
        return Ok(None);
    }
    // The handshake's own bytes, roughly: the CONNECT and its answer.
    bytes.fetch_add(2 * request.line.len() as u64, Ordering::Relaxed);
    if client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await
        .is_err()
    {
        return Ok(None);
    }
    Ok(Some(stream))
}

/// A plain http request: its head (and what came of its body with it) sent through the
/// upstream proxy (with the credentials) or, for SOCKS5, to the origin through a tunnel, with
/// `Connection: close`. [`relay_response`] does the rest.
async fn forward(
    upstream: &UpstreamProxy,
    request: &Request,
    body_start: Vec<u8>,
    bytes: &AtomicU64,
) -> Result<TcpStream, ProxyError> {
    let (mut stream, target) = match upstream.scheme {
        ProxyScheme::Http => (upstream::connect(upstream).await?, request.target.clone()),
        ProxyScheme::Socks5 => (
            upstream::tunnel(upstream, (&request.host, request.port)).await?,
            request.origin_form(),
        ),
    };
    let mut head = format!("{} {} {}\r\n", request.method, target, request.version);
    for (name, value) in &request.headers {
        let lower = name.to_ascii_lowercase();
        if matches!(
            lower.as_str(),
            "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive"
        ) {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if upstream.scheme == ProxyScheme::Http {
        head.push_str(&upstream::authorization(upstream));
    }
    head.push_str("Connection: close\r\n\r\n");
    let io = |e: std::io::Error| ProxyError::Unreachable {
        proxy: upstream.to_string(),
        reason: e.to_string(),
    };
    stream.write_all(head.as_bytes()).await.map_err(io)?;
    stream.write_all(&body_start).await.map_err(io)?;
    bytes.fetch_add((head.len() + body_start.len()) as u64, Ordering::Relaxed);
    Ok(stream)
}

/// The rest of a plain request's body goes up while its response comes down. The response
/// head is looked at first, so that a refusal of the credentials is a clear 502, not a 407
/// Chromium would try to answer.
async fn relay_response(
    client: TcpStream,
    stream: TcpStream,
    upstream: &UpstreamProxy,
    bytes: &AtomicU64,
) {
    let (client_read, mut client_write) = client.into_split();
    let (mut upstream_read, upstream_write) = stream.into_split();
    let down = async {
        let answer = match read_head(&mut upstream_read).await {
            Ok(Some(answer)) => answer,
            Ok(None) | Err(_) => {
                let e = upstream::failed(
                    upstream,
                    "it closed the connection without an answer".into(),
                );
                let _ = respond(&mut client_write, 502, &format!("Tandem: {e}")).await;
                return;
            }
        };
        bytes.fetch_add(
            (answer.head.len() + answer.rest.len()) as u64,
            Ordering::Relaxed,
        );
        if upstream.scheme == ProxyScheme::Http
            && let Some((407, line)) = status_of(&answer.head)
        {
            let e = upstream::refused(upstream, &line);
            tracing::warn!(error = %e, "proxy relay: the upstream proxy failed");
            let _ = respond(&mut client_write, 502, &format!("Tandem: {e}")).await;
            return;
        }
        if client_write.write_all(&answer.head).await.is_err()
            || client_write.write_all(&answer.rest).await.is_err()
        {
            return;
        }
        pump(upstream_read, client_write, bytes).await;
    };
    tokio::join!(pump(client_read, upstream_write, bytes), down);
}

/// Copies both ways until both sides are done, counting what crosses the upstream link.
async fn splice(client: TcpStream, upstream: TcpStream, bytes: &AtomicU64) {
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    tokio::join!(
        pump(client_read, upstream_write, bytes),
        pump(upstream_read, client_write, bytes),
    );
}

async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, bytes: &AtomicU64) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                bytes.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
    let _ = to.shutdown().await;
}

async fn respond<W: tokio::io::AsyncWrite + Unpin>(
    client: &mut W,
    status: u16,
    text: &str,
) -> std::io::Result<()> {
    let reason = match status {
        400 => "Bad Request",
        _ => "Bad Gateway",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    client.write_all(response.as_bytes()).await?;
    client.shutdown().await
}

/// A request head from Chromium, as far as the relay needs it.
#[derive(Debug)]
struct Request {
    method: String,
    /// As sent: `host:port` for `CONNECT`, an absolute URL otherwise.
    target: String,
    version: String,
    /// The request line, for counting.
    line: String,
    host: String,
    port: u16,
    /// Path and query of an absolute-form target.
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn parse(head: &[u8]) -> Option<Request> {
        let text = std::str::from_utf8(head).ok()?;
        let mut lines = text.split("\r\n");
        let line = lines.next()?.to_string();
        let mut parts = line.split(' ');
        let method = parts.next()?.to_string();
        let target = parts.next()?.to_string();
        let version = parts.next()?.to_string();
        if !version.starts_with("HTTP/1.") {
            return None;
        }
        let headers = lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        let (host, port, path) = if method.eq_ignore_ascii_case("CONNECT") {
            let (host, port) = split_authority(&target, None)?;
            (host, port, String::new())
        } else {
            let rest = target.strip_prefix("http://")?;
            let (authority, path) = match rest.find('/') {
                Some(at) => (&rest[..at], rest[at..].to_string()),
                None => (rest, "/".to_string()),
            };
            let (host, port) = split_authority(authority, Some(80))?;
            (host, port, path)
        };
        Some(Request {
            method,
            target,
            version,
            line,
            host,
            port,
            path,
            headers,
        })
    }

    /// `/path?query`, for a request sent to the origin itself.
    fn origin_form(&self) -> String {
        self.path.clone()
    }
}

/// `host:port` (or `host` with a default port), an IPv6 address in brackets.
fn split_authority(s: &str, default_port: Option<u16>) -> Option<(String, u16)> {
    if s.contains('@') {
        return None;
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default_port?,
        };
        (host, port)
    } else {
        match s.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (s, default_port?),
        }
    };
    (!host.is_empty() && port != 0).then(|| (host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::upstream::authority;

    #[test]
    fn requests_parse() {
        let r = Request::parse(b"GET http://shop.test/a?b=1 HTTP/1.1\r\nHost: shop.test\r\n\r\n")
            .unwrap();
        assert_eq!((r.host.as_str(), r.port), ("shop.test", 80));
        assert_eq!(r.origin_form(), "/a?b=1");
        let c = Request::parse(b"CONNECT [::1]:8443 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((c.host.as_str(), c.port), ("::1", 8443));
        assert_eq!(authority(&c.host, c.port), "[::1]:8443");
        assert!(Request::parse(b"GET /local HTTP/1.1\r\n\r\n").is_none());
        assert!(Request::parse(b"GET ftp://x/ HTTP/1.1\r\n\r\n").is_none());
    }
}
