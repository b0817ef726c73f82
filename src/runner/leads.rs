//! What a click, choose or select leads to, and waiting for it: a page
//! load, a screen that may come with or without one (`then`), or an
//! interrupt's alert that swallowed the click.

use super::error::{RunError, StepErr};
use super::human::IN_PLACE;
use super::interrupts::AlertIs;
use super::page::{Probe, Wait};
use super::session::{Look, NavEnd};
use super::Runner;
use crate::flow::Step;
use std::time::{Duration, Instant};

/// How often a page load that has not begun is checked for a new window.
const WINDOW_LOOK: Duration = Duration::from_millis(400);

impl Runner<'_> {
    /// The token the step's find marks the document with when the step
    /// leads somewhere (empty: it does not).
    pub(super) fn lead_token(&mut self, lead: Lead<'_>) -> String {
        match lead {
            Lead::Stay => String::new(),
            Lead::Load | Lead::Screen(_) => self.s.mark(),
        }
    }

    /// Waits for what a step leads to (a page load, or a screen that may
    /// come with or without one), then for an outcome it may show.
    pub(super) async fn after_lead(
        &mut self,
        st: &Step,
        lead: Lead<'_>,
        token: &str,
    ) -> Result<Landed, StepErr> {
        let (landed, seen) = match lead {
            Lead::Stay => return Ok(Landed::Arrived),
            Lead::Load => self.wait_load(st, token).await?,
            Lead::Screen(id) => self.wait_screen_or_load(st, id, token).await?,
        };
        if self.mode().watches_outcomes() {
            self.outcome_now(seen.as_deref()).await?;
        }
        Ok(landed)
    }

    /// One look right after a click that leads somewhere: whether it
    /// arrived, and whether what it leads to is there already (chromedriver
    /// answers a click once the page it loads has loaded), with the
    /// outcomes that may show on it. Where it says so, that one look
    /// stands for the click's own check, the first look of the wait and
    /// the outcome check after it.
    pub(super) async fn look_after_click(
        &mut self,
        lead: Lead<'_>,
        token: &str,
        armed: &str,
    ) -> Result<AfterClick, StepErr> {
        let (look, target) = match lead {
            Lead::Stay => return Ok(AfterClick::Unsure),
            Lead::Load => (self.load_look(), None),
            Lead::Screen(id) => match self.flow().screen_index(id) {
                Some(i) => (self.screen_look(i), Some(&self.flow().screens[i].recognise)),
                None => return Ok(AfterClick::Unsure),
            },
        };
        let Some(p) = self.s.look_after_click(&look.refs(), token, armed).await else {
            return Ok(AfterClick::Unsure);
        };
        // The old page, the click not (yet) seen there: looked at as before.
        if p.marked && p.clicked != Some(true) {
            return Ok(AfterClick::Unsure);
        }
        if !(p.loaded || target.is_some_and(|r| super::walk::shows_first(r, &p))) {
            return Ok(AfterClick::Waiting);
        }
        let seen = self.arrived(&look, &p);
        if self.mode().watches_outcomes() {
            self.outcome_now(Some(&seen)).await?;
        }
        Ok(AfterClick::Landed)
    }

    /// Waits for the page a step loaded. An interrupt's alert that opens
    /// meanwhile is handled and the wait goes on; if the old page then
    /// stays, the click was lost ([`Landed::Interrupted`]). The look that
    /// saw the new page comes back (with the outcomes' groups only) and is
    /// kept for the walk.
    async fn wait_load(&mut self, st: &Step, token: &str) -> Result<Arrival, StepErr> {
        let timeout = self.step_timeout(st);
        let look = self.load_look();
        let groups = look.refs();
        let wait = self.mode().load_wait(timeout);
        let deadline = Instant::now() + wait;
        let mut interrupted = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Loaded, or an alert opened: the new page's, or an interrupt.
            // Looked at in slices: the page may open in a new window instead.
            let text = match self
                .s
                .wait_navigation(token, left.min(WINDOW_LOOK), &groups)
                .await?
            {
                NavEnd::Loaded(p) => {
                    return Ok((Landed::Arrived, Some(Box::new(self.arrived(&look, &p)))))
                }
                NavEnd::Alert(text) => text,
                NavEnd::Late if self.s.follow_new_window().await? => {
                    return Ok((Landed::Arrived, None))
                }
                NavEnd::Late if Instant::now() < deadline => continue,
                NavEnd::Late if interrupted => return Ok((Landed::Interrupted, None)),
                NavEnd::Late => {
                    let secs = timeout.as_secs();
                    return Err(RunError::PageLoad { secs }.into());
                }
            };
            match self.sort_alert(&text, None).await? {
                AlertIs::Outcome(m) => return Err(StepErr::Outcome(Box::new(m.0), m.1)),
                AlertIs::Handled => interrupted = true,
                // The step's own confirm, answered yes: the page goes on
                // now (its load, and the outcome it shows, are still to
                // come), unless it stays.
                AlertIs::Expected if !self.s.still_on(token, IN_PLACE).await? => continue,
                AlertIs::Expected | AlertIs::Unknown => return Ok((Landed::Arrived, None)),
            }
            if interrupted && !self.s.still_on(token, IN_PLACE).await? {
                interrupted = false; // the page moved on after all
            } else if interrupted {
                return Ok((Landed::Interrupted, None));
            }
        }
    }

    /// `then = "screen"`: waits until that screen shows on this page, a
    /// new page has loaded (the walk recognises it next), or an alert
    /// opens. The look that saw the screen or the new page comes back
    /// (with the outcomes' groups only) and is kept for the walk.
    async fn wait_screen_or_load(
        &mut self,
        st: &Step,
        id: &str,
        token: &str,
    ) -> Result<Arrival, StepErr> {
        let Some(idx) = self.flow().screen_index(id) else {
            return Err(RunError::UnknownScreen(id.into()).into());
        };
        let r = &self.flow().screens[idx].recognise;
        let sl = self.screen_look(idx);
        let groups = sl.refs();
        let deadline = Instant::now() + self.step_timeout(st).max(Duration::from_secs(5));
        let mut interrupted: Option<Instant> = None;
        let mut wait = Wait::Now;
        loop {
            let look = self.s.look(&groups, token, wait).await?;
            // After the first look, each waits in the page for a change.
            let left = deadline.saturating_duration_since(Instant::now());
            wait = Wait::Change(left.min(crate::wait::IN_PAGE));
            if let Look::Alert(text) = look {
                match self.sort_alert(&text, None).await? {
                    AlertIs::Outcome(m) => return Err(StepErr::Outcome(Box::new(m.0), m.1)),
                    AlertIs::Handled => interrupted = Some(Instant::now()),
                    // The step's own confirm, answered yes: what it leads
                    // to is still to come.
                    AlertIs::Expected => {}
                    AlertIs::Unknown => return Ok((Landed::Arrived, None)),
                }
                continue;
            }
            if matches!(look, Look::Between) {
                crate::wait::between().await;
            }
            if let Look::Page(p) = look {
                let loaded = !p.marked && p.ready == "complete";
                if loaded || super::walk::shows_first(r, &p) {
                    return Ok((Landed::Arrived, Some(Box::new(self.arrived(&sl, &p)))));
                }
                // The old page stays a while after an interrupt, with no
                // load under way: the click was lost.
                if p.marked && !p.leaving && interrupted.is_some_and(|t| t.elapsed() >= IN_PLACE) {
                    return Ok((Landed::Interrupted, None));
                }
            }
            if Instant::now() >= deadline {
                // The walk's look for the next screen says what showed,
                // without waiting all over again.
                self.at.waited_for_screen = true;
                return Ok((Landed::Arrived, None));
            }
        }
    }
}

/// What the look right after a click says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AfterClick {
    /// The click arrived and led where it leads (no outcome showed).
    Landed,
    /// The click arrived; what it leads to is still to come.
    Waiting,
    /// Not known (no lead, the old page with the click unseen, an alert):
    /// the click is checked and waited for as without the look.
    Unsure,
}

/// Where a step that leads somewhere ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Landed {
    /// Where it led (or nowhere was asked).
    Arrived,
    /// An interrupt's alert came instead and the old page stayed.
    Interrupted,
}

/// Where a wait for a page load ended, and the look that saw the new page.
type Arrival = (Landed, Option<Box<Probe>>);

/// What a click, choose or select leads to.
#[derive(Clone, Copy)]
pub(super) enum Lead<'a> {
    /// Nothing: the page stays.
    Stay,
    /// A page load (`navigates = true`).
    Load,
    /// A screen, with or without a page load (`then = "id"`).
    Screen(&'a str),
}

impl<'a> Lead<'a> {
    pub(super) fn of(navigates: bool, then: &'a Option<String>) -> Lead<'a> {
        match (then, navigates) {
            (Some(id), _) => Lead::Screen(id),
            (None, true) => Lead::Load,
            (None, false) => Lead::Stay,
        }
    }
}
