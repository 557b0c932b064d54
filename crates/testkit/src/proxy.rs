//! A real forward proxy on 127.0.0.1 for tests: HTTP (`CONNECT` and absolute-form requests)
//! and SOCKS5 on the same port, both requiring a username and password, and resolving only
//! the names it was given (`shop.test` → a fixture server), so that a page that loads proves
//! its traffic went through the proxy. Every request is logged with the credentials' verdict.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRequest {
    /// `CONNECT`, `SOCKS5`, or the HTTP method of a plain request.
    pub method: String,
    /// `host:port` for tunnels, the absolute URL for plain requests.
    pub target: String,
    /// The username offered, if any.
    pub username: Option<String>,
    /// Whether the username and password were the right ones.
    pub authorized: bool,
}

/// The running proxy; it stops when dropped.
pub struct TestProxy {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<ProxyRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

struct Rules {
    username: String,
    password: String,
    hosts: HashMap<String, SocketAddr>,
    log: Arc<Mutex<Vec<ProxyRequest>>>,
}

impl TestProxy {
    /// Starts a proxy that accepts `username`/`password` and knows the names in `hosts`
    /// (each `name` → where it really is).
    pub async fn start(username: &str, password: &str, hosts: &[(&str, SocketAddr)]) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the test proxy");
        let addr = listener.local_addr().expect("test proxy address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let rules = Arc::new(Rules {
            username: username.to_string(),
            password: password.to_string(),
            hosts: hosts
                .iter()
                .map(|(name, addr)| (name.to_ascii_lowercase(), *addr))
                .collect(),
            log: log.clone(),
        });
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                connections.spawn(serve(client, rules.clone()));
                while connections.try_join_next().is_some() {}
            }
        });
        TestProxy { addr, log, task }
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<ProxyRequest> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Rules {
    fn record(&self, method: &str, target: &str, username: Option<String>, authorized: bool) {
        self.log.lock().unwrap().push(ProxyRequest {
            method: method.to_string(),
            target: target.to_string(),
            username,
            authorized,
        });
    }

    /// Where `host:port` really is: a known name, or a literal IP address.
    fn resolve(&self, host: &str, port: u16) -> Option<SocketAddr> {
        if let Some(addr) = self.hosts.get(&host.to_ascii_lowercase()) {
            return Some(*addr);
        }
        host.parse().ok().map(|ip| SocketAddr::new(ip, port))
    }
}

async fn serve(client: TcpStream, rules: Arc<Rules>) {
    let mut first = [0u8; 1];
    if client.peek(&mut first).await.unwrap_or(0) == 0 {
        return;
    }
    if first[0] == 5 {
        socks5(client, &rules).await;
    } else {
        http(client, &rules).await;
    }
}

async fn http(mut client: TcpStream, rules: &Rules) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        let Ok(n) = client.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let rest = buf[end..].to_vec();
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (method, target, version) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let offered = lines
        .clone()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("proxy-authorization"))
        .and_then(|(_, v)| v.trim().strip_prefix("Basic ").map(str::to_string))
        .and_then(|token| base64::engine::general_purpose::STANDARD.decode(token).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        });
    let authorized = offered
        .as_ref()
        .is_some_and(|(u, p)| *u == rules.username && *p == rules.password);
    rules.record(method, target, offered.map(|(u, _)| u), authorized);
    if !authorized {
        let _ = client
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"testkit\"\r\nContent-Length: 0\r\n\
                  Connection: close\r\n\r\n",
            )
            .await;
        return;
    }
    if method == "CONNECT" {
        let Some((host, port)) = target.rsplit_once(':') else {
            return;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let origin = match rules.resolve(host, port.parse().unwrap_or(0)) {
            Some(addr) => TcpStream::connect(addr).await.ok(),
            None => None,
        };
        let Some(mut origin) = origin else {
            let _ = client
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                .await;
            return;
        };
        if client
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await
            .is_ok()
        {
            let _ = tokio::io::copy_bidirectional(&mut client, &mut origin).await;
        }
        return;
    }
    let Some(url) = target.strip_prefix("http://") else {
        let _ = client
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    let (authority, path) = match url.find('/') {
        Some(at) => (&url[..at], &url[at..]),
        None => (url, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().unwrap_or(80)),
        None => (authority, 80),
    };
    let Some(mut origin) = (match rules.resolve(host, port) {
        Some(addr) => TcpStream::connect(addr).await.ok(),
        None => None,
    }) else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    };
    let mut forwarded = format!("{method} {path} {version}\r\n");
    for header in lines.take_while(|l| !l.is_empty()) {
        let name = header.split(':').next().unwrap_or_default().trim();
        if !name.to_ascii_lowercase().starts_with("proxy-") {
            forwarded.push_str(header);
            forwarded.push_str("\r\n");
        }
    }
    forwarded.push_str("\r\n");
    if origin.write_all(forwarded.as_bytes()).await.is_err()
        || origin.write_all(&rest).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut origin).await;
}

async fn socks5(mut client: TcpStream, rules: &Rules) {
    let mut greeting = [0u8; 2];
    if client.read_exact(&mut greeting).await.is_err() {
        return;
    }
    let mut methods = vec![0u8; usize::from(greeting[1])];
    if client.read_exact(&mut methods).await.is_err() {
        return;
    }
    if !methods.contains(&2) {
        rules.record("SOCKS5", "", None, false);
        let _ = client.write_all(&[5, 0xFF]).await;
        return;
    }
    if client.write_all(&[5, 2]).await.is_err() {
        return;
    }
    let Some((username, password)) = read_socks_auth(&mut client).await else {
        return;
    };
    let authorized = username == rules.username && password == rules.password;
    if !authorized {
        rules.record("SOCKS5", "", Some(username), false);
        let _ = client.write_all(&[1, 1]).await;
        return;
    }
    if client.write_all(&[1, 0]).await.is_err() {
        return;
    }
    let mut request = [0u8; 4];
    if client.read_exact(&mut request).await.is_err() {
        return;
    }
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            if client.read_exact(&mut ip).await.is_err() {
                return;
            }
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            if client.read_exact(&mut len).await.is_err() {
                return;
            }
            let mut name = vec![0u8; usize::from(len[0])];
            if client.read_exact(&mut name).await.is_err() {
                return;
            }
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return,
    };
    let mut port = [0u8; 2];
    if client.read_exact(&mut port).await.is_err() {
        return;
    }
    let port = u16::from_be_bytes(port);
    rules.record("SOCKS5", &format!("{host}:{port}"), Some(username), true);
    let origin = match rules.resolve(&host, port) {
        Some(addr) => TcpStream::connect(addr).await.ok(),
        None => None,
    };
    let Some(mut origin) = origin else {
        let _ = client.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]).await;
        return;
    };
    if client
        .write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        .await
        .is_ok()
    {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut origin).await;
    }
}

async fn read_socks_auth(client: &mut TcpStream) -> Option<(String, String)> {
    let mut header = [0u8; 2];
    client.read_exact(&mut header).await.ok()?;
    let mut user = vec![0u8; usize::from(header[1])];
    client.read_exact(&mut user).await.ok()?;
    let mut len = [0u8; 1];
    client.read_exact(&mut len).await.ok()?;
    let mut pass = vec![0u8; usize::from(len[0])];
    client.read_exact(&mut pass).await.ok()?;
    Some((
        String::from_utf8_lossy(&user).into_owned(),
        String::from_utf8_lossy(&pass).into_owned(),
    ))
}
