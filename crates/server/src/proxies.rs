//! Which upstream proxy a browser's traffic goes through, and what that costs.
//!
//! A browser gets a proxy from `customProxy` (`POST /browsers`) or from `proxyCountryCode`
//! looked up in the operator's table (`[proxies]`: `us = "http://user:pass@host:port"`,
//! `default = ...` for codes without an entry). A code with no entry and no `default` gives
//! no proxy, and the record then says `proxyCountryCode: null`, never claiming a proxy that is
//! not there. The browser layer runs the proxy ([`browser::proxy`]): a relay of its own adds
//! the credentials, so they reach no response, log, feed or LLM state; this module only
//! decides which proxy, checks it before a launch and turns counted bytes into `proxyUsedMb`
//! and a cost.

use std::collections::BTreeMap;

use browser::proxy::UpstreamProxy;

use crate::owners::OwnerError;

/// The key of the table's fallback entry.
pub const DEFAULT_ENTRY: &str = "default";

/// The operator's proxies and their price. Its `Debug` shows no credentials.
#[derive(Debug, Clone, Default)]
pub struct ProxySettings {
    /// Lower-case country code (or [`DEFAULT_ENTRY`]) → proxy.
    pub table: BTreeMap<String, UpstreamProxy>,
    /// US dollars per GB (10^9 bytes) through a proxy, for `proxyCost`/`proxyCostUsd`; 0 by
    /// default (a self-hoster's proxy is usually paid for elsewhere).
    pub price_per_gb_usd: f64,
}

impl ProxySettings {
    /// The proxy for country `code`: its entry, else the `default` one, else none.
    pub fn for_country(&self, code: &str) -> Option<&UpstreamProxy> {
        self.table
            .get(code)
            .or_else(|| self.table.get(DEFAULT_ENTRY))
    }

    /// What a `proxyCountryCode` gives: the code and proxy when the table serves it, else
    /// `(None, None)` (direct, and the record does not claim a proxy).
    pub fn choose(&self, code: Option<String>) -> (Option<String>, Option<ProxyChoice>) {
        let Some(code) = code else {
            return (None, None);
        };
        match self.for_country(&code) {
            Some(upstream) => (
                Some(code),
                Some(ProxyChoice {
                    upstream: upstream.clone(),
                    ignore_cert_errors: false,
                    custom: false,
                }),
            ),
            None => (None, None),
        }
    }

    /// The cost of `bytes` through a proxy, as an API decimal string.
    pub fn cost_usd(&self, bytes: i64) -> String {
        if bytes <= 0 || self.price_per_gb_usd <= 0.0 {
            return "0".into();
        }
        decimal(bytes as f64 / 1e9 * self.price_per_gb_usd)
    }
}

/// `bytes` as megabytes (10^6 bytes) for `proxyUsedMb`, an API decimal string.
pub fn megabytes(bytes: i64) -> String {
    if bytes <= 0 {
        return "0".into();
    }
    decimal(bytes as f64 / 1e6)
}

/// A non-negative figure with at most six decimals, trailing zeros dropped.
fn decimal(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() {
        "0".into()
    } else {
        text.to_string()
    }
}

/// The proxy a new browser goes through.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyChoice {
    /// Where to.
    pub upstream: UpstreamProxy,
    /// `customProxy.ignoreCertErrors`: accept any certificate, for this browser only.
    pub ignore_cert_errors: bool,
    /// Given by the client (`customProxy`), not the operator's table: a refusal is then the
    /// client's mistake (400), else the server's (502).
    pub custom: bool,
}

impl ProxyChoice {
    /// Asks the proxy whether it answers and takes the credentials, before a browser is
    /// launched behind it.
    pub async fn check(&self) -> Result<(), OwnerError> {
        browser::proxy::check(&self.upstream)
            .await
            .map_err(|error| OwnerError::Proxy {
                error,
                custom: self.custom,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_decimal_strings() {
        assert_eq!(megabytes(0), "0");
        assert_eq!(megabytes(1_500_000), "1.5");
        assert_eq!(megabytes(12), "0.000012");
        let settings = ProxySettings {
            price_per_gb_usd: 4.0,
            ..Default::default()
        };
        assert_eq!(settings.cost_usd(250_000_000), "1");
        assert_eq!(ProxySettings::default().cost_usd(250_000_000), "0");
    }

    #[test]
    fn a_code_without_an_entry_takes_the_default_or_nothing() {
        let proxy = |host: &str| UpstreamProxy::parse(&format!("http://{host}:1")).unwrap();
        let mut settings = ProxySettings::default();
        settings.table.insert("us".into(), proxy("us.example"));
        assert_eq!(settings.for_country("us").unwrap().host, "us.example");
        assert!(settings.for_country("de").is_none());
        settings
            .table
            .insert(DEFAULT_ENTRY.into(), proxy("any.example"));
        assert_eq!(settings.for_country("de").unwrap().host, "any.example");
    }
}
