//! The session layer: what the walk asks of one browser session, each
//! request a WebDriver command or a one-round-trip page script, and the one
//! waiting helper, [`until`], that every wait is built on.

use super::page::{self, Found, Need, Prep, Probe, Wait};
use crate::flow::Targets;
use fantoccini::actions::{
    InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT,
};
use fantoccini::elements::{Element, ElementRef};
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use std::time::{Duration, Instant};

pub(crate) use crate::wait::until;

/// An alert that closed before it was answered (by itself, or by a page
/// load: chromedriver then says "aborted by navigation") needs no answer.
fn gone_is_fine(r: Result<(), CmdError>) -> Result<(), CmdError> {
    match r {
        Err(e) if e.is_no_such_alert() => Ok(()),
        Err(CmdError::NotW3C(serde_json::Value::String(_))) => Ok(()),
        r => r,
    }
}

/// A covered-check that met an alert: say nothing is covered, so the
/// click itself meets the alert and reports it.
fn blocked(e: CmdError) -> Result<Option<bool>, CmdError> {
    match e.is_unexpected_alert_open() {
        true => Ok(Some(false)),
        false => Err(e),
    }
}

/// A look that watches for no interrupt.
static NO_WATCH: serde_json::Value = serde_json::Value::Array(vec![]);

/// What became of a click.
#[derive(Debug)]
pub(crate) enum Click {
    /// The element was clicked.
    Done,
    /// An alert was open, so nothing was clicked.
    BlockedByAlert,
    /// Something covers the element (a modal?), so nothing was clicked.
    Covered(CmdError),
}

/// What one look at the page saw.
#[derive(Debug)]
pub(crate) enum Look {
    /// The page.
    Page(Probe),
    /// An alert is open, with this text.
    Alert(String),
    /// Between documents (or an alert closing): look again.
    Between,
}

/// How a wait for a page load ended.
#[derive(Debug)]
pub(crate) enum NavEnd {
    /// The marked document is gone and the next one has loaded.
    Loaded,
    /// An alert opened (the new page's, or an interrupt), with this text.
    Alert(String),
    /// Neither happened in time.
    Late,
}

/// One browser session, with the counters that tag its elements and
/// documents, and the interrupts every look watches for.
pub(crate) struct Session<'a> {
    pub(crate) c: &'a Client,
    marks: u64,
    /// Each watched interrupt as the page scripts take it.
    watch: Vec<serde_json::Value>,
    /// Interrupts whose steps are running (innermost last): their own
    /// lookups must not see them again, but may meet another on top.
    pub(crate) busy: Vec<usize>,
}

impl<'a> Session<'a> {
    /// Awaits `wait` (a person answering) while a harmless command goes
    /// to the browser every `every`, so an endpoint that ends idle
    /// sessions keeps this one. Get Window Handle touches neither page nor
    /// alert (https://www.w3.org/TR/webdriver2/#get-window-handle).
    pub(crate) async fn keep_alive<T>(
        &self,
        every: Duration,
        wait: impl std::future::Future<Output = T>,
    ) -> T {
        if every.is_zero() {
            return wait.await;
        }
        tokio::pin!(wait);
        let start = tokio::time::Instant::now() + every;
        let mut tick = tokio::time::interval_at(start, every);
        loop {
            tokio::select! {
                out = &mut wait => return out,
                _ = tick.tick() => self.touch(every).await,
            }
        }
    }

    /// One keep-alive command; a failure only shows in the debug log (the
    /// walk meets it at its next step).
    async fn touch(&self, every: Duration) {
        match tokio::time::timeout(every, self.c.window()).await {
            Ok(Ok(_)) => tracing::trace!("keep-alive sent"),
            Ok(Err(e)) => tracing::debug!("keep-alive: {e}"),
            Err(_) => tracing::debug!("keep-alive: no answer within {every:?}"),
        }
    }

    pub(crate) fn new(c: &'a Client, watch: Vec<serde_json::Value>) -> Session<'a> {
        Session {
            c,
            marks: 0,
            watch,
            busy: vec![],
        }
    }

    /// The interrupts a look watches for now.
    fn watching(&self) -> serde_json::Value {
        let free = self
            .watch
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.busy.contains(i))
            .map(|(_, w)| w.clone());
        serde_json::Value::Array(free.collect())
    }

    /// A fresh tag for an element or a document.
    pub(crate) fn mark(&mut self) -> String {
        self.marks += 1;
        format!("m{}", self.marks)
    }

    /// The text of the open JS alert, if one is open.
    pub(crate) async fn alert_text(&self) -> Result<Option<String>, CmdError> {
        match self.c.get_alert_text().await {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.is_no_such_alert() => Ok(None),
            // A dialog opening or closing just now has no text yet: look again later.
            Err(CmdError::NotW3C(serde_json::Value::Null)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Accepts the open alert; an alert that closed meanwhile is fine.
    pub(crate) async fn accept_alert(&self) -> Result<(), CmdError> {
        gone_is_fine(self.c.accept_alert().await)
    }

    /// Dismisses the open alert; an alert that closed meanwhile is fine.
    pub(crate) async fn dismiss_alert(&self) -> Result<(), CmdError> {
        gone_is_fine(self.c.dismiss_alert().await)
    }

    /// Probes the page once, watching for interrupts; `None` while it is
    /// between documents or behind an alert.
    pub(crate) async fn probe_once(
        &self,
        groups: &[&Targets],
        nav: &str,
    ) -> Result<Option<Probe>, CmdError> {
        match page::probe(self.c, groups, nav, &self.watching(), Wait::Now).await {
            Ok(p) => Ok(Some(p)),
            Err(e) if page::is_transient(&e) || page::is_alert_open(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One look at the page, watching for interrupts, answered as `wait`
    /// says: the page, or the alert that is open (one round trip either way).
    pub(crate) async fn look(
        &self,
        groups: &[&Targets],
        nav: &str,
        wait: Wait,
    ) -> Result<Look, CmdError> {
        match page::probe(self.c, groups, nav, &self.watching(), wait).await {
            Ok(p) => Ok(Look::Page(p)),
            Err(e) => self.alert_or_between(e).await,
        }
    }

    /// An error from a look: the alert it met, a page between documents, or a real error.
    async fn alert_or_between(&self, e: CmdError) -> Result<Look, CmdError> {
        match page::alert_of(&e) {
            Some(Some(text)) => Ok(Look::Alert(text)),
            // The endpoint did not say the alert's text (or the page gave
            // no answer, as when one opens mid-script): ask.
            Some(None) => Ok(self.alert_text().await?.map_or(Look::Between, Look::Alert)),
            None if page::is_no_answer(&e) => {
                Ok(self.alert_text().await?.map_or(Look::Between, Look::Alert))
            }
            None if page::is_transient(&e) => Ok(Look::Between),
            None => Err(e),
        }
    }

    /// Probes the page, riding out a document change of up to ten seconds.
    pub(crate) async fn probe(&self, groups: &[&Targets]) -> Result<Probe, CmdError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = None;
        let got = until!(deadline, async {
            match page::probe(self.c, groups, "", &NO_WATCH, Wait::Now).await {
                Ok(p) => Ok(Some(p)),
                Err(e) if page::is_transient(&e) => {
                    last = Some(e);
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        })?;
        match (got, last) {
            (Some(p), _) => Ok(p),
            (None, Some(e)) => Err(e),
            (None, None) => Ok(Probe::default()),
        }
    }

    /// The page as it is now, or an empty probe: for error messages only.
    pub(crate) async fn probe_lenient(&self) -> Probe {
        page::probe(self.c, &[], "", &NO_WATCH, Wait::Now)
            .await
            .unwrap_or_default()
    }

    /// Looks once for the first usable match of `t` and tags it with
    /// `mark`, unless an interrupt shows.
    pub(crate) async fn find_once(
        &self,
        t: &Targets,
        need: Need,
        mark: &str,
        prep: &Prep,
    ) -> Result<Found, CmdError> {
        page::find(self.c, t, need, mark, &self.watching(), prep).await
    }

    /// The element a find returned, or else the one tagged with `mark`.
    pub(crate) async fn element(
        &self,
        mark: &str,
        el: Option<&serde_json::Value>,
    ) -> Result<Element, CmdError> {
        let id = el
            .and_then(|v| v.as_object())
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str());
        match id {
            Some(id) => Ok(Element::from_element_id(
                self.c.clone(),
                ElementRef::from(id.to_string()),
            )),
            None => self.tagged(mark).await,
        }
    }

    /// The element tagged with `mark`.
    pub(crate) async fn tagged(
        &self,
        mark: &str,
    ) -> Result<fantoccini::elements::Element, CmdError> {
        self.c.find(Locator::Css(&page::tag_selector(mark))).await
    }

    /// Clicks the element once, as a mouse would (pointer actions: one
    /// round trip, where Element Click costs several and waits on its own).
    /// `covered` is what the find saw at its centre; `None` looks again.
    pub(crate) async fn click(
        &self,
        mark: &str,
        el: Option<&serde_json::Value>,
        covered: Option<bool>,
    ) -> Result<Click, CmdError> {
        let covered = match covered {
            Some(c) => c,
            None => page::covered(self.c, mark)
                .await
                .or_else(blocked)?
                .unwrap_or(false),
        };
        if covered {
            return Ok(Click::Covered(CmdError::NotW3C(serde_json::json!(
                "element click intercepted"
            ))));
        }
        let element = self.element(mark, el).await?;
        let mouse = MouseActions::new("einvreg-mouse".into())
            .then(PointerAction::MoveToElement {
                element,
                duration: Some(Duration::ZERO),
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        match self.c.perform_actions(mouse).await {
            Ok(()) => Ok(Click::Done),
            // An alert opened before the click: the click did not happen.
            Err(e) if e.is_unexpected_alert_open() => Ok(Click::BlockedByAlert),
            // Scrolled away or hidden meanwhile: as if covered.
            Err(e) if e.is_move_target_out_of_bounds() || e.is_element_not_interactable() => {
                Ok(Click::Covered(e))
            }
            Err(e) => Err(e),
        }
    }

    /// Types into the focused element with real key events (a key down and
    /// up per character, in one round trip).
    pub(crate) async fn type_keys(&self, value: &str) -> Result<(), CmdError> {
        let mut keys = KeyActions::new("einvreg-keys".into());
        for ch in value.chars() {
            keys = keys
                .then(KeyAction::Down { value: ch })
                .then(KeyAction::Up { value: ch });
        }
        self.c.perform_actions(keys).await
    }

    /// Types `value` into the tagged element over what it holds (or sets
    /// it at once when `fast`); `focused`: the find focused and selected it.
    pub(crate) async fn type_into(
        &self,
        mark: &str,
        value: &str,
        fast: bool,
        focused: bool,
    ) -> Result<(), CmdError> {
        if fast {
            return page::fast_fill(self.c, mark, value).await;
        }
        if !focused {
            page::focus_select(self.c, mark).await?;
        }
        self.type_keys(value).await
    }

    /// Waits until the marked document is gone and the new one has loaded,
    /// or an alert opened; each look waits in the page, so a load is seen
    /// as it happens, not at the next poll.
    pub(crate) async fn wait_navigation(
        &self,
        token: &str,
        timeout: Duration,
    ) -> Result<NavEnd, CmdError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let wait = Wait::Loaded(left.min(Duration::from_secs(2)));
            match page::probe(self.c, &[], token, &NO_WATCH, wait).await {
                Ok(p) if !p.marked && p.ready == "complete" => return Ok(NavEnd::Loaded),
                Ok(_) => {}
                Err(e) => match self.alert_or_between(e).await? {
                    Look::Alert(text) => return Ok(NavEnd::Alert(text)),
                    Look::Page(_) | Look::Between => {}
                },
            }
            if Instant::now() >= deadline {
                return Ok(NavEnd::Late);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Whether the marked document is still the one shown after `grace`
    /// (a page load that was about to begin has begun by then).
    pub(crate) async fn still_on(&self, token: &str, grace: Duration) -> Result<bool, CmdError> {
        let deadline = Instant::now() + grace;
        let moved = until!(deadline, async {
            match page::probe(self.c, &[], token, &NO_WATCH, Wait::Now).await {
                Ok(p) => Ok((!p.marked).then_some(())),
                Err(e) if page::is_transient(&e) || page::is_alert_open(&e) => Ok(Some(())),
                Err(e) => Err(e),
            }
        })?;
        Ok(moved.is_none())
    }

    /// Waits for the tagged image to finish loading; `false` if it never does.
    pub(crate) async fn wait_image(&self, mark: &str, timeout: Duration) -> Result<bool, CmdError> {
        let deadline = Instant::now() + timeout;
        let loaded = until!(deadline, async {
            Ok::<_, CmdError>(page::image_loaded(self.c, mark).await?.then_some(()))
        })?;
        Ok(loaded.is_some())
    }

    /// Chromium's own error page ("This site can't be reached"), if the
    /// tab shows one: its error code (e.g. `ERR_CONNECTION_REFUSED`) and the address.
    pub(crate) async fn error_page(&self) -> Option<String> {
        const JS: &str = "var e=document.getElementById('main-frame-error');\
            if(!e && location.protocol!=='chrome-error:') return null;\
            var c=document.querySelector('.error-code');\
            return (c ? c.textContent.trim() : 'a network error');";
        let code = self.c.execute(JS, vec![]).await.ok()?;
        let code = code.as_str()?.to_string();
        let url = self.c.current_url().await.map(|u| u.to_string());
        Some(match url {
            Ok(u) if !u.starts_with("chrome-error:") => format!("{code} at {u}"),
            _ => code,
        })
    }
}
