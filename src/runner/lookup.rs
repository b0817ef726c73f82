//! The lookups every step shares: wait for a usable element (a known
//! outcome showing up meanwhile wins over drift), click through a late
//! alert, describe a missing element, ask the operator.

use super::error::{Drift, StepErr};
use super::interrupts::AlertIs;
use super::page::{self, Found, Need, Prep};
use super::session::{until, Click};
use super::{Runner, Used};
use crate::events::{DialogAnswer, DialogSort, Event};
use crate::flow::{Screen, Step, Targets};
use crate::operator::{Ask, Question, Reply};
use std::time::Instant;

impl Runner<'_> {
    /// Clicks. An alert that opened just before (a late notice the screen
    /// expects, an interrupt) is answered and the click tried again, unless
    /// the page says the click `armed` arrived after all; so is a click
    /// that something covers, after closing the interrupt that covers it,
    /// until the step's time is up.
    pub(super) async fn click_through_alerts(
        &mut self,
        screen: &Screen,
        st: &Step,
        hit: &Hit,
        armed: &str,
    ) -> Result<(), StepErr> {
        let deadline = Instant::now() + self.step_timeout(st);
        let mut alerts = 0;
        // What the find saw at the element's centre holds for the first try only.
        let mut covered = Some(hit.found.covered);
        loop {
            let click = self
                .s
                .click(&hit.mark, hit.found.el.as_ref(), covered.take());
            match click.await? {
                // At once: chromedriver answers nothing more once a window
                // it is not in shows a dialog (as a pop-up's page may on load).
                Click::Done => {
                    self.s.follow_new_window().await?;
                    return Ok(());
                }
                Click::BlockedByAlert if alerts < 5 => {
                    alerts += 1;
                    self.on_alert_during_step(screen).await?;
                    if self.click_arrived(armed).await? {
                        self.s.follow_new_window().await?;
                        return Ok(());
                    }
                }
                Click::BlockedByAlert => {
                    let what = "alerts kept opening before the click could happen";
                    return Err(Drift::at_step(&screen.label, &st.label, what).into());
                }
                Click::Covered(e) if Instant::now() >= deadline => return Err(e.into()),
                Click::Covered(_) => self.uncover().await?,
            }
        }
    }

    /// Whether the click armed under `armed` reached its element, though
    /// the driver said an alert blocked it (one that opened as the click
    /// went in, or during the page load it began); `false` when not armed.
    async fn click_arrived(&self, armed: &str) -> Result<bool, StepErr> {
        if armed.is_empty() {
            return Ok(false);
        }
        match page::click_seen(self.s.scripts(), armed).await {
            // `None`: another document by now, which the click loaded.
            Ok(seen) => Ok(seen != Some(false)),
            // Another alert: clicking meets it and has it sorted.
            Err(e) if page::is_alert_open(&e) => Ok(false),
            // Between documents: a load is under way.
            Err(e) if page::is_transient(&e) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    /// Something covers the element a click wants (or took the click):
    /// close the interrupt that does, or give an animation a moment.
    pub(super) async fn uncover(&mut self) -> Result<(), StepErr> {
        match self.s.probe_once(&[], "").await? {
            Some(p) if p.interrupt().is_some() => {
                self.handle_interrupt(p.interrupt().unwrap_or(0)).await
            }
            _ => {
                tokio::time::sleep(crate::wait::POLL).await;
                Ok(())
            }
        }
    }

    /// Waits for a usable element of `t` and tags it. Returns the tag and
    /// the look's result; `matched` is `None` when time ran out.
    pub(super) async fn locate(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        need: Need,
        prep: Prep,
    ) -> Result<(String, Found), StepErr> {
        let mark = self.s.mark();
        let deadline = Instant::now() + self.step_timeout(st);
        let mut last = Found::default();
        let mut polls = 0u32;
        let mut prep = prep;
        let hit = until!(
            deadline,
            async {
                // Each look waits in the page for the element, up to the deadline.
                let left = deadline.saturating_duration_since(Instant::now());
                prep.wait_ms = left.min(crate::wait::IN_PAGE).as_millis() as u64;
                prep.typed = self.at.typed.as_ref().map(|t| t.check());
                match self.s.find_once(t, need, &mark, &prep).await {
                    Ok(Found {
                        interrupt: Some(i), ..
                    }) => {
                        self.handle_interrupt(i).await?;
                        return Ok(None);
                    }
                    // The box before did not hold what was typed: typed again, look again.
                    Ok(f) if self.typed_seen(f.typed).await? => return Ok(None),
                    Ok(f) if f.matched.is_some() => return Ok(Some(f)),
                    // Nothing will change by itself: no use waiting out the step's time.
                    Ok(f) if f.still.is_some_and(|s| s >= self.flow().settled) => {
                        tracing::debug!(step = %st.label, "the page is settled without the target");
                        return Ok(Some(f));
                    }
                    Ok(f) => last = f,
                    Err(e) if page::is_alert_open(&e) => self.on_alert_during_step(screen).await?,
                    Err(e) if page::is_transient(&e) => crate::wait::between().await,
                    Err(e) => return Err(e.into()),
                }
                polls += 1;
                if self.mode().watches_outcomes() && polls.is_multiple_of(3) {
                    self.outcome_now(None).await?;
                }
                Ok::<_, StepErr>(None)
            },
            std::time::Duration::ZERO
        )?;
        Ok((mark, hit.unwrap_or(last)))
    }

    /// Finds a target, waiting until visible (and enabled for fill and click).
    /// On time-out, a matching outcome wins over a drift error.
    pub(super) async fn find(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        need: Need,
    ) -> Result<(String, Used), StepErr> {
        let (hit, used) = self.find_with(screen, st, t, need, Prep::default()).await?;
        Ok((hit.mark, used))
    }

    /// [`Runner::find`], preparing the element as `prep` asks in the same round trip.
    pub(super) async fn find_with(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        need: Need,
        prep: Prep,
    ) -> Result<(Hit, Used), StepErr> {
        let flows = t;
        let t = &*self.repaired(flows);
        let (mark, found) = self.locate(screen, st, t, need, prep).await?;
        let Some(i) = found.matched else {
            if self.mode().watches_outcomes() {
                self.outcome_now(None).await?;
            }
            let mut drift = self.no_element(screen, st, t, &found).await;
            drift.fix = self.proposal(screen, st, flows, need).await;
            return self.repair_target(screen, st, flows, need, drift).await;
        };
        let used = t.list[i].to_string();
        if i > 0 {
            tracing::warn!(screen = %screen.id, step = %st.label, "primary target failed; matched fallback #{}: {used}", i + 1);
            self.emit(Event::Fallback {
                screen: screen.label.clone(),
                step: st.label.clone(),
                used: used.clone(),
                primary: t.list[0].to_string(),
            });
        }
        Ok((
            Hit { mark, found },
            Used {
                target: Some(used),
                fallback: i > 0,
            },
        ))
    }

    /// Smoke's proposal for a step target that drifted: what stands there
    /// now, most like what the targets named, and the TOML to paste.
    pub(super) async fn proposal(
        &self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        need: Need,
    ) -> Option<String> {
        let named = st.kind.named_targets();
        let key = named
            .iter()
            .find(|(_, x)| x.loc == t.loc)
            .map(|(k, _)| *k)?;
        let drift = crate::events::Class::Drift;
        self.propose(screen, st, (key, t), drift, "", need).await
    }

    /// The drift of a target with no usable element: what each target showed.
    pub(super) async fn no_element(
        &self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        found: &Found,
    ) -> Drift {
        let p = self.s.probe_lenient().await;
        // The rule's own figure, not the measured one: run and smoke say the same.
        let settled = self.flow().settled;
        let waited = match found.still {
            Some(s) if s >= settled => {
                format!(
                    "on a page still for {}",
                    humantime::format_duration(settled)
                )
            }
            _ => format!("after {}s", self.step_timeout(st).as_secs()),
        };
        let what = format!(
            "no usable element {waited}; tried {}; page {}",
            page::describe_targets(t, &found.report),
            p.url
        );
        Drift::at_step(&screen.label, &st.label, what)
    }

    /// An alert opened mid-step: an outcome, an interrupt, a late notice
    /// the screen expects, or drift.
    pub(super) async fn on_alert_during_step(&mut self, screen: &Screen) -> Result<(), StepErr> {
        let Some(text) = self.s.alert_text().await? else {
            return Ok(());
        };
        match self.sort_alert(&text, Some(screen)).await? {
            AlertIs::Outcome(m) => Err(StepErr::Outcome(Box::new(m.0), m.1)),
            AlertIs::Handled | AlertIs::Expected => Ok(()),
            AlertIs::Unknown => {
                self.answer(&text, DialogSort::Unknown, DialogAnswer::Dismiss)
                    .await?;
                let what = format!("unexpected alert \"{}\"", self.spec.redactor.redact(&text));
                Err(Drift::on_screen(&screen.label, what).into())
            }
        }
    }

    /// The browser's cookies (for the replica oracle). An alert open now
    /// would block reading them, and would greet the person: it is sorted
    /// first, and again if another opens meanwhile.
    async fn cookies(&mut self, screen: &Screen) -> Result<Vec<(String, String)>, StepErr> {
        // A user context's cookies come from BiDi (no alert blocks it, and
        // geckodriver's classic cookies are the default context's).
        if let Some(scope) = &self.s.scope {
            match scope.cookies().await {
                Ok(cs) => return Ok(cs),
                Err(e) => tracing::debug!("reading the context's cookies over BiDi: {e}"),
            }
        }
        for _ in 0..5 {
            match self.s.c.get_all_cookies().await {
                Ok(cs) => {
                    return Ok(cs
                        .into_iter()
                        .map(|c| (c.name().to_string(), c.value().to_string()))
                        .collect())
                }
                Err(e) if e.is_unexpected_alert_open() => {
                    self.on_alert_during_step(screen).await?;
                    continue;
                }
                // A dialog opening or closing just then: look again.
                Err(e) => {
                    let why = self.spec.redactor.redact(&e.to_string());
                    tracing::debug!("cannot read the browser's cookies yet: {why}")
                }
            }
            tokio::time::sleep(crate::wait::POLL).await;
        }
        Ok(vec![])
    }

    /// Asks the operator (through the queue, one prompt at a time); an
    /// answer is registered with the redactor before anything else sees it.
    pub(super) async fn ask(
        &mut self,
        screen: &Screen,
        step: &str,
        ask: Ask,
        prompt: String,
        can_renew: bool,
    ) -> Result<Reply, StepErr> {
        // A repair may be asked with a dialog open, when no cookie can be read
        // (reading would sort that dialog again); it needs none.
        let cookies = match ask {
            Ask::Repair(_) => vec![],
            _ if !self.spec.queue.wants_cookies() => vec![],
            _ => self.cookies(screen).await?,
        };
        let key = (screen.id.clone(), step.to_string());
        let q = Question {
            ask,
            gstin: self.role(crate::flow::Role::Gstin).unwrap_or_default(),
            portal: self.flow().portal.as_str().into(),
            base_url: self.spec.base_url.clone(),
            screen: screen.label.clone(),
            step: step.to_string(),
            prompt,
            attempt: 1 + self.at.answered.get(&key).copied().unwrap_or(0),
            browser_cookies: cookies,
            can_renew,
        };
        let asked = self.spec.queue.ask(&q);
        let (r, waited) = self.s.keep_alive(self.spec.keep_alive, asked).await;
        self.people.human += waited;
        let reply = r?;
        if let Reply::Answer(s, by) = &reply {
            *self.at.answered.entry(key).or_insert(0) += 1;
            // A repair's answer is a target or a word, not a secret.
            if !matches!(q.ask, Ask::Repair(_)) {
                self.spec.redactor.add(s.expose());
            }
            tracing::info!(screen = %screen.id, "{} answered by {by}", q.what());
            self.people.answered.push(super::report::Answered {
                what: q.what().into(),
                by: *by,
            });
        }
        Ok(reply)
    }
}

/// An element a find tagged, with what the find saw of it.
pub(super) struct Hit {
    /// Its tag.
    pub(super) mark: String,
    /// The look that found it.
    pub(super) found: Found,
}
