//! The three LLM adapters against the scripted model servers, over real HTTP on 127.0.0.1:
//! tool-call round trips, retries honouring `Retry-After`, permanent errors, timeouts, and
//! the "no provider configured" error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::time::{Duration, Instant};

use agent::llm::{
    self, ApiKey, ChatRequest, ConfigError, LlmConfig, LlmError, Message, ProviderKind, StopReason,
    ToolChoice, ToolDefinition, ToolResult,
};
use serde_json::{Value, json};
use testkit::{Protocol, Reply, ScriptedLlm};

const KEY: &str = "sk-test-4f9c2b7e-do-not-leak";

fn config(provider: ProviderKind, server: &ScriptedLlm) -> LlmConfig {
    LlmConfig {
        provider,
        base_url: server.base_url(),
        api_key: Some(ApiKey::new(KEY)),
        model: "test-model".into(),
        timeout: Duration::from_secs(10),
        max_retries: 3,
        models: Default::default(),
        prices: Default::default(),
    }
}

fn protocol(provider: ProviderKind) -> Protocol {
    match provider {
        ProviderKind::OpenAi => Protocol::OpenAi,
        ProviderKind::Anthropic => Protocol::Anthropic,
        ProviderKind::Gemini => Protocol::Gemini,
    }
}

fn tools() -> Vec<ToolDefinition> {
    vec![
        ToolDefinition {
            name: "browser_type".into(),
            description: "Type text into an element".into(),
            parameters: json!({"type": "object", "properties": {
                "index": {"type": "integer"}, "text": {"type": "string"}
            }, "required": ["index", "text"]}),
        },
        ToolDefinition {
            name: "browser_send_keys".into(),
            description: "Press keys".into(),
            parameters: json!({"type": "object", "properties": {"keys": {"type": "string"}}}),
        },
    ]
}

fn simple_request() -> ChatRequest {
    ChatRequest {
        model: "test-model".into(),
        messages: vec![Message::user_text("Hello")],
        ..ChatRequest::default()
    }
}

/// One step with two tool calls, then a second call carrying their results; the scripted
/// model's second answer depends on the last tool result it receives.
async fn tool_call_round_trip(provider: ProviderKind) -> Vec<testkit::RecordedRequest> {
    let server = ScriptedLlm::start(
        protocol(provider),
        [
            Reply::tool_calls([
                ("browser_type", json!({"index": 4, "text": "shoes"})),
                ("browser_send_keys", json!({"keys": "Enter"})),
            ])
            .with_text("Searching.")
            .with_usage(1200, 45),
            Reply::from_fn(|request| match request.last_tool_result().as_deref() {
                Some("results page loaded") => Reply::text("The first result costs 12 EUR."),
                other => Reply::status(400, format!("unexpected last tool result {other:?}")),
            }),
        ],
    )
    .await;
    let provider_impl = llm::connect(&config(provider, &server)).unwrap();
    assert_eq!(provider_impl.kind(), provider);

    let mut request = ChatRequest {
        model: "test-model".into(),
        system: Some("You drive a browser.".into()),
        messages: vec![Message::user_text(
            "Search for shoes and read the first price.",
        )],
        tools: tools(),
        tool_choice: ToolChoice::Required,
        max_tokens: Some(1024),
        temperature: None,
        thinking: None,
    };
    let first = provider_impl.chat(&request).await.unwrap();
    assert_eq!(first.text, "Searching.");
    assert_eq!(first.stop_reason, StopReason::ToolUse);
    assert_eq!(first.usage.input_tokens, 1200);
    assert_eq!(first.usage.output_tokens, 45);
    let calls: Vec<(&str, &Value)> = first
        .tool_calls
        .iter()
        .map(|c| (c.name.as_str(), &c.arguments))
        .collect();
    assert_eq!(
        calls,
        vec![
            ("browser_type", &json!({"index": 4, "text": "shoes"})),
            ("browser_send_keys", &json!({"keys": "Enter"})),
        ]
    );
    assert_ne!(first.tool_calls[0].id, first.tool_calls[1].id);

    request.messages.push(first.to_message());
    for (call, outcome) in first
        .tool_calls
        .iter()
        .zip(["typed", "results page loaded"])
    {
        request.messages.push(Message::Tool(ToolResult {
            call_id: call.id.clone(),
            name: call.name.clone(),
            content: outcome.into(),
            is_error: false,
        }));
    }
    let second = provider_impl.chat(&request).await.unwrap();
    assert_eq!(second.text, "The first result costs 12 EUR.");
    assert_eq!(second.stop_reason, StopReason::EndTurn);
    assert!(second.tool_calls.is_empty());

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.tool_names(), vec!["browser_type", "browser_send_keys"]);
        assert!(r.contains("You drive a browser."));
    }
    // The second request replays the model's own calls with the ids it gave.
    for call in &first.tool_calls {
        if provider != ProviderKind::Gemini {
            assert!(requests[1].contains(&call.id), "{provider}: {}", call.id);
        }
    }
    requests
}

#[tokio::test]
async fn openai_tool_call_round_trip() {
    let requests = tool_call_round_trip(ProviderKind::OpenAi).await;
    let r = &requests[1];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization").unwrap(), format!("Bearer {KEY}"));
    assert_eq!(r.body["model"], "test-model");
    assert_eq!(r.body["tool_choice"], "required");
    let messages = r.body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool", "tool"]);
    assert_eq!(messages[3]["tool_call_id"], "call_1_0");
    assert_eq!(messages[4]["tool_call_id"], "call_1_1");
}

#[tokio::test]
async fn anthropic_tool_call_round_trip() {
    let requests = tool_call_round_trip(ProviderKind::Anthropic).await;
    let r = &requests[1];
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.header("x-api-key"), Some(KEY));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.body["system"][0]["text"], "You drive a browser.");
    // Prompt-cache breakpoints: system, tools, and the end of the conversation.
    assert_eq!(r.body["system"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(r.body["tools"][1]["cache_control"]["type"], "ephemeral");
    assert_eq!(
        r.body["messages"][2]["content"][1]["cache_control"]["type"],
        "ephemeral"
    );
    assert_eq!(
        r.body["tools"][0]["input_schema"]["required"],
        json!(["index", "text"])
    );
    let messages = r.body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["user", "assistant", "user"],
        "results merged into one turn"
    );
    assert_eq!(messages[2]["content"][0]["tool_use_id"], "toolu_1_0");
    assert_eq!(messages[2]["content"][1]["tool_use_id"], "toolu_1_1");
}

#[tokio::test]
async fn gemini_tool_call_round_trip() {
    let requests = tool_call_round_trip(ProviderKind::Gemini).await;
    let r = &requests[1];
    assert_eq!(r.path, "/v1beta/models/test-model:generateContent");
    assert_eq!(r.header("x-goog-api-key"), Some(KEY));
    assert!(!r.path.contains(KEY), "the key stays out of the URL");
    let contents = r.body["contents"].as_array().unwrap();
    let roles: Vec<&str> = contents
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "model", "user"]);
    // Thought signatures go back with the calls they came with.
    let model_parts = contents[1]["parts"].as_array().unwrap();
    assert_eq!(model_parts[1]["thoughtSignature"], "sig_1_0");
    assert_eq!(model_parts[2]["thoughtSignature"], "sig_1_1");
    assert_eq!(
        contents[2]["parts"][1]["functionResponse"],
        json!({"name": "browser_send_keys", "response": {"result": "results page loaded"}})
    );
}

#[tokio::test]
async fn rate_limit_waits_as_long_as_retry_after_says() {
    let server = ScriptedLlm::openai([Reply::rate_limited("1"), Reply::text("ok")]).await;
    let provider = llm::connect(&config(ProviderKind::OpenAi, &server)).unwrap();
    let started = Instant::now();
    let answer = provider.chat(&simple_request()).await.unwrap();
    assert_eq!(answer.text, "ok");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    // Our own first backoff is at most 500 ms: a 1 s gap means the header was honoured.
    let gap = requests[1].received_at - requests[0].received_at;
    assert!(gap >= Duration::from_secs(1), "waited only {gap:?}");
    assert!(gap < Duration::from_secs(3), "waited {gap:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn server_errors_twice_then_success() {
    for provider in [
        ProviderKind::OpenAi,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
    ] {
        let server = ScriptedLlm::start(
            protocol(provider),
            [
                Reply::status(500, "internal error"),
                Reply::status(503, "overloaded"),
                Reply::text("ok"),
            ],
        )
        .await;
        let answer = llm::connect(&config(provider, &server))
            .unwrap()
            .chat(&simple_request())
            .await
            .unwrap();
        assert_eq!(answer.text, "ok", "{provider}");
        assert_eq!(server.requests().len(), 3, "{provider}");
    }
}

#[tokio::test]
async fn retries_are_capped() {
    let server = ScriptedLlm::openai((0..5).map(|_| Reply::status(502, "bad gateway"))).await;
    let mut config = config(ProviderKind::OpenAi, &server);
    config.max_retries = 2;
    let error = llm::connect(&config)
        .unwrap()
        .chat(&simple_request())
        .await
        .unwrap_err();
    match &error {
        LlmError::Status {
            status, attempts, ..
        } => assert_eq!((*status, *attempts), (502, 3)),
        other => panic!("{other:?}"),
    }
    assert!(error.is_transient());
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn unauthorized_fails_at_once_without_the_key() {
    for provider in [
        ProviderKind::OpenAi,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
    ] {
        // Real providers echo (part of) a bad key back; the error must not carry it.
        let server = ScriptedLlm::start(
            protocol(provider),
            [
                Reply::status(401, format!("Incorrect API key provided: {KEY}.")),
                Reply::text("never reached"),
            ],
        )
        .await;
        let error = llm::connect(&config(provider, &server))
            .unwrap()
            .chat(&simple_request())
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                LlmError::Status {
                    status: 401,
                    attempts: 1,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(!error.is_transient());
        let shown = error.to_string();
        assert!(shown.contains(&provider.to_string()), "{shown}");
        assert!(shown.contains("401"), "{shown}");
        assert!(shown.contains("Incorrect API key provided"), "{shown}");
        assert!(!shown.contains(KEY), "{shown}");
        assert!(!format!("{error:?}").contains(KEY));
        assert_eq!(server.requests().len(), 1, "{provider}: no retry");
    }
}

#[tokio::test]
async fn a_stalled_call_times_out() {
    let server = ScriptedLlm::openai([Reply::stall(Duration::from_secs(10))]).await;
    let mut config = config(ProviderKind::OpenAi, &server);
    config.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let error = llm::connect(&config)
        .unwrap()
        .chat(&simple_request())
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            LlmError::Timeout {
                provider: ProviderKind::OpenAi,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(error.to_string().contains("did not answer within"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_reported() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = LlmConfig {
        provider: ProviderKind::Anthropic,
        base_url: format!("http://127.0.0.1:{port}"),
        api_key: Some(ApiKey::new(KEY)),
        model: "m".into(),
        timeout: Duration::from_secs(5),
        max_retries: 1,
        models: Default::default(),
        prices: Default::default(),
    };
    let error = llm::connect(&config)
        .unwrap()
        .chat(&simple_request())
        .await
        .unwrap_err();
    assert!(
        matches!(error, LlmError::Connect { attempts: 2, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("cannot reach the anthropic LLM API")
    );
    assert!(!error.to_string().contains(KEY));
}

#[tokio::test]
async fn no_provider_configured_is_its_own_error() {
    let error = LlmConfig::from_lookup(|_| None, None).unwrap_err();
    assert_eq!(error, ConfigError::NotConfigured);
    let error = LlmError::from(error);
    assert!(matches!(
        error,
        LlmError::Config(ConfigError::NotConfigured)
    ));
    let shown = error.to_string();
    assert!(shown.starts_with("no LLM provider configured"), "{shown}");
    assert!(shown.contains("TANDEM_LLM_PROVIDER") && shown.contains("OPENAI_API_KEY"));
}

#[tokio::test]
async fn config_from_variables_reaches_the_server() {
    let server = ScriptedLlm::openai([Reply::text("hi")]).await;
    let base_url = server.base_url();
    let config = LlmConfig::from_lookup(
        |name| match name {
            "OPENAI_BASE_URL" => Some(base_url.clone()),
            "TANDEM_LLM_MODEL" => Some("local-model".into()),
            _ => None,
        },
        None,
    )
    .unwrap();
    let mut request = simple_request();
    request.model = config.provider_model("gpt-5-mini").to_string();
    let answer = llm::connect(&config).unwrap().chat(&request).await.unwrap();
    assert_eq!(answer.text, "hi");
    let r = &server.requests()[0];
    assert_eq!(r.body["model"], "local-model");
    assert_eq!(
        r.header("authorization"),
        None,
        "no key configured, none sent"
    );
}

/// The scripted server's streaming form, for future streaming clients: text and tool-call
/// arguments arrive split over several SSE chunks and reassemble to the scripted answer.
#[tokio::test]
async fn scripted_server_streams_split_tool_call_deltas() {
    let server = ScriptedLlm::openai([Reply::tool_call(
        "browser_type",
        json!({"index": 12, "text": "hello world"}),
    )
    .with_text("Typing now.")])
    .await;
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", server.base_url()))
        .json(
            &json!({"model": "m", "stream": true, "stream_options": {"include_usage": true},
                      "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let body = response.text().await.unwrap();
    let mut text = String::new();
    let mut arguments = String::new();
    let mut argument_chunks = 0;
    let mut finish = None;
    let mut saw_usage = false;
    let mut saw_done = false;
    for line in body.lines().filter_map(|l| l.strip_prefix("data: ")) {
        if line == "[DONE]" {
            saw_done = true;
            continue;
        }
        let chunk: Value = serde_json::from_str(line).unwrap();
        saw_usage |= chunk["usage"]["prompt_tokens"].is_u64();
        let Some(choice) = chunk["choices"].get(0) else {
            continue;
        };
        text.push_str(choice["delta"]["content"].as_str().unwrap_or(""));
        if let Some(piece) = choice["delta"]["tool_calls"][0]["function"]["arguments"].as_str() {
            if !piece.is_empty() {
                argument_chunks += 1;
            }
            arguments.push_str(piece);
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            finish = Some(reason.to_string());
        }
    }
    assert_eq!(text, "Typing now.");
    assert!(argument_chunks >= 2, "arguments were not split");
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).unwrap(),
        json!({"index": 12, "text": "hello world"})
    );
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert!(saw_usage && saw_done);
}

/// HTTPS is compiled in: an `https://` URL reaches a TLS handshake (which fails here, against
/// a plain-HTTP server) instead of being refused as an unsupported scheme.
#[tokio::test]
async fn https_urls_go_through_tls() {
    let server = ScriptedLlm::openai([Reply::text("plain http")]).await;
    let mut config = config(ProviderKind::OpenAi, &server);
    config.base_url = server.base_url().replace("http://", "https://");
    config.max_retries = 0;
    let error = llm::connect(&config)
        .unwrap()
        .chat(&simple_request())
        .await
        .unwrap_err();
    let shown = error.to_string();
    assert!(matches!(error, LlmError::Connect { .. }), "{error:?}");
    assert!(!shown.contains("scheme"), "{shown}");
}

/// The task's thinking level reaches each provider in its own form; `None` sends nothing.
#[tokio::test]
async fn the_thinking_level_reaches_each_provider_in_its_form() {
    use agent::llm::ThinkingLevel;
    let cases = [
        (
            ProviderKind::OpenAi,
            ThinkingLevel::High,
            "/reasoning_effort",
            json!("high"),
        ),
        (
            ProviderKind::OpenAi,
            ThinkingLevel::Disabled,
            "/reasoning_effort",
            json!("minimal"),
        ),
        (
            ProviderKind::Anthropic,
            ThinkingLevel::Medium,
            "/thinking",
            json!({"type": "enabled", "budget_tokens": 4096}),
        ),
        (
            ProviderKind::Anthropic,
            ThinkingLevel::Disabled,
            "/thinking",
            json!({"type": "disabled"}),
        ),
        (
            ProviderKind::Gemini,
            ThinkingLevel::Low,
            "/generationConfig/thinkingConfig",
            json!({"thinkingBudget": 1024}),
        ),
        (
            ProviderKind::Gemini,
            ThinkingLevel::Disabled,
            "/generationConfig/thinkingConfig",
            json!({"thinkingBudget": 0}),
        ),
    ];
    for (provider, level, pointer, expected) in cases {
        let server =
            ScriptedLlm::start(protocol(provider), [Reply::text("ok"), Reply::text("ok")]).await;
        let client = llm::connect(&config(provider, &server)).unwrap();
        let mut request = simple_request();
        request.tools = tools();
        request.tool_choice = ToolChoice::Required;
        request.thinking = Some(level);
        let answer = client.chat(&request).await.unwrap();
        request.thinking = None;
        client.chat(&request).await.unwrap();
        let sent = server.requests();
        assert_eq!(
            sent[0].body.pointer(pointer),
            Some(&expected),
            "{provider:?} {level:?}: {}",
            sent[0].body
        );
        assert_eq!(
            sent[1].body.pointer(pointer),
            None,
            "null: provider default"
        );
        if provider == ProviderKind::Anthropic && level != ThinkingLevel::Disabled {
            // Extended thinking takes no forced tool choice, and max_tokens exceeds the budget.
            assert_eq!(sent[0].body["tool_choice"], json!({"type": "auto"}));
            assert!(answer.relaxed_tool_choice);
            assert!(sent[0].body["max_tokens"].as_u64().unwrap() > 4096);
        }
    }
}

/// A model that refuses the thinking parameter gets the request again without it, and no
/// later request carries it; the call itself succeeds.
#[tokio::test]
async fn a_model_refusing_the_thinking_parameter_gets_requests_without_it() {
    use agent::llm::ThinkingLevel;
    for (provider, pointer) in [
        (ProviderKind::OpenAi, "/reasoning_effort"),
        (ProviderKind::Anthropic, "/thinking"),
        (ProviderKind::Gemini, "/generationConfig/thinkingConfig"),
    ] {
        let server = ScriptedLlm::start(
            protocol(provider),
            [Reply::text("first"), Reply::text("second")],
        )
        .await;
        server.refuse_field(pointer);
        let client = llm::connect(&config(provider, &server)).unwrap();
        let mut request = simple_request();
        request.thinking = Some(ThinkingLevel::High);
        assert_eq!(client.chat(&request).await.unwrap().text, "first");
        assert_eq!(client.chat(&request).await.unwrap().text, "second");
        let sent = server.requests();
        assert_eq!(
            sent.len(),
            3,
            "{provider:?}: one refusal, then two plain calls"
        );
        assert!(sent[0].body.pointer(pointer).is_some());
        assert!(sent[1].body.pointer(pointer).is_none());
        assert!(sent[2].body.pointer(pointer).is_none());
        assert_eq!(server.remaining(), 0);
    }
}
