//! The screen walk: recognise each screen (or the optional ones that may
//! be skipped), run its steps, follow outcomes back to earlier screens,
//! and wait for the result after the last screen.

use super::arrival::Arrival;
use super::error::{Drift, RunError, StepErr};
use super::interrupts::AlertIs;
use super::outcomes::{Matched, Next};
use super::page::{self, snippet, Probe, Wait};
use super::session::until;
use super::session::Look;
use super::{Finish, Runner};
use crate::events::{CheckKind, Class, DialogAnswer, DialogSort, Event, RunStatus};
use crate::flow::{Outcome, Recognise, Screen, StepKind, Targets};
use std::time::Instant;

/// What the walk saw while waiting for a screen.
pub(super) enum Seen {
    /// Screen `i` is showing.
    Screen(usize),
    /// A known outcome showed up instead (with the alert that showed it).
    Outcome(Box<Outcome>, Option<String>),
}

/// How a pass over the screens ended.
enum Walked {
    /// Every screen is done: the result comes next.
    End,
    /// The walk is over (an outcome, or the smoke check reached a barrier).
    Done(Finish),
    /// A retry: start again at this screen.
    Retry(usize),
}

/// Leading `goto` steps run before their screen is recognised.
fn leading_gotos(screen: &Screen) -> usize {
    screen
        .steps
        .iter()
        .take_while(|s| matches!(s.kind, StepKind::Goto { .. }))
        .count()
}

impl Runner<'_> {
    /// Walks every screen, then waits for the result; retries re-enter the walk.
    pub(super) async fn walk(&mut self) -> Result<Finish, RunError> {
        let mut idx = 0;
        loop {
            match self.walk_screens(idx).await? {
                Walked::Done(f) => return Ok(f),
                Walked::Retry(to) => idx = to,
                Walked::End if !self.mode().acts() => return Ok(self.inspected()),
                Walked::End => match self.await_result().await? {
                    Next::Done(f) => return Ok(f),
                    Next::Retry(to) => idx = to,
                },
            }
            // The old page's error may still show: do not match it again.
            self.at.current = None;
            self.at.fresh = None;
        }
    }

    /// The smoke check's end: every check was reported as an event; a
    /// drift among them keeps the page as failure artifacts.
    pub(super) fn inspected(&self) -> Finish {
        let (status, message) = match self.drifted.load(std::sync::atomic::Ordering::Relaxed) {
            true => (RunStatus::Drift, "the portal does not match the flow"),
            false => (RunStatus::Registered, "inspected"),
        };
        Finish {
            status,
            outcome: None,
            message: message.into(),
            fix: None,
        }
    }

    async fn walk_screens(&mut self, mut idx: usize) -> Result<Walked, RunError> {
        let screens = &self.flow().screens;
        while idx < screens.len() {
            if !self.holds(&screens[idx].when) {
                idx += 1;
                continue;
            }
            let mut first = self.run_leading_gotos(&screens[idx]).await?;
            match self.await_screen(idx).await? {
                Seen::Screen(i) if i != idx => {
                    // An optional screen did not appear; a later one did.
                    idx = i;
                    first = leading_gotos(&screens[i]);
                }
                Seen::Screen(_) => {}
                Seen::Outcome(o, alert) => return self.outcome_to_walk(&o, alert).await,
            }
            match self.enter_screen(idx, first).await? {
                Walked::End => idx += 1,
                other => return Ok(other),
            }
        }
        Ok(Walked::End)
    }

    async fn outcome_to_walk(
        &mut self,
        o: &Outcome,
        alert: Option<String>,
    ) -> Result<Walked, RunError> {
        Ok(match self.apply(o, alert.as_deref()).await? {
            Next::Retry(to) => Walked::Retry(to),
            Next::Done(f) => Walked::Done(f),
        })
    }

    async fn run_leading_gotos(&mut self, screen: &Screen) -> Result<usize, RunError> {
        let n = leading_gotos(screen);
        for st in &screen.steps[..n] {
            if !self.holds(&st.when) {
                continue;
            }
            match self.exec_traced(screen, st).await {
                Ok(()) => {}
                Err(StepErr::Outcome(o, _)) => return Err(Drift::between(o.message).into()),
                Err(StepErr::Fail(e)) => {
                    self.report_failed_action(screen, st, &e);
                    return Err(e);
                }
            }
        }
        Ok(n)
    }

    /// Runs screen `idx`'s steps from `first` on.
    async fn enter_screen(&mut self, idx: usize, first: usize) -> Result<Walked, RunError> {
        let screen = &self.flow().screens[idx];
        self.at.current = Some(idx);
        // A check left by a screen the walk left early is of no use here.
        self.at.typed = None;
        self.emit(Event::ScreenEntered {
            screen: screen.id.clone(),
            label: screen.label.clone(),
        });
        tracing::info!(screen = %screen.id, "screen recognised");
        // Known end states visible on arrival (e.g. provider already
        // registered). When none is shown by an element, the look that
        // recognised the screen has all they need.
        let arrival = self.at.arrival.take();
        if self.mode().watches_outcomes() {
            let seen = arrival.and_then(|a| a.for_outcomes(self.outcome_groups(true).is_empty()));
            if let Some((o, a)) = self.check_outcomes(seen.as_ref(), true).await? {
                return self.outcome_to_walk(&o, a).await;
            }
        }
        for st in &screen.steps[first..] {
            if !self.holds(&st.when) {
                self.trace_skipped(screen, st);
                continue;
            }
            if !self.mode().acts() {
                if self.inspect_step(screen, st).await? {
                    continue;
                }
                return Ok(Walked::Done(self.inspected()));
            }
            match self.exec_traced(screen, st).await {
                Ok(()) => {}
                Err(StepErr::Outcome(o, alert)) => return self.outcome_to_walk(&o, alert).await,
                Err(StepErr::Fail(e)) if st.optional && e.is_skippable() => {
                    tracing::debug!(step = %st.label, "optional step skipped: {}", crate::chain::Chain(&e));
                }
                Err(StepErr::Fail(e)) => return Err(e),
            }
        }
        // The last box's check, if no find took it: made before the next screen.
        match self.settle_typed().await {
            Ok(()) => Ok(Walked::End),
            Err(StepErr::Outcome(o, alert)) => self.outcome_to_walk(&o, alert).await,
            Err(StepErr::Fail(e)) => Err(e),
        }
    }

    /// The last screen is done: its result arrives as a page or an alert.
    async fn await_result(&mut self) -> Result<Next, RunError> {
        let deadline = Instant::now() + self.flow().timeout;
        let mut wait = Wait::Now;
        let seen = until!(
            deadline,
            async {
                let groups = self.outcome_groups(false);
                let look = self.s.look(&groups, "", wait).await?;
                // After the first look, each waits in the page for a change.
                wait = Wait::Change(crate::wait::IN_PAGE);
                match look {
                    Look::Alert(text) => self.result_alert(&text).await,
                    Look::Page(p) => Ok(self.match_outcomes(None, Some(&p), false)),
                    Look::Between => {
                        crate::wait::between().await;
                        Ok(None)
                    }
                }
            },
            std::time::Duration::ZERO
        )?;
        match seen {
            Some((o, a)) => self.apply(&o, a.as_deref()).await,
            None => {
                let p = self.s.probe_lenient().await;
                Err(Drift::between(format!(
                    "the flow's last screen is done but no outcome matched within {}s; the page at {} shows: {}",
                    self.flow().timeout.as_secs(),
                    p.url,
                    snippet(&p.text)
                ))
                .into())
            }
        }
    }

    /// An alert while waiting for the result: an outcome, or an interrupt
    /// (handled; the wait goes on), or drift naming it.
    async fn result_alert(&mut self, text: &str) -> Result<Option<Matched>, RunError> {
        match self.sort_alert(text, None).await {
            Ok(AlertIs::Outcome(m)) => Ok(Some(*m)),
            Ok(AlertIs::Handled | AlertIs::Expected) => Ok(None),
            Err(StepErr::Fail(e)) => Err(e),
            Err(StepErr::Outcome(o, a)) => Ok(Some((*o, a))),
            Ok(AlertIs::Unknown) => {
                self.answer(text, DialogSort::Unknown, DialogAnswer::Dismiss)
                    .await?;
                let shown = self.spec.redactor.redact(text);
                Err(Drift::between(format!(
                    "waiting for the result: unexpected alert \"{shown}\""
                ))
                .into())
            }
        }
    }

    /// Screen `idx` and, when it is optional, the screens that may come instead.
    pub(super) fn candidates_from(&self, idx: usize) -> Vec<usize> {
        let screens = &self.flow().screens;
        let mut cands = vec![idx];
        if screens[idx].optional {
            for (j, s) in screens.iter().enumerate().skip(idx + 1) {
                if !self.holds(&s.when) {
                    continue;
                }
                cands.push(j);
                if !s.optional {
                    break;
                }
            }
        }
        cands
    }

    /// Waits for screen `idx` (or, when it is optional, a later one).
    pub(super) async fn await_screen(&mut self, idx: usize) -> Result<Seen, RunError> {
        let cands = self.candidates_from(idx);
        let mut first = true;
        let timeout = self.screen_timeout(&self.flow().screens[idx]);
        let deadline = match std::mem::take(&mut self.at.waited_for_screen) {
            true => Instant::now(),
            false => Instant::now() + timeout,
        };
        let mut last = Probe::default();
        let mut wait = Wait::Now;
        let seen = until!(
            deadline,
            async {
                let sl = self.screen_look(idx);
                // The look a page load's wait took of this page, if it shows the screen.
                let kept = std::mem::take(&mut first)
                    .then(|| self.take_fresh(&sl))
                    .flatten();
                let look = match kept {
                    Some(p) => {
                        tracing::debug!(screen = %self.flow().screens[idx].id, "screen recognised by the page load's look");
                        Look::Page(p)
                    }
                    None => self.s.look(&sl.refs(), "", wait).await?,
                };
                // After the first look, each waits in the page for a change.
                let left = deadline.saturating_duration_since(Instant::now());
                wait = Wait::Change(left.min(crate::wait::IN_PAGE));
                let p = match look {
                    Look::Alert(text) => {
                        return self
                            .alert_while_waiting(&cands, &text)
                            .await
                            .map(|s| s.map(Some))
                    }
                    Look::Between => {
                        crate::wait::between().await;
                        return Ok(None);
                    }
                    Look::Page(p) => p,
                };
                // Chromium's own error page: the portal cannot be reached; no screen will come.
                if p.url.starts_with("chrome-error:") {
                    let why = self.s.error_page().await;
                    return Err(RunError::Unreachable(
                        why.unwrap_or_else(|| "a network error".into()),
                    ));
                }
                if let Some(c) = self.recognised(&cands, &p) {
                    self.at.arrival = Some(Arrival::of(&p, &sl, c));
                    return Ok(Some(Some(Seen::Screen(c))));
                }
                if let Some(i) = p.interrupt() {
                    return seen_after(self.handle_interrupt(i).await).map(|s| s.map(Some));
                }
                if self.mode().watches_outcomes() {
                    let now = sl.parts.waiting(&p);
                    if let Some((o, a)) = self.check_outcomes(Some(&now), false).await? {
                        return Ok(Some(Some(Seen::Outcome(Box::new(o), a))));
                    }
                }
                // Nothing will change by itself: no use waiting out the screen's time.
                let settled = p.still.is_some_and(|s| s >= self.flow().settled);
                last = p;
                Ok::<_, RunError>(settled.then_some(None))
            },
            std::time::Duration::ZERO
        )?;
        match seen.flatten() {
            Some(s) => Ok(s),
            None => {
                // With --repair: what stands for the missing element now, and look again.
                match self.repair_screen(idx, &last).await {
                    Ok(true) => return Box::pin(self.await_screen(idx)).await,
                    Ok(false) => {}
                    Err(StepErr::Fail(e)) => return Err(e),
                    Err(StepErr::Outcome(o, a)) => return Ok(Seen::Outcome(o, a)),
                }
                let waited = self.waited_for(&last, timeout);
                let mut drift = self.unrecognised(idx, &last, &waited);
                drift.fix = self.screen_proposal(idx, &last).await;
                Err(drift.into())
            }
        }
    }

    /// For a screen that did not show: what now stands where its first
    /// missing element stood, and the `recognise` line to paste (as smoke
    /// proposes it).
    async fn screen_proposal(&self, idx: usize, p: &Probe) -> Option<String> {
        let s = &self.flow().screens[idx];
        let r = &s.recognise;
        let group = (0..r.elements.len()).find(|&i| p.groups.get(i).is_none_or(|g| g.is_none()))?;
        let others = super::proposal::css_of(s, &r.elements[group]);
        let seen = page::nearest::nearest(self.s.c, &r.elements[group], page::Need::See, &others)
            .await
            .ok()
            .flatten()?;
        let first = seen.target()?;
        Some(super::proposal::for_recognise(
            &s.label,
            r,
            group,
            Some(&seen),
            &first,
        ))
    }

    /// An alert is open while waiting for a screen: a screen that shows
    /// itself by alert, a known outcome, an interrupt (handled; the wait
    /// goes on), or drift.
    async fn alert_while_waiting(
        &mut self,
        cands: &[usize],
        text: &str,
    ) -> Result<Option<Seen>, RunError> {
        let screens = &self.flow().screens;
        if let Some(&c) = cands.iter().find(|&&c| {
            screens[c]
                .recognise
                .alert
                .as_ref()
                .is_some_and(|p| p.is_match(text))
        }) {
            return Ok(Some(Seen::Screen(c)));
        }
        match self.sort_alert(text, None).await {
            Ok(AlertIs::Outcome(m)) => return Ok(Some(Seen::Outcome(Box::new(m.0), m.1))),
            Ok(AlertIs::Handled | AlertIs::Expected) => return Ok(None),
            Ok(AlertIs::Unknown) => {}
            Err(e) => return seen_after(Err(e)),
        }
        let closed = self.answer(text, DialogSort::Unknown, DialogAnswer::Dismiss);
        if let Err(e) = closed.await {
            tracing::debug!("closing an unexpected alert: {e}");
        }
        let label = &screens[cands[0]].label;
        let shown = self.spec.redactor.redact(text);
        self.check(
            label,
            "recognise",
            CheckKind::Recognise,
            None,
            Class::Drift,
            format!("an unexpected alert: \"{shown}\""),
        );
        Err(Drift::between(format!(
            "waiting for screen \"{label}\": unexpected alert \"{shown}\""
        ))
        .into())
    }

    /// The first candidate whose recognition rule the probe satisfies.
    fn recognised(&self, cands: &[usize], p: &Probe) -> Option<usize> {
        let (c, groups) = self.first_shown(cands, p)?;
        let s = &self.flow().screens[c];
        self.report_recognised(&s.label, &s.recognise.elements, groups);
        Some(c)
    }

    /// The first candidate the probe shows (its recognition elements lead
    /// the probe's groups, each candidate's in turn), with its groups.
    pub(super) fn first_shown<'p>(
        &self,
        cands: &[usize],
        p: &'p Probe,
    ) -> Option<(usize, &'p [GroupHit])> {
        let mut gi = 0;
        cands.iter().find_map(|&c| {
            let r = &self.flow().screens[c].recognise;
            let groups = p.groups.get(gi..gi + r.elements.len())?;
            gi += r.elements.len();
            recognises(r, p, groups).then_some((c, groups))
        })
    }

    /// Smoke: one finding per recognition element, ok or fallback.
    fn report_recognised(
        &self,
        label: &str,
        elements: &[Targets],
        groups: &[Option<(i64, String)>],
    ) {
        for (e, g) in elements.iter().zip(groups) {
            let i = g.as_ref().map(|x| x.0).unwrap_or(0);
            let used = page::target_of(e, i).map(|t| t.to_string());
            let (class, detail) = match i {
                0 => (Class::Ok, "matched".to_string()),
                _ => (
                    Class::Fallback,
                    format!(
                        "primary `{}` no longer matches; fallback #{} did",
                        e.list[0],
                        i + 1
                    ),
                ),
            };
            self.check(
                label,
                "recognise",
                CheckKind::Recognise,
                used,
                class,
                detail,
            );
        }
    }

    /// How long the walk waited for a screen, as its drift says it: the
    /// rule's own figure when the page settled (run and smoke say the same).
    fn waited_for(&self, p: &Probe, timeout: std::time::Duration) -> String {
        let settled = self.flow().settled;
        match p.still {
            Some(s) if s >= settled => {
                format!(
                    "on a page still for {}",
                    humantime::format_duration(settled)
                )
            }
            _ => format!("within {}s", timeout.as_secs()),
        }
    }

    /// The drift of a screen that never showed, with each missing piece reported.
    fn unrecognised(&self, idx: usize, p: &Probe, waited: &str) -> Drift {
        let s = &self.flow().screens[idx];
        let r = &s.recognise;
        let mut want = vec![];
        let mut missing: Vec<(Option<String>, String)> = vec![];
        if let Some(u) = &r.url {
            want.push(format!("URL containing \"{u}\""));
            if !p.url.contains(u.as_str()) {
                missing.push((
                    Some(format!("url:{u}")),
                    format!("the address is {}, not one containing \"{u}\"", p.url),
                ));
            }
        }
        for (i, e) in r.elements.iter().enumerate() {
            want.push(format!("element {}", page::list(e)));
            if p.groups.get(i).is_none_or(|g| g.is_none()) {
                missing.push((
                    Some(page::joined(e)),
                    "no element matches any of these selectors".into(),
                ));
            }
        }
        for t in &r.texts {
            want.push(format!("text \"{t}\""));
            if !p.text.contains(t.as_str()) {
                missing.push((
                    None,
                    format!("the text \"{t}\" is not on the page (label changed?)"),
                ));
            }
        }
        if missing.is_empty() {
            missing.push((None, "the page never finished loading".into()));
        }
        for (sel, why) in missing {
            let detail = format!("expected screen \"{}\" at {}: {why}", s.label, p.url);
            self.check(
                &s.label,
                "recognise",
                CheckKind::Recognise,
                sel,
                Class::Drift,
                detail,
            );
        }
        Drift::between(format!(
            "expected screen \"{}\" ({}) {waited}, but the page at {} shows: {}",
            s.label,
            want.join(", "),
            p.url,
            snippet(&p.text)
        ))
    }
}

/// One group of a probe: (index matched, innerText of the match), or none.
type GroupHit = Option<(i64, String)>;

/// Whether a probe shows a screen by `r`: its address, every element (the
/// probe's `groups` for them) and every text, on a page done loading.
pub(super) fn recognises(r: &Recognise, p: &Probe, groups: &[Option<(i64, String)>]) -> bool {
    let els_ok = groups.iter().all(|g| g.is_some());
    let url_ok = r.url.as_ref().is_none_or(|u| p.url.contains(u.as_str()));
    let texts_ok = r.texts.iter().all(|t| p.text.contains(t.as_str()));
    let has_static = r.url.is_some() || !r.elements.is_empty() || !r.texts.is_empty();
    has_static && url_ok && els_ok && texts_ok && p.ready != "loading"
}

/// Whether a probe whose groups start with `r`'s elements shows its screen.
pub(super) fn shows_first(r: &Recognise, p: &Probe) -> bool {
    let groups = p.groups.get(..r.elements.len()).unwrap_or_default();
    recognises(r, p, groups)
}

/// What an interrupt's steps came to, as the wait for a screen sees it.
fn seen_after(r: Result<(), StepErr>) -> Result<Option<Seen>, RunError> {
    match r {
        Ok(()) => Ok(None),
        Err(StepErr::Outcome(o, a)) => Ok(Some(Seen::Outcome(o, a))),
        Err(StepErr::Fail(e)) => Err(e),
    }
}
