//! `tandem observe <url>`: loads a page in a fresh browser and prints what the agent sees.
//!
//! For users who want to check what the LLM is shown, and for the perception benchmark: with
//! `--repeat N` the loaded page is observed N times and stderr ends with
//! `observe: median <X> ms over <N> runs` (perception only, the page load excluded).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use agent::perception::{Observer, PageState, Tab};
use anyhow::{Context, bail};
use browser::{Browser, LaunchOptions};
use clap::Args;

/// Flags of `tandem observe`.
#[derive(Debug, Clone, Args)]
pub struct ObserveArgs {
    /// The page to load
    url: String,
    /// Print the state as JSON (elements with index, role, name and bounding box)
    #[arg(long)]
    json: bool,
    /// Observe the loaded page this many times and report the median time on stderr
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
    /// Chromium binary [default: /usr/lib/chromium/chromium]
    #[arg(long, env = "TANDEM_CHROMIUM")]
    chromium: Option<PathBuf>,
}

/// Runs the command; the browser is stopped whatever happens, Ctrl-C and SIGTERM included.
pub async fn run(args: ObserveArgs) -> anyhow::Result<()> {
    let mut options = LaunchOptions::default();
    if let Some(chromium) = &args.chromium {
        options.executable = chromium.clone();
    }
    // Listening before the launch: a Ctrl-C during it still stops the browser below.
    let shutdown = crate::shutdown_signal();
    let browser = Browser::launch(&options)
        .await
        .context("cannot launch Chromium")?;
    let result = tokio::select! {
        result = observe(&browser, &args) => result,
        () = shutdown => Err(anyhow::anyhow!("interrupted")),
    };
    browser.stop().await;
    let (state, times) = result?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&state).context("cannot encode the state")?
        );
    } else {
        print!("{}", state.to_text());
    }
    if args.repeat > 1 {
        // The first run also learns every element's backendNodeId; later runs of the same
        // document reuse them, as agent steps on one page do.
        if let Some(first) = times.first() {
            eprintln!("observe: first run {:.1} ms", first.as_secs_f64() * 1000.0);
        }
        eprintln!(
            "observe: median {:.1} ms over {} runs",
            median_ms(&times),
            times.len()
        );
    }
    Ok(())
}

async fn observe(
    browser: &Browser,
    args: &ObserveArgs,
) -> anyhow::Result<(PageState, Vec<Duration>)> {
    let Some(tab) = browser.active_tab() else {
        bail!("the browser opened no tab");
    };
    let page = browser
        .page(&tab.id)
        .await
        .context("cannot attach to the tab")?;
    page.navigate(&args.url)
        .await
        .with_context(|| format!("cannot load {}", args.url))?;
    // Let the page finish its first frames: on a large page the renderer is busy for a while
    // after `load` (layout, paint), and that is page load, not perception.
    // (At most a second: a tab that renders no frames must not hang the command.)
    page.evaluate(
        "new Promise(r => { requestAnimationFrame(() => requestAnimationFrame(r)); \
         setTimeout(r, 1000); })",
    )
    .await
    .context("the page did not render")?;
    browser
        .refresh_tabs()
        .await
        .context("could not read the tab list")?;
    let mut observer = Observer::new();
    let mut times = Vec::with_capacity(args.repeat as usize);
    let mut last = None;
    for _ in 0..args.repeat {
        let tabs = Tab::list(browser, &tab.id);
        let started = Instant::now();
        let state = observer
            .observe(&page, tabs)
            .await
            .context("cannot observe the page")?;
        times.push(started.elapsed());
        last = Some(state);
    }
    let state = last.context("no observation ran")?;
    Ok((state, times))
}

/// The median of some durations, in milliseconds (the mean of the middle two for an even
/// count).
fn median_ms(times: &[Duration]) -> f64 {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    match ms.len() {
        0 => 0.0,
        n if n % 2 == 1 => ms[n / 2],
        n => (ms[n / 2 - 1] + ms[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&m| Duration::from_millis(m))
                .collect::<Vec<_>>()
        };
        assert_eq!(median_ms(&ms(&[30, 10, 20])), 20.0);
        assert_eq!(median_ms(&ms(&[40, 10, 20, 30])), 25.0);
        assert_eq!(median_ms(&[]), 0.0);
    }
}
