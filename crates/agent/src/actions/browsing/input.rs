//! Input: `browser_click` (hit-tested first), `browser_type` (read back), `browser_scroll`,
//! `browser_send_keys`, `browser_select`, and what an input led to (a navigation, a new tab).

use super::*;

impl Browsing {
    pub(super) async fn click(&mut self, index: u64) -> Result<Executed, ActionError> {
        let element = self.element(index)?;
        let (x, y) = self.click_point(&element).await?;
        let page_events = self.page.session().events();
        let tab_events = self.browser.tab_events();
        let url_before = self.current_url().await;
        let session = self.page.session().clone();
        for (kind, button, pressed) in [
            (MouseEventType::MouseMoved, MouseButton::None, 0),
            (
                MouseEventType::MousePressed,
                MouseButton::Left,
                buttons::LEFT,
            ),
            (MouseEventType::MouseReleased, MouseButton::Left, 0),
        ] {
            session
                .call(DispatchMouseEvent {
                    r#type: kind,
                    x,
                    y,
                    button: Some(button),
                    buttons: Some(pressed),
                    click_count: (kind != MouseEventType::MouseMoved).then_some(1),
                    pointer_type: Some(PointerType::Mouse),
                    ..Default::default()
                })
                .await?;
        }
        let change = self
            .after_input(page_events, tab_events, &url_before)
            .await?;
        Ok(Executed {
            text: format!(
                "Clicked {}{}",
                describe(&element),
                self.reaction_note(&change)
            ),
            page_changed: change.changed(),
            read_state: None,
        })
    }

    /// The viewport point to click `element` at, after scrolling it into view and checking
    /// that the point hits the element (or something inside it, or its label).
    pub(super) async fn click_point(
        &mut self,
        element: &Element,
    ) -> Result<(f64, f64), ActionError> {
        if let Some(frame) = element.target.frame_target.clone() {
            return self.frame_click_point(element, &frame).await;
        }
        let session = self.page.session().clone();
        self.visible_point(&session, element).await
    }

    /// For an element of an out-of-process frame: scrolled into view and hit-tested in the
    /// frame's own session (its coordinates are the frame's), then placed in the tab by the
    /// frame's `<iframe>` box as it is now. A frame nested in another out-of-process frame
    /// has no owner in the tab's session: then the observed position is the best there is.
    pub(super) async fn frame_click_point(
        &mut self,
        element: &Element,
        frame: &str,
    ) -> Result<(f64, f64), ActionError> {
        let session = self.node_session(&element.target).await?;
        let local = self.visible_point(&session, element).await?;
        let top = self.page.session().clone();
        let owner = top
            .call(dom::GetFrameOwner {
                frame_id: frame.to_string(),
            })
            .await;
        let Ok(owner) = owner else {
            let b = &element.bounds;
            return Ok((b.x + b.width / 2.0, b.y + b.height / 2.0));
        };
        let model = top
            .call(dom::GetBoxModel {
                backend_node_id: Some(owner.backend_node_id),
                ..Default::default()
            })
            .await
            .map_err(|_| {
                ActionError::Failed(format!(
                    "the frame holding {} is no longer on the page",
                    describe(element)
                ))
            })?;
        let (ox, oy) = (
            model.model.content.first().copied().unwrap_or(0.0),
            model.model.content.get(1).copied().unwrap_or(0.0),
        );
        Ok((ox + local.0, oy + local.1))
    }

    /// Scrolls `element` into view in `session` and returns the centre of its visible part in
    /// that session's viewport, after checking that the point hits it.
    pub(super) async fn visible_point(
        &self,
        session: &Session,
        element: &Element,
    ) -> Result<(f64, f64), ActionError> {
        let backend_node_id = Some(element.target.backend_node_id);
        // Not every node can be scrolled (e.g. inside a closed popup); the quads decide.
        let _ = session
            .call(dom::ScrollIntoViewIfNeeded {
                backend_node_id,
                ..Default::default()
            })
            .await;
        let quads = session
            .call(dom::GetContentQuads {
                backend_node_id,
                ..Default::default()
            })
            .await
            .map_err(|_| {
                ActionError::Failed(format!(
                    "{} is no longer on the page; look at the new state",
                    describe(element)
                ))
            })?
            .quads;
        let metrics = session.call(page::GetLayoutMetrics {}).await?;
        let (vw, vh) = (
            metrics.css_visual_viewport.client_width,
            metrics.css_visual_viewport.client_height,
        );
        let point = quads
            .iter()
            .filter_map(|q| visible_center(q, vw, vh))
            .next()
            .ok_or_else(|| {
                ActionError::Failed(format!(
                    "{} has no visible area to click (hidden or zero size)",
                    describe(element)
                ))
            })?;
        let object = resolve(session, element.target.backend_node_id).await?;
        // The covering element's text, cut after redaction (see `SensitiveData::redact_cut`).
        let keep = COVER_TEXT_MAX + self.secrets.longest();
        let hit = call_on(
            session,
            object,
            HIT_TEST,
            Some(json!([point.0, point.1, keep])),
        )
        .await?;
        if let Some(cover) = hit.get("covered").and_then(Value::as_str) {
            let text = hit.get("text").and_then(Value::as_str).unwrap_or_default();
            let (text, _) = self.secrets.redact_cut(text, COVER_TEXT_MAX);
            let text = if text.is_empty() {
                String::new()
            } else {
                format!(" {text:?}")
            };
            return Err(ActionError::Failed(format!(
                "{} is covered by {cover}{text}; close or handle that first",
                describe(element)
            )));
        }
        Ok(point)
    }

    /// Waits briefly for what an input may have started: a navigation of the tab (then waits
    /// for its load) or a new tab (then switches to it, as a user would see it).
    pub(super) async fn after_input(
        &mut self,
        mut page_events: cdp::EventStream,
        mut tab_events: broadcast::Receiver<TabEvent>,
        url_before: &str,
    ) -> Result<Change, ActionError> {
        let main = self.page.tab_id().to_string();
        let deadline = Instant::now() + REACTION_WINDOW;
        let mut change = Change::None;
        loop {
            tokio::select! {
                event = page_events.recv() => {
                    let Some(event) = event else { break };
                    if let Some(Ok(started)) = event.parse::<page::FrameStartedLoading>()
                        && started.frame_id == main
                    {
                        change = Change::Navigated;
                        break;
                    }
                    if let Some(Ok(moved)) = event.parse::<page::NavigatedWithinDocument>()
                        && moved.frame_id == main
                    {
                        change = Change::Navigated;
                    }

                }
                event = tab_events.recv() => {
                    if let Ok(TabEvent::Opened(tab)) = event {
                        change = Change::NewTab(tab.id);
                        break;
                    }
                }
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        match &change {
            Change::Navigated => {
                let loaded = async {
                    while let Some(event) = page_events.recv().await {
                        if event.is::<page::LoadEventFired>() {
                            return;
                        }
                    }
                };
                let _ = timeout(LOAD_WAIT, loaded).await;
                // A navigation that went nowhere (a download, a same-URL reload of a form).
                if self.current_url().await == url_before {
                    tracing::debug!("navigation kept the URL");
                }
            }
            Change::NewTab(id) => {
                let id = id.clone();
                self.switch_to(&id).await?;
                wait_ready(&self.page).await;
            }
            Change::None => {}
        }
        Ok(change)
    }

    pub(super) async fn type_text(
        &mut self,
        index: u64,
        text: &str,
        clear: bool,
        submit: bool,
        secrets: &SensitiveData,
    ) -> Result<Executed, ActionError> {
        let element = self.element(index)?;
        let value = secrets.substitute(text);
        let typed_secret = value != text;
        if typed_secret {
            self.secret_fields.insert((
                self.page.tab_id().to_string(),
                element.target.frame_target.clone(),
                element.target.backend_node_id,
            ));
        }
        let session = self.node_session(&element.target).await?;
        let focused = session
            .call(dom::Focus {
                backend_node_id: Some(element.target.backend_node_id),
                ..Default::default()
            })
            .await;
        if focused.is_err() || element.target.frame_target.is_some() {
            // Not focusable by itself (a wrapper of a custom field), or in another process's
            // frame, whose keyboard focus only follows a real click: click it like a user.
            self.click(index).await?;
        }
        let page = self.page.session().clone();
        if clear {
            for chord in keys::parse("Control+a Backspace")? {
                for event in keys::events(&chord)? {
                    page.call(event).await?;
                }
            }
        }
        if !value.is_empty() {
            page.call(InsertText {
                text: value.clone(),
            })
            .await?;
        }
        let mut note = String::new();
        if let Ok(object) = resolve(&session, element.target.backend_node_id).await
            && let Ok(Value::String(now)) = call_on(
                &session,
                object,
                "function() { return this.isContentEditable ? this.innerText : String(this.value ?? ''); }",
                None,
            )
            .await
        {
            let matches = if clear { now.trim() == value.trim() } else { now.contains(&value) };
            let was_empty = !element.attributes.iter().any(|a| a.name == "value");
            if !matches && typed_secret && (clear || was_empty) {
                // All the field shows came of the secret: hide that too from now on.
                secrets.learn(text, &now);
            }
            if !matches && typed_secret {
                // What it shows may be part of the secret (a maxlength cut it, say).
                note = " (the field does not show exactly what was typed)".into();
            } else if !matches {
                let shown = secrets.redact(&now);
                note = format!(" (the field now shows {shown:?})");
            }
        }
        let mut change = Change::None;
        if submit {
            let page_events = self.page.session().events();
            let tab_events = self.browser.tab_events();
            let url_before = self.current_url().await;
            for event in keys::events(&keys::parse("Enter")?[0])? {
                page.call(event).await?;
            }
            change = self
                .after_input(page_events, tab_events, &url_before)
                .await?;
        }
        Ok(Executed {
            text: format!(
                "Typed {text:?} into {}{note}{}{}",
                describe(&element),
                if submit { " and pressed Enter" } else { "" },
                self.reaction_note(&change)
            ),
            page_changed: change.changed(),
            read_state: None,
        })
    }

    pub(super) async fn scroll(
        &mut self,
        direction: Direction,
        pages: f64,
        index: Option<u64>,
    ) -> Result<Executed, ActionError> {
        let pages = pages.clamp(0.1, 10.0);
        let metrics = self.page.session().call(page::GetLayoutMetrics {}).await?;
        let (vw, vh) = (
            metrics.css_visual_viewport.client_width,
            metrics.css_visual_viewport.client_height,
        );
        let (x, y, what, height) = match index {
            Some(index) => {
                let element = self.element(index)?;
                let b = &element.bounds;
                let x = (b.x + b.width / 2.0).clamp(1.0, vw - 1.0);
                let y = (b.y + b.height / 2.0).clamp(1.0, vh - 1.0);
                (x, y, describe(&element), b.height.max(50.0))
            }
            None => (vw / 2.0, vh / 2.0, "the page".to_string(), vh),
        };
        let sign = match direction {
            Direction::Down => 1.0,
            Direction::Up => -1.0,
        };
        let before = self.scroll_position(index).await;
        self.page
            .session()
            .call(DispatchMouseEvent {
                r#type: MouseEventType::MouseWheel,
                x,
                y,
                delta_x: Some(0.0),
                delta_y: Some(sign * pages * height * 0.9),
                pointer_type: Some(PointerType::Mouse),
                ..Default::default()
            })
            .await?;
        // Wheel scrolling is applied asynchronously by the compositor.
        let mut after = before;
        for _ in 0..10 {
            sleep(Duration::from_millis(50)).await;
            after = self.scroll_position(index).await;
            if after != before {
                break;
            }
        }
        let dir = match direction {
            Direction::Down => "down",
            Direction::Up => "up",
        };
        let text = if after == before {
            format!("Scrolled {what} {dir}, but it did not move (already at the end?)")
        } else {
            format!("Scrolled {what} {dir} by {pages} page(s)")
        };
        Ok(Executed::said(text))
    }

    /// The scroll offset of the page, or of the element `[index]`, rounded.
    pub(super) async fn scroll_position(&self, index: Option<u64>) -> i64 {
        let value = match index.and_then(|i| self.element(i).ok()) {
            Some(element) if element.target.frame_target.is_none() => {
                let session = self.page.session();
                match resolve(session, element.target.backend_node_id).await {
                    Ok(object) => call_on(
                        session,
                        object,
                        "function() { return this.scrollTop; }",
                        None,
                    )
                    .await
                    .ok(),
                    Err(_) => None,
                }
            }
            Some(_) => None,
            None => self.page.evaluate("window.scrollY").await.ok(),
        };
        value.and_then(|v| v.as_f64()).unwrap_or(0.0).round() as i64
    }

    pub(super) async fn send_keys(&mut self, keys: &str) -> Result<Executed, ActionError> {
        let chords = keys::parse(keys)?;
        let page_events = self.page.session().events();
        let tab_events = self.browser.tab_events();
        let url_before = self.current_url().await;
        let session = self.page.session().clone();
        for chord in &chords {
            for event in keys::events(chord)? {
                session.call(event).await?;
            }
        }
        let change = self
            .after_input(page_events, tab_events, &url_before)
            .await?;
        Ok(Executed {
            text: format!("Pressed {keys}{}", self.reaction_note(&change)),
            page_changed: change.changed(),
            read_state: None,
        })
    }

    pub(super) async fn select(
        &mut self,
        index: u64,
        option: &str,
    ) -> Result<Executed, ActionError> {
        let element = self.element(index)?;
        let session = self.node_session(&element.target).await?;
        let object = resolve(&session, element.target.backend_node_id).await?;
        let result = call_on(&session, object, SELECT_OPTION, Some(json!(option))).await?;
        if let Some(error) = result.get("error").and_then(Value::as_str) {
            return Err(ActionError::Failed(format!(
                "cannot select in {}: {error}",
                describe(&element)
            )));
        }
        let selected = result
            .get("selected")
            .and_then(Value::as_str)
            .unwrap_or(option);
        Ok(Executed::said(format!(
            "Selected {selected:?} in {}",
            describe(&element)
        )))
    }
}

/// Hit-tests a viewport point against `this`: `{ok: true}` when the topmost element there is
/// `this`, inside it (through open shadow roots) or one of its labels, else `{covered: "...",
/// text: "..."}` naming what is on top and its text (at most `max` characters). The point is
/// in the tab's viewport; same-process frames between the tab and the element are subtracted
/// to get the element's own document coordinates.
const HIT_TEST: &str = include_str!("hit_test.js");

/// Picks `option` (its text, value, or a part of its text) in a native `<select>` (`this`) and
/// fires `input` and `change`; `{error}` says why not.
const SELECT_OPTION: &str = include_str!("select_option.js");
