//! End-to-end tests of `/api/v3/workspaces` and the signed file links: upload with the
//! `uploadUrl` (no API key), list, download, delete, refused paths and tokens; a session
//! attached to a workspace finds its browser's downloads there, and `/browsers/{id}/downloads`
//! lists and serves them.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{RawCdp, TestServer, cdp_socket_url};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn put(url: &str, body: &'static [u8]) -> reqwest::Response {
    reqwest::Client::new()
        .put(url)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn workspaces_are_created_listed_renamed_and_deleted() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let bodyless = server.call("POST", "/api/v3/workspaces", None).await;
    assert_eq!(bodyless.status, 201, "{}", bodyless.text);
    assert_eq!(bodyless.json["name"], Value::Null);
    let named = server
        .call("POST", "/api/v3/workspaces", Some(r#"{"name":"reports"}"#))
        .await;
    assert_eq!(named.json["name"], "reports");
    let list = server
        .call("GET", "/api/v3/workspaces?pageSize=1", None)
        .await;
    assert_eq!(list.json["totalItems"], 2);
    assert_eq!(list.json["items"][0]["id"], named.json["id"]);
    let wid = id(&named.json);
    let renamed = server
        .call(
            "PATCH",
            &format!("/api/v3/workspaces/{wid}"),
            Some(r#"{"name":"q3"}"#),
        )
        .await;
    assert_eq!(renamed.json["name"], "q3");
    let deleted = server
        .call("DELETE", &format!("/api/v3/workspaces/{wid}"), None)
        .await;
    assert_eq!(deleted.status, 204);
    let gone = server
        .call("GET", &format!("/api/v3/workspaces/{wid}"), None)
        .await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json["detail"], "Workspace not found");
    let bad = server
        .call("GET", "/api/v3/workspaces/nope/files", None)
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.json["detail"][0]["loc"],
        json!(["path", "workspace_id"])
    );
    let session = server
        .call(
            "POST",
            "/api/v3/sessions",
            Some(&json!({"workspaceId": wid}).to_string()),
        )
        .await;
    assert_eq!(session.status, 404);
    assert_eq!(session.json["detail"], "Workspace not found");
}

#[tokio::test]
async fn files_go_up_and_down_through_signed_links_only() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let ws = server.call("POST", "/api/v3/workspaces", None).await;
    let wid = id(&ws.json);
    let base = format!("/api/v3/workspaces/{wid}");

    let asked = server
        .call(
            "POST",
            &format!("{base}/files/upload"),
            Some(r#"{"files":[{"name":"q 3.csv","contentType":"text/csv","size":5}]}"#),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.text);
    let item = &asked.json["files"][0];
    assert_eq!(item["name"], "q 3.csv");
    assert_eq!(item["path"], "uploads/q 3.csv");
    let upload_url = item["uploadUrl"].as_str().unwrap().to_string();
    assert!(
        upload_url.starts_with(&format!(
            "{}/files/workspaces/{wid}/uploads/q%203.csv?token=",
            server.base
        )),
        "{upload_url}"
    );
    assert_eq!(put(&upload_url, b"a,b,c").await.status(), 200);

    let reports = server
        .call(
            "POST",
            &format!("{base}/files/upload?prefix=reports/2026"),
            Some(r#"{"files":[{"name":"summary.txt"}]}"#),
        )
        .await;
    assert_eq!(reports.json["files"][0]["path"], "reports/2026/summary.txt");
    let report_url = reports.json["files"][0]["uploadUrl"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(put(&report_url, b"fine").await.status(), 200);

    let listed = server.call("GET", &format!("{base}/files"), None).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let paths: Vec<&str> = listed.json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["reports/2026/summary.txt", "uploads/q 3.csv"]);
    assert_eq!(listed.json["hasMore"], false);
    assert_eq!(listed.json["files"][1]["size"], 5);
    assert!(
        listed.json["files"][1]["lastModified"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(
        listed.json["files"][1].get("url").is_none(),
        "urls only when asked"
    );
    let shallow = server
        .call("GET", &format!("{base}/files?shallow=true"), None)
        .await;
    assert_eq!(shallow.json["files"], json!([]));
    assert_eq!(shallow.json["folders"], json!(["reports", "uploads"]));
    let paged = server
        .call("GET", &format!("{base}/files?limit=1"), None)
        .await;
    assert_eq!(paged.json["hasMore"], true);
    let cursor = paged.json["nextCursor"].as_str().unwrap().to_string();
    let next = server
        .call(
            "GET",
            &format!("{base}/files?limit=1&cursor={}", urlencode(&cursor)),
            None,
        )
        .await;
    assert_eq!(next.json["files"][0]["path"], "uploads/q 3.csv");

    let with_urls = server
        .call(
            "GET",
            &format!("{base}/files?prefix=uploads/&includeUrls=true"),
            None,
        )
        .await;
    let url = with_urls.json["files"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let got = reqwest::get(&url).await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"a,b,c");
    let size = server.call("GET", &format!("{base}/size"), None).await;
    assert_eq!(size.json, json!({"sizeBytes": 9, "fileCount": 2}));

    // Refused: a tampered token, no token, the download link used to upload, a link for
    // another file.
    let tampered = format!("{}x", &url[..url.len() - 1]);
    assert_eq!(reqwest::get(&tampered).await.unwrap().status(), 401);
    let bare = url.split('?').next().unwrap().to_string();
    assert_eq!(reqwest::get(&bare).await.unwrap().status(), 401);
    assert_eq!(put(&url, b"evil").await.status(), 403);
    let other = upload_url.replace("q%203.csv", "other.csv");
    assert_eq!(put(&other, b"evil").await.status(), 403);
    let escape = upload_url.replace("uploads/q%203.csv", "uploads/%2E%2E/%2E%2E/x");
    assert!(matches!(
        put(&escape, b"evil").await.status().as_u16(),
        403 | 404 | 422
    ));

    // Paths that leave the workspace are refused with a clear 422.
    for name in ["../x", "/etc/passwd", "a/../../x"] {
        let body = json!({"files": [{"name": name}]}).to_string();
        let reply = server
            .call("POST", &format!("{base}/files/upload"), Some(&body))
            .await;
        assert_eq!(reply.status, 422, "{name}: {}", reply.text);
        assert!(reply.text.contains("Invalid path"), "{}", reply.text);
    }
    let reply = server
        .call(
            "POST",
            &format!("{base}/files/upload?prefix=../up"),
            Some(r#"{"files":[{"name":"x"}]}"#),
        )
        .await;
    assert_eq!(reply.status, 422);
    let reply = server
        .call(
            "POST",
            &format!("{base}/files/upload"),
            Some(r#"{"files":[]}"#),
        )
        .await;
    assert_eq!(reply.status, 422);
    let reply = server
        .call(
            "DELETE",
            &format!("{base}/files?path=../../tandem.db"),
            None,
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    let reply = server.call("DELETE", &format!("{base}/files"), None).await;
    assert_eq!(reply.status, 422);
    assert!(server.data_dir.join("tandem.db").exists());

    let deleted = server
        .call(
            "DELETE",
            &format!("{base}/files?path={}", urlencode("uploads/q 3.csv")),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    let again = server
        .call(
            "DELETE",
            &format!("{base}/files?path={}", urlencode("uploads/q 3.csv")),
            None,
        )
        .await;
    assert_eq!(again.status, 404);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 404);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_session_s_downloads_land_in_its_workspace_and_its_browser_listing() {
    let server = TestServer::start(|c| c.pool_size = 1);
    let pages = testkit::FixtureServer::start().await;
    let ws = server.call("POST", "/api/v3/workspaces", None).await;
    let wid = id(&ws.json);
    let session = server.create(json!({"workspaceId": wid})).await;
    assert_eq!(session["workspaceId"], wid.as_str());
    let sid = id(&session);

    let mut client = RawCdp::connect(&cdp_socket_url(session["cdpUrl"].as_str().unwrap()).await)
        .await
        .unwrap();
    let tab = client.open(&pages.url("/index.html")).await;
    client
        .eval(
            &tab,
            "(() => { const a = document.createElement('a'); \
               a.href = 'data:text/plain,quarterly numbers'; a.download = 'report.txt'; \
               document.body.appendChild(a); a.click(); return true; })()",
        )
        .await;

    let start = Instant::now();
    let listing = loop {
        let reply = server
            .call(
                "GET",
                &format!("/api/v3/browsers/{sid}/downloads?includeUrls=true"),
                None,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        if !reply.json["files"].as_array().unwrap().is_empty() {
            break reply.json;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no download appeared"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(listing["files"][0]["path"], "report.txt");
    assert_eq!(listing["files"][0]["size"], 17);
    let url = listing["files"][0]["url"].as_str().unwrap();
    let body = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert_eq!(body, "quarterly numbers");

    let files = server
        .call(
            "GET",
            &format!("/api/v3/workspaces/{wid}/files?prefix=downloads/"),
            None,
        )
        .await;
    assert_eq!(files.json["files"][0]["path"], "downloads/report.txt");

    // Kept after the session ends.
    server
        .call("POST", &format!("/api/v3/sessions/{sid}/stop"), None)
        .await;
    let after = server
        .call("GET", &format!("/api/v3/browsers/{sid}/downloads"), None)
        .await;
    assert_eq!(after.json["files"][0]["path"], "report.txt");
    let unknown = server
        .call(
            "GET",
            &format!("/api/v3/browsers/{}/downloads", uuid::Uuid::now_v7()),
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);
}
