//! A warm pool of launched browsers, so that a new session costs milliseconds, not a launch.
//!
//! The pool keeps `size` idle browsers ready and refills in the background, one launch at a
//! time (a launch costs most of a core for ~300 ms; two cores are shared with the browsers in
//! use). When the pool is empty, `acquire` launches one on the spot rather than failing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

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
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Let the refill task see that the pool is gone; the ready browsers die with `ready`.
        self.wake.notify_one();
    }
}

/// The longest pause between failed launches, so that a broken Chromium install does not spin.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Pool {
    /// Creates the pool and starts filling it. Must be called inside a tokio runtime.
    pub fn start(options: PoolOptions) -> Pool {
        let wake = Arc::new(Notify::new());
        let inner = Arc::new(Inner {
            options,
            ready: Mutex::new(VecDeque::new()),
            wake: wake.clone(),
            closed: AtomicBool::new(false),
            refill: Mutex::new(None),
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
    let mut backoff = Duration::from_millis(250);
    loop {
        let (launch, wanted) = {
            let Some(inner) = pool.upgrade() else { return };
            if inner.closed.load(Ordering::Acquire) {
                return;
            }
            let wanted = lock(&inner.ready).len() < inner.options.size;
            (inner.options.launch.clone(), wanted)
        };
        if !wanted {
            wake.notified().await;
            continue;
        }
        match Browser::launch(&launch).await {
            Ok(browser) => {
                backoff = Duration::from_millis(250);
                let Some(inner) = pool.upgrade() else {
                    browser.stop().await;
                    return;
                };
                if inner.closed.load(Ordering::Acquire) {
                    browser.stop().await;
                    return;
                }
                lock(&inner.ready).push_back(browser);
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
