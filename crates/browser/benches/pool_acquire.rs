//! Acquire-to-page-loaded: a browser from the warm pool versus a cold start.
//!
//! Each run takes a browser, attaches to its tab, loads a small page from a fixture server on
//! 127.0.0.1 and waits for its `load` event. Prints the median (and min/max) of each, and their
//! ratio. Run with `benches/run.sh` or `cargo bench -p browser --bench pool_acquire`.

use std::time::{Duration, Instant};

use browser::{Browser, BrowserError, LaunchOptions, Pool, PoolOptions};
use testkit::FixtureServer;

const RUNS: usize = 20;

async fn load(browser: &Browser, url: &str) -> Result<(), BrowserError> {
    let tab = browser
        .active_tab()
        .ok_or_else(|| BrowserError::Gone("no tab".into()))?;
    let page = browser.page(&tab.id).await?;
    page.navigate(url).await
}

fn summary(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let median = samples[samples.len() / 2];
    println!(
        "{name:<28} median {:>8.1} ms   min {:>8.1} ms   max {:>8.1} ms   (n={})",
        ms(median),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
        samples.len()
    );
    median
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> Result<(), BrowserError> {
    let pages = FixtureServer::start().await;
    let url = pages.url("/index.html");

    let mut cold = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let browser = Browser::launch(&LaunchOptions::default()).await?;
        load(&browser, &url).await?;
        cold.push(start.elapsed());
        browser.stop().await;
    }

    let pool = Pool::start(PoolOptions {
        size: 1,
        ..Default::default()
    });
    let mut warm = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        // Measure a warm acquire: let the pool refill between runs.
        pool.wait_ready(1).await;
        let start = Instant::now();
        let browser = pool.acquire().await?;
        load(&browser, &url).await?;
        warm.push(start.elapsed());
        browser.stop().await;
    }
    pool.shutdown().await;

    println!("acquire-to-page-loaded, small page on 127.0.0.1, {RUNS} runs each");
    let cold = summary("cold start (launch + load)", cold);
    let warm = summary("warm pool (acquire + load)", warm);
    println!(
        "warm is {:.1}x faster than cold (goal: >= 20x)",
        cold.as_secs_f64() / warm.as_secs_f64()
    );
    Ok(())
}
