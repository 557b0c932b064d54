//! Typed commands and events, one module per CDP domain.
//!
//! Hand-written, and only for what Tandem uses; anything else goes through the transport's
//! untyped escape hatch. Names follow the protocol (checked against the `devtools-protocol`
//! PDL files) so that its documentation applies: `page::Navigate` is `Page.navigate`, its
//! answer is `page::NavigateResult`, and the event `Page.screencastFrame` is
//! `page::ScreencastFrame`.
//!
//! Conventions, which callers can rely on:
//! - Parameter structs serialize in camelCase and leave out `None` fields, so Chromium applies
//!   its own defaults. They implement `Default`, for `..Default::default()` at call sites.
//!   Commands without parameters are empty structs that serialize as `{}` (never `null`).
//! - Results and events are lenient, because Chromium changes faster than this code: unknown
//!   fields are ignored, missing fields take their default (strings and lists empty, numbers
//!   0, string-table indices -1), fields Chromium may omit are `Option`s, and string enums
//!   that may grow have an `Unknown` catch-all. Enums that are both read and sent keep the
//!   unknown value (`Unknown(String)`) so it can be sent back unchanged.
//! - Ids are type aliases named after the protocol's (`target::TargetId`,
//!   `dom::BackendNodeId`, ...), defined in the domain that owns them.
//! - Protocol field names that are Rust keywords keep their name as a raw identifier
//!   (`r#type`).

pub mod browser;
pub mod dom;
pub mod emulation;
pub mod input;
pub mod inspector;
pub mod network;
pub mod page;
pub mod runtime;
pub mod storage;
pub mod target;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::command::Command;

    /// The method name of a command, and its parameters as JSON.
    fn wire<C: Command + Default>() -> (&'static str, serde_json::Value) {
        (C::METHOD, serde_json::to_value(C::default()).unwrap())
    }

    #[test]
    fn commands_without_parameters_send_an_empty_object() {
        let commands = [
            wire::<page::Enable>(),
            wire::<inspector::Enable>(),
            wire::<page::StopScreencast>(),
            wire::<page::GetLayoutMetrics>(),
            wire::<page::GetNavigationHistory>(),
            wire::<runtime::Enable>(),
            wire::<browser::GetVersion>(),
            wire::<browser::Close>(),
            wire::<target::GetTargets>(),
        ];
        for (method, params) in commands {
            assert_eq!(params, json!({}), "{method} must send {{}}");
        }
    }

    #[test]
    fn method_names_are_domain_dot_method() {
        let methods = [
            target::SetAutoAttach::METHOD,
            page::AddScriptToEvaluateOnNewDocument::METHOD,
            runtime::ReleaseObjectGroup::METHOD,
            dom::ScrollIntoViewIfNeeded::METHOD,
            input::InsertText::METHOD,
            browser::SetDownloadBehavior::METHOD,
            storage::GetCookies::METHOD,
        ];
        assert_eq!(
            methods,
            [
                "Target.setAutoAttach",
                "Page.addScriptToEvaluateOnNewDocument",
                "Runtime.releaseObjectGroup",
                "DOM.scrollIntoViewIfNeeded",
                "Input.insertText",
                "Browser.setDownloadBehavior",
                "Storage.getCookies",
            ]
        );
    }

    #[test]
    fn empty_results_accept_unexpected_fields() {
        let empty: crate::command::Empty =
            serde_json::from_value(json!({"someNewField": 1})).unwrap();
        let _ = empty;
    }
}
