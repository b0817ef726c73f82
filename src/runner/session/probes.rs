//! Page probes: one-round-trip page scripts (Execute Script,
//! <https://www.w3.org/TR/webdriver2/#execute-script>) that look at the
//! page, find targets and wait in it for a change or a load, each
//! answered with the alert that blocked it when one is open.

use super::{until, Session};
use crate::flow::Targets;
use crate::runner::page::{self, Found, Need, Prep, Probe, Wait};
use fantoccini::error::CmdError;
use std::time::{Duration, Instant};

/// A look that watches for no interrupt.
static NO_WATCH: serde_json::Value = serde_json::Value::Array(vec![]);

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
    /// The marked document is gone and the next one has loaded, as one
    /// look saw it (with the groups the wait was given).
    Loaded(Box<Probe>),
    /// An alert opened (the new page's, or an interrupt), with this text.
    Alert(String),
    /// Neither happened in time.
    Late,
}

impl Session<'_> {
    /// Probes the page once, watching for interrupts; `None` while it is
    /// between documents or behind an alert.
    pub(crate) async fn probe_once(
        &self,
        groups: &[&Targets],
        nav: &str,
    ) -> Result<Option<Probe>, CmdError> {
        match page::probe(self.scripts(), groups, nav, &self.watching(), Wait::Now).await {
            Ok(p) => Ok(Some(p)),
            Err(e) if page::is_transient(&e) || page::is_alert_open(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One look at once right after a click armed under `armed` (which
    /// also says whether it arrived); `None` while the page is between
    /// documents, behind an alert, or the look failed (the caller then
    /// asks as it would have without it).
    pub(crate) async fn look_after_click(
        &self,
        groups: &[&Targets],
        token: &str,
        armed: &str,
    ) -> Option<Probe> {
        page::probe_after_click(self.scripts(), groups, token, &self.watching(), armed)
            .await
            .ok()
    }

    /// One look at the page, watching for interrupts, answered as `wait`
    /// says: the page, or the alert that is open (one round trip either way).
    pub(crate) async fn look(
        &self,
        groups: &[&Targets],
        nav: &str,
        wait: Wait,
    ) -> Result<Look, CmdError> {
        match page::probe(self.scripts(), groups, nav, &self.watching(), wait).await {
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
            // In a frame whose document went (the page around it moved on): the top.
            None if self.in_frame() && (page::is_transient(&e) || e.is_no_such_frame()) => {
                self.leave_frame().await?;
                Ok(Look::Between)
            }
            None if page::is_transient(&e) => Ok(Look::Between),
            // The window the walk followed closed (as a pop-up does when done).
            None if e.is_no_such_window() && self.back_to_open_window().await? => Ok(Look::Between),
            None => Err(e),
        }
    }

    /// Probes the page, riding out a document change of up to ten seconds.
    pub(crate) async fn probe(&self, groups: &[&Targets]) -> Result<Probe, CmdError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = None;
        let got = until!(deadline, async {
            match page::probe(self.scripts(), groups, "", &NO_WATCH, Wait::Now).await {
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
        page::probe(self.scripts(), &[], "", &NO_WATCH, Wait::Now)
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
        let found = page::find(self.scripts(), t, need, mark, &self.watching(), prep).await?;
        let Some(frame) = found.frame else {
            return Ok(found);
        };
        // The element is in a frame: act there (WebDriver finds elements
        // only in the current frame), until the step ends.
        self.enter_frame(&frame).await?;
        page::find(self.scripts(), t, need, mark, &self.watching(), prep).await
    }

    /// Waits until the marked document is gone and the new one has loaded,
    /// or an alert opened; each look waits in the page, so a load is seen
    /// as it happens, not at the next poll. The look that sees the new
    /// page also looks for `groups`, so what comes next needs no look of
    /// its own.
    pub(crate) async fn wait_navigation(
        &self,
        token: &str,
        timeout: Duration,
        groups: &[&Targets],
    ) -> Result<NavEnd, CmdError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let wait = Wait::Loaded(left.min(Duration::from_secs(2)));
            match page::probe(self.scripts(), groups, token, &NO_WATCH, wait).await {
                Ok(p) if !p.marked && p.ready == "complete" => {
                    return Ok(NavEnd::Loaded(Box::new(p)))
                }
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

    /// Whether the marked document is still the one shown after `grace`,
    /// and not leaving (a page load that was about to begin has begun by
    /// then; one under way, however slow, is moving on).
    pub(crate) async fn still_on(&self, token: &str, grace: Duration) -> Result<bool, CmdError> {
        let deadline = Instant::now() + grace;
        let moved = until!(deadline, async {
            match page::probe(self.scripts(), &[], token, &NO_WATCH, Wait::Now).await {
                Ok(p) => Ok((!p.marked || p.leaving).then_some(())),
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
            Ok::<_, CmdError>(
                page::image_loaded(self.scripts(), mark)
                    .await?
                    .then_some(()),
            )
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
