//! When to retry a failed model call and how long to wait first.
//!
//! Kept free of I/O so the rules (which statuses, how `Retry-After` is read, the caps) are
//! unit-tested exactly.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// The first backoff wait; doubled on every further retry.
const BASE_BACKOFF: Duration = Duration::from_millis(500);
/// The longest backoff wait we pick ourselves.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// The longest wait a server may ask for. Longer asks (a quota reset hours away) fall back to
/// our own backoff: waiting that long would only stall the task, and the agent loop decides
/// what to do with the error.
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(60);

/// Whether an HTTP status is worth retrying: timeouts, lock conflicts, rate limits and server
/// errors (Anthropic's 529 "overloaded" included).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// Whether to retry an answer with this status and headers. `x-should-retry` (sent by OpenAI
/// and Anthropic) overrides the status rule either way.
pub fn should_retry(status: u16, headers: &HeaderMap) -> bool {
    match header_str(headers, "x-should-retry") {
        Some("true") => true,
        Some("false") => false,
        _ => is_retryable_status(status),
    }
}

/// The wait a server asked for: `retry-after-ms` (milliseconds, OpenAI) first, then
/// `Retry-After` as seconds or as an HTTP date. `None` if absent, unreadable, negative or
/// longer than [`MAX_SERVER_WAIT`].
pub fn server_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let wait = header_str(headers, "retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|ms| secs_to_duration(ms / 1000.0))
        .or_else(|| {
            let value = header_str(headers, "retry-after")?.trim();
            match value.parse::<f64>() {
                Ok(secs) => secs_to_duration(secs),
                Err(_) => httpdate::parse_http_date(value)
                    .ok()
                    .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO)),
            }
        })?;
    (wait <= MAX_SERVER_WAIT).then_some(wait)
}

/// Our own wait before retry number `retry` (0 for the first retry): exponential, capped, with
/// up to 25 % taken off at random so many tasks hitting one rate limit do not retry in step.
pub fn backoff(retry: u32) -> Duration {
    let full = BASE_BACKOFF
        .saturating_mul(2u32.saturating_pow(retry))
        .min(MAX_BACKOFF);
    let jitter = (RandomState::new().hash_one(retry) % 1000) as f64 / 1000.0;
    full.mul_f64(1.0 - 0.25 * jitter)
}

fn secs_to_duration(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0 && secs <= MAX_SERVER_WAIT.as_secs_f64())
        .then(|| Duration::from_secs_f64(secs))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn statuses_worth_retrying() {
        for status in [408, 409, 429, 500, 502, 503, 504, 529] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 404, 413, 422] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }

    #[test]
    fn x_should_retry_overrides_the_status() {
        assert!(should_retry(400, &headers(&[("x-should-retry", "true")])));
        assert!(!should_retry(503, &headers(&[("x-should-retry", "false")])));
        assert!(should_retry(503, &HeaderMap::new()));
    }

    #[test]
    fn retry_after_in_seconds() {
        let now = SystemTime::now();
        assert_eq!(
            server_wait(&headers(&[("retry-after", "2")]), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            server_wait(&headers(&[("retry-after", " 1.5 ")]), now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            server_wait(&headers(&[("retry-after", "0")]), now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_ms_wins_over_retry_after() {
        let h = headers(&[("retry-after-ms", "250"), ("retry-after", "7")]);
        assert_eq!(
            server_wait(&h, SystemTime::now()),
            Some(Duration::from_millis(250))
        );
    }

    #[test]
    fn retry_after_as_http_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:05 GMT")]);
        assert_eq!(server_wait(&h, now), Some(Duration::from_secs(5)));
        // A date in the past means "now".
        let h = headers(&[("retry-after", "Wed, 21 Oct 2015 07:27:00 GMT")]);
        assert_eq!(server_wait(&h, now), Some(Duration::ZERO));
    }

    #[test]
    fn unusable_retry_after_is_ignored() {
        let now = SystemTime::now();
        for value in ["-1", "soon", "NaN", "3600", ""] {
            assert_eq!(
                server_wait(&headers(&[("retry-after", value)]), now),
                None,
                "{value:?}"
            );
        }
        assert_eq!(server_wait(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = backoff(0);
        assert!(first <= BASE_BACKOFF && first >= BASE_BACKOFF.mul_f64(0.75));
        let third = backoff(2);
        assert!(third <= Duration::from_secs(2) && third >= Duration::from_millis(1500));
        for retry in [10, 31, 32, 1000] {
            assert!(backoff(retry) <= MAX_BACKOFF, "{retry}");
        }
    }
}
