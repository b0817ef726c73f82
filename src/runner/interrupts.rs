//! Interrupts and alerts: what may show at any moment (a modal over the
//! page, an announcement, a "session about to expire" alert) is handled
//! here and the walk carries on; every JS alert the walk meets is sorted
//! by one rule: a known outcome, an interrupt, one the screen expects, or
//! drift.

use super::error::{Drift, RunError, StepErr};
use super::outcomes::Matched;
use super::session::until;
use super::Runner;
use crate::events::{DialogAnswer, DialogSort, Event};
use crate::flow::{Screen, StepKind};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How often one run may meet interrupts before the walk calls it drift
/// (an interrupt whose steps do not make it go away).
const MAX_INTERRUPTS: u32 = 30;

/// How long an answered alert may linger (a page load under way).
const LINGER: Duration = Duration::from_secs(3);

/// What an open JS alert is.
pub(super) enum AlertIs {
    /// A known outcome (checked first: an error alert is never dismissed unread).
    Outcome(Box<Matched>),
    /// An interrupt, already handled: carry on.
    Handled,
    /// A notice the current screen expects (accepted).
    Expected,
    /// Nothing the flow knows (still open).
    Unknown,
}

impl<'a> Runner<'a> {
    /// The interrupts of the flow that apply to this run, in watch order.
    pub(super) fn watched(&self) -> Vec<&'a Screen> {
        watched(self.flow(), &self.spec.vars)
    }

    /// Runs the steps of the `i`th watched interrupt. Its own lookups do
    /// not watch for it, but another one showing on top is handled first.
    pub(super) async fn handle_interrupt(&mut self, i: usize) -> Result<(), StepErr> {
        let Some(intr) = self.watched().get(i).copied() else {
            return Ok(());
        };
        self.at.interrupts_met += 1;
        if self.at.interrupts_met > MAX_INTERRUPTS {
            let what = format!(
                "\"{}\" showed {MAX_INTERRUPTS} times: its steps do not close it",
                intr.label
            );
            return Err(Drift::on_screen(&intr.label, what).into());
        }
        tracing::info!(interrupt = %intr.id, "interrupt");
        self.emit(Event::Interrupted {
            label: intr.label.clone(),
        });
        self.s.busy.push(i);
        // The check of a box typed into before belongs to the page under
        // the interrupt: made after it is closed, never by its own steps
        // (an alert step would have its alert sorted away by that check).
        let under = self.at.typed.take();
        let mut r = Ok(());
        for st in &intr.steps {
            if !self.holds(&st.when) {
                continue;
            }
            // Boxed: a lookup inside may meet (and handle) an interrupt again.
            let step = Box::pin(self.exec_traced(intr, st));
            r = match step.await {
                Err(StepErr::Fail(e)) if st.optional && e.is_skippable() => Ok(()),
                other => other,
            };
            if r.is_err() {
                break;
            }
        }
        if r.is_ok() {
            // Boxed: typing again may meet (and handle) an interrupt again.
            r = Box::pin(self.settle_typed()).await;
        }
        self.at.typed = under;
        self.s.busy.pop();
        r
    }

    /// Sorts an open alert (see [`AlertIs`]); `screen` is where the walk is.
    pub(super) async fn sort_alert(
        &mut self,
        text: &str,
        screen: Option<&Screen>,
    ) -> Result<AlertIs, StepErr> {
        if self.mode().watches_outcomes() {
            if let Some(m) = self.match_outcomes(Some(text), None, false) {
                return Ok(AlertIs::Outcome(Box::new(m)));
            }
        }
        if self.interrupt_alert().await? {
            return Ok(AlertIs::Handled);
        }
        // The confirm the running step says it raises: yes, on that step only.
        if self.at.confirm.as_ref().is_some_and(|p| p.is_match(text)) {
            self.answer(text, DialogSort::Step, DialogAnswer::Accept)
                .await?;
            return Ok(AlertIs::Expected);
        }
        if screen.is_some_and(|s| expects_alert(s, text)) {
            self.answer(text, DialogSort::Expected, DialogAnswer::Accept)
                .await?;
            return Ok(AlertIs::Expected);
        }
        // Boxed: asking may meet another dialog, sorted by this same rule.
        if Box::pin(self.repair_dialog(text, screen)).await? {
            return Ok(AlertIs::Handled);
        }
        Ok(AlertIs::Unknown)
    }

    /// Handles the alert open now if it is an interrupt; `true` when one was.
    pub(super) async fn interrupt_alert(&mut self) -> Result<bool, StepErr> {
        let Some(text) = self.s.alert_text().await? else {
            return Ok(false);
        };
        let hit = self.watched().iter().enumerate().position(|(i, s)| {
            !self.s.busy.contains(&i)
                && s.recognise
                    .alert
                    .as_ref()
                    .is_some_and(|p| p.is_match(&text))
        });
        match hit {
            Some(i) => self.handle_alert_interrupt(i, &text).await.map(|()| true),
            None => Ok(false),
        }
    }

    /// An interrupt shown as an alert: its steps (which should answer it),
    /// or simply accepting it when it has none that does.
    async fn handle_alert_interrupt(&mut self, i: usize, text: &str) -> Result<(), StepErr> {
        let answers = self.watched()[i]
            .steps
            .iter()
            .any(|st| matches!(st.kind, StepKind::Alert { .. }));
        if !answers {
            self.answer(text, DialogSort::Interrupt, DialogAnswer::Accept)
                .await?;
        }
        self.handle_interrupt(i).await?;
        // A step that did not answer it leaves it open: accept it now, and
        // only it (another dialog may have opened meanwhile: the walk sorts it).
        if self.s.alert_text().await?.as_deref() == Some(text) {
            self.answer(text, DialogSort::Interrupt, DialogAnswer::Accept)
                .await?;
        }
        // While a page load is under way the dialog may linger a moment
        // after its answer: let it go before anyone looks again. Another
        // dialog in its place (the next page's) is the walk's to sort.
        let gone = Instant::now() + LINGER;
        let closed = until!(gone, async {
            let now = self.s.alert_text().await?;
            Ok::<_, StepErr>((now.as_deref() != Some(text)).then_some(()))
        })?;
        // Still the same one, answered twice: the driver's answers do not
        // reach the browser (seen under load), and answering again would
        // only repeat that until the screen's timeout.
        if closed.is_none() && self.s.alert_text().await?.as_deref() == Some(text) {
            return Err(StepErr::Fail(RunError::DialogStuck));
        }
        Ok(())
    }
}

/// The interrupts of `flow` whose `when` holds for these inputs (a
/// condition names inputs, which a run never changes).
pub(super) fn watched<'f>(
    flow: &'f crate::flow::Flow,
    vars: &HashMap<String, String>,
) -> Vec<&'f Screen> {
    flow.interrupts
        .iter()
        .filter(|s| {
            s.when
                .as_ref()
                .is_none_or(|w| w.holds(|k| vars.get(k).cloned()))
        })
        .collect()
}

/// Whether `screen` expects an alert with this text (one of its `alert`
/// steps, or the alert it is recognised by).
pub(super) fn expects_alert(screen: &Screen, text: &str) -> bool {
    screen
        .steps
        .iter()
        .any(|s| matches!(&s.kind, StepKind::Alert { pattern, .. } if pattern.is_match(text)))
        || screen
            .recognise
            .alert
            .as_ref()
            .is_some_and(|p| p.is_match(text))
}
