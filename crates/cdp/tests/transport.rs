//! The transport against a scripted WebSocket peer: the cases a real browser produces only
//! rarely (answers out of order, a socket dying mid-command, a target detaching) made certain.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::time::Duration;

use cdp::{CdpError, Connection};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// A peer that hands every request it receives to the test, and sends what the test tells it.
struct Peer {
    url: String,
    requests: mpsc::UnboundedReceiver<Value>,
    outgoing: mpsc::UnboundedSender<Option<Value>>,
}

impl Peer {
    async fn start() -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "ws://{}/devtools/browser/test",
            listener.local_addr().unwrap()
        );
        let (req_tx, requests) = mpsc::unbounded_channel();
        let (outgoing, mut out_rx) = mpsc::unbounded_channel::<Option<Value>>();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let ws = tokio_tungstenite::accept_async(stream).await.unwrap();
            let (mut sink, mut source) = ws.split();
            loop {
                tokio::select! {
                    msg = source.next() => match msg {
                        Some(Ok(Message::Text(t))) => {
                            let _ = req_tx.send(serde_json::from_str(t.as_str()).unwrap());
                        }
                        _ => return,
                    },
                    out = out_rx.recv() => match out {
                        // `None` means: drop the socket without a close frame, like a crash.
                        Some(None) | None => return,
                        Some(Some(v)) => sink.send(Message::text(v.to_string())).await.unwrap(),
                    },
                }
            }
        });
        Peer {
            url,
            requests,
            outgoing,
        }
    }

    async fn next_request(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(5), self.requests.recv())
            .await
            .expect("a request in time")
            .expect("peer alive")
    }

    fn send(&self, v: Value) {
        self.outgoing.send(Some(v)).unwrap();
    }

    fn die(&self) {
        self.outgoing.send(None).unwrap();
    }
}

#[tokio::test]
async fn answers_are_matched_to_questions_by_id_even_out_of_order() {
    let mut peer = Peer::start().await;
    let conn = Connection::connect(&peer.url).await.unwrap();
    let a = tokio::spawn({
        let c = conn.clone();
        async move { c.send("Test.a", json!({"n": 1})).await }
    });
    let first = peer.next_request().await;
    let b = tokio::spawn({
        let c = conn.clone();
        async move { c.session("S1").send("Test.b", json!({"n": 2})).await }
    });
    let second = peer.next_request().await;
    assert_eq!(first["method"], "Test.a");
    assert_eq!(first["params"], json!({"n": 1}));
    assert!(
        first.get("sessionId").is_none(),
        "browser-level commands carry no session"
    );
    assert_eq!(second["sessionId"], "S1");
    peer.send(json!({"id": second["id"], "result": {"answer": "b"}}));
    peer.send(json!({"id": first["id"], "result": {"answer": "a"}}));
    assert_eq!(a.await.unwrap().unwrap(), json!({"answer": "a"}));
    assert_eq!(b.await.unwrap().unwrap(), json!({"answer": "b"}));
}

#[tokio::test]
async fn a_protocol_error_names_the_method_and_the_message() {
    let mut peer = Peer::start().await;
    let conn = Connection::connect(&peer.url).await.unwrap();
    let call = tokio::spawn({
        let c = conn.clone();
        async move { c.send("DOM.describeNode", json!({})).await }
    });
    let req = peer.next_request().await;
    peer.send(json!({"id": req["id"], "error": {"code": -32000, "message": "No node with given id found"}}));
    match call.await.unwrap() {
        Err(CdpError::Protocol {
            method,
            code,
            message,
        }) => {
            assert_eq!(method, "DOM.describeNode");
            assert_eq!(code, -32000);
            assert_eq!(message, "No node with given id found");
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_command_without_an_answer_times_out_and_the_connection_stays_usable() {
    let mut peer = Peer::start().await;
    let conn = Connection::connect(&peer.url).await.unwrap();
    let err = conn
        .browser()
        .send_typed::<_, Value>("Test.hang", &json!({}), Some(Duration::from_millis(200)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CdpError::Timeout { ref method, .. } if method == "Test.hang"),
        "{err}"
    );
    let hung = peer.next_request().await;
    // A late answer to the abandoned command is ignored, not delivered to someone else.
    peer.send(json!({"id": hung["id"], "result": {"late": true}}));
    let call = tokio::spawn({
        let c = conn.clone();
        async move { c.send("Test.ok", json!({})).await }
    });
    let req = peer.next_request().await;
    peer.send(json!({"id": req["id"], "result": {"ok": true}}));
    assert_eq!(call.await.unwrap().unwrap(), json!({"ok": true}));
}

#[tokio::test]
async fn when_the_socket_dies_every_command_in_flight_and_later_fails_as_closed() {
    let mut peer = Peer::start().await;
    let conn = Connection::connect(&peer.url).await.unwrap();
    let mut events = conn.session("S1").events();
    let calls: Vec<_> = (0..3)
        .map(|i| {
            let c = conn.clone();
            tokio::spawn(
                async move { c.session("S1").send(&format!("Test.m{i}"), json!({})).await },
            )
        })
        .collect();
    for _ in 0..3 {
        peer.next_request().await;
    }
    peer.die();
    for call in calls {
        let err = tokio::time::timeout(Duration::from_secs(2), call)
            .await
            .expect("fails at once, not at the timeout")
            .unwrap()
            .unwrap_err();
        assert!(matches!(err, CdpError::Closed { .. }), "{err}");
        assert!(err.is_connection_lost());
    }
    assert!(events.recv().await.is_none(), "event streams end");
    assert!(!conn.closed().await.is_empty());
    assert!(conn.is_closed());
    let later = conn.send("Test.after", json!({})).await.unwrap_err();
    assert!(matches!(later, CdpError::Closed { .. }), "{later}");
}

#[tokio::test]
async fn events_reach_only_the_subscribers_of_their_session() {
    let peer = Peer::start().await;
    let conn = Connection::connect(&peer.url).await.unwrap();
    let mut browser_events = conn.events();
    let mut a = conn.session("A").events();
    let mut b = conn.session("B").events();
    peer.send(json!({"method": "Test.event", "sessionId": "A", "params": {"for": "A"}}));
    peer.send(json!({"method": "Test.event", "sessionId": "B", "params": {"for": "B"}}));
    peer.send(json!({"method": "Target.targetCreated", "params": {"for": "browser"}}));
    let ea = a.recv().await.unwrap();
    let eb = b.recv().await.unwrap();
    let ebrowser = browser_events.recv().await.unwrap();
    assert_eq!(ea.params.get(), r#"{"for":"A"}"#);
    assert_eq!(eb.params.get(), r#"{"for":"B"}"#);
    assert_eq!(ebrowser.params.get(), r#"{"for":"browser"}"#);
    assert_eq!(ebrowser.session_id, None);
    // Nothing else is queued for anyone.
    for stream in [&mut a, &mut b, &mut browser_events] {
        assert!(
            tokio::time::timeout(Duration::from_millis(100), stream.recv())
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn a_detached_session_fails_its_pending_commands_and_ends_its_events() {
    let mut peer = Peer::start().await;
    let conn = Connection::connect(&peer.url).await.unwrap();
    let mut events = conn.session("GONE").events();
    let pending = tokio::spawn({
        let c = conn.clone();
        async move { c.session("GONE").send("Runtime.evaluate", json!({})).await }
    });
    let other = tokio::spawn({
        let c = conn.clone();
        async move { c.session("STAYS").send("Runtime.evaluate", json!({})).await }
    });
    let r1 = peer.next_request().await;
    let r2 = peer.next_request().await;
    peer.send(json!({"method": "Target.detachedFromTarget", "params": {"sessionId": "GONE", "targetId": "T"}}));
    let err = pending.await.unwrap().unwrap_err();
    assert!(
        matches!(err, CdpError::SessionClosed { ref session_id, .. } if session_id == "GONE"),
        "{err}"
    );
    assert!(events.recv().await.is_none());
    let stays = if r1["sessionId"] == "STAYS" { &r1 } else { &r2 };
    peer.send(json!({"id": stays["id"], "result": {}}));
    assert_eq!(other.await.unwrap().unwrap(), json!({}));
}
