//! What a browser behind an upstream proxy costs: its cold launch (relay included) against a
//! cold launch without one, and a page load through the relay and a real forward proxy on
//! 127.0.0.1 (`testkit::proxy`, Basic auth) against the same page loaded directly. Each load
//! is a new navigation (a fresh query string), so nothing comes from the cache. Prints
//! medians, min and max. Run with `benches/run.sh proxy` or
//! `cargo bench -p browser --bench proxy_relay`; figures are in `benches/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench fails loudly on what it did not expect

use std::time::{Duration, Instant};

use browser::proxy::{ProxyCredentials, ProxyScheme, UpstreamProxy};
use browser::{Browser, LaunchOptions};
use testkit::FixtureServer;
use testkit::proxy::TestProxy;

const LAUNCHES: usize = 8;
const LOADS: usize = 30;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let median = samples[samples.len() / 2];
    println!(
        "{name:<34} median {:>7.1} ms   min {:>7.1} ms   max {:>7.1} ms   (n={})",
        ms(median),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
        samples.len()
    );
    median
}

async fn launches(options: &LaunchOptions) -> Vec<Duration> {
    let mut samples = Vec::new();
    for _ in 0..LAUNCHES {
        let start = Instant::now();
        let browser = Browser::launch(options).await.unwrap();
        samples.push(start.elapsed());
        browser.stop().await;
    }
    samples
}

async fn loads(browser: &Browser, base: &str) -> Vec<Duration> {
    let page = browser
        .page(&browser.active_tab().unwrap().id)
        .await
        .unwrap();
    // The first load pays for the browser's lazy set-up: not counted.
    page.navigate(&format!("{base}/index.html?warm"))
        .await
        .unwrap();
    let mut samples = Vec::new();
    for n in 0..LOADS {
        let start = Instant::now();
        page.navigate(&format!("{base}/index.html?n={n}"))
            .await
            .unwrap();
        samples.push(start.elapsed());
    }
    samples
}

#[tokio::main]
async fn main() {
    let pages = FixtureServer::start().await;
    let origin = pages.url("").trim_start_matches("http://").parse().unwrap();
    let proxy = TestProxy::start("alice", "s3cret", &[("shop.test", origin)]).await;
    let upstream = UpstreamProxy::new(
        ProxyScheme::Http,
        "127.0.0.1",
        proxy.addr().port(),
        Some(ProxyCredentials {
            username: "alice".into(),
            password: "s3cret".into(),
        }),
    )
    .unwrap();
    let direct = LaunchOptions::default();
    let proxied = LaunchOptions {
        proxy: Some(upstream.clone()),
        ..Default::default()
    };
    let socks = LaunchOptions {
        proxy: Some(UpstreamProxy {
            scheme: ProxyScheme::Socks5,
            ..upstream
        }),
        ..Default::default()
    };

    let cold = report("cold launch, direct", launches(&direct).await);
    let relayed = report("cold launch, behind a proxy", launches(&proxied).await);
    println!(
        "  the relay adds {:+.1} ms to a launch\n",
        ms(relayed) - ms(cold)
    );

    let browser = Browser::launch(&direct).await.unwrap();
    let base = pages.url("");
    let direct_load = report("page load, direct", loads(&browser, &base).await);
    browser.stop().await;
    for (name, options) in [
        ("page load, HTTP proxy via relay", &proxied),
        ("page load, SOCKS5 proxy via relay", &socks),
    ] {
        let browser = Browser::launch(options).await.unwrap();
        let load = report(name, loads(&browser, "http://shop.test").await);
        println!(
            "  {:+.1} ms per load against direct; {} bytes through the proxy\n",
            ms(load) - ms(direct_load),
            browser.proxy_bytes().unwrap()
        );
        browser.stop().await;
    }
}
