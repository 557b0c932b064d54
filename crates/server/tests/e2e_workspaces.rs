//! End-to-end tests of `/api/v3/workspaces` and the signed file links: upload with the
//! `uploadUrl` (no API key), list, download, delete, refused paths and tokens; a session
//! attached to a workspace finds its browser's downloads there, and `/browsers/{id}/downloads`
//! lists and serves them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

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
    // A middle character of the signature (the last one may only hit padding bits).
    let middle = url.len() - 20;
    let swapped = if &url[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    let tampered = format!("{}{swapped}{}", &url[..middle], &url[middle + 1..]);
    let refused = reqwest::get(&tampered).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["detail"],
        "Invalid file token: invalid token signature"
    );
    let bare = url.split('?').next().unwrap().to_string();
    assert_eq!(reqwest::get(&bare).await.unwrap().status(), 401);
    assert_eq!(put(&url, b"evil").await.status(), 403);
    let other = upload_url.replace("q%203.csv", "other.csv");
    assert_eq!(put(&other, b"evil").await.status(), 403);
    // A genuine token for a path that climbs out reaches the path check and is refused
    // there: sent raw, since an HTTP client would normalise the dots away before sending.
    let signer = server::links::Signer::load_or_create(&server.data_dir).unwrap();
    let workspace = uuid::Uuid::parse_str(&wid).unwrap();
    for (signed, sent) in [
        ("uploads/../x", "uploads/../x"),
        ("uploads/../x", "uploads/%2E%2E/x"),
        ("uploads/../../../tandem.db", "uploads/../../../tandem.db"),
    ] {
        let token = file_token(&signer, workspace, signed, server::links::Mode::Upload, 60);
        let target = format!("/files/workspaces/{wid}/{sent}?token={token}");
        let (status, body) = raw_request(&server.base, "PUT", &target, b"evil").await;
        assert_eq!(status, 422, "{sent}: {body}");
        assert!(body.contains("Invalid path"), "{body}");
    }
    assert!(!server.data_dir.join("workspaces/x").exists());

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

/// A token for one file of `owner`, signed with the server's key, expiring in `seconds`
/// (in the past when negative).
fn file_token(
    signer: &server::links::Signer,
    owner: uuid::Uuid,
    path: &str,
    mode: server::links::Mode,
    seconds: i64,
) -> String {
    let mut claims =
        server::links::Claims::new(owner, mode, chrono::Utc::now().timestamp() + seconds);
    claims.path = Some(path.to_string());
    signer.sign(&claims)
}

/// Sends a request over a bare TCP connection exactly as written (no client normalises
/// its path) and returns the status and body.
async fn raw_request(base: &str, method: &str, target: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status: {answer}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
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
    let signer = server::links::Signer::load_or_create(&server.data_dir).unwrap();
    let owner = uuid::Uuid::parse_str(&sid).unwrap();
    let late = file_token(
        &signer,
        owner,
        "report.txt",
        server::links::Mode::Download,
        -1,
    );
    let expired = format!("{}?token={late}", url.split('?').next().unwrap());
    let refused = reqwest::get(&expired).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["detail"],
        "Invalid file token: token expired"
    );

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

#[tokio::test]
async fn links_in_a_workspace_are_not_followed_and_expired_file_links_are_refused() {
    let server = TestServer::start(|c| c.pool_size = 0);
    let ws = server.call("POST", "/api/v3/workspaces", None).await;
    let wid = id(&ws.json);
    let workspace = uuid::Uuid::parse_str(&wid).unwrap();
    let signer = server::links::Signer::load_or_create(&server.data_dir).unwrap();
    let link = |path: &str, mode, seconds| {
        let token = file_token(&signer, workspace, path, mode, seconds);
        let encoded: Vec<String> = path.split('/').map(urlencode).collect();
        format!(
            "{}/files/workspaces/{wid}/{}?token={token}",
            server.base,
            encoded.join("/")
        )
    };
    use server::links::Mode::{Download, Upload};

    // A folder inside the workspace that links outside it (put there by anything but the API).
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), b"secret").unwrap();
    let root = server.data_dir.join("workspaces").join(&wid);
    std::os::unix::fs::symlink(outside.path(), root.join("linked")).unwrap();
    let asked = server
        .call(
            "POST",
            &format!("/api/v3/workspaces/{wid}/files/upload?prefix=linked"),
            Some(r#"{"files":[{"name":"evil.txt"}]}"#),
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.text);
    let upload = asked.json["files"][0]["uploadUrl"].as_str().unwrap();
    let refused = put(upload, b"evil").await;
    assert_eq!(refused.status(), 422);
    let detail = refused.json::<Value>().await.unwrap()["detail"].clone();
    assert_eq!(
        detail[0]["msg"],
        "Invalid path \"linked/evil.txt\": it goes through a link"
    );
    assert!(
        !outside.path().join("evil.txt").exists(),
        "nothing written outside"
    );
    let read = reqwest::get(link("linked/secret.txt", Download, 60))
        .await
        .unwrap();
    assert_eq!(
        read.status(),
        404,
        "a file behind a link is not the workspace's"
    );
    let removed = server
        .call(
            "DELETE",
            &format!("/api/v3/workspaces/{wid}/files?path=linked/secret.txt"),
            None,
        )
        .await;
    assert_eq!(removed.status, 404);
    assert!(outside.path().join("secret.txt").exists());

    // Links past their expiry are refused, for both directions.
    assert_eq!(
        put(&link("notes.txt", Upload, 60), b"fine").await.status(),
        200
    );
    assert_eq!(
        reqwest::get(link("notes.txt", Download, 60))
            .await
            .unwrap()
            .status(),
        200
    );
    for (url, upload) in [
        (link("notes.txt", Upload, -1), true),
        (link("notes.txt", Download, -1), false),
    ] {
        let reply = if upload {
            put(&url, b"late").await
        } else {
            reqwest::get(&url).await.unwrap()
        };
        assert_eq!(reply.status(), 401);
        assert_eq!(
            reply.json::<Value>().await.unwrap()["detail"],
            "Invalid file token: token expired"
        );
    }
    let kept = reqwest::get(link("notes.txt", Download, 60)).await.unwrap();
    assert_eq!(
        kept.text().await.unwrap(),
        "fine",
        "the late upload changed nothing"
    );
}
