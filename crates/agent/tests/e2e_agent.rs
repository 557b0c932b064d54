//! The agent end to end: real Chromium, fixture pages on 127.0.0.1, and the scripted
//! OpenAI-compatible LLM driving whole tasks.
//!
//! The scripted model never knows an element id in advance: each reply reads the state text
//! the agent sent (the last user message) and picks the `[index]` of the line naming what it
//! wants, so every test exercises perception and actions together.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent::llm::LlmConfig;
use agent::{
    AgentSettings, ApprovalKind, Control, Feed, FeedFuture, FeedMessage, HumanAsk, HumanLink,
    HumanReply, HumanRequest, LlmAgent, PriorTask, SensitiveData, TaskContext, TaskOutcome,
    TaskRunner, TaskStats,
};
use browser::{Browser, LaunchOptions};
use cdp::protocol::input::{DispatchMouseEvent, MouseButton, MouseEventType, buttons};
use serde_json::{Value, json};
use testkit::{FixtureServer, RecordedRequest, Reply, ScriptedLlm};
use tokio::sync::watch;

/// A feed that keeps what the agent appends.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<FeedMessage>>>);

impl Feed for Recorder {
    fn append(&self, message: FeedMessage) -> FeedFuture<'_> {
        self.0.lock().unwrap().push(message);
        Box::pin(async { Ok(()) })
    }
}

impl Recorder {
    fn messages(&self) -> Vec<FeedMessage> {
        self.0.lock().unwrap().clone()
    }
}

/// The text of the last user message of a request: the state the agent showed the model.
fn state(request: &RecordedRequest) -> String {
    request.user_text()
}

/// The `[index]` of the first element line containing `needle`.
fn index(state: &str, needle: &str) -> Result<u64, String> {
    state
        .lines()
        .filter(|line| line.starts_with('[') && line.contains(needle))
        .find_map(|line| line[1..line.find(']')?].parse().ok())
        .ok_or_else(|| format!("no element line containing {needle:?}"))
}

/// The first line containing `needle`.
fn line<'a>(state: &'a str, needle: &str) -> Result<&'a str, String> {
    state
        .lines()
        .find(|line| line.contains(needle))
        .ok_or_else(|| format!("no line containing {needle:?}"))
}

/// A reply computed from the state text; a script error becomes a 400 whose message (with
/// the state) ends up in the task's failure reason.
fn on_state(f: impl Fn(&str) -> Result<Reply, String> + Send + Sync + 'static) -> Reply {
    Reply::from_fn(move |request| {
        let state = state(request);
        match f(&state) {
            Ok(reply) => reply,
            Err(e) => Reply::status(400, format!("test script: {e}\n--- state ---\n{state}")),
        }
    })
}

fn call(name: &str, arguments: Value) -> Reply {
    Reply::tool_call(name, arguments)
}

fn done(text: &str) -> Reply {
    call("done", json!({"text": text, "success": true}))
}

fn agent_for(llm: &ScriptedLlm, settings: AgentSettings) -> LlmAgent {
    let base = llm.base_url();
    let config = LlmConfig::from_lookup(
        |name| match name {
            "TANDEM_LLM_PROVIDER" => Some("openai".into()),
            "TANDEM_LLM_BASE_URL" => Some(base.clone()),
            "TANDEM_LLM_MODEL" => Some("gpt-4o-mini".into()),
            _ => None,
        },
        None,
    )
    .expect("LLM config");
    LlmAgent::new(config, settings).expect("agent")
}

/// One task's inputs beyond its text.
#[derive(Default)]
struct Extra {
    schema: Option<Value>,
    secrets: SensitiveData,
    previous: Vec<PriorTask>,
    human: HumanLink,
    require_approval: Vec<ApprovalKind>,
    /// The session's own upload directories (its workspace).
    upload_dirs: Vec<std::path::PathBuf>,
    /// The task's cost cap (`maxCostUsd`).
    max_cost_usd: Option<f64>,
    /// The task's `thinkingLevel`.
    thinking_level: Option<agent::llm::ThinkingLevel>,
}

/// Runs one task and returns its outcome and feed.
async fn run(
    agent: &LlmAgent,
    browser: &Browser,
    task: &str,
    extra: Extra,
) -> (TaskOutcome, Vec<FeedMessage>) {
    let (_stop, cancel) = watch::channel(false);
    let feed = Recorder::default();
    let ctx = TaskContext {
        task: task.to_string(),
        model: "gpt-5-mini".into(),
        output_schema: extra.schema,
        browser: browser.clone(),
        cancel,
        feed: Box::new(feed.clone()),
        previous_tasks: extra.previous,
        sensitive_data: extra.secrets,
        human: extra.human,
        require_approval: extra.require_approval,
        upload_dirs: extra.upload_dirs,
        progress: Default::default(),
        max_cost_usd: extra.max_cost_usd,
        thinking_level: extra.thinking_level,
    };
    let outcome = agent.run(ctx).await;
    (outcome, feed.messages())
}

/// The output and stats of a successful `Done`, or a panic saying what happened instead.
fn succeeded(outcome: &TaskOutcome) -> (&Value, &TaskStats) {
    match outcome {
        TaskOutcome::Done {
            output: Some(output),
            success: true,
            stats,
            ..
        } => (output, stats),
        other => panic!("the task did not succeed: {other:?}"),
    }
}

/// Runs `body` with a fresh browser and fixture server, and stops the browser whatever the
/// body did: a failed assertion is re-raised only after the browser is stopped.
async fn with_browser<F, Fut>(body: F)
where
    F: FnOnce(Browser, FixtureServer) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let browser = Browser::launch(&LaunchOptions::default())
        .await
        .expect("launch Chromium");
    let result = tokio::spawn(body(browser.clone(), FixtureServer::start().await)).await;
    browser.stop().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn active_url(browser: &Browser) -> String {
    let tab = browser.active_tab().expect("a tab");
    let page = browser.page(&tab.id).await.expect("page");
    page.evaluate("location.href")
        .await
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

#[tokio::test]
async fn a_search_form_is_filled_and_its_result_reported() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/search.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            on_state(|s| {
                let field = index(s, "Search products")?;
                Ok(call(
                    "browser_type",
                    json!({"index": field, "text": "lamp", "submit": true}),
                ))
            }),
            on_state(|s| {
                line(s, "results for \"lamp\"")?;
                Ok(done(line(s, "desk lamp costs")?.trim()))
            }),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, feed) = run(
            &agent,
            &browser,
            "Search for lamp, report the first result",
            Extra::default(),
        )
        .await;
        let (output, stats) = succeeded(&outcome);
        assert_eq!(output, &json!("Brass desk lamp costs $24.99"));
        assert_eq!(stats.steps, 3);
        assert!(
            stats.input_tokens > 0 && stats.output_tokens > 0,
            "{stats:?}"
        );
        assert_ne!(stats.llm_cost_usd, "0", "gpt-4o-mini has a price");
        assert!(active_url(&browser).await.contains("results.html?q=lamp"));

        // The feed: assistant turns with OpenAI-style tool calls, tool results, a completion.
        let typing = feed
            .iter()
            .find(|m| m.role == "assistant" && m.summary.starts_with("Typing \"lamp\" into ["))
            .unwrap_or_else(|| panic!("no typing step in {feed:#?}"));
        assert_eq!(typing.kind, "browser_action");
        // Each step's screenshot rides on its assistant message: a JPEG ("/9j/" in base64).
        let shot = typing.screenshot.as_deref().expect("a step screenshot");
        assert!(
            shot.starts_with("/9j/"),
            "not a JPEG: {}",
            &shot[..16.min(shot.len())]
        );
        let data: Value = serde_json::from_str(&typing.data).unwrap();
        assert_eq!(data["tool_calls"][0]["function"]["name"], "browser_type");
        let results: Vec<_> = feed.iter().filter(|m| m.role == "tool").collect();
        assert!(
            results.iter().all(|m| m.kind == "browser_action_result"),
            "{results:#?}"
        );
        let result: Value = serde_json::from_str(&results[1].data).unwrap();
        assert_eq!(result["tool_call_id"], data["tool_calls"][0]["id"]);
        let last = feed.last().unwrap();
        assert_eq!(
            (last.role.as_str(), last.kind.as_str()),
            ("assistant", "completion")
        );
        assert_eq!(last.summary, "Brass desk lamp costs $24.99");
        // The system prompt and the tools went with every call.
        let first = &llm.requests()[0];
        assert!(first.tool_names().contains(&"browser_click".to_string()));
        assert_eq!(first.body["tool_choice"], "required");
    })
    .await;
}

#[tokio::test]
async fn a_follow_up_starts_in_the_tab_the_human_used_last() {
    with_browser(|browser, pages| async move {
        let shop = pages.url("/agent/shop.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": shop})),
            on_state(|s| {
                let products = s.lines().filter(|l| l.starts_with('[') && l.contains("link")).count();
                Ok(done(&format!("The shop lists {products} products")))
            }),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let first_task = "Open the shop and count its products";
        let (outcome, _) = run(&agent, &browser, first_task, Extra::default()).await;
        let (first_output, _) = succeeded(&outcome);
        assert_eq!(first_output, &json!("The shop lists 3 products"));
        let agent_tab = browser.active_tab().unwrap().id;

        // The human opens the shop in a tab of their own and clicks a product, with trusted
        // mouse input as the live view sends it, then leaves that tab active.
        let human_tab = browser.new_tab(&shop).await.unwrap();
        let human = browser.page(&human_tab.id).await.unwrap();
        let mut ready = false;
        for _ in 0..50 {
            // The new tab starts on about:blank, itself "complete": wait for the shop.
            let shown = "document.readyState === 'complete' && !!document.getElementById('p2')";
            if human.evaluate(shown).await.ok() == Some(json!(true)) {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "the human's tab loaded");
        let at = human
            .evaluate("(() => { const r = document.getElementById('p2').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
            .await
            .unwrap();
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        for (kind, pressed) in [
            (MouseEventType::MousePressed, buttons::LEFT),
            (MouseEventType::MouseReleased, 0),
        ] {
            human
                .session()
                .call(DispatchMouseEvent {
                    r#type: kind,
                    x,
                    y,
                    button: Some(MouseButton::Left),
                    buttons: Some(pressed),
                    click_count: Some(1),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        let mut picked = false;
        for _ in 0..50 {
            if human.evaluate("document.title").await.ok() == Some(json!("Walnut side table")) {
                picked = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(picked, "the human's click opened the product");
        // Then they open yet another tab, and go back to the product: the tab they used
        // last is neither the newest nor the agent's.
        let newest = browser.new_tab(&pages.url("/agent/search.html")).await.unwrap();
        browser.activate_tab(&human_tab.id).await.unwrap();
        assert_ne!(human_tab.id, agent_tab);
        assert_ne!(human_tab.id, newest.id);
        assert_eq!(browser.tabs().last().map(|t| t.id.clone()), Some(newest.id.clone()));

        llm.push([
            on_state(|s| {
                line(s, "Open the shop and count its products")?;
                line(s, "result: The shop lists 3 products")?;
                Ok(call("browser_click", json!({"index": index(s, "Add to cart")?})))
            }),
            on_state(|s| {
                let title = line(s, "title: ")?.trim_start_matches("title: ").trim();
                let price = line(s, "Price: $")?.trim();
                line(s, "In your cart: ")?;
                Ok(done(&format!("You picked {title} ({price})")))
            }),
        ]);
        let previous = vec![PriorTask {
            task: first_task.into(),
            output: Some("The shop lists 3 products".into()),
            success: Some(true),
        }];
        let extra = Extra {
            previous,
            ..Default::default()
        };
        let (outcome, _) = run(&agent, &browser, "Add the product I picked to the cart", extra).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!("You picked Walnut side table (Price: $129.50)"));
        // The agent worked in the human's tab, not the newest one nor its own.
        let cart = human
            .evaluate("document.getElementById('cart').textContent")
            .await
            .unwrap();
        assert_eq!(cart, json!("In your cart: Walnut side table"));
        assert_eq!(browser.active_tab().map(|t| t.id), Some(human_tab.id.clone()));
        // The agent's view of the tabs marked the human's tab as its own.
        let request = llm.requests().pop().unwrap();
        let tabs = state(&request);
        let current = line(&tabs, "* ").unwrap();
        assert!(current.contains("Walnut side table"), "{tabs}");
    })
    .await;
}

#[tokio::test]
async fn a_server_that_refuses_required_tool_choice_gets_auto() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/search.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            // Free to answer without a tool, the model talks first: a nudge, not a failure.
            Reply::text("The search page is open; next I will type the query."),
            on_state(|s| {
                line(s, "You answered without a tool call")?;
                let field = index(s, "Search products")?;
                Ok(call(
                    "browser_type",
                    json!({"index": field, "text": "lamp", "submit": true}),
                ))
            }),
            Reply::from_fn(|request| {
                // Not forced to finish: the text answer did not count as a failure.
                if !request.tool_names().contains(&"browser_click".to_string()) {
                    return Reply::status(400, format!("tools: {:?}", request.tool_names()));
                }
                match line(&state(request), "desk lamp costs") {
                    Ok(found) => done(found.trim()),
                    Err(e) => Reply::status(400, e),
                }
            }),
        ])
        .await;
        llm.refuse_tool_choice(json!("required"));
        let settings = AgentSettings {
            max_failures: 1,
            ..Default::default()
        };
        let agent = agent_for(&llm, settings);
        let (outcome, _) = run(&agent, &browser, "Search for lamp", Extra::default()).await;
        let (output, stats) = succeeded(&outcome);
        assert_eq!(output, &json!("Brass desk lamp costs $24.99"));
        assert_eq!(stats.steps, 4);
        // The first call is refused and retried with "auto", which is kept from then on.
        let choices: Vec<Value> = llm
            .requests()
            .iter()
            .map(|r| r.body["tool_choice"].clone())
            .collect();
        assert_eq!(
            choices,
            [
                json!("required"),
                json!("auto"),
                json!("auto"),
                json!("auto"),
                json!("auto")
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn a_target_blank_link_switches_to_the_new_tab() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/blank.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            on_state(|s| {
                Ok(call(
                    "browser_click",
                    json!({"index": index(s, "Open the report")?}),
                ))
            }),
            on_state(|s| {
                let current = line(s, "* ")?;
                if !current.contains("Quarterly report") {
                    return Err(format!("the current tab is {current:?}"));
                }
                Ok(done(line(s, "Revenue grew")?.trim()))
            }),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, feed) = run(
            &agent,
            &browser,
            "Open the report and summarise it",
            Extra::default(),
        )
        .await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!("Revenue grew 17 percent."));
        assert_eq!(browser.tabs().len(), 2);
        assert!(active_url(&browser).await.ends_with("/agent/opened.html"));
        let clicked = feed
            .iter()
            .find(|m| m.role == "tool" && m.summary.starts_with("Browser Click"))
            .unwrap();
        assert!(clicked.data.contains("new tab"), "{}", clicked.data);
    })
    .await;
}

#[tokio::test]
async fn a_native_select_and_a_custom_dropdown_are_operated() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/dropdowns.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            // Two actions in one answer; neither changes the page, so both run.
            on_state(|s| {
                let select = index(s, "\"Color\"")?;
                let size = index(s, "Choose a size")?;
                Ok(Reply::tool_calls([
                    ("browser_select", json!({"index": select, "option": "Blue"})),
                    ("browser_click", json!({"index": size})),
                ]))
            }),
            on_state(|s| {
                Ok(call(
                    "browser_click",
                    json!({"index": index(s, "\"Large\"")?}),
                ))
            }),
            on_state(|s| Ok(done(line(s, "Chosen:")?.trim()))),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, _) = run(
            &agent,
            &browser,
            "Order it in blue, size large",
            Extra::default(),
        )
        .await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!("Chosen: color Blue, size Large"));
    })
    .await;
}

#[tokio::test]
async fn buttons_inside_an_iframe_and_a_shadow_root_are_clicked() {
    with_browser(|browser, pages| async move {
        let frame = pages.url("/agent/frame.html");
        let shadow = pages.url("/agent/shadow.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": frame})),
            on_state(|s| {
                Ok(Reply::tool_calls([
                    (
                        "browser_type",
                        json!({"index": index(s, "Card number")?, "text": "4242"}),
                    ),
                    (
                        "browser_click",
                        json!({"index": index(s, "Confirm payment")?}),
                    ),
                ]))
            }),
            on_state(move |s| {
                line(s, "Payment confirmed in frame for card 4242")?;
                Ok(call("browser_navigate", json!({"url": shadow})))
            }),
            on_state(|s| {
                Ok(call(
                    "browser_click",
                    json!({"index": index(s, "Activate widget")?}),
                ))
            }),
            on_state(|s| Ok(done(line(s, "Widget activated")?.trim()))),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let task = "Pay with card 4242, then activate the widget";
        let (outcome, _) = run(&agent, &browser, task, Extra::default()).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!("Widget activated through the shadow root"));
    })
    .await;
}

#[tokio::test]
async fn a_cross_origin_iframe_is_typed_into_and_clicked() {
    with_browser(|browser, pages| async move {
        let frame = pages.url("/agent/frame.html?cross");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": frame})),
            on_state(|s| {
                Ok(Reply::tool_calls([
                    (
                        "browser_type",
                        json!({"index": index(s, "Card number")?, "text": "5555"}),
                    ),
                    (
                        "browser_click",
                        json!({"index": index(s, "Confirm payment")?}),
                    ),
                ]))
            }),
            on_state(|s| Ok(done(line(s, "Payment confirmed in frame")?.trim()))),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, _) = run(&agent, &browser, "Pay with card 5555", Extra::default()).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!("Payment confirmed in frame for card 5555"));
    })
    .await;
}

#[tokio::test]
async fn a_cross_origin_iframe_below_the_fold_is_scrolled_to_and_clicked() {
    with_browser(|browser, pages| async move {
        let page = pages.url("/agent/frame-low.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": page})),
            on_state(|s| {
                Ok(call(
                    "browser_click",
                    json!({"index": index(s, "Confirm payment")?}),
                ))
            }),
            on_state(|s| Ok(done(line(s, "Payment confirmed in frame")?.trim()))),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, _) = run(&agent, &browser, "Confirm the payment", Extra::default()).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!("Payment confirmed in frame for card"));
    })
    .await;
}

#[tokio::test]
async fn extract_reads_the_text_of_frames_of_this_and_other_sites() {
    with_browser(|browser, pages| async move {
        for (path, frame_marker) in [
            ("/agent/frame.html?cross", "[frame http://localhost:"),
            ("/agent/frame.html", "[frame Payment form]"),
        ] {
            let url = pages.url(path);
            let llm = ScriptedLlm::openai([
                call("browser_navigate", json!({"url": url})),
                call("browser_extract", json!({"query": "the payment form"})),
                on_state(move |s| {
                    let at = s
                        .find(frame_marker)
                        .ok_or_else(|| format!("no {frame_marker} in the extract"))?;
                    if !s[at..].contains("Confirm payment") {
                        return Err("the frame's text is missing".into());
                    }
                    Ok(done("The frame has a Confirm payment button"))
                }),
            ])
            .await;
            let agent = agent_for(&llm, AgentSettings::default());
            let (outcome, _) = run(&agent, &browser, "Read the form", Extra::default()).await;
            succeeded(&outcome);
        }
    })
    .await;
}

#[tokio::test]
async fn a_confirm_dialog_opened_by_a_click_is_answered() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/confirm.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            on_state(|s| {
                Ok(call(
                    "browser_click",
                    json!({"index": index(s, "Delete draft")?}),
                ))
            }),
            on_state(|s| Ok(done(line(s, "Draft deleted")?.trim()))),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, feed) = run(&agent, &browser, "Delete the draft", Extra::default()).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!("Draft deleted"));
        let clicked = feed
            .iter()
            .find(|m| m.role == "tool" && m.summary.starts_with("Browser Click"))
            .unwrap();
        assert!(
            clicked.data.contains("Delete the draft?"),
            "{}",
            clicked.data
        );
    })
    .await;
}

fn product_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"name": {"type": "string"}, "price": {"type": "number"}},
        "required": ["name", "price"],
        "additionalProperties": false
    })
}

/// The product name and price from a product page's state.
fn product(s: &str) -> Result<(String, f64), String> {
    let name = line(s, "title: ")?
        .trim_start_matches("title: ")
        .trim()
        .to_string();
    let price = line(s, "Price: $")?.trim().trim_start_matches("Price: $");
    let price = price.parse().map_err(|e| format!("price {price:?}: {e}"))?;
    Ok((name, price))
}

#[tokio::test]
async fn structured_output_is_validated_with_one_corrective_retry() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/product.html?id=1");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            on_state(|s| {
                let (name, _) = product(s)?;
                Ok(call(
                    "done",
                    json!({"data": {"name": name, "price": "cheap"}, "success": true}),
                ))
            }),
            on_state(|s| {
                line(s, "does not match the output schema")?;
                let (name, price) = product(s)?;
                Ok(call(
                    "done",
                    json!({"data": {"name": name, "price": price}, "success": true}),
                ))
            }),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let extra = Extra {
            schema: Some(product_schema()),
            ..Default::default()
        };
        let (outcome, feed) =
            run(&agent, &browser, "Get the product's name and price", extra).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!({"name": "Brass desk lamp", "price": 24.99}));
        assert!(
            feed.iter()
                .any(|m| m.kind == "browser_action_error" && m.data.contains("/price"))
        );
        // The schema reached the model as done's data parameter, without `$schema`.
        let done_tool = llm.requests()[0].body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["function"]["name"] == "done")
            .cloned()
            .unwrap();
        assert_eq!(
            done_tool["function"]["parameters"]["properties"]["data"]["required"],
            json!(["name", "price"])
        );
    })
    .await;
}

#[tokio::test]
async fn structured_output_still_invalid_after_the_retry_is_unsuccessful() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/product.html?id=1");
        let bad = || {
            call(
                "done",
                json!({"data": {"name": "Brass desk lamp"}, "success": true}),
            )
        };
        let llm =
            ScriptedLlm::openai([call("browser_navigate", json!({"url": url})), bad(), bad()])
                .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let extra = Extra {
            schema: Some(product_schema()),
            ..Default::default()
        };
        let (outcome, feed) =
            run(&agent, &browser, "Get the product's name and price", extra).await;
        match outcome {
            TaskOutcome::Done {
                output,
                success,
                summary,
                ..
            } => {
                assert!(!success);
                // The SDK validates `output` against the schema: invalid data there would make
                // `client.run` raise instead of reporting isTaskSuccessful false.
                assert_eq!(output, None);
                let summary = summary.unwrap();
                assert!(
                    summary.contains("does not match the output schema"),
                    "{summary}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(llm.remaining(), 0);
        let last = feed.last().unwrap();
        assert_eq!(last.kind, "completion");
        let content: Value = serde_json::from_str(&last.data).unwrap();
        let content = content["content"].as_str().unwrap();
        assert!(
            content.contains("does not match the output schema"),
            "{content}"
        );
        assert!(content.contains("price"), "{content}");
    })
    .await;
}

#[tokio::test]
async fn with_a_schema_a_failed_or_text_end_leaves_output_null() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/product.html?id=1");
        // A done that admits failure, without data: nothing to correct, so no retry.
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            call(
                "done",
                json!({"text": "The product has no price", "success": false}),
            ),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let extra = Extra {
            schema: Some(product_schema()),
            ..Default::default()
        };
        let (outcome, _) = run(&agent, &browser, "Get the product's name and price", extra).await;
        match outcome {
            TaskOutcome::Done {
                output,
                success,
                summary,
                stats,
            } => {
                assert!(!success);
                assert_eq!(output, None);
                assert_eq!(
                    summary.as_deref(),
                    Some("Finished without success: The product has no price")
                );
                assert_eq!(stats.steps, 2, "no corrective retry");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(llm.requests().len(), 2);

        // A question nobody answers ends the task with text: not as the output.
        let llm = ScriptedLlm::openai([call("ask_human", json!({"question": "Which one?"}))]).await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (link, _asked, _control) = human(vec![HumanReply::TimedOut {
            waited: "2s".into(),
        }]);
        let extra = Extra {
            schema: Some(product_schema()),
            human: link,
            ..Default::default()
        };
        let (outcome, feed) = run(&agent, &browser, "Pick a product", extra).await;
        match outcome {
            TaskOutcome::Done {
                output,
                success,
                summary,
                ..
            } => {
                assert!(!success);
                assert_eq!(output, None);
                assert!(summary.unwrap().contains("No answer from the human"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            feed.iter()
                .any(|m| m.kind == "completion" && m.data.contains("No answer from the human"))
        );
    })
    .await;
}

#[tokio::test]
async fn a_nested_pydantic_model_works_as_the_output_schema() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/product.html?id=1");
        // model_json_schema() of `class Offer(BaseModel): product: Product` with
        // `class Product(BaseModel): name: str; price: Price` and `class Price(BaseModel):
        // amount: float; currency: str`.
        let schema = json!({
            "$defs": {
                "Price": {"properties": {"amount": {"title": "Amount", "type": "number"},
                                         "currency": {"title": "Currency", "type": "string"}},
                          "required": ["amount", "currency"], "title": "Price", "type": "object"},
                "Product": {"properties": {"name": {"title": "Name", "type": "string"},
                                           "price": {"$ref": "#/$defs/Price"}},
                            "required": ["name", "price"], "title": "Product", "type": "object"}
            },
            "properties": {"product": {"$ref": "#/$defs/Product"}},
            "required": ["product"],
            "title": "Offer",
            "type": "object"
        });
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            Reply::from_fn(|request| {
                // The model reads done's parameters as one schema: every reference in it
                // must resolve there, or a provider refuses the tools (or the model guesses).
                let done = request.body["tools"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|t| t["function"]["name"] == "done");
                let Some(parameters) = done.map(|t| t["function"]["parameters"].clone()) else {
                    return Reply::status(400, "no done tool");
                };
                let validator = match jsonschema::validator_for(&parameters) {
                    Ok(v) => v,
                    Err(e) => return Reply::status(400, format!("done's parameters: {e}")),
                };
                let (name, price) = match product(&state(request)) {
                    Ok(found) => found,
                    Err(e) => return Reply::status(400, e),
                };
                let arguments = json!({"success": true, "data": {"product": {"name": name,
                    "price": {"amount": price, "currency": "USD"}}}});
                if !validator.is_valid(&arguments) {
                    return Reply::status(400, "the arguments do not match done's parameters");
                }
                call("done", arguments)
            }),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let extra = Extra {
            schema: Some(schema),
            ..Default::default()
        };
        let (outcome, _) = run(&agent, &browser, "Get the offer", extra).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(
            output,
            &json!({"product": {"name": "Brass desk lamp", "price": {"amount": 24.99, "currency": "USD"}}})
        );
    })
    .await;
}

const SECRET: &str = "Tr0ub4dor&3-horse";

#[tokio::test]
async fn a_secret_is_typed_but_never_shown_to_the_model_or_the_feed() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/login.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            on_state(|s| {
                line(s, "<secret>password</secret>")?;
                Ok(Reply::tool_calls([
                    ("browser_type", json!({"index": index(s, "Username")?, "text": "alice"})),
                    (
                        "browser_type",
                        json!({"index": index(s, "\"Password\"")?, "text": "<secret>password</secret>", "submit": true}),
                    ),
                ]))
            }),
            on_state(|s| {
                // The page echoes the password; the agent shows the model the placeholder.
                Ok(done(line(s, "Password used:")?.trim()))
            }),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let extra = Extra {
            secrets: SensitiveData::new([("password".to_string(), SECRET.to_string())]),
            ..Default::default()
        };
        let (outcome, feed) = run(&agent, &browser, "Sign in as alice", extra).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(
            output,
            &json!(format!("Welcome alice. Password used: <secret>password</secret> ({} characters)", SECRET.len()))
        );
        // The real value went into the field...
        let tab = browser.active_tab().unwrap();
        let page = browser.page(&tab.id).await.unwrap();
        let typed = page.evaluate("document.getElementById('pass').value").await.unwrap();
        assert_eq!(typed, json!(SECRET));
        // ...and nowhere else.
        let requests = llm.requests();
        assert_eq!(requests.len(), 3);
        for request in &requests {
            assert!(!request.contains(SECRET), "the secret reached the LLM: {}", request.body);
        }
        for message in &feed {
            assert!(!message.data.contains(SECRET) && !message.summary.contains(SECRET), "{message:?}");
        }
        // Screenshots cannot be redacted: none is taken while the page shows the secret.
        let turns: Vec<_> = feed.iter().filter(|m| m.role == "assistant" && m.kind == "browser_action").collect();
        assert_eq!(turns.len(), 3);
        assert!(turns[0].screenshot.is_some() && turns[1].screenshot.is_some());
        assert!(turns[2].screenshot.is_none(), "a screenshot of the page showing the secret");
    })
    .await;
}

/// Every string in a JSON value, keys included.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                strings(v, out);
            }
        }
        _ => {}
    }
}

/// `secret` as a submitted form puts it in a URL.
fn form_encoded(secret: &str) -> String {
    secret
        .bytes()
        .map(|b| match b {
            b' ' => "+".to_string(),
            b if b.is_ascii_alphanumeric() || b"*-._".contains(&b) => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// A part of `secret` (12 characters of it as typed, with its whitespace collapsed, or as a
/// form encodes it) found in `text`, if any.
fn leaked(text: &str, secret: &str) -> Option<String> {
    let collapsed = secret.split_whitespace().collect::<Vec<_>>().join(" ");
    for form in [secret.to_string(), collapsed, form_encoded(secret)] {
        let chars: Vec<char> = form.chars().collect();
        for window in chars.windows(12.min(chars.len())) {
            let part: String = window.iter().collect();
            if text.contains(&part) {
                return Some(part);
            }
        }
    }
    None
}

/// Panics if any part of `secret` is in the model's requests, the feed or `output`.
fn assert_hidden(secret: &str, llm: &ScriptedLlm, feed: &[FeedMessage], output: &Value) {
    let mut seen = Vec::new();
    for request in llm.requests() {
        strings(&request.body, &mut seen);
    }
    for message in feed {
        seen.push(message.summary.clone());
        seen.push(message.data.clone());
        if let Ok(data) = serde_json::from_str::<Value>(&message.data) {
            strings(&data, &mut seen);
        }
    }
    strings(output, &mut seen);
    for text in &seen {
        if let Some(part) = leaked(text, secret) {
            panic!("{part:?} of the secret {secret:?} is in:\n{text}");
        }
    }
}

#[tokio::test]
async fn secrets_stay_hidden_however_the_page_shows_them() {
    // Longer than any limit of the state text; with quotes and runs of spaces; with
    // characters a URL encodes.
    let long: String = (0..150)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7) % 36] as char)
        .collect();
    let cases = [
        long.clone(),
        "my \"quoted\"  pass  phrase".to_string(),
        "p@ss/w?rd&x=1#frag ü".to_string(),
    ];
    with_browser(move |browser, pages| async move {
        let url = pages.url("/agent/token.html");
        for secret in cases {
            let llm = ScriptedLlm::openai([
                call("browser_navigate", json!({"url": url})),
                // Into the form's field, and into one whose maxlength keeps only a prefix,
                // which the form then sends in the URL too.
                on_state(|s| {
                    Ok(Reply::tool_calls([
                        (
                            "browser_type",
                            json!({"index": index(s, "API token")?, "text": "<secret>token</secret>"}),
                        ),
                        (
                            "browser_type",
                            json!({"index": index(s, "Short code")?, "text": "<secret>token</secret>"}),
                        ),
                    ]))
                }),
                on_state(|s| {
                    for field in ["API token", "Short code"] {
                        let shown = s
                            .lines()
                            .find(|l| l.starts_with('[') && l.contains(field))
                            .ok_or(format!("no {field} field"))?;
                        if !shown.contains("value=•••") {
                            return Err(format!("the field is not masked: {shown}"));
                        }
                    }
                    line(s, "You typed: <secret>token</secret>")?;
                    Ok(call("browser_click", json!({"index": index(s, "Save token")?})))
                }),
                on_state(|s| {
                    line(s, "url: ")?
                        .contains("token=<secret>token</secret>")
                        .then_some(())
                        .ok_or("the URL is not redacted")?;
                    line(s, "title: Saved <secret>token</secret>")?;
                    line(s, "* ")?
                        .contains("Saved <secret>token</secret>")
                        .then_some(())
                        .ok_or("the tab is not redacted")?;
                    index(s, "Token '<secret>token</secret>'")?;
                    line(s, "Split: <secret>token</secret>")?;
                    // A model that somehow wrote the value into its data: it is redacted.
                    Ok(call(
                        "done",
                        json!({"text": line(s, "Saved token:")?.trim(), "success": true,
                               "data": {"note": line(s, "Saved token:")?.trim()}}),
                    ))
                }),
            ])
            .await;
            let agent = agent_for(&llm, AgentSettings::default());
            let extra = Extra {
                secrets: SensitiveData::new([("token".to_string(), secret.clone())]),
                ..Default::default()
            };
            let (outcome, feed) = run(&agent, &browser, "Save the API token", extra).await;
            let (output, _) = succeeded(&outcome);
            assert_eq!(output, &json!("Saved token: <secret>token</secret>"));
            assert_hidden(&secret, &llm, &feed, output);
            // The real value went in, and the page shows it.
            let tab = browser.active_tab().unwrap();
            let page = browser.page(&tab.id).await.unwrap();
            let echo = page
                .evaluate("document.getElementById('echo').textContent")
                .await
                .unwrap();
            let collapsed = secret.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                echo.as_str().unwrap().contains(&collapsed) || echo.as_str().unwrap().contains(&secret),
                "{echo}"
            );
            // No screenshot while the page showed it (a field holding it, the echo).
            let turns: Vec<_> = feed
                .iter()
                .filter(|m| m.role == "assistant" && m.kind == "browser_action")
                .collect();
            assert_eq!(turns.len(), 4);
            assert!(turns[0].screenshot.is_some() && turns[1].screenshot.is_some());
            assert!(turns[2].screenshot.is_none() && turns[3].screenshot.is_none());
        }
    })
    .await;
}

#[tokio::test]
async fn structured_output_is_redacted_inside() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/login.html");
        // The value reached the model's data (a model that guessed it): it is redacted in
        // every string, keys included.
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            call(
                "done",
                json!({"success": true, "data": {"notes": [format!("pw {SECRET}")], "by": {SECRET: true}}}),
            ),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let extra = Extra {
            schema: Some(json!({"type": "object"})),
            secrets: SensitiveData::new([("password".to_string(), SECRET.to_string())]),
            ..Default::default()
        };
        let (outcome, feed) = run(&agent, &browser, "Note the password", extra).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(
            output,
            &json!({"notes": ["pw <secret>password</secret>"], "by": {"<secret>password</secret>": true}})
        );
        for message in &feed {
            assert!(!message.data.contains(SECRET), "{message:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_stop_interrupts_a_waiting_task_within_a_second() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/search.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            Reply::stall(Duration::from_secs(60)),
        ])
        .await;
        let agent = Arc::new(agent_for(&llm, AgentSettings::default()));
        let (stop, cancel) = watch::channel(false);
        let progress = watch::Sender::new(agent::TaskProgress::default());
        let published = progress.subscribe();
        let ctx = TaskContext {
            task: "Search for lamps".into(),
            model: "gpt-5-mini".into(),
            output_schema: None,
            browser: browser.clone(),
            cancel,
            feed: Box::new(Recorder::default()),
            previous_tasks: Vec::new(),
            sensitive_data: SensitiveData::default(),
            human: HumanLink::none(),
            require_approval: Vec::new(),
            upload_dirs: Vec::new(),
            progress,
            max_cost_usd: None,
            thinking_level: None,
        };
        let running = {
            let agent = agent.clone();
            tokio::spawn(async move { agent.run(ctx).await })
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while llm.requests().len() < 2 {
            assert!(
                Instant::now() < deadline,
                "the agent never made its second call"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stopped_at = Instant::now();
        stop.send(true).unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("the task ended")
            .unwrap();
        let took = stopped_at.elapsed();
        assert!(took < Duration::from_secs(1), "stopping took {took:?}");
        match outcome {
            TaskOutcome::Done {
                success,
                summary,
                stats,
                ..
            } => {
                assert!(!success);
                assert_eq!(summary.as_deref(), Some("Task stopped"));
                assert_eq!(stats.steps, 2);
            }
            other => panic!("{other:?}"),
        }
        // What a supervisor that drops the task's future reads instead of the outcome: the
        // step in progress and the tokens of the call that was answered.
        let progress = published.borrow().clone();
        assert_eq!(progress.stats.steps, 2);
        assert!(progress.stats.input_tokens > 0, "{progress:?}");
        assert!(
            progress.summary.unwrap().starts_with("Navigating to"),
            "the latest step's summary"
        );
    })
    .await;
}

#[tokio::test]
async fn failures_and_the_step_budget_force_done() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/search.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            call("browser_click", json!({"index": 987654321})),
            Reply::from_fn(|request| {
                // The last step offers done alone and forces it.
                if request.tool_names() != ["done"] {
                    return Reply::status(
                        400,
                        format!("tools offered: {:?}", request.tool_names()),
                    );
                }
                if !state(request).contains("there is no element [987654321]") {
                    return Reply::status(400, "the failure is not in the history");
                }
                call(
                    "done",
                    json!({"text": "Could not find the button", "success": false}),
                )
            }),
        ])
        .await;
        let settings = AgentSettings {
            max_steps: 3,
            ..Default::default()
        };
        let agent = agent_for(&llm, settings);
        let (outcome, feed) =
            run(&agent, &browser, "Click the magic button", Extra::default()).await;
        match outcome {
            TaskOutcome::Done {
                output,
                success,
                stats,
                ..
            } => {
                assert!(!success);
                assert_eq!(output, Some(json!("Could not find the button")));
                assert_eq!(stats.steps, 3);
            }
            other => panic!("{other:?}"),
        }
        let last = llm.requests().pop().unwrap();
        assert_eq!(
            last.body["tool_choice"],
            json!({"type": "function", "function": {"name": "done"}})
        );
        assert!(feed.iter().any(|m| m.kind == "browser_action_error"));
    })
    .await;
}

/// A click on an element that is not there: a failed step.
fn missing_click() -> Reply {
    call("browser_click", json!({"index": 987654321}))
}

/// A reply for a step forced by the failure limit: only `done` is offered and the model is
/// told why; anything else is a 400 that fails the task loudly.
fn forced(reply: impl Fn(&str) -> Result<Reply, String> + Send + Sync + 'static) -> Reply {
    Reply::from_fn(move |request| {
        if request.tool_names() != ["done"] {
            return Reply::status(400, format!("tools offered: {:?}", request.tool_names()));
        }
        let s = state(request);
        if !s.contains(" steps in a row failed. Call done now") {
            return Reply::status(400, format!("no failure note in:\n{s}"));
        }
        reply(&s).unwrap_or_else(|e| Reply::status(400, e))
    })
}

#[tokio::test]
async fn the_failure_limit_forces_done_with_its_retry_and_its_own_message() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/product.html?id=1");
        let settings = AgentSettings {
            max_steps: 10,
            ..Default::default()
        };
        assert_eq!(settings.max_failures, 3);
        // Three failed steps force done on step 5, well below the budget; its data is
        // rejected, and the corrective retry gets a step of its own.
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            missing_click(),
            missing_click(),
            missing_click(),
            forced(|_| {
                Ok(call(
                    "done",
                    json!({"data": {"name": "Brass desk lamp"}, "success": false}),
                ))
            }),
            forced(|s| {
                line(s, "does not match the output schema")?;
                let (name, price) = product(s)?;
                Ok(call(
                    "done",
                    json!({"data": {"name": name, "price": price}, "success": true}),
                ))
            }),
        ])
        .await;
        let agent = agent_for(&llm, settings.clone());
        let extra = Extra {
            schema: Some(product_schema()),
            ..Default::default()
        };
        let (outcome, _) = run(&agent, &browser, "Get the product", extra).await;
        let (output, stats) = succeeded(&outcome);
        assert_eq!(output, &json!({"name": "Brass desk lamp", "price": 24.99}));
        assert_eq!(stats.steps, 6);
        assert_eq!(llm.remaining(), 0);

        // A model that will not call done when forced: the task ends, saying why.
        let llm = ScriptedLlm::openai([
            missing_click(),
            missing_click(),
            missing_click(),
            forced(|_| Ok(missing_click())),
        ])
        .await;
        let agent = agent_for(&llm, settings);
        let (outcome, feed) =
            run(&agent, &browser, "Click the magic button", Extra::default()).await;
        match outcome {
            TaskOutcome::Done {
                output,
                success,
                summary,
                stats,
            } => {
                assert!(!success);
                assert_eq!(output, None);
                let summary = summary.unwrap();
                assert!(summary.contains("failed steps in a row"), "{summary}");
                assert!(!summary.contains("did not finish within"), "{summary}");
                assert_eq!(stats.steps, 4);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            feed.iter()
                .any(|m| m.data.contains("only done is allowed now"))
        );
    })
    .await;
}

/// The id of the tab whose line in the state's tab list contains `needle`.
fn tab_id(state: &str, needle: &str) -> Result<String, String> {
    state
        .lines()
        .skip_while(|l| *l != "tabs:")
        .skip(1)
        .take_while(|l| l.starts_with("* ") || l.starts_with("  "))
        .find(|l| l.contains(needle))
        .and_then(|l| l[2..].split_whitespace().next())
        .map(String::from)
        .ok_or_else(|| format!("no tab containing {needle:?}"))
}

#[tokio::test]
async fn keys_history_scrolling_and_tabs_work() {
    with_browser(|browser, pages| async move {
        let search = pages.url("/agent/search.html");
        let long = pages.url("/agent/long.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": search})),
            on_state(|s| {
                let field = index(s, "Search products")?;
                Ok(Reply::tool_calls([
                    ("browser_type", json!({"index": field, "text": "chair"})),
                    ("browser_send_keys", json!({"keys": "Enter"})),
                ]))
            }),
            on_state(|s| {
                line(s, "1 results for \"chair\"")?;
                Ok(call("browser_go_back", json!({})))
            }),
            on_state(move |s| {
                line(s, "url: ")?
                    .ends_with("/agent/search.html")
                    .then_some(())
                    .ok_or("not back")?;
                Ok(call(
                    "browser_navigate",
                    json!({"url": long, "new_tab": true}),
                ))
            }),
            on_state(|s| {
                if s.contains("Bottom button") {
                    return Err("the bottom button is listed before scrolling".into());
                }
                Ok(call(
                    "browser_scroll",
                    json!({"direction": "down", "pages": 10}),
                ))
            }),
            on_state(|s| {
                Ok(call(
                    "browser_click",
                    json!({"index": index(s, "Bottom button")?}),
                ))
            }),
            on_state(|s| {
                line(s, "Bottom reached")?;
                Ok(call(
                    "browser_switch_tab",
                    json!({"tab_id": tab_id(s, "Lamp shop search")?}),
                ))
            }),
            on_state(|s| {
                line(s, "* ")?
                    .contains("Lamp shop search")
                    .then_some(())
                    .ok_or("not switched")?;
                Ok(call(
                    "browser_close_tab",
                    json!({"tab_id": tab_id(s, "Long page")?}),
                ))
            }),
            on_state(|s| {
                let tabs = s
                    .lines()
                    .skip_while(|l| *l != "tabs:")
                    .skip(1)
                    .take_while(|l| l.starts_with("* ") || l.starts_with("  "))
                    .count();
                Ok(done(&format!("{tabs} tab(s) open")))
            }),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, feed) = run(&agent, &browser, "Exercise the browser", Extra::default()).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!("1 tab(s) open"), "{feed:#?}");
        assert_eq!(browser.tabs().len(), 1);
        assert!(
            feed.iter().all(|m| m.kind != "browser_action_error"),
            "{feed:#?}"
        );
    })
    .await;
}

#[tokio::test]
async fn uploads_take_allow_listed_files_only() {
    // The session's workspace, with a link that points out of it, and the server's own
    // upload directory.
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("report.txt"), "quarterly numbers").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", workspace.path().join("passwd")).unwrap();
    let served = tempfile::tempdir().unwrap();
    std::fs::write(served.path().join("notes.txt"), "n").unwrap();
    let (workspace_dir, served_dir) = (workspace.path().to_path_buf(), served.path().to_path_buf());
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/upload.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            on_state(|s| {
                // The model is told what it may upload, workspace first; not the link.
                let listed = s
                    .split_once("<uploadable_files>\n")
                    .and_then(|(_, rest)| rest.split_once("</uploadable_files>"))
                    .map(|(files, _)| files.lines().skip(1).collect::<Vec<_>>())
                    .ok_or("no uploadable files")?;
                if listed != ["report.txt", "notes.txt"] {
                    return Err(format!("listed: {listed:?}"));
                }
                let input = index(s, "Attachment")?;
                Ok(call(
                    "browser_upload_file",
                    json!({"index": input, "path": "/etc/passwd"}),
                ))
            }),
            on_state(|s| {
                line(s, "not allowed")?;
                let input = index(s, "Attachment")?;
                Ok(call(
                    "browser_upload_file",
                    json!({"index": input, "path": "passwd"}),
                ))
            }),
            on_state(|s| {
                line(s, "passwd is not in an allowed upload directory")?;
                // A relative name, as listed: found in the workspace, not the server's
                // working directory.
                let input = index(s, "Attachment")?;
                Ok(call(
                    "browser_upload_file",
                    json!({"index": input, "path": "report.txt"}),
                ))
            }),
            on_state(|s| Ok(done(line(s, "Attached:")?.trim()))),
        ])
        .await;
        let settings = AgentSettings {
            actions: agent::actions::ActionOptions {
                upload_dirs: vec![served_dir],
            },
            ..Default::default()
        };
        let agent = agent_for(&llm, settings);
        let extra = Extra {
            upload_dirs: vec![workspace_dir],
            ..Default::default()
        };
        let (outcome, feed) = run(&agent, &browser, "Attach the report", extra).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!("Attached: report.txt (17 bytes)"));
        let refused: Vec<_> = feed
            .iter()
            .filter(|m| m.kind == "browser_action_error")
            .collect();
        assert_eq!(refused.len(), 2, "{feed:#?}");
        assert!(
            refused[0]
                .data
                .contains("/etc/passwd is not in an allowed upload directory"),
            "{}",
            refused[0].data
        );
        let first = &llm.requests()[0];
        assert!(
            first
                .tool_names()
                .contains(&"browser_upload_file".to_string())
        );
        assert!(
            !first.user_text().contains("<uploadable_files>"),
            "listed only when the page has a file input"
        );
    })
    .await;
    drop((workspace, served));
}

#[tokio::test]
async fn a_click_on_a_covered_element_is_refused_and_says_what_covers_it() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/overlay.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            // The first click opens a banner over the page (no navigation, so the second
            // action runs), and the second aims at the now covered button.
            on_state(|s| {
                Ok(Reply::tool_calls([
                    (
                        "browser_click",
                        json!({"index": index(s, "Show cookie banner")?}),
                    ),
                    ("browser_click", json!({"index": index(s, "Buy now")?})),
                ]))
            }),
            on_state(|s| {
                line(s, "covered by <div#overlay>")?;
                Ok(call(
                    "browser_click",
                    json!({"index": index(s, "Accept cookies")?}),
                ))
            }),
            on_state(|s| {
                Ok(call(
                    "browser_click",
                    json!({"index": index(s, "Buy now")?}),
                ))
            }),
            on_state(|s| Ok(done(line(s, "Bought")?.trim()))),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, feed) = run(&agent, &browser, "Buy it", Extra::default()).await;
        let (output, _) = succeeded(&outcome);
        assert_eq!(output, &json!("Bought"));
        let refused: Vec<_> = feed
            .iter()
            .filter(|m| m.kind == "browser_action_error")
            .collect();
        assert_eq!(refused.len(), 1, "{feed:#?}");
        assert!(
            refused[0].data.contains("is covered by <div#overlay>"),
            "{}",
            refused[0].data
        );
    })
    .await;
}

/// The agent's line, what was asked on it, and the control state a test can change.
type Human = (
    HumanLink,
    Arc<Mutex<Vec<HumanAsk>>>,
    Arc<watch::Sender<Control>>,
);

/// A human on the other end of the agent's line: answers each request with the next reply
/// of `replies` and records what was asked.
fn human(replies: Vec<HumanReply>) -> Human {
    let (requests, mut incoming) = tokio::sync::mpsc::channel::<HumanRequest>(4);
    let control = Arc::new(watch::Sender::new(Control::default()));
    let link = HumanLink::new(requests, control.subscribe());
    let asked: Arc<Mutex<Vec<HumanAsk>>> = Arc::default();
    let record = asked.clone();
    let hands_back = control.clone();
    tokio::spawn(async move {
        let mut replies = replies.into_iter();
        while let Some((ask, reply)) = incoming.recv().await {
            record.lock().unwrap().push(ask);
            let next = replies.next().unwrap_or(HumanReply::Unavailable);
            if next == HumanReply::HandedBack {
                hands_back.send_modify(|c| c.held = false);
            }
            let _ = reply.send(next);
        }
    });
    (link, asked, control)
}

/// The human takes the browser, as the live view's "take control" does.
fn take_control(control: &watch::Sender<Control>) {
    control.send_modify(|c| {
        c.held = true;
        c.epoch += 1;
    });
}

async fn page_text(browser: &Browser, selector: &str) -> String {
    let tab = browser.active_tab().expect("a tab");
    let page = browser.page(&tab.id).await.expect("page");
    page.evaluate(&format!("document.querySelector({selector:?}).textContent"))
        .await
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

#[tokio::test]
async fn a_rejected_approval_skips_the_action_and_others_need_none() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/checkout.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            on_state(|s| {
                Ok(call(
                    "browser_click",
                    json!({"index": index(s, "Place order")?}),
                ))
            }),
            on_state(|s| {
                Ok(call(
                    "browser_click",
                    json!({"index": index(s, "Apply coupon")?}),
                ))
            }),
            done("The order was not placed; the coupon is applied"),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (link, asked, _control) = human(vec![HumanReply::Rejected]);
        let (outcome, feed) = run(
            &agent,
            &browser,
            "Apply the coupon and place the order",
            Extra {
                human: link,
                require_approval: vec![ApprovalKind::Purchase, ApprovalKind::Submit],
                ..Extra::default()
            },
        )
        .await;
        succeeded(&outcome);
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1, "one approval asked: {asked:?}");
        match &asked[0] {
            HumanAsk::Approval { kind, action } => {
                // "Place order" submits the form too; purchase is the more specific kind.
                assert_eq!(*kind, ApprovalKind::Purchase);
                assert!(action.contains("Place order"), "{action}");
            }
            other => panic!("expected an approval, got {other:?}"),
        }
        assert_eq!(page_text(&browser, "#status").await, "Not ordered");
        assert_eq!(page_text(&browser, "#discount").await, "Coupon applied");
        let rejected = feed
            .iter()
            .find(|m| m.role == "tool" && m.data.contains("rejected this action"))
            .expect("the rejection is in the feed");
        assert!(rejected.data.contains("purchase"), "{}", rejected.data);
        // The model was told on the next step.
        let third = &llm.requests()[2];
        assert!(
            third.contains("rejected"),
            "the model learns of the rejection"
        );
    })
    .await;
}

#[tokio::test]
async fn ask_human_waits_for_the_answer_and_goes_on_with_it() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/checkout.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            call("ask_human", json!({"question": "Which size do you want?"})),
            on_state(|s| {
                let answer = line(s, "The human answered")?;
                let size = answer.rsplit(": ").next().unwrap_or_default().trim();
                let size = size.split_whitespace().next().unwrap_or_default();
                Ok(call(
                    "browser_type",
                    json!({"index": index(s, "Size")?, "text": size, "submit": true}),
                ))
            }),
            done("Ordered size M"),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (link, asked, _control) = human(vec![HumanReply::Answered(Some("M".into()))]);
        let (outcome, _feed) = run(
            &agent,
            &browser,
            "Order the shirt in the size the human wants",
            Extra {
                human: link,
                ..Extra::default()
            },
        )
        .await;
        succeeded(&outcome);
        assert_eq!(
            asked.lock().unwrap().clone(),
            vec![HumanAsk::Question {
                question: "Which size do you want?".into()
            }]
        );
        assert_eq!(page_text(&browser, "#status").await, "Order placed, size M");
    })
    .await;
}

#[tokio::test]
async fn an_unanswered_question_ends_the_task_cleanly() {
    with_browser(|browser, _pages| async move {
        let llm = ScriptedLlm::openai([call(
            "ask_human",
            json!({"question": "Please log in for me"}),
        )])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (link, _asked, _control) = human(vec![HumanReply::TimedOut {
            waited: "2s".into(),
        }]);
        let (outcome, feed) = run(
            &agent,
            &browser,
            "Log in",
            Extra {
                human: link,
                ..Extra::default()
            },
        )
        .await;
        match outcome {
            TaskOutcome::Done {
                output, success, ..
            } => {
                assert!(!success);
                let text = output.unwrap().as_str().unwrap().to_string();
                assert!(
                    text.contains("No answer from the human within 2s"),
                    "{text}"
                );
                assert!(text.contains("Please log in for me"), "{text}");
            }
            other => panic!("expected Done, got {other:?}"),
        }
        assert!(feed.iter().any(|m| m.kind == "completion"));
        assert_eq!(llm.requests().len(), 1, "no further model calls");
    })
    .await;
}

#[tokio::test]
async fn a_human_taking_control_pauses_the_agent_until_handed_back() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/checkout.html");
        let (link, asked, control) = human(vec![HumanReply::HandedBack]);
        let takes = control.clone();
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            // The human takes control while the model plans a click: the click must be
            // skipped, not run on a page the human may have changed.
            Reply::from_fn(move |request| {
                take_control(&takes);
                match index(&state(request), "Apply coupon") {
                    Ok(i) => call("browser_click", json!({"index": i})),
                    Err(e) => Reply::status(400, e),
                }
            }),
            on_state(|s| {
                line(s, "A human took control")?;
                Ok(done("Seen the human's change"))
            }),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, feed) = run(
            &agent,
            &browser,
            "Apply the coupon",
            Extra {
                human: link,
                ..Extra::default()
            },
        )
        .await;
        succeeded(&outcome);
        assert_eq!(asked.lock().unwrap().clone(), vec![HumanAsk::Control]);
        assert_eq!(
            page_text(&browser, "#discount").await,
            "",
            "the stale click was skipped"
        );
        assert!(
            feed.iter()
                .any(|m| m.data.contains("a human used the browser")),
            "the skipped action says why"
        );
    })
    .await;
}

#[tokio::test]
async fn a_done_planned_before_a_human_took_control_waits_and_is_re_planned() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/checkout.html");
        let (link, asked, control) = human(vec![HumanReply::HandedBack]);
        let takes = control.clone();
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})),
            // The model decides it is done while the human takes the browser: that done
            // must not end the task (with keepAlive false it would stop the session and
            // the browser the human is using).
            Reply::from_fn(move |_| {
                take_control(&takes);
                done("Finished before the human came")
            }),
            on_state(|s| {
                line(s, "A human took control")?;
                Ok(done("Finished after the human handed back"))
            }),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, feed) = run(
            &agent,
            &browser,
            "Look at the checkout",
            Extra {
                human: link,
                ..Extra::default()
            },
        )
        .await;
        let (output, stats) = succeeded(&outcome);
        assert_eq!(output, &json!("Finished after the human handed back"));
        assert_eq!(stats.steps, 3);
        assert_eq!(asked.lock().unwrap().clone(), vec![HumanAsk::Control]);
        assert!(
            feed.iter()
                .any(|m| m.kind == "browser_action_error"
                    && m.data.contains("a human used the browser")),
            "{feed:#?}"
        );
        assert_eq!(llm.remaining(), 0);
    })
    .await;
}

/// Width and height of a JPEG, from its start-of-frame segment.
fn jpeg_size(data: &[u8]) -> Option<(u16, u16)> {
    let mut i = 2;
    while i + 9 < data.len() {
        let marker = data[i + 1];
        let len = usize::from(u16::from_be_bytes([data[i + 2], data[i + 3]]));
        if (0xc0..=0xc2).contains(&marker) {
            let h = u16::from_be_bytes([data[i + 5], data[i + 6]]);
            let w = u16::from_be_bytes([data[i + 7], data[i + 8]]);
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

#[tokio::test]
async fn step_screenshots_stay_css_sized_in_a_hidpi_browser() {
    use base64::Engine;
    let browser = Browser::launch(&LaunchOptions {
        device_scale_factor: 2.0,
        ..LaunchOptions::default()
    })
    .await
    .expect("launch Chromium");
    let checked = async {
        let browsing = agent::actions::Browsing::attach(browser.clone(), Default::default())
            .await
            .map_err(|e| e.to_string())?;
        let dpr = browsing
            .page()
            .evaluate("devicePixelRatio")
            .await
            .map_err(|e| e.to_string())?;
        let width = browsing
            .page()
            .evaluate("innerWidth")
            .await
            .map_err(|e| e.to_string())?;
        let shot = browsing.screenshot().await.ok_or("no screenshot")?;
        let jpeg = base64::engine::general_purpose::STANDARD
            .decode(shot)
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((dpr, width, jpeg_size(&jpeg)))
    }
    .await;
    browser.stop().await;
    let (dpr, width, size) = checked.expect("screenshot");
    assert_eq!(
        dpr,
        json!(2),
        "the browser renders at 2 device pixels per CSS pixel"
    );
    let (w, _h) = size.expect("a JPEG");
    assert_eq!(
        json!(w),
        width,
        "the screenshot has the viewport's CSS width"
    );
}

/// The cost cap: every answer reports a million prompt tokens ($0.15 on gpt-4o-mini), so a
/// $0.20 cap is crossed by the second step; the task ends after that step, unsuccessfully,
/// saying so, and never makes a third call. A follow-up with a higher cap goes on to `done`.
/// The task's thinking level rides along on every call.
#[tokio::test]
async fn a_task_stops_at_its_cost_cap_and_a_follow_up_with_a_higher_cap_goes_on() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/search.html");
        let llm = ScriptedLlm::openai([
            call("browser_navigate", json!({"url": url})).with_usage(1_000_000, 0),
            call("browser_wait", json!({"seconds": 0})).with_usage(1_000_000, 0),
            done("never reached").with_usage(1_000_000, 0),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, feed) = run(
            &agent,
            &browser,
            "Browse the shop",
            Extra {
                max_cost_usd: Some(0.2),
                thinking_level: Some(agent::llm::ThinkingLevel::Low),
                ..Extra::default()
            },
        )
        .await;
        let TaskOutcome::Done {
            success,
            summary,
            stats,
            output,
        } = outcome
        else {
            panic!("{outcome:?}")
        };
        assert!(!success);
        assert_eq!(output, None);
        let summary = summary.unwrap();
        assert!(
            summary.starts_with("Stopped at the cost cap of $0.2"),
            "{summary}"
        );
        assert_eq!(stats.steps, 2);
        assert_eq!(stats.llm_cost_usd, "0.300000");
        assert_eq!(llm.requests().len(), 2, "no call after the cap");
        assert_eq!(llm.remaining(), 1);
        let last = feed.last().unwrap();
        assert_eq!(last.kind, "completion");
        assert!(last.summary.contains("cost cap of $0.2"), "{last:?}");
        for request in llm.requests() {
            assert_eq!(request.body["reasoning_effort"], "low");
        }

        // A follow-up with a higher cap: its own cost starts at zero and it finishes.
        let before = llm.requests().len();
        let (outcome, _) = run(
            &agent,
            &browser,
            "Browse the shop again",
            Extra {
                max_cost_usd: Some(1.0),
                ..Extra::default()
            },
        )
        .await;
        let (output, stats) = succeeded(&outcome);
        assert_eq!(output, &json!("never reached"));
        assert_eq!(stats.llm_cost_usd, "0.150000");
        assert_eq!(llm.requests().len(), before + 1);
        assert!(
            llm.requests()[before]
                .body
                .get("reasoning_effort")
                .is_none()
        );
    })
    .await;
}

/// A model without a known price cannot be capped: the feed says so once, and the task runs
/// on; `[llm.prices]` prices it, and then the cap applies.
#[tokio::test]
async fn an_unpriced_model_says_so_once_and_an_operator_price_applies_the_cap() {
    with_browser(|browser, _pages| async move {
        let llm = ScriptedLlm::openai([
            call("browser_wait", json!({"seconds": 0})).with_usage(1_000_000, 0),
            call("browser_wait", json!({"seconds": 0})).with_usage(1_000_000, 0),
            done("finished").with_usage(1_000_000, 0),
        ])
        .await;
        let base = llm.base_url();
        let mut config = LlmConfig::from_lookup(
            |name| match name {
                "TANDEM_LLM_BASE_URL" => Some(base.clone()),
                "TANDEM_LLM_MODEL" => Some("my-local-model".into()),
                _ => None,
            },
            None,
        )
        .unwrap();
        let agent = LlmAgent::new(config.clone(), AgentSettings::default()).unwrap();
        let capped = || Extra {
            max_cost_usd: Some(0.5),
            ..Extra::default()
        };
        let (outcome, feed) = run(&agent, &browser, "Wait a bit", capped()).await;
        let (_, stats) = succeeded(&outcome);
        assert_eq!(stats.llm_cost_usd, "0");
        assert_eq!(stats.input_tokens, 3_000_000);
        let notes: Vec<_> = feed
            .iter()
            .filter(|m| {
                m.summary
                    .contains("price of the model my-local-model is unknown")
            })
            .collect();
        assert_eq!(notes.len(), 1, "{feed:#?}");

        // Priced by the operator at $1 per million prompt tokens: the first step crosses 0.5.
        config.prices.insert(
            "my-local".into(),
            agent::llm::ModelPrice {
                input: 1.0,
                output: 0.0,
                cached_input: None,
            },
        );
        let agent = LlmAgent::new(config, AgentSettings::default()).unwrap();
        llm.push([
            call("browser_wait", json!({"seconds": 0})).with_usage(1_000_000, 0),
            done("never reached"),
        ]);
        let (outcome, _) = run(&agent, &browser, "Wait a bit", capped()).await;
        let TaskOutcome::Done { success, stats, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert!(!success);
        assert_eq!(stats.llm_cost_usd, "1.000000");
        assert_eq!(llm.remaining(), 1);
    })
    .await;
}

/// With no cap on the task, the server's default cap (`--max-cost-usd`) applies.
#[tokio::test]
async fn the_server_default_cap_applies_when_the_task_has_none() {
    with_browser(|browser, _pages| async move {
        let llm = ScriptedLlm::openai([
            call("browser_wait", json!({"seconds": 0})).with_usage(1_000_000, 0),
            done("never reached"),
        ])
        .await;
        let settings = AgentSettings {
            max_cost_usd: Some(0.1),
            ..AgentSettings::default()
        };
        let agent = agent_for(&llm, settings);
        let (outcome, _) = run(&agent, &browser, "Wait", Extra::default()).await;
        let TaskOutcome::Done {
            success, summary, ..
        } = outcome
        else {
            panic!("{outcome:?}")
        };
        assert!(!success);
        assert!(summary.unwrap().contains("cost cap of $0.1"));
        assert_eq!(llm.remaining(), 1);
    })
    .await;
}

/// A renderer crash (`Page.crash`, as a heavy site causes) in the session's tab: the next
/// task notices it, brings the tab back on the same URL, says so in the feed, and succeeds.
#[tokio::test]
async fn a_crashed_tab_is_revived_and_the_task_goes_on() {
    with_browser(|browser, pages| async move {
        let url = pages.url("/agent/search.html");
        let tab = browser.active_tab().unwrap();
        let page = browser.page(&tab.id).await.unwrap();
        page.navigate(&url).await.unwrap();
        // Crash the renderer through a session of its own, as a CDP client would (the
        // command itself is never answered).
        let crasher = browser.page(&tab.id).await.unwrap();
        let session = crasher.session().clone();
        tokio::spawn(async move { session.send("Page.crash", json!({})).await });
        let mut gone = crasher.crash_changes();
        tokio::time::timeout(Duration::from_secs(10), gone.wait_for(|gone| *gone))
            .await
            .expect("the renderer crashed")
            .unwrap();
        assert!(
            browser.page(&tab.id).await.unwrap().renderer_gone(),
            "a session attached after the crash knows of it at once"
        );
        let llm = ScriptedLlm::openai([
            on_state(|s| {
                let field = index(s, "Search products")?;
                Ok(call(
                    "browser_type",
                    json!({"index": field, "text": "lamp", "submit": true}),
                ))
            }),
            on_state(|s| {
                line(s, "results for \"lamp\"")?;
                Ok(done(line(s, "desk lamp costs")?.trim()))
            }),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let started = Instant::now();
        let (outcome, feed) =
            run(&agent, &browser, "Find the lamp's price", Extra::default()).await;
        let (output, _) = succeeded(&outcome);
        assert!(
            output.as_str().unwrap().contains("desk lamp costs"),
            "{output}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "took {:?}",
            started.elapsed()
        );
        assert!(
            feed.iter().any(|m| m.summary.contains("crashed")),
            "the feed says the tab crashed: {feed:#?}"
        );
    })
    .await;
}

/// A model that never answers: within the bound (`llm_wait`) the summary and the feed say for
/// how long it has not answered, and the task fails once the bound is reached, not later.
#[tokio::test]
async fn a_hung_model_is_visible_and_bounded_by_llm_wait() {
    with_browser(|browser, _pages| async move {
        let llm = ScriptedLlm::openai([]).await;
        llm.otherwise(Reply::stall(Duration::from_secs(600)));
        let settings = AgentSettings {
            llm_wait: Duration::from_secs(4),
            ..AgentSettings::default()
        };
        let agent = Arc::new(agent_for(&llm, settings));
        let feed = Recorder::default();
        let progress = watch::Sender::new(agent::TaskProgress::default());
        let mut published = progress.subscribe();
        let (_stop, cancel) = watch::channel(false);
        let ctx = TaskContext {
            task: "Wait for the model".into(),
            model: "gpt-5-mini".into(),
            output_schema: None,
            browser: browser.clone(),
            cancel,
            feed: Box::new(feed.clone()),
            previous_tasks: Vec::new(),
            sensitive_data: SensitiveData::default(),
            human: HumanLink::none(),
            require_approval: Vec::new(),
            upload_dirs: Vec::new(),
            progress,
            max_cost_usd: None,
            thinking_level: None,
        };
        let started = Instant::now();
        let running = {
            let agent = agent.clone();
            tokio::spawn(async move { agent.run(ctx).await })
        };
        // The summary says the model is late while the task still runs.
        let summary = tokio::time::timeout(
            Duration::from_secs(4),
            published.wait_for(|p| {
                p.summary
                    .as_deref()
                    .is_some_and(|s| s.contains("The model has not answered for"))
            }),
        )
        .await
        .expect("a waiting summary within the bound")
        .unwrap()
        .summary
        .clone()
        .unwrap();
        assert!(summary.contains("retrying"), "{summary}");
        assert!(!running.is_finished());
        let outcome = running.await.unwrap();
        let took = started.elapsed();
        match outcome {
            TaskOutcome::Failed { reason, .. } => {
                assert!(reason.contains("has not answered for 4 s"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            took >= Duration::from_secs(4) && took < Duration::from_secs(8),
            "{took:?}"
        );
        let feed = feed.messages();
        let waiting: Vec<_> = feed
            .iter()
            .filter(|m| m.summary.contains("The model has not answered for"))
            .collect();
        assert_eq!(waiting.len(), 1, "told once, not at every tick: {feed:#?}");
    })
    .await;
}

/// Retries of a failing call are said in the feed as they happen, and the task goes on.
#[tokio::test]
async fn a_retried_model_call_is_said_in_the_feed() {
    with_browser(|browser, _pages| async move {
        let llm = ScriptedLlm::openai([
            Reply::status(503, "overloaded (scripted)"),
            done("finished"),
        ])
        .await;
        let agent = agent_for(&llm, AgentSettings::default());
        let (outcome, feed) = run(&agent, &browser, "Finish", Extra::default()).await;
        succeeded(&outcome);
        assert!(
            feed.iter()
                .any(|m| m.summary.contains("HTTP 503; retry 1 of 3")),
            "{feed:#?}"
        );
    })
    .await;
}
