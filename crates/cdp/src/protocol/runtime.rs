//! CDP `Runtime` domain.
//!
//! JavaScript in a tab: Tandem uses it to run the agent's page scripts (`evaluate`,
//! `callFunctionOn` on an element resolved from a `backendNodeId`), to track execution
//! contexts per frame (each navigation destroys them), to resume targets paused by
//! auto-attach, and to read console messages and uncaught exceptions for the agent's log.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::command::{Command, Empty, Event};
use crate::protocol::page::FrameId;

/// Handle to a JavaScript object living in the page; valid until released, its object group
/// is released, or its context is destroyed (navigation).
pub type RemoteObjectId = String;

/// Identifies an execution context (one JavaScript world of one document of one frame). Only
/// unique within a renderer process: reused across processes, so pair it with the session.
pub type ExecutionContextId = i64;

/// Identifies a parsed script.
pub type ScriptId = String;

/// JavaScript type of a [`RemoteObject`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemoteObjectType {
    /// Any object, including arrays, DOM nodes and `null` (see `subtype`).
    Object,
    /// A function.
    Function,
    /// `undefined`; also what a script without a result value gives.
    Undefined,
    /// A string.
    String,
    /// A number; `NaN`, `Infinity` and `-0` come in `unserializable_value`.
    Number,
    /// A boolean.
    Boolean,
    /// A symbol.
    Symbol,
    /// A BigInt; its value comes in `unserializable_value`, e.g. `"12n"`.
    Bigint,
    /// A type newer than this code.
    #[default]
    #[serde(other)]
    Unknown,
}

/// A JavaScript value as the page returned it: inline (`value`) for primitives and for
/// objects requested with `return_by_value`, otherwise a handle (`object_id`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RemoteObject {
    /// JavaScript type.
    #[serde(rename = "type")]
    pub r#type: RemoteObjectType,
    /// Refines `object`: `"null"`, `"array"`, `"node"`, `"error"`, `"promise"`, ... (a string:
    /// the list grows).
    pub subtype: Option<String>,
    /// Constructor name of objects, e.g. `"HTMLButtonElement"`.
    pub class_name: Option<String>,
    /// The value, for primitives and by-value results; `None` for `undefined` and handles.
    pub value: Option<Value>,
    /// `"NaN"`, `"Infinity"`, `"-Infinity"`, `"-0"` or a BigInt like `"12n"`: values JSON
    /// cannot carry.
    pub unserializable_value: Option<String>,
    /// Display string, e.g. `"button#submit.primary"` or an error's message and stack.
    pub description: Option<String>,
    /// Handle to the object; release it with [`ReleaseObject`] when done.
    pub object_id: Option<RemoteObjectId>,
}

/// One argument of [`CallFunctionOn`]: give exactly one of the three fields; none at all
/// passes `undefined`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallArgument {
    /// A JSON value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// `"NaN"`, `"Infinity"`, `"-0"`, a BigInt like `"12n"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unserializable_value: Option<String>,
    /// A handle from the same context as the call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<RemoteObjectId>,
}

impl CallArgument {
    /// Passes a JSON value.
    pub fn value(value: impl Into<Value>) -> Self {
        Self {
            value: Some(value.into()),
            ..Self::default()
        }
    }

    /// Passes an object by handle, e.g. an element from `dom::ResolveNode`.
    pub fn object(object_id: impl Into<RemoteObjectId>) -> Self {
        Self {
            object_id: Some(object_id.into()),
            ..Self::default()
        }
    }
}

/// One frame of a JavaScript stack.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CallFrame {
    /// Function name; empty for anonymous and top-level code.
    pub function_name: String,
    /// Script it ran in.
    pub script_id: ScriptId,
    /// Script URL; empty for evaluated code.
    pub url: String,
    /// 0-based line.
    pub line_number: i64,
    /// 0-based column.
    pub column_number: i64,
}

/// A JavaScript stack trace, innermost frame first.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StackTrace {
    /// Label of an async stack segment (e.g. `"Promise.then"`).
    pub description: Option<String>,
    /// Frames, innermost first.
    pub call_frames: Vec<CallFrame>,
    /// The async stack that led here.
    pub parent: Option<Box<StackTrace>>,
}

/// A JavaScript exception thrown by evaluated code or left uncaught by the page.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExceptionDetails {
    /// Id to match `exceptionRevoked`.
    pub exception_id: i64,
    /// Short text, often just `"Uncaught"`; the real message is in `exception`.
    pub text: String,
    /// 0-based line of the throw.
    pub line_number: i64,
    /// 0-based column of the throw.
    pub column_number: i64,
    /// Script of the throw.
    pub script_id: Option<ScriptId>,
    /// URL of the script, when it has one.
    pub url: Option<String>,
    /// Stack at the throw.
    pub stack_trace: Option<StackTrace>,
    /// The thrown value; its `description` has the message and stack of an `Error`.
    pub exception: Option<RemoteObject>,
    /// Context the exception happened in.
    pub execution_context_id: Option<ExecutionContextId>,
}

impl ExceptionDetails {
    /// The most useful one-line-or-more message: the thrown value's description (an
    /// `Error`'s `"TypeError: x is not a function\n    at ..."`) when there is one, else `text`.
    pub fn message(&self) -> &str {
        self.exception
            .as_ref()
            .and_then(|exception| exception.description.as_deref())
            .unwrap_or(&self.text)
    }
}

/// `Runtime.enable`: starts `executionContextCreated` (sent at once for existing contexts),
/// console and exception events.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Enable {}

impl Command for Enable {
    const METHOD: &'static str = "Runtime.enable";
    type Response = Empty;
}

/// `Runtime.evaluate`: runs an expression in a context (default: the main frame's page world).
///
/// A thrown exception is not a protocol error: it comes back in
/// [`EvaluateResult::exception_details`]. Blocks while a JavaScript dialog is open.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evaluate {
    /// JavaScript expression; the value of its last statement is the result.
    pub expression: String,
    /// Group the result handle joins, for [`ReleaseObjectGroup`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_group: Option<String>,
    /// Expose DevTools' command-line API (`$`, `$$`, `copy`, ...).
    #[serde(
        rename = "includeCommandLineAPI",
        skip_serializing_if = "Option::is_none"
    )]
    pub include_command_line_api: Option<bool>,
    /// Do not report the exception to the page's error handlers or pause on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
    /// Context to run in; `None` is the main frame's page world.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_id: Option<ExecutionContextId>,
    /// Return the result as JSON in `value` instead of as a handle; values that do not survive
    /// JSON (DOM nodes, cycles) come back as `{}` or fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_by_value: Option<bool>,
    /// Treat the code as run by a user gesture (allows popups, fullscreen, clipboard).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_gesture: Option<bool>,
    /// If the result is a promise, wait for it and return what it resolves to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub await_promise: Option<bool>,
    /// Terminate the script after this many milliseconds (experimental); a hung page may not
    /// answer at all, so the transport's own timeout still applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// Context by its process-independent [`ExecutionContextDescription::unique_id`];
    /// excludes `context_id`, and cannot hit a same-numbered context after a navigation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_context_id: Option<String>,
}

/// Result of [`Evaluate`] and [`CallFunctionOn`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EvaluateResult {
    /// The value, or the thrown value when `exception_details` is set.
    pub result: RemoteObject,
    /// Set when the code threw (or the awaited promise rejected).
    pub exception_details: Option<ExceptionDetails>,
}

impl Command for Evaluate {
    const METHOD: &'static str = "Runtime.evaluate";
    type Response = EvaluateResult;
}

/// `Runtime.callFunctionOn`: calls a function with `this` bound to an object (e.g. an element
/// from `dom::ResolveNode`) or in a context's global scope. Give `object_id` or
/// `execution_context_id`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallFunctionOn {
    /// Function source, e.g. `"function() { return this.value; }"`.
    pub function_declaration: String,
    /// The `this` of the call; also decides the context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<RemoteObjectId>,
    /// Arguments; handles must come from the same context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Vec<CallArgument>>,
    /// Do not report the exception to the page's error handlers or pause on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
    /// Return the result as JSON in `value` instead of as a handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_by_value: Option<bool>,
    /// Treat the call as made by a user gesture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_gesture: Option<bool>,
    /// If the result is a promise, wait for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub await_promise: Option<bool>,
    /// Context whose global object is `this`, when there is no `object_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_context_id: Option<ExecutionContextId>,
    /// Group the result handle joins; inherited from `object_id` when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_group: Option<String>,
    /// Context by unique id, instead of `execution_context_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_context_id: Option<String>,
}

/// Result of [`CallFunctionOn`]: the same shape as [`EvaluateResult`].
pub type CallFunctionOnResult = EvaluateResult;

impl Command for CallFunctionOn {
    const METHOD: &'static str = "Runtime.callFunctionOn";
    type Response = CallFunctionOnResult;
}

/// `Runtime.releaseObject`: frees a handle, so the page can garbage-collect the object.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseObject {
    /// Handle to free.
    pub object_id: RemoteObjectId,
}

impl Command for ReleaseObject {
    const METHOD: &'static str = "Runtime.releaseObject";
    type Response = Empty;
}

/// `Runtime.releaseObjectGroup`: frees every handle of a group, e.g. after one agent step.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseObjectGroup {
    /// Group name given to `evaluate`/`callFunctionOn`/`resolveNode`.
    pub object_group: String,
}

impl Command for ReleaseObjectGroup {
    const METHOD: &'static str = "Runtime.releaseObjectGroup";
    type Response = Empty;
}

/// `Runtime.addBinding`: defines a global function `name(payload: string)` in the page whose
/// calls arrive as `bindingCalled`; a channel from page scripts to Tandem.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddBinding {
    /// Global function name.
    pub name: String,
    /// Only in contexts of this name (e.g. an isolated world), present and future; `None`
    /// means every context, where the page can see and call it too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_context_name: Option<String>,
}

impl Command for AddBinding {
    const METHOD: &'static str = "Runtime.addBinding";
    type Response = Empty;
}

/// Embedder data of an execution context, which says which frame and world it belongs to.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecutionContextAuxData {
    /// True for the page's main world of its frame.
    pub is_default: bool,
    /// `"default"`, `"isolated"` or `"worker"`.
    #[serde(rename = "type")]
    pub r#type: String,
    /// Frame the context belongs to.
    pub frame_id: Option<FrameId>,
}

/// An execution context: one JavaScript world of one document.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecutionContextDescription {
    /// Id for `Evaluate::context_id`.
    pub id: ExecutionContextId,
    /// Security origin of the document, e.g. `https://example.com`.
    pub origin: String,
    /// World name: empty for the page's world, the `world_name` for isolated worlds.
    pub name: String,
    /// Process-independent id, for `unique_context_id` (experimental).
    pub unique_id: String,
    /// Which frame and world; `None` for contexts outside frames.
    pub aux_data: Option<ExecutionContextAuxData>,
}

/// `Runtime.executionContextCreated`: a context exists (new document, new isolated world).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecutionContextCreated {
    /// The new context.
    pub context: ExecutionContextDescription,
}

impl Event for ExecutionContextCreated {
    const METHOD: &'static str = "Runtime.executionContextCreated";
}

/// `Runtime.executionContextDestroyed`: a context is gone; its handles are dead.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExecutionContextDestroyed {
    /// The context (deprecated in favour of the unique id, still sent).
    pub execution_context_id: ExecutionContextId,
    /// The context's unique id (experimental).
    pub execution_context_unique_id: String,
}

impl Event for ExecutionContextDestroyed {
    const METHOD: &'static str = "Runtime.executionContextDestroyed";
}

/// `Runtime.executionContextsCleared`: every context of the target is gone (main-frame
/// navigation).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExecutionContextsCleared {}

impl Event for ExecutionContextsCleared {
    const METHOD: &'static str = "Runtime.executionContextsCleared";
}

/// `Runtime.consoleAPICalled`: the page called `console.log` (or `error`, `warn`, ...).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConsoleApiCalled {
    /// `"log"`, `"debug"`, `"info"`, `"error"`, `"warning"`, `"assert"`, ...
    #[serde(rename = "type")]
    pub r#type: String,
    /// The arguments, primitives inline and objects as handles with a `description`.
    pub args: Vec<RemoteObject>,
    /// Context of the call.
    pub execution_context_id: ExecutionContextId,
    /// Milliseconds since the epoch.
    pub timestamp: f64,
    /// Stack of the call, for `error`, `warning`, `assert` and `trace`.
    pub stack_trace: Option<StackTrace>,
}

impl Event for ConsoleApiCalled {
    const METHOD: &'static str = "Runtime.consoleAPICalled";
}

/// `Runtime.exceptionThrown`: an exception went uncaught in the page.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExceptionThrown {
    /// Milliseconds since the epoch.
    pub timestamp: f64,
    /// The exception.
    pub exception_details: ExceptionDetails,
}

impl Event for ExceptionThrown {
    const METHOD: &'static str = "Runtime.exceptionThrown";
}

/// `Runtime.bindingCalled`: the page called a function defined by [`AddBinding`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BindingCalled {
    /// The binding's name.
    pub name: String,
    /// The string the page passed; anything in the page can forge it, so treat it as input.
    pub payload: String,
    /// Context of the call.
    pub execution_context_id: ExecutionContextId,
}

impl Event for BindingCalled {
    const METHOD: &'static str = "Runtime.bindingCalled";
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn evaluate_serializes() {
        let params = Evaluate {
            expression: "document.title".into(),
            return_by_value: Some(true),
            await_promise: Some(true),
            context_id: Some(3),
            timeout: Some(5000.0),
            user_gesture: Some(true),
            include_command_line_api: Some(false),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"expression": "document.title", "includeCommandLineAPI": false,
                   "contextId": 3, "returnByValue": true, "userGesture": true,
                   "awaitPromise": true, "timeout": 5000.0})
        );
    }

    #[test]
    fn call_function_on_serializes_arguments() {
        let params = CallFunctionOn {
            function_declaration: "function(v) { this.value = v; }".into(),
            object_id: Some("{\"injectedScriptId\":1,\"id\":2}".into()),
            arguments: Some(vec![
                CallArgument::value("hello"),
                CallArgument::object("OBJ"),
                CallArgument {
                    unserializable_value: Some("NaN".into()),
                    ..Default::default()
                },
            ]),
            return_by_value: Some(true),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"functionDeclaration": "function(v) { this.value = v; }",
                   "objectId": "{\"injectedScriptId\":1,\"id\":2}",
                   "arguments": [{"value": "hello"}, {"objectId": "OBJ"},
                                 {"unserializableValue": "NaN"}],
                   "returnByValue": true})
        );
        assert_eq!(CallFunctionOn::METHOD, "Runtime.callFunctionOn");
    }

    #[test]
    fn evaluate_result_by_value_and_handle() {
        let by_value: EvaluateResult = serde_json::from_value(json!({
            "result": {"type": "object", "value": {"a": [1, 2]}}
        }))
        .unwrap();
        assert_eq!(by_value.result.r#type, RemoteObjectType::Object);
        assert_eq!(by_value.result.value, Some(json!({"a": [1, 2]})));
        assert!(by_value.exception_details.is_none());

        let handle: EvaluateResult = serde_json::from_value(json!({
            "result": {"type": "object", "subtype": "node", "className": "HTMLButtonElement",
                       "description": "button#go", "objectId": "-123.4.5"}
        }))
        .unwrap();
        assert_eq!(handle.result.subtype.as_deref(), Some("node"));
        assert_eq!(
            handle.result.class_name.as_deref(),
            Some("HTMLButtonElement")
        );
        assert_eq!(handle.result.object_id.as_deref(), Some("-123.4.5"));
        assert_eq!(handle.result.value, None);

        let nan: EvaluateResult = serde_json::from_value(json!({
            "result": {"type": "number", "unserializableValue": "NaN", "description": "NaN"}
        }))
        .unwrap();
        assert_eq!(nan.result.r#type, RemoteObjectType::Number);
        assert_eq!(nan.result.unserializable_value.as_deref(), Some("NaN"));

        let undefined: EvaluateResult =
            serde_json::from_value(json!({"result": {"type": "undefined"}})).unwrap();
        assert_eq!(undefined.result.r#type, RemoteObjectType::Undefined);
    }

    #[test]
    fn evaluate_result_with_exception() {
        let result: EvaluateResult = serde_json::from_value(json!({
            "result": {"type": "object", "subtype": "error", "className": "TypeError",
                       "description": "TypeError: x is not a function\n    at <anonymous>:1:1",
                       "objectId": "E1"},
            "exceptionDetails": {
                "exceptionId": 1, "text": "Uncaught", "lineNumber": 0, "columnNumber": 0,
                "scriptId": "42",
                "stackTrace": {"callFrames": [{"functionName": "", "scriptId": "42", "url": "",
                                               "lineNumber": 0, "columnNumber": 0}]},
                "exception": {"type": "object", "subtype": "error", "className": "TypeError",
                              "description": "TypeError: x is not a function\n    at <anonymous>:1:1",
                              "objectId": "E1"},
                "executionContextId": 2
            }
        }))
        .unwrap();
        let details = result.exception_details.unwrap();
        assert_eq!(details.text, "Uncaught");
        assert_eq!(details.script_id.as_deref(), Some("42"));
        assert_eq!(details.execution_context_id, Some(2));
        assert_eq!(
            details.stack_trace.as_ref().map(|s| s.call_frames.len()),
            Some(1)
        );
        assert!(
            details
                .message()
                .starts_with("TypeError: x is not a function")
        );

        let bare = ExceptionDetails {
            text: "SyntaxError: Unexpected token".into(),
            ..Default::default()
        };
        assert_eq!(bare.message(), "SyntaxError: Unexpected token");
    }

    #[test]
    fn execution_context_events_deserialize() {
        let created: ExecutionContextCreated = serde_json::from_value(json!({"context": {
            "id": 5, "origin": "https://example.com", "name": "tandem",
            "uniqueId": "-81234.-5678",
            "auxData": {"isDefault": false, "type": "isolated", "frameId": "MAIN"}
        }}))
        .unwrap();
        assert_eq!(created.context.id, 5);
        assert_eq!(created.context.origin, "https://example.com");
        assert_eq!(created.context.name, "tandem");
        assert_eq!(created.context.unique_id, "-81234.-5678");
        let aux = created.context.aux_data.unwrap();
        assert!(!aux.is_default);
        assert_eq!(aux.r#type, "isolated");
        assert_eq!(aux.frame_id.as_deref(), Some("MAIN"));

        let destroyed: ExecutionContextDestroyed = serde_json::from_value(json!({
            "executionContextId": 5, "executionContextUniqueId": "-81234.-5678"
        }))
        .unwrap();
        assert_eq!(destroyed.execution_context_id, 5);
        assert_eq!(destroyed.execution_context_unique_id, "-81234.-5678");

        let _: ExecutionContextsCleared = serde_json::from_value(json!({})).unwrap();
    }

    #[test]
    fn console_and_binding_events_deserialize() {
        let console: ConsoleApiCalled = serde_json::from_value(json!({
            "type": "warning",
            "args": [{"type": "string", "value": "careful"},
                     {"type": "object", "className": "Object", "description": "Object",
                      "objectId": "O1", "preview": {"type": "object", "overflow": false, "properties": []}}],
            "executionContextId": 1, "timestamp": 1_732_540_000_123.5,
            "stackTrace": {"callFrames": []}
        }))
        .unwrap();
        assert_eq!(console.r#type, "warning");
        assert_eq!(console.args.len(), 2);
        assert_eq!(console.args[0].value, Some(json!("careful")));
        assert_eq!(console.args[1].object_id.as_deref(), Some("O1"));
        assert_eq!(console.timestamp, 1_732_540_000_123.5);
        assert_eq!(ConsoleApiCalled::METHOD, "Runtime.consoleAPICalled");

        let binding: BindingCalled = serde_json::from_value(json!({
            "name": "__tandem", "payload": "{\"click\":1}", "executionContextId": 9
        }))
        .unwrap();
        assert_eq!(binding.name, "__tandem");
        assert_eq!(binding.payload, "{\"click\":1}");
        assert_eq!(binding.execution_context_id, 9);
    }
}
