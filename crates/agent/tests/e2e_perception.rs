//! Perception against real Chromium and the fixture pages in `crates/testkit/pages/perception`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on what it did not expect

use std::future::Future;

use agent::perception::{Element, FRAME_BASE, Observer, PageState, Tab, screenshot};
use browser::{Browser, LaunchOptions, Page};
use testkit::FixtureServer;

/// A fixture page loaded in its own browser.
struct Fixture {
    page: Page,
    pages: FixtureServer,
    browser: Browser,
}

impl Fixture {
    async fn observe(&self, observer: &mut Observer) -> PageState {
        let tabs = Tab::list(&self.browser, self.page.tab_id());
        observer
            .observe(&self.page, tabs)
            .await
            .expect("observe the page")
    }
}

/// Loads `path` in a fresh browser, runs `body`, and stops the browser whatever the body did:
/// a failed assertion is re-raised only after the browser is stopped and reaped.
async fn with_fixture<F, Fut>(path: &str, body: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_fixture_server(FixtureServer::start().await, path, body).await;
}

/// [`with_fixture`] with a server the caller started.
async fn with_fixture_server<F, Fut>(pages: FixtureServer, path: &str, body: F)
where
    F: FnOnce(Fixture) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let browser = Browser::launch(&LaunchOptions::default())
        .await
        .expect("launch Chromium");
    let loaded = async {
        let tab = browser.active_tab().ok_or("no tab")?;
        let page = browser.page(&tab.id).await.map_err(|e| e.to_string())?;
        page.navigate(&pages.url(path))
            .await
            .map_err(|e| e.to_string())?;
        Ok::<Page, String>(page)
    }
    .await;
    let result = match loaded {
        Ok(page) => {
            let fixture = Fixture {
                page,
                pages,
                browser: browser.clone(),
            };
            tokio::spawn(body(fixture)).await
        }
        Err(e) => {
            browser.stop().await;
            panic!("cannot load {path}: {e}");
        }
    };
    browser.stop().await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn get<'a>(state: &'a PageState, name: &str) -> &'a Element {
    state
        .elements
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no element named {name:?} in\n{}", state.to_text()))
}

fn absent(state: &PageState, name_part: &str) {
    assert!(
        !state.elements.iter().any(|e| e.name.contains(name_part)),
        "{name_part:?} must not be listed:\n{}",
        state.to_text()
    );
}

fn attr<'a>(element: &'a Element, name: &str) -> Option<&'a str> {
    element
        .attributes
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.value.as_str())
}

#[tokio::test]
async fn form_controls_links_and_text() {
    with_fixture("/perception/form.html", |f| async move {
        let state = f.observe(&mut Observer::new()).await;
        let text = state.to_text();

        let search = get(&state, "Search products");
        assert_eq!(search.role, "searchbox");
        assert_eq!(attr(search, "value"), Some("desk lamp"));
        assert_eq!(attr(search, "placeholder"), Some("lamps, chairs..."));
        assert_eq!(get(&state, "Search").role, "button");
        assert_eq!(get(&state, "Home").role, "link");
        assert_eq!(
            attr(get(&state, "Home"), "href"),
            Some("/perception/form.html")
        );
        let help = attr(get(&state, "Help"), "href").unwrap();
        assert!(
            help.starts_with("example.com/help/") && help.ends_with('…'),
            "{help}"
        );

        let prime = get(&state, "Prime only");
        assert_eq!(prime.role, "checkbox");
        assert_eq!(attr(prime, "checked"), Some(""));
        assert_eq!(attr(get(&state, "Small"), "unchecked"), Some(""));
        assert_eq!(attr(get(&state, "Large"), "checked"), Some(""));
        let sort = get(&state, "Sort by");
        assert_eq!(sort.role, "combobox");
        assert_eq!(attr(sort, "value"), Some("Price: low to high"));
        assert_eq!(
            attr(sort, "options"),
            Some("Relevance|Price: low to high|Newest")
        );
        let email = get(&state, "Email");
        assert_eq!(attr(email, "type"), Some("email"));
        assert_eq!(attr(email, "value"), Some("ada@example.com"));
        let password = get(&state, "Password");
        assert_eq!(attr(password, "value"), Some("•••"));
        assert!(!text.contains("hunter2"), "a password never shows");
        assert!(
            !text.contains("secret-token"),
            "hidden inputs are not listed"
        );
        assert_eq!(
            attr(get(&state, "Notes"), "placeholder"),
            Some("Anything else?")
        );
        assert_eq!(get(&state, "Volume").role, "slider");
        assert_eq!(attr(get(&state, "Disabled button"), "disabled"), Some(""));
        assert_eq!(get(&state, "More filters").role, "button");
        // Labels whose control is listed are not listed twice.
        assert_eq!(
            state
                .elements
                .iter()
                .filter(|e| e.name == "Prime only")
                .count(),
            1
        );

        // One line per element, starting with its index.
        let search_line = format!("[{}] searchbox \"Search products\"", search.index);
        assert!(text.contains(&search_line), "{text}");
        let element_lines = text
            .lines()
            .skip_while(|l| *l != "elements:")
            .skip(1)
            .take_while(|l| *l != "text:")
            .count();
        assert_eq!(element_lines, state.elements.len());
        // The viewport text, without what element names already say.
        assert!(
            state.text.iter().any(|l| l == "Total: $24.99 incl. VAT"),
            "{text}"
        );
        assert!(state.text.iter().any(|l| l == "Find a lamp"), "{text}");
        assert!(!state.text.iter().any(|l| l == "Search"), "{text}");
        // A screenshot for vision models: a JPEG ("/9j/" is base64 for its FF D8 FF magic).
        let shot = screenshot(&f.page).await.expect("screenshot");
        assert_eq!(shot.media_type, "image/jpeg");
        assert!(shot.base64.starts_with("/9j/") && shot.base64.len() > 1000);
        assert!(text.starts_with(&format!("url: {}\n", f.pages.url("/perception/form.html"))));
        assert!(
            text.contains(&format!(
                "* {} Perception: form",
                Tab::short_id(f.page.tab_id())
            )),
            "{text}"
        );
    })
    .await;
}

#[tokio::test]
async fn widgets_shadow_dom_and_what_cannot_be_seen() {
    with_fixture("/perception/widgets.html", |f| async move {
        let state = f.observe(&mut Observer::new()).await;
        let text = state.to_text();

        // A cursor:pointer card is one element, not one per descendant.
        let card = get(&state, "Brass desk lamp $24.99");
        assert_eq!(card.role, "div");
        assert!(
            !state.elements.iter().any(|e| e.name == "Brass desk lamp"),
            "{text}"
        );
        // A custom dropdown: combobox, listbox, options, and a pointer-only option.
        let colour = get(&state, "Colour");
        assert_eq!(colour.role, "combobox");
        assert_eq!(attr(colour, "expanded"), Some("true"));
        assert_eq!(get(&state, "Colours").role, "listbox");
        assert_eq!(attr(get(&state, "Red"), "selected"), Some("true"));
        assert_eq!(get(&state, "Green").role, "option");
        assert_eq!(get(&state, "Blue").role, "div");
        // Editable region, scroll container, click handler, focusable div.
        let editor = state
            .elements
            .iter()
            .find(|e| attr(e, "value") == Some("Draft text"))
            .expect("the contenteditable");
        assert_eq!(editor.role, "textbox");
        let scroller = state
            .elements
            .iter()
            .find(|e| e.role == "scrollable")
            .expect("the scroll container");
        assert_eq!(attr(scroller, "scroll"), Some("0px above, 70px below"));
        assert!(
            state.text.iter().any(|l| l == "Item one"),
            "a scroller's content is text"
        );
        assert!(
            !state.text.iter().any(|l| l == "Item five"),
            "but only what its box shows: {text}"
        );
        assert_eq!(get(&state, "Click handler div").role, "div");
        // A clickable region with more text than a name holds keeps its text as page text.
        assert!(
            state.text.iter().any(|l| l == "Region price: $99.50"),
            "{text}"
        );
        assert_eq!(get(&state, "Focusable div").role, "div");
        // Open shadow DOM.
        let shadow = get(&state, "Shadow button");
        assert!(shadow.in_shadow);
        assert_eq!(shadow.role, "button");
        assert!(
            state
                .elements
                .iter()
                .any(|e| attr(e, "placeholder") == Some("Shadow input") && e.in_shadow)
        );
        // Covered, hidden, transparent, zero-size: absent, and so is their text.
        for gone in [
            "Covered button",
            "Display none",
            "Visibility hidden",
            "Opacity zero",
            "Inside transparent parent",
            "Zero size",
            "Not a link",
        ] {
            absent(&state, gone);
        }
        assert!(!text.contains("Covered button"), "{text}");
        assert!(state.text.iter().any(|l| l == "Overlay on top"), "{text}");
    })
    .await;
}

#[tokio::test]
async fn same_and_cross_origin_frames_with_stable_ids() {
    with_fixture("/perception/frames.html", |f| async move {
        let mut observer = Observer::new();
        let first = f.observe(&mut observer).await;
        let text = first.to_text();
        let top = get(&first, "Top button");
        let same = get(&first, "Same-origin button");
        let cross = get(&first, "Cross-origin button");
        let card = get(&first, "Card number");
        assert!(same.in_frame && same.target.frame_target.is_none(), "{same:?}");
        assert_eq!(same.index, same.target.backend_node_id as u64);
        assert!(cross.in_frame && cross.target.frame_target.is_some(), "{cross:?}");
        assert!(cross.index >= FRAME_BASE && card.index >= FRAME_BASE);
        assert_ne!(cross.index, card.index);
        // Frame content is placed in the page's viewport: inside its iframe (the third
        // element row: after the button and the first iframe).
        let frame_box: serde_json::Value = f
            .page
            .evaluate("(() => { const r = document.getElementById('cross').getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()")
            .await
            .unwrap();
        let [l, t, r, b] = [0, 1, 2, 3].map(|i| frame_box[i].as_f64().unwrap());
        let (x, y) = (cross.bounds.x, cross.bounds.y);
        assert!(x > l && x < r && y > t && y < b, "{:?} not in {frame_box}", cross.bounds);
        assert!(first.text.iter().any(|l| l == "Same-origin frame text"), "{text}");
        assert!(first.text.iter().any(|l| l == "Cross-origin frame text"), "{text}");
        // Document order: the frames' elements follow the button before them.
        let order: Vec<&str> = first.elements.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            order,
            ["Top button", "Same-origin button", "Cross-origin button", "Card number"]
        );

        // A second observation: the same indices.
        let second = f.observe(&mut observer).await;
        for element in [top, same, cross, card] {
            assert_eq!(get(&second, &element.name).index, element.index, "{}", element.name);
        }
        // Page elements keep their index even for a new observer: it is the backendNodeId.
        let fresh = f.observe(&mut Observer::new()).await;
        assert_eq!(get(&fresh, "Top button").index, top.index);
        assert_eq!(get(&fresh, "Same-origin button").index, same.index);
    })
    .await;
}

#[tokio::test]
async fn long_page_lists_one_screen_around_the_viewport_and_counts_the_rest() {
    with_fixture("/perception/long.html", |f| async move {
        let mut observer = Observer::new();
        let state = f.observe(&mut observer).await;
        let names: Vec<&str> = state.elements.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Screen 0 button", "Screen 1 button"]);
        assert_eq!((state.elements_above, state.elements_below), (0, 4));
        assert_eq!(state.viewport.scroll_y, 0.0);
        assert!(state.viewport.screens_below() > 3.9, "{:?}", state.viewport);

        f.page
            .evaluate("window.scrollTo(0, 3 * innerHeight); window.scrollY")
            .await
            .unwrap();
        let scrolled = f.observe(&mut observer).await;
        let names: Vec<&str> = scrolled.elements.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Screen 2 button",
                "Screen 2 link",
                "Screen 3 button",
                "Screen 4 button"
            ]
        );
        assert_eq!((scrolled.elements_above, scrolled.elements_below), (2, 0));
        assert!(
            scrolled.to_text().contains("page: 3.0 screens above"),
            "{}",
            scrolled.to_text()
        );
        // Same elements, same indices, whatever the scroll position.
        let before = get(&state, "Screen 1 button").index;
        f.page.evaluate("window.scrollTo(0, 0)").await.unwrap();
        let back = f.observe(&mut observer).await;
        assert_eq!(get(&back, "Screen 1 button").index, before);
    })
    .await;
}

#[tokio::test]
async fn a_same_site_frame_of_another_origin_is_entered_in_process() {
    // 127.0.0.1 on another port: another origin, same site, so the same renderer process.
    let other = FixtureServer::start().await;
    let port = other
        .url("/")
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
        .expect("a port");
    let path = format!("/perception/frames.html?other={port}");
    with_fixture(&path, |f| async move {
        let _other = other;
        let state = f.observe(&mut Observer::new()).await;
        let button = get(&state, "Other-port button");
        assert!(button.in_frame, "{button:?}");
        assert_eq!(
            button.target.frame_target, None,
            "same process, same session"
        );
        assert_eq!(button.index, button.target.backend_node_id as u64);
        // Still all the other frames' elements.
        get(&state, "Same-origin button");
        get(&state, "Cross-origin button");
    })
    .await;
}

#[tokio::test]
async fn elements_with_only_event_listeners_are_found_but_delegating_containers_are_not() {
    with_fixture("/perception/listeners.html", |f| async move {
        let state = f.observe(&mut Observer::new()).await;
        let text = state.to_text();
        assert_eq!(get(&state, "Show details").role, "div", "{text}");
        assert_eq!(get(&state, "Filter: red").role, "span", "{text}");
        // The delegating list holds a button: it is a container, not a control.
        assert_eq!(get(&state, "Second item").role, "button");
        assert!(
            !state.elements.iter().any(|e| e.name.contains("First item")),
            "{text}"
        );
        absent(&state, "Hover only");
        // The listener-only element is a real target: a click through its box lands.
        let details = get(&state, "Show details");
        let (x, y) = (
            details.bounds.x + details.bounds.width / 2.0,
            details.bounds.y + details.bounds.height / 2.0,
        );
        let hit = f
            .page
            .evaluate(&format!("document.elementFromPoint({x}, {y}).id"))
            .await
            .expect("hit test");
        assert_eq!(hit, "details");
    })
    .await;
}

/// The accessible names of the native controls and links a page shows in its viewport (at
/// least half of each on screen), read in the page: what the agent must not miss.
const CONTROLS_IN_VIEW_JS: &str = r#"(() => {
  const seen = [];
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea')) {
    const r = el.getBoundingClientRect();
    const visible = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
    if (r.width > 0 && visible >= r.height / 2) seen.push(el.textContent.trim());
  }
  return seen;
})()"#;

#[tokio::test]
async fn no_control_in_view_is_missed_on_a_page_of_twelve_thousand_elements() {
    with_fixture("/index.html", |f| async move {
        // The benchmark's large page (benches/observe/gen_pages.py): 3,000 rows of a text, a
        // link and a button.
        f.page
            .evaluate(
                r#"(() => {
  document.body.style.margin = '0 16px';
  const rows = [];
  for (let i = 0; i < 3000; i++) {
    const price = ((i * 7919) % 10000 / 100).toFixed(2);
    rows.push(`<div style="display:flex;gap:12px;align-items:center;height:26px;border-bottom:1px solid #eee"><span>Item ${i} costs $${price}</span><a href="/item/${i}">Item ${i}</a><button type="button">Buy ${i}</button></div>`);
  }
  document.body.innerHTML = rows.join('');
  return document.querySelectorAll('*').length;
})()"#,
            )
            .await
            .unwrap();
        let mut observer = Observer::new();
        for scroll in ["0", "document.body.scrollHeight / 2", "document.body.scrollHeight"] {
            f.page
                .evaluate(&format!("window.scrollTo(0, {scroll}); window.scrollY"))
                .await
                .unwrap();
            let expected: Vec<String> =
                serde_json::from_value(f.page.evaluate(CONTROLS_IN_VIEW_JS).await.unwrap())
                    .unwrap();
            assert!(expected.len() > 40, "a screenful of rows: {expected:?}");
            let state = f.observe(&mut observer).await;
            for name in &expected {
                assert!(
                    state.elements.iter().any(|e| &e.name == name),
                    "{name:?} is in view (scrolled to {scroll}) but not listed:\n{}",
                    state.to_text()
                );
            }
        }
    })
    .await;
}
