//! `GET /metrics`: what the server holds and does, in Prometheus' text format.
//!
//! Every figure is read when scraped, from the store (sessions by status, usage totals) and
//! from the live state (browsers running, the warm pool, viewers); nothing is counted on the
//! side, so nothing can drift from what the API answers. The route takes the API key like
//! `/api/v3` ([`crate::api::require_api_key`]: the SDKs' header, or the bearer token that
//! Prometheus' `authorization` setting sends).

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use store::StoreStats;

use crate::api::errors::ApiError;
use crate::state::AppState;

/// The content type of Prometheus' text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Live figures that are not in the store.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Live {
    /// Chromium processes held by sessions and standalone browsers.
    browsers: usize,
    /// The concurrent limit they share.
    limit: usize,
    /// Warm browsers ready now, and how many the pool keeps.
    pool_ready: usize,
    pool_size: usize,
    /// Sessions whose live view is open, and viewer sockets in all.
    watched: usize,
    viewers: usize,
}

/// The handler.
pub async fn metrics(State(app): State<AppState>) -> Response {
    let stats = match app.sessions.store().stats().await {
        Ok(stats) => stats,
        Err(e) => return ApiError::from(crate::sessions::SessionError::from(e)).into_response(),
    };
    let (watched, viewers) = app.live.watched().await;
    let pool = app.owners.pool();
    let live = Live {
        browsers: app.owners.active_count(),
        limit: app.sessions.limits().max_sessions,
        pool_ready: pool.ready(),
        pool_size: pool.size(),
        watched,
        viewers,
    };
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        render(&stats, &live),
    )
        .into_response()
}

/// One metric: its help line, its type, and its samples (label set, value).
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

fn one(value: f64) -> Vec<(String, f64)> {
    vec![(String::new(), value)]
}

/// Samples labelled `key="<name>"`; label values here are Tandem's own status names, which
/// need no escaping.
fn labelled(key: &str, counts: &[(String, u64)]) -> Vec<(String, f64)> {
    counts
        .iter()
        .map(|(name, n)| (format!("{{{key}=\"{name}\"}}"), *n as f64))
        .collect()
}

fn render(stats: &StoreStats, live: &Live) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "tandem_build_info",
        "gauge",
        "The running version of Tandem.",
        &[(
            format!("{{version=\"{}\"}}", env!("CARGO_PKG_VERSION")),
            1.0,
        )],
    );
    family(
        &mut out,
        "tandem_sessions",
        "gauge",
        "Sessions in the store by status; ended ones stay counted, so those counts only grow.",
        &labelled("status", &stats.sessions),
    );
    family(
        &mut out,
        "tandem_sessions_waiting_for_human",
        "gauge",
        "Running sessions whose agent waits for a human (humanInput set).",
        &one(stats.waiting_for_human as f64),
    );
    family(
        &mut out,
        "tandem_standalone_browsers",
        "gauge",
        "Standalone browsers (/browsers) in the store by status.",
        &labelled("status", &stats.browsers),
    );
    family(
        &mut out,
        "tandem_chromium_running",
        "gauge",
        "Chromium processes held by sessions and standalone browsers now.",
        &one(live.browsers as f64),
    );
    family(
        &mut out,
        "tandem_chromium_limit",
        "gauge",
        "How many sessions and standalone browsers may run at once (--max-sessions).",
        &one(live.limit as f64),
    );
    family(
        &mut out,
        "tandem_pool_ready",
        "gauge",
        "Warm browsers ready to be handed out now.",
        &one(live.pool_ready as f64),
    );
    family(
        &mut out,
        "tandem_pool_size",
        "gauge",
        "Warm browsers the pool keeps ready when it can (--pool-size).",
        &one(live.pool_size as f64),
    );
    family(
        &mut out,
        "tandem_live_views",
        "gauge",
        "Sessions whose live view is open.",
        &one(live.watched as f64),
    );
    family(
        &mut out,
        "tandem_live_viewers",
        "gauge",
        "Live-view sockets open now, over every session.",
        &one(live.viewers as f64),
    );
    family(
        &mut out,
        "tandem_llm_tokens_total",
        "counter",
        "LLM tokens the agent's tasks used, over every session.",
        &[
            ("{kind=\"input\"}".to_string(), stats.input_tokens as f64),
            ("{kind=\"output\"}".to_string(), stats.output_tokens as f64),
        ],
    );
    family(
        &mut out,
        "tandem_llm_cost_usd_total",
        "counter",
        "What the agent's LLM calls cost, in US dollars, over every session.",
        &one(stats.llm_cost_usd),
    );
    family(
        &mut out,
        "tandem_messages_total",
        "counter",
        "Messages in every session's feed.",
        &one(stats.messages as f64),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format() {
        let stats = StoreStats {
            sessions: vec![("idle".into(), 2), ("stopped".into(), 5)],
            waiting_for_human: 1,
            browsers: vec![("active".into(), 1)],
            input_tokens: 1200,
            output_tokens: 80,
            llm_cost_usd: 0.25,
            messages: 9,
        };
        let live = Live {
            browsers: 3,
            limit: 8,
            pool_ready: 2,
            pool_size: 2,
            watched: 1,
            viewers: 2,
        };
        let text = render(&stats, &live);
        for line in [
            "# TYPE tandem_sessions gauge",
            "tandem_sessions{status=\"idle\"} 2",
            "tandem_sessions{status=\"stopped\"} 5",
            "tandem_sessions_waiting_for_human 1",
            "tandem_standalone_browsers{status=\"active\"} 1",
            "tandem_chromium_running 3",
            "tandem_chromium_limit 8",
            "tandem_pool_ready 2",
            "tandem_live_viewers 2",
            "# TYPE tandem_llm_tokens_total counter",
            "tandem_llm_tokens_total{kind=\"input\"} 1200",
            "tandem_llm_tokens_total{kind=\"output\"} 80",
            "tandem_llm_cost_usd_total 0.25",
            "tandem_messages_total 9",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
        // Every sample line belongs to a family announced before it.
        let mut announced = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                announced.push(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(announced.iter().any(|a| a == name), "{line}");
            }
        }
    }
}
