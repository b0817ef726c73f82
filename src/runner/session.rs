//! The session layer: what the walk asks of one browser session, each
//! request a WebDriver command or a one-round-trip page script, and the one
//! waiting helper, [`until`], that every wait is built on.

use super::page::{self, Found, Need, Probe};
use crate::flow::Targets;
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
        match page::probe(self.c, groups, nav, &self.watching()).await {
            Ok(p) => Ok(Some(p)),
            Err(e) if page::is_transient(&e) || page::is_alert_open(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Probes the page, riding out a document change of up to ten seconds.
    pub(crate) async fn probe(&self, groups: &[&Targets]) -> Result<Probe, CmdError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = None;
        let got = until!(deadline, async {
            match page::probe(self.c, groups, "", &NO_WATCH).await {
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
        page::probe(self.c, &[], "", &NO_WATCH)
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
    ) -> Result<Found, CmdError> {
        page::find(self.c, t, need, mark, &self.watching()).await
    }

    /// The element tagged with `mark`.
    pub(crate) async fn tagged(
        &self,
        mark: &str,
    ) -> Result<fantoccini::elements::Element, CmdError> {
        self.c.find(Locator::Css(&page::tag_selector(mark))).await
    }

    /// Clicks the tagged element once.
    pub(crate) async fn click(&self, mark: &str) -> Result<Click, CmdError> {
        let el = self.tagged(mark).await?;
        match el.click().await {
            Ok(()) => Ok(Click::Done),
            // An alert opened before the click: the click did not happen.
            Err(e) if e.is_unexpected_alert_open() => Ok(Click::BlockedByAlert),
            // An overlay or an animation is in the way.
            Err(e)
                if e.to_string().contains("click intercepted")
                    || e.is_element_not_interactable() =>
            {
                Ok(Click::Covered(e))
            }
            Err(e) => Err(e),
        }
    }

    /// Types `value` into the tagged element (or sets it at once when `fast`).
    pub(crate) async fn type_into(
        &self,
        mark: &str,
        value: &str,
        fast: bool,
    ) -> Result<(), CmdError> {
        if fast {
            return page::fast_fill(self.c, mark, value).await;
        }
        let el = self.tagged(mark).await?;
        el.clear().await?;
        el.send_keys(value).await
    }

    /// Marks the current document so [`Session::wait_navigation`] can tell it from the next.
    pub(crate) async fn begin_navigation(&mut self) -> Result<String, CmdError> {
        let token = self.mark();
        page::set_nav_marker(self.c, &token).await?;
        Ok(token)
    }

    /// Waits until the marked document is gone and the new one has loaded
    /// (or an alert opened). `false` when it did not happen in time.
    pub(crate) async fn wait_navigation(
        &self,
        token: &str,
        timeout: Duration,
    ) -> Result<bool, CmdError> {
        let deadline = Instant::now() + timeout;
        let done = until!(deadline, async {
            match page::probe(self.c, &[], token, &NO_WATCH).await {
                Ok(p) => Ok((!p.marked && p.ready == "complete").then_some(())),
                Err(e) if page::is_alert_open(&e) => Ok(Some(())),
                Err(e) if page::is_transient(&e) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        Ok(done.is_some())
    }

    /// Whether the marked document is still the one shown after `grace`
    /// (a page load that was about to begin has begun by then).
    pub(crate) async fn still_on(&self, token: &str, grace: Duration) -> Result<bool, CmdError> {
        let deadline = Instant::now() + grace;
        let moved = until!(deadline, async {
            match page::probe(self.c, &[], token, &NO_WATCH).await {
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
