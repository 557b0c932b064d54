//! A warm pool of launched browsers, so that a new session costs milliseconds, not a launch.
//!
//! The pool keeps `size` idle browsers ready and refills in the background, one launch at a
//! time (a launch costs most of a core for ~300 ms; two cores are shared with the browsers in
//! use). When the pool is empty, `acquire` launches one on the spot rather than failing.
//!
//! Two things make a pooled browser's first page load fast, not just its acquire (measured with
//! CDP traces on 2 cores, Chromium 156; see `benches/README.md`):
//! - A refill waits until no acquire has happened for [`REFILL_QUIET`]: a launch started right
//!   at acquire time competes for the cores with the first navigation of the session just
//!   handed out, and made it 2-3x slower.
//! - Each new browser is warmed up before it joins the pool: its blank tab lays out and paints
//!   some text and makes one request to a loopback endpoint of the pool's own. A fresh
//!   browser's first navigation otherwise pays for lazy set-up on the critical path: the
//!   network service opens the cookie store (with its encryption), the HTTP cache and the
//!   shared-dictionary store (~15 ms here), and the renderer loads fonts on its first layout
//!   (~6 ms). The tab never navigates, so its renderer stays unassigned to any site and is the
//!   one the first real page reuses, and the session's history stays empty.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::browser::Browser;
use crate::error::BrowserError;
use crate::options::PoolOptions;

/// A source of ready browsers. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    options: PoolOptions,
    ready: Mutex<VecDeque<Browser>>,
    wake: Arc<Notify>,
    closed: AtomicBool,
    refill: Mutex<Option<JoinHandle<()>>>,
    /// When a browser was last handed out; refills wait for a quiet moment after it.
    last_acquire: Mutex<Option<Instant>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Let the refill task see that the pool is gone; the ready browsers die with `ready`.
        self.wake.notify_one();
    }
}

/// The longest pause between failed launches, so that a broken Chromium install does not spin.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How long after the last acquire the pool waits before launching a replacement.
///
/// A session's first page load right after its acquire takes ~25-60 ms on an idle 2-core
/// machine; a Chromium launch (~300 ms of most of a core, plus its own first paint) started at
/// the same moment made that load 2-3x slower in the pool benchmark. One second covers the first
/// load and its paint; a burst of acquires larger than the pool pays a cold launch either way.
const REFILL_QUIET: Duration = Duration::from_secs(1);

/// The most a warm-up may take; past it the browser joins the pool unwarmed (it still works).
const WARM_UP_TIMEOUT: Duration = Duration::from_secs(5);

impl Pool {
    /// Creates the pool and starts filling it. Must be called inside a tokio runtime.
    pub fn start(options: PoolOptions) -> Pool {
        // A server that was killed left its browsers' profiles behind; this one cleans them up.
        crate::process::remove_orphaned_temp_dirs();
        let wake = Arc::new(Notify::new());
        let inner = Arc::new(Inner {
            options,
            ready: Mutex::new(VecDeque::new()),
            wake: wake.clone(),
            closed: AtomicBool::new(false),
            refill: Mutex::new(None),
            last_acquire: Mutex::new(None),
        });
        let task = tokio::spawn(refill(Arc::downgrade(&inner), wake));
        *lock(&inner.refill) = Some(task);
        Pool { inner }
    }

    /// A browser of one's own: a warm one if ready, else one launched now.
    pub async fn acquire(&self) -> Result<Browser, BrowserError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(BrowserError::PoolClosed);
        }
        *lock(&self.inner.last_acquire) = Some(Instant::now());
        loop {
            let candidate = lock(&self.inner.ready).pop_front();
            self.inner.wake.notify_one();
            match candidate {
                Some(browser) if browser.is_running() => return Ok(browser),
                Some(dead) => {
                    tracing::warn!(browser = dead.id(), "a warm browser died while waiting");
                    dead.stop().await;
                }
                None => return Browser::launch(&self.inner.options.launch).await,
            }
        }
    }

    /// A browser started cold from a saved profile (`seed`, see
    /// [`Browser::stop_saving_profile`]): a warm browser already has a profile of its own, so
    /// it cannot take this one.
    pub async fn launch_with_profile(
        &self,
        seed: &std::path::Path,
    ) -> Result<Browser, BrowserError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(BrowserError::PoolClosed);
        }
        let mut options = self.inner.options.launch.clone();
        options.profile_seed = Some(seed.to_path_buf());
        Browser::launch(&options).await
    }

    /// A browser started cold with options of its own on top of the pool's (a proxy, a
    /// profile seed): a warm browser was launched without them.
    pub async fn launch_cold(
        &self,
        customize: impl FnOnce(&mut crate::options::LaunchOptions),
    ) -> Result<Browser, BrowserError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(BrowserError::PoolClosed);
        }
        let mut options = self.inner.options.launch.clone();
        customize(&mut options);
        Browser::launch(&options).await
    }

    /// How many warm browsers the pool keeps ready when it can.
    pub fn size(&self) -> usize {
        self.inner.options.size
    }

    /// How many warm browsers are ready right now.
    pub fn ready(&self) -> usize {
        lock(&self.inner.ready).len()
    }

    /// Waits until `n` browsers are ready (or the pool closes); for start-up and benchmarks.
    pub async fn wait_ready(&self, n: usize) {
        while self.ready() < n.min(self.inner.options.size)
            && !self.inner.closed.load(Ordering::Acquire)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops refilling and stops every idle browser. Browsers already handed out are their
    /// owners' to stop.
    pub async fn shutdown(&self) {
        self.inner.closed.store(true, Ordering::Release);
        self.inner.wake.notify_one();
        let task = lock(&self.inner.refill).take();
        if let Some(task) = task {
            // The task finishes its launch in progress and stops that browser itself.
            let _ = task.await;
        }
        let idle: Vec<Browser> = lock(&self.inner.ready).drain(..).collect();
        for browser in &idle {
            browser.stop().await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn refill(pool: Weak<Inner>, wake: Arc<Notify>) {
    // Owned by this task, so that it stops answering when the pool stops refilling.
    let warm_up_server = WarmUpServer::start().await;
    let warm_up_url = warm_up_server.as_ref().map(|s| s.url.clone());
    let mut backoff = Duration::from_millis(250);
    loop {
        let (launch, wanted, quiet_until) = {
            let Some(inner) = pool.upgrade() else { return };
            if inner.closed.load(Ordering::Acquire) {
                return;
            }
            let wanted = lock(&inner.ready).len() < inner.options.size;
            let quiet_until = lock(&inner.last_acquire).map(|at| at + REFILL_QUIET);
            (inner.options.launch.clone(), wanted, quiet_until)
        };
        if !wanted {
            wake.notified().await;
            continue;
        }
        if let Some(until) = quiet_until.filter(|until| *until > Instant::now()) {
            // Woken early by an acquire (which moves the quiet period) or by a shutdown: look
            // again.
            tokio::select! {
                _ = tokio::time::sleep_until(until) => {}
                _ = wake.notified() => {}
            }
            continue;
        }
        match Browser::launch(&launch).await {
            Ok(browser) => {
                warm_up(&browser, warm_up_url.as_deref()).await;
                let Some(inner) = pool.upgrade() else {
                    browser.stop().await;
                    return;
                };
                if inner.closed.load(Ordering::Acquire) {
                    browser.stop().await;
                    return;
                }
                if browser.is_running() {
                    backoff = Duration::from_millis(250);
                    lock(&inner.ready).push_back(browser);
                    continue;
                }
                drop(inner);
                // Died while warming up: as good as a failed launch, so back off the same way.
                tracing::error!(browser = browser.id(), "a new warm browser died at once");
                browser.stop().await;
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = wake.notified() => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(e) => {
                tracing::error!(error = %e, "warm pool could not launch Chromium");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = wake.notified() => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Runs, in a new browser's blank tab, the set-up its first real page load would otherwise wait
/// for (see the module doc). Failure only costs speed, so it is logged, not returned.
async fn warm_up(browser: &Browser, url: Option<&str>) {
    match tokio::time::timeout(WARM_UP_TIMEOUT, try_warm_up(browser, url)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(browser = browser.id(), error = %e, "warm-up failed"),
        Err(_) => tracing::debug!(browser = browser.id(), "warm-up timed out"),
    }
}

async fn try_warm_up(browser: &Browser, url: Option<&str>) -> Result<(), BrowserError> {
    let tab = browser
        .active_tab()
        .ok_or_else(|| BrowserError::Gone("a new browser without a tab".into()))?;
    let page = browser.page(&tab.id).await?;
    wait_for_start_page(&page).await?;
    let result = page.evaluate(&warm_up_script(url)).await;
    let _ = page.detach().await;
    result.map(|_| ())
}

/// How long a new browser's tab may take to commit its start page.
const START_PAGE_TIMEOUT: Duration = Duration::from_secs(5);

/// Waits until the tab has committed the `about:blank` it was started with.
///
/// Right after launch the tab still shows its initial empty document (a history entry with an
/// empty URL); the start page commits a little later and replaces that document, which would
/// throw away a warm-up done in it (seen under load: the warm-up's request vanished).
async fn wait_for_start_page(page: &crate::page::Page) -> Result<(), BrowserError> {
    let deadline = Instant::now() + START_PAGE_TIMEOUT;
    loop {
        let history = page
            .session()
            .call(cdp::protocol::page::GetNavigationHistory {})
            .await?;
        let committed = usize::try_from(history.current_index)
            .ok()
            .and_then(|i| history.entries.get(i))
            .is_some_and(|entry| !entry.url.is_empty());
        if committed {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(BrowserError::Start(format!(
                "the start page did not commit within {START_PAGE_TIMEOUT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The warm-up, as one expression for `Runtime.evaluate`. It leaves the page as it found it.
fn warm_up_script(url: Option<&str>) -> String {
    // The request goes to `localhost`, not `127.0.0.1`, so that it shares no connection and no
    // cookie partition with pages a session may load from 127.0.0.1. `no-cors` needs no
    // headers from the server; `credentials: include` is what opens the cookie store.
    let fetch = match url {
        Some(url) => format!(
            "await fetch({url:?}, {{mode: 'no-cors', credentials: 'include', cache: 'no-store'}})\
             .catch(() => {{}});"
        ),
        None => String::new(),
    };
    format!(
        "(async () => {{\
           const body = document.body || document.documentElement;\
           body.innerHTML = '<h1>Tandem</h1><p>warming up</p>';\
           body.getBoundingClientRect();\
           await new Promise(done => {{\
             requestAnimationFrame(() => setTimeout(done, 0));\
             setTimeout(done, 200);\
           }});\
           body.innerHTML = '';\
           {fetch}\
           return true;\
         }})()"
    )
}

/// A loopback HTTP endpoint that answers every request with an empty `204`, so that a warm-up
/// request succeeds without reaching any real site and without a console error in the tab.
struct WarmUpServer {
    url: String,
    task: JoinHandle<()>,
}

/// What the warm-up endpoint answers: nothing to cache, nothing to keep alive.
const WARM_UP_RESPONSE: &[u8] = b"HTTP/1.1 204 No Content\r\nCache-Control: no-store\r\n\
Connection: close\r\nContent-Length: 0\r\n\r\n";

impl WarmUpServer {
    /// None if no loopback port can be had; warm-ups then skip their request.
    async fn start() -> Option<WarmUpServer> {
        let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "no loopback port for pool warm-ups");
                return None;
            }
        };
        let port = listener.local_addr().ok()?.port();
        Some(WarmUpServer {
            url: format!("http://localhost:{port}/"),
            task: tokio::spawn(serve_warm_ups(listener)),
        })
    }
}

impl Drop for WarmUpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_warm_ups(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer_warm_up(stream));
            }
            Err(e) => {
                // Out of file descriptors, say: wait rather than spin.
                tracing::debug!(error = %e, "warm-up endpoint could not accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn answer_warm_up(mut stream: TcpStream) {
    let answered = tokio::time::timeout(Duration::from_secs(2), async {
        // Read the request head (a warm-up request has no body), then answer and close.
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        stream.write_all(WARM_UP_RESPONSE).await?;
        stream.shutdown().await
    })
    .await;
    if let Ok(Err(e)) = answered {
        tracing::trace!(error = %e, "warm-up request not answered");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_warm_up_endpoint_answers_204_and_closes() {
        let server = WarmUpServer::start().await.expect("a loopback port");
        let port = server.url.rsplit(':').next().unwrap().trim_end_matches('/');
        let mut stream = TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        assert!(
            answer.starts_with(b"HTTP/1.1 204 No Content\r\n"),
            "{answer:?}"
        );
    }

    #[tokio::test]
    async fn a_warmed_up_browser_made_its_request_and_is_still_a_blank_tab_without_history() {
        let server = WarmUpServer::start().await.expect("a loopback port");
        let browser = Browser::launch(&Default::default()).await.unwrap();
        let warmed = try_warm_up(&browser, Some(&server.url)).await;
        let tab = browser.active_tab().unwrap();
        let page = browser.page(&tab.id).await.unwrap();
        // A resource timing entry is added when the response has fully loaded, which can be a
        // little after `fetch` resolved: wait for it (up to 5 s) rather than race it.
        let state = page
            .evaluate(
                "(async () => { \
                   for (let i = 0; i < 250 && !performance.getEntriesByType('resource').length; i++) \
                     await new Promise(r => setTimeout(r, 20)); \
                   return [location.href, history.length, document.body.innerHTML, \
                           performance.getEntriesByType('resource').map(e => e.name)]; \
                 })()",
            )
            .await;
        browser.stop().await;
        warmed.unwrap();
        let expected = serde_json::json!(["about:blank", 1, "", [server.url]]);
        assert_eq!(state.unwrap(), expected);
        assert_eq!(browser.tabs().len(), 1, "the warm-up opened no tab");
    }

    #[test]
    fn the_warm_up_script_fetches_only_when_there_is_an_endpoint() {
        assert!(
            warm_up_script(Some("http://localhost:1/")).contains("fetch(\"http://localhost:1/\"")
        );
        assert!(!warm_up_script(None).contains("fetch("));
    }
}
