//! Outcomes: which of the flow's known results and errors may show now,
//! matching them against an alert or the page, and what each one means
//! for the walk (retry from a screen, or finish).

use super::error::{RunError, StepErr};
use super::page::Probe;
use super::page::Wait;
use super::session::Look;
use super::{Finish, Runner};
use crate::events::{DialogAnswer, DialogSort, Event, RunStatus};
use crate::flow::{Outcome, OutcomeKind, Targets, Template};

/// What an outcome means for the walk.
pub(super) enum Next {
    /// Start again at this screen.
    Retry(usize),
    /// The walk is over.
    Done(Finish),
}

/// An outcome that matched, and the alert that showed it.
pub(super) type Matched = (Outcome, Option<String>);

impl<'a> Runner<'a> {
    /// Outcomes that may apply now: scoped to the current screen, or unscoped.
    fn candidates(&self, terminal_only: bool) -> Vec<&'a Outcome> {
        self.candidates_on(self.at.current, terminal_only)
    }

    /// Outcomes that may apply on screen `at`: scoped to it, or unscoped.
    fn candidates_on(&self, at: Option<usize>, terminal_only: bool) -> Vec<&'a Outcome> {
        let cur = at.map(|i| self.flow().screens[i].id.as_str());
        self.flow()
            .outcomes
            .iter()
            .filter(|o| {
                o.screens.is_empty() || cur.is_some_and(|c| o.screens.iter().any(|s| s == c))
            })
            .filter(|o| !terminal_only || !o.kind.may_retry())
            .filter(|o| self.holds(&o.when))
            .collect()
    }

    /// The outcome's pattern with this run's values, compiled once per text.
    fn pattern(&mut self, t: &Template) -> Option<regex::Regex> {
        let s = t.render_with(&self.vars, regex::escape).ok()?;
        if let Some(re) = self.patterns.get(&s) {
            return Some(re.clone());
        }
        // The checker compiled this shape at load; a bad value is not a match.
        let re = regex::Regex::new(&s).ok()?;
        self.patterns.insert(s, re.clone());
        Some(re)
    }

    /// Matches outcomes against an alert's text or a page probe; a match's
    /// named groups become variables. An alert is matched by `alert` and
    /// `text` patterns alike (a portal may report one error either way);
    /// the page only by `text` (within `element` when given).
    pub(super) fn match_outcomes(
        &mut self,
        alert: Option<&str>,
        probe: Option<&Probe>,
        terminal_only: bool,
    ) -> Option<Matched> {
        let mut el_i = 0;
        for o in self.candidates(terminal_only) {
            let (hay, pat) = match (alert, probe) {
                (Some(a), _) if o.element.is_none() => {
                    (Some(a.to_string()), o.alert.as_ref().or(o.text.as_ref()))
                }
                (Some(_), _) => (None, None),
                (None, Some(p)) if o.alert.is_none() => {
                    let hay = match &o.element {
                        Some(_) => {
                            let g = p.groups.get(el_i).cloned().flatten();
                            el_i += 1;
                            g.map(|(_, t)| t)
                        }
                        None => Some(p.text.clone()),
                    };
                    (hay, o.text.as_ref())
                }
                _ => (None, None),
            };
            let Some(hay) = hay else { continue };
            if let Some(caps) = self.captures(pat, &hay, o.capture) {
                self.vars.extend(caps);
                return Some((o.clone(), alert.map(String::from)));
            }
        }
        None
    }

    /// The named groups of `pat` in `hay`, or `None` when it does not match.
    /// An outcome with no pattern (element only) matches by being there.
    fn captures(
        &mut self,
        pat: Option<&Template>,
        hay: &str,
        named: bool,
    ) -> Option<Vec<(String, String)>> {
        let Some(t) = pat else {
            return Some(vec![]);
        };
        let re = self.pattern(t)?;
        if !named {
            return re.is_match(hay).then(Vec::new);
        }
        let c = re.captures(hay)?;
        Some(
            re.capture_names()
                .flatten()
                .filter_map(|n| c.name(n).map(|m| (n.to_string(), m.as_str().to_string())))
                .collect(),
        )
    }

    /// Reads the open alert, or probes the page, and matches outcomes.
    pub(super) async fn check_outcomes(
        &mut self,
        probe: Option<&Probe>,
        terminal_only: bool,
    ) -> Result<Option<Matched>, RunError> {
        if let Some(p) = probe {
            // The probe was taken with no alert open; one opening since is
            // for the next look.
            return Ok(self.match_outcomes(None, Some(p), terminal_only));
        }
        let groups = self.outcome_groups(terminal_only);
        match self.s.look(&groups, "", Wait::Now).await? {
            Look::Alert(text) => Ok(self.match_outcomes(Some(&text), None, terminal_only)),
            Look::Page(p) => Ok(self.match_outcomes(None, Some(&p), terminal_only)),
            Look::Between => Ok(None),
        }
    }

    /// The elements of the outcomes that may show now, for one look.
    pub(super) fn outcome_groups(&self, terminal_only: bool) -> Vec<&'a Targets> {
        self.outcome_groups_on(self.at.current, terminal_only)
    }

    /// The elements of the outcomes that may show on screen `at`.
    pub(super) fn outcome_groups_on(
        &self,
        at: Option<usize>,
        terminal_only: bool,
    ) -> Vec<&'a Targets> {
        self.candidates_on(at, terminal_only)
            .into_iter()
            .filter(|o| o.alert.is_none())
            .filter_map(|o| o.element.as_ref())
            .collect()
    }

    /// Fails a step with the outcome that shows now, if any.
    pub(super) async fn outcome_now(&mut self, probe: Option<&Probe>) -> Result<(), StepErr> {
        match self.check_outcomes(probe, false).await? {
            Some((o, a)) => Err(StepErr::Outcome(Box::new(o), a)),
            None => Ok(()),
        }
    }

    /// What a matched outcome means: a retry (within its limit) or the end.
    pub(super) async fn apply(
        &mut self,
        o: &Outcome,
        alert: Option<&str>,
    ) -> Result<Next, RunError> {
        if let Some(text) = alert {
            self.answer(text, DialogSort::Outcome, DialogAnswer::Accept)
                .await?;
        }
        if let (true, Some(to)) = (o.kind.may_retry(), &o.retry_from) {
            return self.retry(o, to);
        }
        let message = match alert {
            Some(a) if o.kind != OutcomeKind::Registered => format!(
                "{}: portal said \"{}\"",
                o.message,
                self.spec.redactor.redact(a)
            ),
            _ => o.message.clone(),
        };
        Ok(Next::Done(Finish {
            status: RunStatus::from_outcome(o.kind),
            outcome: Some(o.id.clone()),
            message,
            fix: None,
        }))
    }

    fn retry(&mut self, o: &Outcome, to: &str) -> Result<Next, RunError> {
        let n = self.at.retries.entry(o.id.clone()).or_insert(0);
        if *n >= o.max_retries {
            return Ok(Next::Done(Finish {
                status: RunStatus::from_outcome(o.kind),
                outcome: Some(o.id.clone()),
                message: format!("{} (gave up after {} retries)", o.message, o.max_retries),
                fix: None,
            }));
        }
        *n += 1;
        let attempt = *n + 1;
        let idx = self
            .flow()
            .screen_index(to)
            .ok_or_else(|| RunError::UnknownScreen(to.into()))?;
        tracing::info!(outcome = %o.id, screen = %to, attempt, "retrying");
        self.emit(Event::Retry {
            outcome: o.message.clone(),
            screen: self.flow().screens[idx].label.clone(),
            attempt,
        });
        Ok(Next::Retry(idx))
    }
}
