//! Acquire-to-page-loaded: a browser from the warm pool versus a cold start.
//!
//! Each run takes a browser, attaches to its tab, loads a small page from a fixture server on
//! 127.0.0.1 and waits for its `load` event. Prints the median (and min/max) of each, their
//! ratio, and where the time of each went (median of each phase). Also prints the floor the
//! warm path cannot go below: the same page loaded again in a tab that has already loaded it,
//! where nothing is left to warm up. Run with `benches/run.sh pool`
//! or `cargo bench -p browser --bench pool_acquire`; figures and settings are in
//! `benches/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::time::{Duration, Instant};

use browser::{Browser, BrowserError, LaunchOptions, Pool, PoolOptions};
use testkit::FixtureServer;

const RUNS: usize = 20;

/// One run's phases: getting the browser, attaching to its tab, navigating until `load`.
struct Run {
    get: Duration,
    attach: Duration,
    load: Duration,
}

impl Run {
    fn total(&self) -> Duration {
        self.get + self.attach + self.load
    }
}

async fn load(browser: &Browser, url: &str, start: Instant) -> Result<Run, BrowserError> {
    let got = Instant::now();
    let tab = browser
        .active_tab()
        .ok_or_else(|| BrowserError::Gone("no tab".into()))?;
    let page = browser.page(&tab.id).await?;
    let attached = Instant::now();
    page.navigate(url).await?;
    let loaded = Instant::now();
    Ok(Run {
        get: got - start,
        attach: attached - got,
        load: loaded - attached,
    })
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn summary(name: &str, runs: &[Run], get: &str) -> Duration {
    let mut totals: Vec<Duration> = runs.iter().map(Run::total).collect();
    totals.sort();
    let total = median(totals.clone());
    println!(
        "{name:<28} median {:>8.1} ms   min {:>8.1} ms   max {:>8.1} ms   (n={})",
        ms(total),
        ms(totals[0]),
        ms(totals[totals.len() - 1]),
        totals.len()
    );
    println!(
        "{:<28} medians: {get} {:.1} ms, attach {:.1} ms, navigate to load {:.1} ms",
        "",
        ms(median(runs.iter().map(|r| r.get).collect())),
        ms(median(runs.iter().map(|r| r.attach).collect())),
        ms(median(runs.iter().map(|r| r.load).collect())),
    );
    total
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> Result<(), BrowserError> {
    let pages = FixtureServer::start().await;
    let url = pages.url("/index.html");
    // Another Chromium build can be compared with the same harness, e.g.
    // TANDEM_BENCH_CHROMIUM=/usr/lib/chromium/chromium-headless-shell.
    let mut launch = LaunchOptions::default();
    if let Some(executable) = std::env::var_os("TANDEM_BENCH_CHROMIUM") {
        launch.executable = executable.into();
    }
    // Extra Chromium flags to compare, space-separated, e.g. TANDEM_BENCH_ARGS=--incognito.
    if let Ok(args) = std::env::var("TANDEM_BENCH_ARGS") {
        launch.extra_args = args.split_whitespace().map(String::from).collect();
    }
    println!(
        "Chromium: {} {}",
        launch.executable.display(),
        launch.extra_args.join(" ")
    );

    let mut cold = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let browser = Browser::launch(&launch).await?;
        cold.push(load(&browser, &url, start).await?);
        browser.stop().await;
    }

    let pool = Pool::start(PoolOptions {
        size: 1,
        launch: launch.clone(),
    });
    let mut warm = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        // Measure a warm acquire: let the pool refill (and its browser warm up) between runs.
        pool.wait_ready(1).await;
        let start = Instant::now();
        let browser = pool.acquire().await?;
        warm.push(load(&browser, &url, start).await?);
        browser.stop().await;
    }
    pool.shutdown().await;

    // The floor: one browser, one tab that has loaded the page already; each run loads it
    // again under a new URL (a real navigation, not a same-document one).
    let browser = Browser::launch(&launch).await?;
    let tab = browser
        .active_tab()
        .ok_or_else(|| BrowserError::Gone("no tab".into()))?;
    let page = browser.page(&tab.id).await?;
    page.navigate(&url).await?;
    let mut again = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        let start = Instant::now();
        page.navigate(&format!("{url}?run={run}")).await?;
        again.push(start.elapsed());
    }
    browser.stop().await;

    println!("acquire-to-page-loaded, small page on 127.0.0.1, {RUNS} runs each");
    let cold = summary("cold start (launch + load)", &cold, "launch");
    let warm = summary("warm pool (acquire + load)", &warm, "acquire");
    let again = median(again);
    println!(
        "{:<28} median {:>8.1} ms   (the floor of the warm path)",
        "same page again, used tab",
        ms(again)
    );
    println!(
        "warm is {:.1}x faster than cold (goal: >= 20x); it costs {:+.1} ms over the floor",
        cold.as_secs_f64() / warm.as_secs_f64(),
        ms(warm) - ms(again)
    );
    Ok(())
}
