//! Browser profiles: the lasting state of a browser (cookies, local storage, IndexedDB), saved
//! into a directory when the browser stops and seeded into a new browser's profile before it
//! starts.
//!
//! Chromium keeps that state in a few files of its user-data-dir, written lazily, so a save
//! first closes the browser gracefully (`Browser.close`: every store is flushed), then copies
//! the files. Cookies are also saved through CDP (`Storage.getCookies`) while the browser still
//! runs, because Chromium never writes session cookies (no expiry: most logins) to disk; they
//! are set again through CDP when a seeded browser starts. Cookie values in the files are
//! encrypted with Chromium's fixed "basic" key (Tandem launches with `--password-store=basic`),
//! so they read the same in any browser Tandem starts.
//!
//! Several browsers may start from one profile; their saves come one at a time. The cookie
//! list is merged three ways, so one browser's save does not wipe another's login: against
//! the cookies the saving browser was seeded with, those it added or changed win, those it
//! deleted are removed, and those other browsers saved meanwhile are kept. That list is then
//! the profile's whole cookie jar: a seeded browser gets it through CDP, not from the
//! `Cookies` file (which is only the last saver's). Local storage and IndexedDB are files
//! Chromium owns: the last browser to save wins them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use cdp::protocol::browser::Close;
use cdp::protocol::network::{Cookie, CookieParam};
use cdp::protocol::storage::{GetCookies, SetCookies};

use crate::browser::Browser;
use crate::error::BrowserError;

/// The parts of a user-data-dir that make a profile, relative to it.
const PROFILE_PARTS: &[&str] = &[
    "Default/Cookies",
    "Default/Cookies-journal",
    "Default/Local Storage",
    "Default/IndexedDB",
];

/// The cookies read through CDP at the last save, session cookies included.
const COOKIES_FILE: &str = "cookies.json";

/// Chromium's own cookie store: not seeded when the profile has [`COOKIES_FILE`], which is
/// the merged jar (the file holds only the last saver's cookies, deleted ones included).
const COOKIE_STORE_PARTS: &[&str] = &["Default/Cookies", "Default/Cookies-journal"];

/// How long a graceful close may take before the browser is killed anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a save kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SavedProfile {
    /// The domains of the saved cookies, without a leading dot, sorted, once each.
    pub cookie_domains: Vec<String>,
}

impl Browser {
    /// Saves the browser's lasting state into `into` (replaced whole, or left as it was when
    /// the save fails; cookies merged with what `into` holds, see the module's doc), then
    /// stops the browser as [`Browser::stop`] does. The browser is stopped whatever happens.
    pub async fn stop_saving_profile(&self, into: &Path) -> Result<SavedProfile, BrowserError> {
        let cookies = if self.is_running() {
            match self.cdp().call(GetCookies::default()).await {
                Ok(result) => Some(result.cookies),
                Err(e) => {
                    tracing::warn!(browser = self.id(), error = %e, "cannot read cookies to save");
                    None
                }
            }
        } else {
            None
        };
        self.close_gracefully().await;
        let user_data = self.profile_dir().join("profile");
        let into_owned = into.to_path_buf();
        let seed = self.seed_cookies().map(<[Cookie]>::to_vec);
        let written = tokio::task::spawn_blocking(move || {
            write_profile(&user_data, &into_owned, cookies, seed.as_deref())
        })
        .await
        .map_err(|e| BrowserError::Profile(format!("the save task failed: {e}")))
        .and_then(|r| r);
        self.stop().await;
        let saved = written?;
        Ok(SavedProfile {
            cookie_domains: cookie_domains(&saved),
        })
    }

    /// Asks Chromium to close (flushing its stores) and waits for it to exit; a browser that
    /// does not is killed later by `stop`.
    async fn close_gracefully(&self) {
        if !self.is_running() {
            return;
        }
        self.inner_process().mark_stopping();
        // The socket drops as Chromium exits, often before the answer: its error means nothing.
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.cdp().call(Close {})).await;
        if !self.inner_process().wait_exit(CLOSE_TIMEOUT).await {
            tracing::warn!(
                browser = self.id(),
                "Chromium did not close in time; saving what it wrote"
            );
        }
    }

    /// Sets the cookies a profile saved through CDP (session cookies included) in a browser
    /// just started from that profile, and remembers the jar it then holds for the merge at
    /// its save. Cookies Chromium refuses are skipped and logged.
    pub(crate) async fn seed_cookies_from(&self, seed: &Path) {
        let path = seed.join(COOKIES_FILE);
        let cookies = match read_cookies(&path) {
            Ok(cookies) => cookies.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %e, "unreadable saved cookies");
                Vec::new()
            }
        };
        self.restore_cookies(&cookies).await;
        let jar = match self.cdp().call(GetCookies::default()).await {
            Ok(result) => result.cookies,
            Err(e) => {
                tracing::warn!(browser = self.id(), error = %e, "cannot read the seeded cookies");
                cookies
            }
        };
        self.remember_seed_cookies(jar);
    }

    async fn restore_cookies(&self, cookies: &[Cookie]) {
        let params: Vec<CookieParam> = cookies.iter().map(cookie_param).collect();
        if params.is_empty() {
            return;
        }
        let all = SetCookies {
            cookies: params.clone(),
            browser_context_id: None,
        };
        if self.cdp().call(all).await.is_ok() {
            return;
        }
        // One bad cookie fails the whole call: set them one by one to keep the good ones.
        for param in params {
            let name = param.name.clone();
            let one = SetCookies {
                cookies: vec![param],
                browser_context_id: None,
            };
            if let Err(e) = self.cdp().call(one).await {
                tracing::warn!(browser = self.id(), cookie = %name, error = %e, "cannot restore a cookie");
            }
        }
    }
}

/// The cookie list saved at `path`; `None` when there is none.
fn read_cookies(path: &Path) -> Result<Option<Vec<Cookie>>, BrowserError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| BrowserError::Profile(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("cannot read", path, e)),
    }
}

/// What makes two cookies the same cookie of a jar.
type CookieKey = (String, String, String, Option<(String, bool)>);

fn cookie_key(c: &Cookie) -> CookieKey {
    (
        c.name.clone(),
        c.domain.clone(),
        c.path.clone(),
        c.partition_key
            .as_ref()
            .map(|k| (k.top_level_site.clone(), k.has_cross_site_ancestor)),
    )
}

/// Whether a page would see no difference between the two (value, scope flags, lifetime).
fn same_content(a: &Cookie, b: &Cookie) -> bool {
    let expiry = |c: &Cookie| {
        if c.session || !c.expires.is_finite() {
            None
        } else {
            Some(c.expires.round() as i64)
        }
    };
    a.value == b.value
        && a.secure == b.secure
        && a.http_only == b.http_only
        && a.same_site == b.same_site
        && expiry(a) == expiry(b)
}

/// The three-way merge of a profile's cookies: `stored` (what the profile holds now, other
/// browsers' saves included), `seed` (what this browser started with) and `current` (what it
/// has now). This browser's additions and changes win, its deletions (in `seed`, gone from
/// `current`) are removed, and everything else stays as stored.
fn merge_cookies(stored: Vec<Cookie>, seed: &[Cookie], current: &[Cookie]) -> Vec<Cookie> {
    let seed: HashMap<CookieKey, &Cookie> = seed.iter().map(|c| (cookie_key(c), c)).collect();
    let now: HashSet<CookieKey> = current.iter().map(cookie_key).collect();
    let mut merged: Vec<Cookie> = stored
        .into_iter()
        .filter(|c| {
            let key = cookie_key(c);
            now.contains(&key) || !seed.contains_key(&key)
        })
        .collect();
    for cookie in current {
        let key = cookie_key(cookie);
        if seed.get(&key).is_some_and(|s| same_content(s, cookie)) {
            continue;
        }
        match merged.iter_mut().find(|c| cookie_key(c) == key) {
            Some(slot) => *slot = cookie.clone(),
            None => merged.push(cookie.clone()),
        }
    }
    merged
}

/// A saved cookie as the parameters that set it again. A host-only cookie (no leading dot) is
/// set through a URL so that it stays host-only; a domain cookie through its domain.
fn cookie_param(c: &Cookie) -> CookieParam {
    let host_only = !c.domain.starts_with('.');
    let scheme = if c.secure { "https" } else { "http" };
    CookieParam {
        name: c.name.clone(),
        value: c.value.clone(),
        url: host_only.then(|| format!("{scheme}://{}{}", c.domain, c.path)),
        domain: (!host_only).then(|| c.domain.clone()),
        path: Some(c.path.clone()),
        secure: Some(c.secure),
        http_only: Some(c.http_only),
        same_site: c.same_site.clone(),
        expires: (!c.session && c.expires.is_finite() && c.expires > 0.0).then_some(c.expires),
        priority: c.priority.clone(),
        source_scheme: None,
        source_port: None,
        partition_key: c.partition_key.clone(),
    }
}

fn cookie_domains(cookies: &[Cookie]) -> Vec<String> {
    let mut domains: Vec<String> = cookies
        .iter()
        .map(|c| c.domain.trim_start_matches('.').to_string())
        .filter(|d| !d.is_empty())
        .collect();
    domains.sort();
    domains.dedup();
    domains
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> BrowserError {
    BrowserError::Profile(format!("{what} {}: {e}", path.display()))
}

/// Copies the profile parts of `user_data` and the CDP cookies (merged with those `into`
/// holds, against `seed`) into a fresh directory next to `into`, then swaps it in, so a
/// failed save leaves the previous state whole. Returns the cookie list saved.
fn write_profile(
    user_data: &Path,
    into: &Path,
    cookies: Option<Vec<Cookie>>,
    seed: Option<&[Cookie]>,
) -> Result<Vec<Cookie>, BrowserError> {
    let parent = into
        .parent()
        .ok_or_else(|| BrowserError::Profile(format!("{} has no parent", into.display())))?;
    std::fs::create_dir_all(parent).map_err(|e| io_error("cannot create", parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".saving-")
        .tempdir_in(parent)
        .map_err(|e| io_error("cannot create a directory in", parent, e))?;
    copy_parts(user_data, staging.path())?;
    let old = into.join(COOKIES_FILE);
    let saved = match cookies {
        Some(cookies) => {
            let stored = read_cookies(&old)?.unwrap_or_default();
            let merged = merge_cookies(stored, seed.unwrap_or_default(), &cookies);
            let json = serde_json::to_vec(&merged)
                .map_err(|e| BrowserError::Profile(format!("cannot encode cookies: {e}")))?;
            let file = staging.path().join(COOKIES_FILE);
            std::fs::write(&file, json).map_err(|e| io_error("cannot write", &file, e))?;
            merged
        }
        None => {
            // No fresh cookie list: keep the previous one rather than lose session cookies.
            let kept = read_cookies(&old)?;
            if kept.is_some() {
                let file = staging.path().join(COOKIES_FILE);
                std::fs::copy(&old, &file).map_err(|e| io_error("cannot copy", &old, e))?;
            }
            kept.unwrap_or_default()
        }
    };
    let staged = staging.keep();
    let retired = parent.join(format!(
        ".retired-{}",
        staged
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("profile")
    ));
    let had_old = into.exists();
    if had_old {
        std::fs::rename(into, &retired).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            io_error("cannot move aside", into, e)
        })?;
    }
    if let Err(e) = std::fs::rename(&staged, into) {
        if had_old {
            let _ = std::fs::rename(&retired, into);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(io_error("cannot move into place", into, e));
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&retired);
    }
    Ok(saved)
}

/// Copies the profile parts found under `from` to the same places under `to`.
pub(crate) fn copy_parts(from: &Path, to: &Path) -> Result<(), BrowserError> {
    copy_parts_except(from, to, &[])
}

/// Seeds a new browser's user-data-dir `to` from the saved profile `from`: its parts, but
/// not Chromium's cookie store when the profile has its merged cookie list (set through CDP
/// once the browser runs), so that a cookie one browser deleted does not come back from
/// another's store.
pub(crate) fn seed_parts(from: &Path, to: &Path) -> Result<(), BrowserError> {
    let skip = if from.join(COOKIES_FILE).exists() {
        COOKIE_STORE_PARTS
    } else {
        &[]
    };
    copy_parts_except(from, to, skip)
}

fn copy_parts_except(from: &Path, to: &Path, skip: &[&str]) -> Result<(), BrowserError> {
    for part in PROFILE_PARTS.iter().filter(|p| !skip.contains(p)) {
        let source = from.join(part);
        if !source.exists() {
            continue;
        }
        copy_tree(&source, &to.join(part))?;
    }
    Ok(())
}

fn copy_tree(source: &Path, target: &Path) -> Result<(), BrowserError> {
    let meta = std::fs::symlink_metadata(source).map_err(|e| io_error("cannot read", source, e))?;
    if meta.file_type().is_symlink() {
        // Chromium does not link inside these parts; a link could point anywhere, so skip it.
        return Ok(());
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_error("cannot create", parent, e))?;
    }
    if meta.is_dir() {
        std::fs::create_dir_all(target).map_err(|e| io_error("cannot create", target, e))?;
        let entries = std::fs::read_dir(source).map_err(|e| io_error("cannot list", source, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error("cannot list", source, e))?;
            copy_tree(&entry.path(), &target.join(entry.file_name()))?;
        }
    } else {
        std::fs::copy(source, target).map_err(|e| io_error("cannot copy", source, e))?;
    }
    Ok(())
}

/// The cookie list file of a saved profile, for callers that only inspect it.
pub fn saved_cookies_file(profile: &Path) -> PathBuf {
    profile.join(COOKIES_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_only_cookies_are_set_through_a_url_and_domain_cookies_through_their_domain() {
        let host = Cookie {
            name: "sid".into(),
            value: "1".into(),
            domain: "127.0.0.1".into(),
            path: "/".into(),
            expires: -1.0,
            session: true,
            ..Default::default()
        };
        let param = cookie_param(&host);
        assert_eq!(param.url.as_deref(), Some("http://127.0.0.1/"));
        assert_eq!(param.domain, None);
        assert_eq!(param.expires, None);
        let domain = Cookie {
            domain: ".example.com".into(),
            secure: true,
            expires: 2e9,
            session: false,
            ..host
        };
        let param = cookie_param(&domain);
        assert_eq!(param.url, None);
        assert_eq!(param.domain.as_deref(), Some(".example.com"));
        assert_eq!(param.expires, Some(2e9));
        assert_eq!(
            cookie_domains(&[domain.clone(), domain, Cookie::default()]),
            vec!["example.com".to_string()]
        );
    }

    #[test]
    fn a_save_replaces_the_previous_state_whole() {
        let dir = tempfile::tempdir().unwrap();
        let user_data = dir.path().join("user-data");
        std::fs::create_dir_all(user_data.join("Default/Local Storage/leveldb")).unwrap();
        std::fs::write(user_data.join("Default/Cookies"), b"db").unwrap();
        std::fs::write(user_data.join("Default/Local Storage/leveldb/1.log"), b"ls").unwrap();
        std::fs::write(user_data.join("Default/History"), b"not saved").unwrap();
        let into = dir.path().join("profiles/p1");
        write_profile(&user_data, &into, Some(vec![]), None).unwrap();
        assert_eq!(std::fs::read(into.join("Default/Cookies")).unwrap(), b"db");
        assert!(into.join("Default/Local Storage/leveldb/1.log").exists());
        assert!(!into.join("Default/History").exists());
        assert_eq!(std::fs::read(saved_cookies_file(&into)).unwrap(), b"[]");

        // A save without a fresh cookie list keeps the old one.
        std::fs::remove_file(user_data.join("Default/Cookies")).unwrap();
        write_profile(&user_data, &into, None, None).unwrap();
        assert!(!into.join("Default/Cookies").exists());
        assert!(saved_cookies_file(&into).exists());
        let left: Vec<_> = std::fs::read_dir(dir.path().join("profiles"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("p1")],
            "no staging left"
        );

        let seeded = dir.path().join("seeded");
        copy_parts(&into, &seeded).unwrap();
        assert!(seeded.join("Default/Local Storage/leveldb/1.log").exists());
    }

    fn cookie(name: &str, value: &str, domain: &str) -> Cookie {
        Cookie {
            name: name.into(),
            value: value.into(),
            domain: domain.into(),
            path: "/".into(),
            expires: -1.0,
            session: true,
            ..Default::default()
        }
    }

    fn jar(cookies: &[Cookie]) -> Vec<(String, String)> {
        let mut pairs: Vec<_> = cookies
            .iter()
            .map(|c| (c.name.clone(), c.value.clone()))
            .collect();
        pairs.sort();
        pairs
    }

    #[test]
    fn cookie_saves_merge_three_ways() {
        let seed = [
            cookie("kept", "1", "a.test"),
            cookie("changed", "1", "a.test"),
            cookie("deleted", "1", "a.test"),
            cookie("theirs", "1", "a.test"),
        ];
        // Another browser from the same seed saved first: it changed `theirs`, added `other`.
        let stored = vec![
            cookie("kept", "1", "a.test"),
            cookie("changed", "1", "a.test"),
            cookie("deleted", "1", "a.test"),
            cookie("theirs", "2", "a.test"),
            cookie("other", "1", "b.test"),
        ];
        // This browser changed `changed`, deleted `deleted`, added `mine`, left the rest.
        let current = [
            cookie("kept", "1", "a.test"),
            cookie("changed", "2", "a.test"),
            cookie("theirs", "1", "a.test"),
            cookie("mine", "1", "c.test"),
        ];
        let merged = merge_cookies(stored, &seed, &current);
        assert_eq!(
            jar(&merged),
            [
                ("changed".into(), "2".into()),
                ("kept".into(), "1".into()),
                ("mine".into(), "1".into()),
                ("other".into(), "1".into()),
                ("theirs".into(), "2".into()),
            ]
        );
        // The same name on another host or path is another cookie.
        let mut elsewhere = cookie("kept", "9", "b.test");
        let merged = merge_cookies(merged, &seed, &[elsewhere.clone()]);
        assert!(merged.contains(&elsewhere));
        elsewhere.path = "/x".into();
        assert!(!merge_cookies(vec![], &[], &[elsewhere.clone()]).is_empty());
    }

    #[test]
    fn concurrent_saves_keep_both_logins_and_seeding_uses_the_merged_jar() {
        let dir = tempfile::tempdir().unwrap();
        let user_data = dir.path().join("user-data");
        std::fs::create_dir_all(user_data.join("Default")).unwrap();
        std::fs::write(user_data.join("Default/Cookies"), b"last saver's store").unwrap();
        let into = dir.path().join("profiles/p1");
        // Two browsers started from the empty profile; each logs in somewhere else.
        let a = write_profile(
            &user_data,
            &into,
            Some(vec![cookie("user", "alice", "a.test")]),
            Some(&[]),
        )
        .unwrap();
        assert_eq!(jar(&a), [("user".into(), "alice".into())]);
        let b = write_profile(
            &user_data,
            &into,
            Some(vec![cookie("member", "bob", "b.test")]),
            Some(&[]),
        )
        .unwrap();
        assert_eq!(
            jar(&b),
            [
                ("member".into(), "bob".into()),
                ("user".into(), "alice".into())
            ]
        );
        let seeded = dir.path().join("seeded");
        seed_parts(&into, &seeded).unwrap();
        assert!(
            !seeded.join("Default/Cookies").exists(),
            "the merged list, not the last saver's store, seeds the jar"
        );
    }
}
