//! A browser behind an upstream proxy, against real Chromium and a real proxy on loopback
//! (`testkit::proxy`, which alone knows where `shop.test` is): HTTP and SOCKS5, credentials
//! answered by the relay, bytes counted, refusals clear.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::time::Duration;

use browser::proxy::{self, ProxyCredentials, ProxyError, ProxyScheme, Relay, UpstreamProxy};
use browser::{Browser, BrowserError, LaunchOptions};
use serde_json::json;
use testkit::proxy::TestProxy;
use testkit::{FixtureServer, wait_group_gone};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn upstream(proxy: &TestProxy, scheme: ProxyScheme, password: &str) -> UpstreamProxy {
    UpstreamProxy::new(
        scheme,
        "127.0.0.1",
        proxy.addr().port(),
        Some(ProxyCredentials {
            username: "alice".into(),
            password: password.into(),
        }),
    )
    .unwrap()
}

async fn fixture_proxy(pages: &FixtureServer) -> TestProxy {
    let origin: std::net::SocketAddr = pages.url("").trim_start_matches("http://").parse().unwrap();
    TestProxy::start("alice", "s3cret", &[("shop.test", origin)]).await
}

async fn launch_behind(upstream: UpstreamProxy) -> Browser {
    Browser::launch(&LaunchOptions {
        proxy: Some(upstream),
        ..Default::default()
    })
    .await
    .unwrap()
}

async fn stop(browser: Browser) {
    let pid = browser.pid();
    browser.stop().await;
    assert!(
        wait_group_gone(pid, Duration::from_secs(2))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_page_loads_through_an_http_proxy_with_credentials_and_its_bytes_are_counted() {
    let pages = FixtureServer::start().await;
    let proxy = fixture_proxy(&pages).await;
    let browser = launch_behind(upstream(&proxy, ProxyScheme::Http, "s3cret")).await;
    let command_line = std::fs::read(format!("/proc/{}/cmdline", browser.pid())).unwrap();
    assert!(
        !String::from_utf8_lossy(&command_line).contains("s3cret"),
        "Chromium never gets the password"
    );
    // Whatever Chromium fetched on its own since launch went through the proxy too.
    let at_start = browser.proxy_bytes().unwrap();

    let page = browser
        .page(&browser.active_tab().unwrap().id)
        .await
        .unwrap();
    page.navigate("http://shop.test/index.html").await.unwrap();
    let answer = page
        .evaluate("document.getElementById('answer').textContent * 2")
        .await
        .unwrap();
    assert_eq!(answer, json!(84), "the page came from the fixture server");
    let requests = proxy.requests();
    let get = requests
        .iter()
        .find(|r| r.target == "http://shop.test/index.html")
        .expect("the proxy saw the request");
    assert_eq!(get.method, "GET");
    assert_eq!(get.username.as_deref(), Some("alice"));
    assert!(get.authorized);
    assert!(
        browser.proxy_bytes().unwrap() > at_start + 200,
        "{:?}",
        browser.proxy_bytes()
    );

    // https goes through a CONNECT tunnel; the fixture server speaks no TLS, so the handshake
    // fails, after the proxy opened the tunnel with the credentials.
    let err = page.navigate("https://shop.test/").await.unwrap_err();
    assert!(
        matches!(&err, BrowserError::Navigation { reason, .. } if reason.contains("SSL")),
        "{err}"
    );
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.method == "CONNECT" && r.target == "shop.test:443" && r.authorized),
        "{:?}",
        proxy.requests()
    );
    stop(browser).await;
}

#[tokio::test]
async fn a_page_loads_through_a_socks5_proxy_with_credentials() {
    let pages = FixtureServer::start().await;
    let proxy = fixture_proxy(&pages).await;
    let browser = launch_behind(upstream(&proxy, ProxyScheme::Socks5, "s3cret")).await;
    let page = browser
        .page(&browser.active_tab().unwrap().id)
        .await
        .unwrap();
    page.navigate("http://shop.test/index.html").await.unwrap();
    let answer = page
        .evaluate("document.getElementById('answer').textContent")
        .await
        .unwrap();
    assert_eq!(answer, json!("42"));
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.method == "SOCKS5" && r.target == "shop.test:80" && r.authorized),
        "{:?}",
        proxy.requests()
    );
    assert!(browser.proxy_bytes().unwrap() > 200);
    stop(browser).await;
}

#[tokio::test]
async fn wrong_credentials_are_refused_by_the_check_and_shown_in_the_page() {
    let pages = FixtureServer::start().await;
    let proxy = fixture_proxy(&pages).await;
    proxy::check(&upstream(&proxy, ProxyScheme::Http, "s3cret"))
        .await
        .unwrap();
    proxy::check(&upstream(&proxy, ProxyScheme::Socks5, "s3cret"))
        .await
        .unwrap();
    for scheme in [ProxyScheme::Http, ProxyScheme::Socks5] {
        let err = proxy::check(&upstream(&proxy, scheme, "wrong"))
            .await
            .unwrap_err();
        assert!(matches!(err, ProxyError::Refused { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("refused the credentials"), "{text}");
        assert!(
            text.contains(&format!("127.0.0.1:{}", proxy.addr().port())),
            "{text}"
        );
        assert!(
            !text.contains("wrong") || text.contains("wrong username"),
            "{text}"
        );
    }
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = nobody.local_addr().unwrap().port();
    drop(nobody);
    let err = proxy::check(
        &UpstreamProxy::new(ProxyScheme::Http, "127.0.0.1", closed_port, None).unwrap(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ProxyError::Unreachable { .. }), "{err:?}");

    // A proxy that starts refusing later: the page says so instead of loading.
    let browser = launch_behind(upstream(&proxy, ProxyScheme::Http, "wrong")).await;
    let page = browser
        .page(&browser.active_tab().unwrap().id)
        .await
        .unwrap();
    page.navigate("http://shop.test/index.html").await.unwrap();
    let text = page.evaluate("document.body.innerText").await.unwrap();
    assert!(
        text.as_str().unwrap().contains("refused the credentials"),
        "{text}"
    );
    let err = page.navigate("https://shop.test/").await.unwrap_err();
    assert!(
        matches!(&err, BrowserError::Navigation { reason, .. } if reason.contains("TUNNEL")),
        "{err}"
    );
    stop(browser).await;
}

#[tokio::test]
async fn the_relay_tunnels_raw_bytes_through_connect() {
    let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let echo_addr = echo.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = echo.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    let proxy = TestProxy::start("alice", "s3cret", &[("echo.test", echo_addr)]).await;
    let relay = Relay::start(upstream(&proxy, ProxyScheme::Http, "s3cret"))
        .await
        .unwrap();
    let mut client = tokio::net::TcpStream::connect(("127.0.0.1", relay.port()))
        .await
        .unwrap();
    client
        .write_all(b"CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 39];
    client.read_exact(&mut answer).await.unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    client.write_all(b"ping through the tunnel").await.unwrap();
    let mut echoed = [0u8; 23];
    client.read_exact(&mut echoed).await.unwrap();
    assert_eq!(&echoed, b"ping through the tunnel");
    assert!(relay.bytes() >= 46, "{}", relay.bytes());
    let connect = &proxy.requests()[0];
    assert_eq!(
        (connect.method.as_str(), connect.target.as_str()),
        ("CONNECT", "echo.test:7")
    );
    assert!(connect.authorized);
}

#[tokio::test]
async fn a_request_body_goes_up_while_the_answer_is_awaited() {
    const BODY: usize = 300_000;
    let origin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin_addr = origin.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = origin.accept().await.unwrap();
        // Answers only once the whole body is in, as a server checking an upload would.
        let mut received = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = socket.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the body was cut short");
            received.extend_from_slice(&chunk[..n]);
            let head_end = received.windows(4).position(|w| w == b"\r\n\r\n");
            if head_end.is_some_and(|end| received.len() - end - 4 >= BODY) {
                break;
            }
        }
        socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nuploaded")
            .await
            .unwrap();
    });
    let proxy = TestProxy::start("alice", "s3cret", &[("upload.test", origin_addr)]).await;
    let relay = Relay::start(upstream(&proxy, ProxyScheme::Http, "s3cret"))
        .await
        .unwrap();
    let mut client = tokio::net::TcpStream::connect(("127.0.0.1", relay.port()))
        .await
        .unwrap();
    client
        .write_all(
            format!(
                "POST http://upload.test/files HTTP/1.1\r\nHost: upload.test\r\n\
                 Content-Length: {BODY}\r\nProxy-Connection: keep-alive\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    client.write_all(&vec![b'x'; BODY]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), client.read_to_string(&mut answer))
        .await
        .expect("the answer came")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("uploaded"), "{answer}");
    assert!(relay.bytes() as usize > BODY, "{}", relay.bytes());
}
