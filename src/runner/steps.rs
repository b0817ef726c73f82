//! One function per step kind; the lookups they share are in `lookup`.

use super::error::{Drift, RunError, StepErr};
use super::interrupts::AlertIs;
use super::leads::{AfterClick, Landed, Lead};
use super::lookup::Hit;
use super::page::widget::Dropdown;
use super::page::{self, Need, Prep};
use super::session::until;
use super::typing::Typing;
use super::{Runner, Used};
use crate::events::{DialogAnswer, DialogSort, Event, StepResult, StepTrace};
use crate::flow::{
    AlertAction, OptionChoice, Pattern, Screen, Step, StepKind, Target, Targets, Template,
};
use std::time::Instant;

type StepResultOf = Result<Used, StepErr>;

impl Runner<'_> {
    /// Runs one step and reports it as a [`Event::StepDone`].
    pub(super) async fn exec_traced(&mut self, screen: &Screen, st: &Step) -> Result<(), StepErr> {
        let t0 = Instant::now();
        let started_ms = self.ms_since_start();
        // A look kept from an earlier page load is of no use once a step
        // acts; a goto that may not load tells by it whether it needs to.
        if !matches!(st.kind, StepKind::Goto { reload: false, .. }) {
            self.at.fresh = None;
        }
        let human_before = self.people.human;
        // While this step runs, the confirm it names is answered yes; an
        // interrupt's steps inside it name their own.
        let outer = std::mem::replace(&mut self.at.confirm, st.confirm.clone());
        let mut r = self.exec(screen, st).await;
        // An alert that opened mid-step (an interrupt, a late notice) made
        // the step's command do nothing: sort it, then do the step again.
        // Steps that ask a person deal with alerts themselves.
        for _ in 0..3 {
            if st.kind.needs_human() || !self.blocked_by_alert(&r).await {
                break;
            }
            r = match self.on_alert_during_step(screen).await {
                Ok(()) => self.exec(screen, st).await,
                Err(e) => Err(e),
            };
        }
        self.at.confirm = outer;
        // A step that acted in a frame leaves it: the walk looks at the page.
        if let Err(e) = self.s.leave_frame().await {
            tracing::debug!(
                "still in a frame after the step: {}",
                self.spec.redactor.redact(&e.to_string())
            );
        }
        let ms = t0.elapsed().as_millis() as u64;
        let waited = self.people.human > human_before;
        let (result, target, fallback, detail) = match &r {
            Ok(u) if waited => (StepResult::Waited, u.target.clone(), u.fallback, None),
            Ok(u) => (StepResult::Ok, u.target.clone(), u.fallback, None),
            Err(StepErr::Outcome(o, _)) => (StepResult::Outcome(o.id.clone()), None, false, None),
            Err(StepErr::Fail(e)) => {
                let detail = self.spec.redactor.redact(&crate::chain::chain(e));
                (StepResult::Failed, None, false, Some(detail))
            }
        };
        self.emit(Event::StepDone(StepTrace {
            screen: screen.id.clone(),
            step: st.label.clone(),
            kind: st.kind.name().into(),
            started_ms,
            ms,
            result,
            target,
            fallback,
            detail,
        }));
        tracing::debug!(screen = %screen.id, step = %st.label, ms, "step");
        r.map(|_| ())
    }

    /// Whether a step failed because an alert opened under it: WebDriver
    /// says so, or says something else (a dialog opening mid-command may
    /// make typing "not interactable") while an alert is open now.
    async fn blocked_by_alert(&self, r: &StepResultOf) -> bool {
        match r {
            Err(StepErr::Fail(RunError::AlertOpen(_))) => true,
            Err(StepErr::Fail(RunError::WebDriver(_))) => {
                matches!(self.s.alert_text().await, Ok(Some(_)))
            }
            _ => false,
        }
    }

    /// Runs one step; returns the target used.
    async fn exec(&mut self, screen: &Screen, st: &Step) -> StepResultOf {
        // A box's check rides on the next find; a submit, or a step that
        // starts with no find (an alert step aside), has it made first.
        if st.submits || !st.kind.takes_a_pending_check() {
            self.settle_typed().await?;
        }
        if st.submits {
            // A repair of the submit's own target is asked before the pending record.
            self.ready_to_submit(screen, st).await?;
            self.write_vault_pending()?;
        }
        match &st.kind {
            StepKind::Goto { url, reload } => self.goto(screen, st, url, *reload).await,
            StepKind::Fill {
                target,
                value,
                fast,
                keep_prefix,
            } => {
                self.fill(screen, st, target, value, *fast, keep_prefix.as_deref())
                    .await
            }
            StepKind::FillSecret {
                target,
                secret,
                fast,
            } => self.fill_secret(screen, st, target, secret, *fast).await,
            StepKind::Click {
                target,
                navigates,
                then,
            } => {
                let lead = Lead::of(*navigates, then);
                self.click(screen, st, target, lead, false).await
            }
            StepKind::Choose {
                target,
                navigates,
                then,
            } => {
                let lead = Lead::of(*navigates, then);
                self.click(screen, st, target, lead, true).await
            }
            StepKind::Select {
                target,
                option,
                navigates,
                then,
            } => {
                let lead = Lead::of(*navigates, then);
                self.select(screen, st, target, option, lead).await
            }
            StepKind::Captcha {
                image,
                input,
                refresh,
            } => {
                self.captcha(screen, st, image, input, refresh.as_ref())
                    .await
            }
            StepKind::Otp {
                input,
                prompt,
                resend,
                rotates,
            } => {
                let extras = super::human::OtpExtras {
                    resend: resend.as_ref(),
                    rotates: *rotates,
                };
                self.otp(screen, st, input, prompt, extras).await
            }
            StepKind::Expect {
                target,
                text,
                absent,
            } => {
                self.check_expected(screen, st, target, text.as_ref(), *absent)
                    .await
            }
            StepKind::Alert {
                pattern,
                action,
                capture,
            } => {
                self.alert(screen, st, pattern, *action, capture.as_deref())
                    .await
            }
            StepKind::Capture {
                target,
                into,
                attribute,
                pattern,
            } => {
                self.capture(
                    screen,
                    st,
                    target,
                    into,
                    attribute.as_deref(),
                    pattern.as_ref(),
                )
                .await
            }
            StepKind::WaitFor { target } => self.wait_for(screen, st, target).await,
            StepKind::Screenshot { name } => self.screenshot(name).await,
        }
    }

    async fn goto(
        &mut self,
        screen: &Screen,
        st: &Step,
        url: &Template,
        reload: bool,
    ) -> StepResultOf {
        let url = self.url(&url.render(&self.vars)?);
        self.at.last_step = Some(st.label.clone());
        if !reload && self.already_at(&url).await {
            tracing::debug!(step = %st.label, "the page is at this address already: not loaded again");
            return Ok(Used::default());
        }
        self.at.fresh = None;
        match crate::driver::command::navigate(self.s.c, &url).await {
            Ok(()) => {}
            // The page loaded and a dialog opened as it did: sorted like any other.
            Err(e) if e.is_unexpected_alert_open() => self.on_alert_during_step(screen).await?,
            Err(source) => return Err(RunError::opening(url, source).into()),
        }
        Ok(Used::default())
    }

    /// Types a value; on a dropdown, picks the option whose label or value
    /// it is. With `keep_prefix`, text the page put in the box is kept and
    /// the value typed after it.
    async fn fill(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        value: &Template,
        fast: bool,
        keep_prefix: Option<&str>,
    ) -> StepResultOf {
        let v = value.render(&self.vars)?;
        let prep = Prep {
            focus: true,
            value: true,
            ..Prep::default()
        };
        let (hit, used) = self.find_with(screen, st, t, Need::Fill, prep).await?;
        let (mark, tag, current) = (hit.mark, hit.found.tag, hit.found.value);
        if tag == "select" {
            let by_label = OptionChoice::Label(value.clone());
            self.pick(screen, st, &mark, &by_label, &v, (Lead::Stay, ""), None)
                .await?;
            return Ok(used);
        }
        match keep_prefix {
            // Type over what follows the prefix; the prefix stays.
            Some(p) if current.starts_with(p) => {
                self.type_checked(&mark, &v, Typing::After(p), false)
                    .await?
            }
            _ => {
                let how = Typing::Whole {
                    fast,
                    focused: true,
                };
                self.type_checked(&mark, &v, how, keep_prefix.is_none())
                    .await?
            }
        }
        if let Some(p) = keep_prefix {
            self.note_typed_username(value, p, &mark).await?;
        }
        Ok(used)
    }

    async fn fill_secret(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        secret: &str,
        fast: bool,
    ) -> StepResultOf {
        let v = self
            .spec
            .secrets
            .get(secret)
            .ok_or_else(|| RunError::MissingSecret(secret.into()))?;
        let prep = Prep {
            focus: true,
            secret: true,
            ..Prep::default()
        };
        let (hit, used) = self.find_with(screen, st, t, Need::Fill, prep).await?;
        let seen = (hit.found.origin.clone(), hit.found.href.clone());
        self.secret_box(screen, st, &hit.mark, Some(seen)).await?;
        let how = Typing::Whole {
            fast,
            focused: true,
        };
        self.type_checked(&hit.mark, v.expose(), how, true).await?;
        Ok(used)
    }

    /// Clicks (a `choose` leaves a checked radio alone), then waits for
    /// what the click leads to and any outcome it reveals.
    async fn click(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        lead: Lead<'_>,
        choose: bool,
    ) -> StepResultOf {
        let (token, armed) = (self.lead_token(lead), self.s.mark());
        let prep = self.click_prep(&token, &armed);
        let (hit, used) = self.find_with(screen, st, t, Need::Click, prep).await?;
        self.at.last_step = Some(st.label.clone());
        if choose && hit.found.checked {
            return Ok(used);
        }
        self.click_through_alerts(screen, st, &hit, &armed).await?;
        let landed = match self.look_after_click(lead, &token, &armed).await? {
            AfterClick::Landed => Landed::Arrived,
            AfterClick::Waiting => self.after_lead(st, lead, &token).await?,
            AfterClick::Unsure => {
                self.click_arrives(screen, st, &hit, &armed).await?;
                self.after_lead(st, lead, &token).await?
            }
        };
        if landed == Landed::Interrupted && !st.submits {
            // An interrupt's alert swallowed the click: click once more, as
            // a person would (never a submit: it may have gone through).
            let token = self.lead_token(lead);
            let prep = self.click_prep(&token, "");
            let (hit, _) = self.find_with(screen, st, t, Need::Click, prep).await?;
            self.click_through_alerts(screen, st, &hit, "").await?;
            self.after_lead(st, lead, &token).await?;
        }
        Ok(used)
    }

    /// An interrupt that opened as the click went in (a dialog, a modal
    /// on top) may have taken it: the page says whether it arrived; if
    /// not, the interrupt is closed and the element clicked again.
    async fn click_arrives(
        &mut self,
        screen: &Screen,
        st: &Step,
        hit: &Hit,
        armed: &str,
    ) -> Result<(), StepErr> {
        for _ in 0..2 {
            if !self.click_lost(armed).await? {
                break;
            }
            tracing::info!(step = %st.label, "the click did not arrive; clicking again");
            self.uncover().await?;
            self.click_through_alerts(screen, st, hit, armed).await?;
        }
        Ok(())
    }

    /// A click's find: scrolled into view and hit-tested, the document
    /// marked for the lead's wait, the click recorded under `armed`.
    fn click_prep(&self, token: &str, armed: &str) -> Prep {
        Prep {
            click: true,
            nav: token.to_string(),
            arm: armed.to_string(),
            ..Prep::default()
        }
    }

    /// Whether the armed click never reached its element (looked at for a
    /// moment: a click held up by a dialog may arrive just after it; the
    /// moment starts again once an interrupt's dialog is closed, however
    /// long that took).
    async fn click_lost(&mut self, armed: &str) -> Result<bool, StepErr> {
        let mut deadline = Instant::now() + super::human::IN_PLACE;
        loop {
            match page::click_seen(self.s.scripts(), armed).await {
                Ok(Some(false)) if Instant::now() >= deadline => return Ok(true),
                Ok(Some(false)) => tokio::time::sleep(crate::wait::POLL).await,
                Ok(_) => return Ok(false),
                // An interrupt's dialog is closed and the page asked again;
                // another dialog (or page): do not risk clicking twice.
                Err(e) if page::is_alert_open(&e) => match self.interrupt_alert().await? {
                    true => deadline = Instant::now() + super::human::IN_PLACE,
                    false => return Ok(false),
                },
                Err(e) if page::is_transient(&e) => return Ok(false),
                Err(e) => return Err(StepErr::from(e)),
            }
        }
    }

    async fn select(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        option: &OptionChoice,
        lead: Lead<'_>,
    ) -> StepResultOf {
        let token = self.lead_token(lead);
        let prep = Prep {
            options: true,
            ..self.click_prep(&token, "")
        };
        let (mut hit, used) = self.find_with(screen, st, t, Need::Pick, prep).await?;
        let want = option.template().render(&self.vars)?;
        // A <select> shown as one: the find read its options already.
        if let Some(read) = hit.found.options.take() {
            self.pick(
                screen,
                st,
                &hit.mark,
                option,
                &want,
                (lead, &token),
                Some(read),
            )
            .await?;
            return Ok(used);
        }
        let boxm = self.s.mark();
        match page::widget::stand(self.s.c, &hit.mark, &boxm).await? {
            Dropdown::Widget => {
                let marks = (hit.mark.as_str(), boxm.as_str());
                self.pick_in_widget(screen, st, marks, option, &want, (lead, &token))
                    .await?
            }
            Dropdown::Native | Dropdown::Gone => {
                self.pick(screen, st, &hit.mark, option, &want, (lead, &token), None)
                    .await?
            }
        }
        Ok(used)
    }

    pub(super) async fn check_expected(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        text: Option<&Template>,
        absent: bool,
    ) -> StepResultOf {
        let want = text.map(|t| t.render(&self.vars)).transpose()?;
        let timeout = self.step_timeout(st);
        let mut last = None;
        let hit = until!(Instant::now() + timeout, async {
            let p = self.s.probe(&[t]).await?;
            let hit = p.groups.first().cloned().flatten();
            let ok = match (&hit, &want) {
                (Some((_, inner)), Some(w)) => inner.contains(w.as_str()),
                (Some(_), None) => true,
                (None, _) => false,
            };
            last = Some(p);
            Ok::<_, RunError>((ok != absent).then_some(hit))
        })?;
        if let Some(hit) = hit {
            let target = hit.and_then(|(i, _)| page::target_of(t, i).map(|x| x.to_string()));
            return Ok(Used {
                target,
                fallback: false,
            });
        }
        if self.mode().watches_outcomes() {
            self.outcome_now(last.as_ref()).await?;
        }
        let what = match (&want, absent) {
            (Some(w), false) => format!("text \"{w}\" in {}", page::list(t)),
            (None, false) => format!("element {}", page::list(t)),
            (Some(w), true) => format!("text \"{w}\" to go from {}", page::list(t)),
            (None, true) => format!("element {} to go", page::list(t)),
        };
        let what = format!("expected {what} within {}s", timeout.as_secs());
        Err(Drift::at_step(&screen.label, &st.label, what).into())
    }

    /// Waits for an alert matching `pattern`. Another alert met meanwhile
    /// is sorted: an outcome ends the step, an interrupt is handled and the
    /// wait goes on, anything else is drift.
    async fn alert(
        &mut self,
        screen: &Screen,
        st: &Step,
        pattern: &Pattern,
        action: AlertAction,
        capture: Option<&str>,
    ) -> StepResultOf {
        let deadline = Instant::now() + self.step_timeout(st);
        loop {
            let Some(text) = until!(deadline, async { self.s.alert_text().await })? else {
                let secs = self.step_timeout(st).as_secs();
                let what = format!("no alert matching /{pattern}/ within {secs}s");
                return Err(Drift::at_step(&screen.label, &st.label, what).into());
            };
            if let Some(m) = pattern.captures(&text) {
                if let (Some(var), Some(g)) = (capture, m.get(1)) {
                    self.vars.insert(var.to_string(), g.as_str().to_string());
                }
                let answer = match action {
                    AlertAction::Accept => DialogAnswer::Accept,
                    AlertAction::Dismiss => DialogAnswer::Dismiss,
                };
                self.answer(&text, DialogSort::Step, answer).await?;
                return Ok(Used::default());
            }
            match self.sort_alert(&text, None).await? {
                AlertIs::Outcome(m) => return Err(StepErr::Outcome(Box::new(m.0), m.1)),
                AlertIs::Handled | AlertIs::Expected => continue,
                AlertIs::Unknown => {}
            }
            self.answer(&text, DialogSort::Unknown, DialogAnswer::Dismiss)
                .await?;
            let shown = self.spec.redactor.redact(&text);
            let what = format!("expected an alert matching /{pattern}/, got \"{shown}\"");
            return Err(Drift::at_step(&screen.label, &st.label, what).into());
        }
    }

    async fn capture(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        into: &str,
        attribute: Option<&str>,
        pattern: Option<&Pattern>,
    ) -> StepResultOf {
        let (mark, used) = self.find(screen, st, t, Need::See).await?;
        let el = self.s.tagged(&mark).await?;
        let raw = match attribute {
            Some(a) => el.attr(a).await?.unwrap_or_default(),
            None => el.text().await?,
        };
        let val = match pattern {
            None => raw.trim().to_string(),
            Some(p) => p
                .captures(&raw)
                .and_then(|c| c.get(1).or(c.get(0)))
                .map(|m| m.as_str().to_string())
                .ok_or_else(|| {
                    let what = format!("{} does not match /{p}/", page::snippet(&raw));
                    RunError::from(Drift::at_step(&screen.label, &st.label, what))
                })?,
        };
        self.vars.insert(into.to_string(), val);
        Ok(used)
    }

    async fn wait_for(&mut self, screen: &Screen, st: &Step, t: &Targets) -> StepResultOf {
        let timeout = self.step_timeout(st);
        let mut last = None;
        let seen = until!(Instant::now() + timeout, async {
            let p = self.s.probe(&[t]).await?;
            let ok = t.list.iter().any(|x| match x {
                Target::Url(u) => p.url.contains(u.as_str()),
                Target::Navigation => p.ready == "complete",
                _ => false,
            }) || p.groups.first().is_some_and(|g| g.is_some());
            last = Some(p);
            Ok::<_, RunError>(ok.then_some(()))
        })?;
        if seen.is_some() {
            return Ok(Used::default());
        }
        if self.mode().watches_outcomes() {
            self.outcome_now(last.as_ref()).await?;
        }
        let what = format!("waited {}s for {}", timeout.as_secs(), page::list(t));
        Err(Drift::at_step(&screen.label, &st.label, what).into())
    }

    async fn screenshot(&mut self, name: &str) -> StepResultOf {
        let name = name.replace(['/', '\\'], "_");
        let path = match self.safe_screenshot().await? {
            Some(png) => {
                let path = self.spec.artifacts.join(format!("{name}.png"));
                self.write_artifact(&path, &png)?;
                path
            }
            None => {
                let path = self.spec.artifacts.join(format!("{name}-withheld.txt"));
                let why = "no screenshot: a secret shows on this page and could not be hidden";
                self.write_artifact(&path, why.as_bytes())?;
                path
            }
        };
        Ok(Used {
            target: Some(path.display().to_string()),
            fallback: false,
        })
    }
}
