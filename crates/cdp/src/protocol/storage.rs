//! CDP `Storage` domain.
//!
//! Browser-context-wide storage, sent on the browser connection: Tandem uses it to save and
//! restore every cookie of a session's browser context (profiles), whatever the pages open,
//! and to clear them. For the cookies of one page's URLs, see `network::GetCookies`.

use serde::{Deserialize, Serialize};

use crate::command::{Command, Empty};
use crate::protocol::browser::BrowserContextId;
use crate::protocol::network::{Cookie, CookieParam};

/// `Storage.getCookies`: every cookie of a browser context.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCookies {
    /// Context to read; `None` is the default context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_context_id: Option<BrowserContextId>,
}

/// Result of [`GetCookies`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetCookiesResult {
    /// The cookies, in no particular order.
    pub cookies: Vec<Cookie>,
}

impl Command for GetCookies {
    const METHOD: &'static str = "Storage.getCookies";
    type Response = GetCookiesResult;
}

/// `Storage.setCookies`: adds or replaces cookies in a browser context.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetCookies {
    /// Cookies to set; an invalid one fails the whole call.
    pub cookies: Vec<CookieParam>,
    /// Context to write; `None` is the default context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser_context_id: Option<BrowserContextId>,
}

impl Command for SetCookies {
    const METHOD: &'static str = "Storage.setCookies";
    type Response = Empty;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn get_cookies_result_deserializes() {
        let result: GetCookiesResult = serde_json::from_value(json!({"cookies": [
            {"name": "sid", "value": "v", "domain": "example.com", "path": "/", "expires": -1,
             "size": 4, "httpOnly": true, "secure": false, "session": true,
             "priority": "Medium", "sameParty": false, "sourceScheme": "NonSecure",
             "sourcePort": 80}
        ]}))
        .unwrap();
        assert_eq!(result.cookies.len(), 1);
        assert_eq!(result.cookies[0].name, "sid");
        assert!(result.cookies[0].http_only);
        assert_eq!(result.cookies[0].source_port, Some(80));
    }
}
