//! The smoke check's side of the walk ([`super::Mode::Inspect`]): each
//! step's targets are looked up exactly as a registration would, reported
//! as [`Check`] events, and only steps that change nothing (opening a page,
//! a click that leads on, reading a text) are carried out.

use super::error::{RunError, StepErr};
use super::page::{self, Need};
use super::Runner;
use crate::events::{Check, CheckKind, Class, Event};
use crate::flow::{InputType, OptionChoice, Screen, Step, StepKind, Target, Targets};
use std::collections::HashMap;

/// What a step needs of its targets, for lookups.
fn need_of(k: &StepKind) -> Need {
    match k {
        StepKind::Fill { .. } | StepKind::FillSecret { .. } | StepKind::Otp { .. } => Need::Fill,
        StepKind::Click { .. } | StepKind::Choose { .. } => Need::Click,
        StepKind::Select { .. } => Need::Pick,
        _ => Need::See,
    }
}

/// Targets that only `wait_for` understands are not page elements.
fn is_element(t: &Target) -> bool {
    !matches!(t, Target::Url(_) | Target::Navigation)
}

impl Runner<'_> {
    /// Reports a finding (smoke only; a registration reports none).
    pub(super) fn check(
        &self,
        screen: &str,
        step: &str,
        check: CheckKind,
        selector: Option<String>,
        class: Class,
        detail: impl Into<String>,
    ) {
        self.check_fixed(screen, step, (check, selector), class, detail.into(), None);
    }

    /// [`Runner::check`] with a proposed fix.
    fn check_fixed(
        &self,
        screen: &str,
        step: &str,
        (check, selector): (CheckKind, Option<String>),
        class: Class,
        detail: String,
        fix: Option<String>,
    ) {
        if !self.mode().reports_checks() {
            return;
        }
        if class >= Class::Drift {
            self.drifted
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let step = match (check, &self.at.last_step) {
            (CheckKind::Recognise, Some(prev)) => format!("recognise (after \"{prev}\")"),
            _ => step.to_string(),
        };
        let time_s = self.since_last_check();
        self.emit(Event::Check(Check {
            flow: self.flow().name.clone(),
            screen: screen.into(),
            step,
            check,
            selector,
            class,
            detail,
            fix,
            time_s,
        }));
    }

    /// Seconds since the last finding (or the walk's start); restarts the clock.
    fn since_last_check(&self) -> f64 {
        let now = std::time::Instant::now();
        let mut last = self.last_check.lock().expect("check clock lock");
        let since = now.duration_since(last.unwrap_or(self.started));
        *last = Some(now);
        since.as_secs_f64()
    }

    /// Checks one step; `false` when the walk stops here (a barrier).
    pub(super) async fn inspect_step(
        &mut self,
        screen: &Screen,
        st: &Step,
    ) -> Result<bool, RunError> {
        for (key, t) in st.kind.named_targets() {
            if t.list.iter().all(is_element) {
                self.check_target(screen, st, (key, t), need_of(&st.kind))
                    .await?;
            }
        }
        if st.kind.needs_human() || st.submits || st.barrier {
            let detail = format!(
                "stopped before \"{}\": it needs a person or changes state",
                st.label
            );
            self.check(
                &screen.label,
                &st.label,
                CheckKind::Barrier,
                None,
                Class::Ok,
                detail,
            );
            return Ok(false);
        }
        match &st.kind {
            StepKind::Goto { .. } | StepKind::Click { .. } | StepKind::Choose { .. } => {
                self.act(screen, st).await?
            }
            StepKind::Select { target, option, .. } => {
                self.check_options(screen, st, target, option).await?
            }
            StepKind::Expect {
                target,
                text: Some(text),
                absent: false,
            } => {
                // A text made of values nobody gave cannot be checked.
                let Ok(want) = text.render(&self.vars) else {
                    return Ok(true);
                };
                let (class, detail) = match self
                    .check_expected(screen, st, target, Some(text), false)
                    .await
                {
                    Ok(_) => (Class::Ok, "present".to_string()),
                    Err(StepErr::Fail(RunError::Drift(d))) => (Class::Drift, d.what),
                    Err(StepErr::Fail(e)) => return Err(e),
                    Err(StepErr::Outcome(o, _)) => (Class::Drift, o.message),
                };
                self.check(
                    &screen.label,
                    &st.label,
                    CheckKind::Text,
                    Some(want),
                    class,
                    detail,
                );
            }
            _ => {}
        }
        Ok(true)
    }

    /// Carries out a step that only moves on (a page, a link, a radio).
    async fn act(&mut self, screen: &Screen, st: &Step) -> Result<(), RunError> {
        match self.exec_traced(screen, st).await {
            Ok(()) => Ok(()),
            Err(StepErr::Outcome(o, _)) => {
                Err(super::Drift::on_screen(&screen.label, o.message).into())
            }
            Err(StepErr::Fail(e)) => {
                self.report_failed_action(screen, st, &e);
                Err(e)
            }
        }
    }

    /// Smoke: a page that would not open or load is unreachable; a
    /// missing target was reported by its lookup already.
    pub(super) fn report_failed_action(&self, screen: &Screen, st: &Step, e: &RunError) {
        let (class, selector) = match e {
            RunError::Open { url, .. } => (Class::Unreachable, Some(url.clone())),
            RunError::PageLoad { .. } => (Class::Unreachable, None),
            RunError::Drift(_) => return,
            _ => (Class::Drift, None),
        };
        self.check(
            &screen.label,
            &st.label,
            CheckKind::Navigation,
            selector,
            class,
            crate::chain::chain(e),
        );
    }

    /// Looks a target up as the step would and reports ok, fallback or drift.
    async fn check_target(
        &mut self,
        screen: &Screen,
        st: &Step,
        (key, t): (&str, &Targets),
        need: Need,
    ) -> Result<(), RunError> {
        let (mark, found) = match self
            .locate(screen, st, t, need, page::Prep::default())
            .await
        {
            Ok(x) => x,
            Err(StepErr::Fail(e)) => return Err(e),
            Err(StepErr::Outcome(o, _)) => {
                return Err(super::Drift::on_screen(&screen.label, o.message).into())
            }
        };
        let (class, selector, detail) = match found.matched {
            Some(0) => (Class::Ok, t.list[0].to_string(), "matched".to_string()),
            Some(i) => {
                let why = match found.report.first() {
                    Some(page::Miss::Hidden) => "is hidden",
                    Some(page::Miss::Disabled) => "is disabled",
                    _ => "matches nothing",
                };
                let detail = format!(
                    "primary `{}` {why}; fallback #{} matched: update the flow",
                    t.list[0],
                    i + 1
                );
                (Class::Fallback, t.list[i].to_string(), detail)
            }
            None => {
                let drift = self.no_element(screen, st, t, &found).await;
                (Class::Drift, page::joined(t), drift.what)
            }
        };
        let fix = self.propose(screen, st, (key, t), class, &mark, need).await;
        let at = (CheckKind::Target, Some(selector));
        self.check_fixed(&screen.label, &st.label, at, class, detail, fix);
        Ok(())
    }

    /// For a fallback: the element it found, first. For drift: the element
    /// most like what the targets named, first, if there is one.
    pub(super) async fn propose(
        &self,
        screen: &Screen,
        st: &Step,
        (key, t): (&str, &Targets),
        class: Class,
        mark: &str,
        need: Need,
    ) -> Option<String> {
        let seen = match class {
            Class::Fallback => page::nearest::describe(self.s.c, mark).await.ok().flatten(),
            Class::Drift => {
                let others = super::proposal::css_of(screen, t);
                page::nearest::nearest(self.s.c, t, need, &others)
                    .await
                    .ok()
                    .flatten()
            }
            _ => return None,
        };
        let first = seen.as_ref().and_then(|s| s.target())?;
        let text =
            super::proposal::for_step(&screen.label, &st.label, key, t, seen.as_ref(), &first);
        Some(text)
    }

    /// The values a dropdown must list: the given one, or every allowed
    /// value of the choice input it is made from.
    fn wanted_options(&self, option: &OptionChoice) -> Vec<String> {
        let tmpl = option.template();
        if let Ok(v) = tmpl.render(&self.vars) {
            return vec![v];
        }
        let vars: Vec<&str> = tmpl.vars().collect();
        let [one] = vars.as_slice() else {
            return vec![];
        };
        let Some(InputType::Choice { values }) = self.flow().input(one).map(|i| &i.ty) else {
            return vec![];
        };
        values
            .iter()
            .filter_map(|v| {
                tmpl.render(&HashMap::from([(one.to_string(), v.clone())]))
                    .ok()
            })
            .collect()
    }

    async fn check_options(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        option: &OptionChoice,
    ) -> Result<(), RunError> {
        let wanted = self.wanted_options(option);
        if wanted.is_empty() {
            return Ok(());
        }
        let mark = match self
            .locate(screen, st, t, Need::Pick, page::Prep::default())
            .await
        {
            Ok((m, f)) if f.matched.is_some() => m,
            _ => return Ok(()), // reported by the target check
        };
        let (options, _) = page::select_options(self.s.scripts(), &mark).await?;
        let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        for w in wanted {
            let listed = options.iter().any(|(v, l)| match option {
                OptionChoice::Label(_) => norm(l) == norm(&w),
                OptionChoice::Value(_) => *v == w,
            });
            let (class, detail) = match listed {
                true => (Class::Ok, "listed".to_string()),
                false => (Class::Drift, super::dropdown::missing_option(&options, &w)),
            };
            self.check(
                &screen.label,
                &st.label,
                CheckKind::Option,
                Some(w),
                class,
                detail,
            );
        }
        Ok(())
    }
}
