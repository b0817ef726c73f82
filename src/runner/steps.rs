//! One function per step kind; the lookups they share are in `lookup`.

use super::error::{Drift, RunError, StepErr};
use super::page::{self, Need};
use super::session::until;
use super::{Runner, Used};
use crate::events::{Event, StepResult, StepTrace};
use crate::flow::{
    AlertAction, OptionChoice, Pattern, Screen, Step, StepKind, Target, Targets, Template,
};
use crate::operator::Ask;
use std::time::{Duration, Instant};

type StepResultOf = Result<Used, StepErr>;

impl Runner<'_> {
    /// Runs one step and reports it as a [`Event::StepDone`].
    pub(super) async fn exec_traced(&mut self, screen: &Screen, st: &Step) -> Result<(), StepErr> {
        let t0 = Instant::now();
        let started_ms = self.ms_since_start();
        let human_before = self.human;
        let r = self.exec(screen, st).await;
        let ms = t0.elapsed().as_millis() as u64;
        let waited = self.human > human_before;
        let (result, target, fallback, detail) = match &r {
            Ok(u) if waited => (StepResult::Waited, u.target.clone(), u.fallback, None),
            Ok(u) => (StepResult::Ok, u.target.clone(), u.fallback, None),
            Err(StepErr::Outcome(o, _)) => (StepResult::Outcome(o.id.clone()), None, false, None),
            Err(StepErr::Fail(e)) => {
                let detail = self.spec.redactor.redact(&e.to_string());
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

    /// Runs one step; returns the target used.
    async fn exec(&mut self, screen: &Screen, st: &Step) -> StepResultOf {
        if st.submits {
            self.write_vault_pending()?;
        }
        match &st.kind {
            StepKind::Goto { url } => self.goto(st, url).await,
            StepKind::Fill {
                target,
                value,
                fast,
            } => self.fill(screen, st, target, value, *fast).await,
            StepKind::FillSecret {
                target,
                secret,
                fast,
            } => self.fill_secret(screen, st, target, secret, *fast).await,
            StepKind::Click { target, navigates } => {
                self.click(screen, st, target, *navigates, false).await
            }
            StepKind::Choose { target, navigates } => {
                self.click(screen, st, target, *navigates, true).await
            }
            StepKind::Select {
                target,
                option,
                navigates,
            } => self.select(screen, st, target, option, *navigates).await,
            StepKind::Captcha { image, input } => self.captcha(screen, st, image, input).await,
            StepKind::Otp { input, prompt } => self.otp(screen, st, input, prompt).await,
            StepKind::Expect {
                target,
                text,
                absent,
            } => {
                self.expect(screen, st, target, text.as_ref(), *absent)
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

    async fn goto(&mut self, st: &Step, url: &Template) -> StepResultOf {
        let url = self.url(&url.render(&self.vars)?);
        self.last_step = Some(st.label.clone());
        self.s
            .c
            .goto(&url)
            .await
            .map_err(|source| RunError::Open { url, source })?;
        Ok(Used::default())
    }

    async fn fill(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        value: &Template,
        fast: bool,
    ) -> StepResultOf {
        let v = value.render(&self.vars)?;
        let (mark, used) = self.find(screen, st, t, Need::Fill).await?;
        self.s.type_into(&mark, &v, fast).await?;
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
        let (mark, used) = self.find(screen, st, t, Need::Fill).await?;
        page::mark_secret(self.s.c, &mark).await?;
        self.s.type_into(&mark, v.expose(), fast).await?;
        Ok(used)
    }

    /// Clicks (a `choose` leaves a checked radio alone), then waits for the
    /// page load it causes and any outcome it reveals.
    async fn click(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        navigates: bool,
        choose: bool,
    ) -> StepResultOf {
        let (mark, used) = self.find(screen, st, t, Need::Click).await?;
        self.last_step = Some(st.label.clone());
        if choose && page::is_checked(self.s.c, &mark).await? {
            return Ok(used);
        }
        let token = match navigates {
            true => Some(self.s.begin_navigation().await?),
            false => None,
        };
        self.click_through_alerts(screen, st, &mark).await?;
        if let Some(token) = token {
            self.after_navigation(st, &token).await?;
        }
        Ok(used)
    }

    /// Waits for the page a step loaded, then for an outcome it may show.
    async fn after_navigation(&mut self, st: &Step, token: &str) -> Result<(), StepErr> {
        let timeout = self.step_timeout(st);
        let wait = match self.registers() {
            // A slow portal gets at least five seconds to load a page.
            true => timeout.max(Duration::from_secs(5)),
            false => timeout,
        };
        if !self.s.wait_navigation(token, wait).await? {
            return Err(RunError::PageLoad {
                secs: timeout.as_secs(),
            }
            .into());
        }
        if self.registers() {
            self.outcome_now(None).await?;
        }
        Ok(())
    }

    async fn select(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        option: &OptionChoice,
        navigates: bool,
    ) -> StepResultOf {
        let (mark, used) = self.find(screen, st, t, Need::Click).await?;
        let options = page::select_options(self.s.c, &mark).await?;
        let want = option.template().render(&self.vars)?;
        let Some(pos) = option_position(&options, option, &want) else {
            return Err(
                Drift::at_step(&screen.label, &st.label, missing_option(&options, &want)).into(),
            );
        };
        let sel = self.s.tagged(&mark).await?;
        let opt = sel
            .find(fantoccini::Locator::XPath(&format!(
                "./option[{}]",
                pos + 1
            )))
            .await?;
        let token = match navigates {
            true => Some(self.s.begin_navigation().await?),
            false => None,
        };
        opt.click().await?;
        if let Some(token) = token {
            self.after_navigation(st, &token).await?;
        }
        Ok(used)
    }

    async fn captcha(
        &mut self,
        screen: &Screen,
        st: &Step,
        image: &Targets,
        input: &Targets,
    ) -> StepResultOf {
        let (img, used) = self.find(screen, st, image, Need::See).await?;
        if !self.s.wait_image(&img, self.step_timeout(st)).await? {
            return Err(RunError::CaptchaImage {
                screen: screen.label.clone(),
            }
            .into());
        }
        let png = self.s.tagged(&img).await?.screenshot().await?;
        let path = self.save_captcha(&png)?;
        let answer = self
            .ask(screen, st, Ask::Captcha { png, path }, String::new())
            .await?;
        let (mark, _) = self.find(screen, st, input, Need::Fill).await?;
        page::mark_secret(self.s.c, &mark).await?;
        self.s.type_into(&mark, answer.expose(), false).await?;
        Ok(used)
    }

    async fn otp(
        &mut self,
        screen: &Screen,
        st: &Step,
        input: &Targets,
        prompt: &Template,
    ) -> StepResultOf {
        let (first, used) = self.find(screen, st, input, Need::Fill).await?;
        let text = prompt.render(&self.vars)?;
        let mobile = self.role(crate::flow::Role::Mobile);
        let answer = self.ask(screen, st, Ask::Otp { mobile }, text).await?;
        // The page may have changed while the person typed (e.g. a late
        // alert): look again, and keep the first element if that fails.
        let mark = match self.find(screen, st, input, Need::Fill).await {
            Ok((m, _)) => m,
            Err(_) => first,
        };
        page::mark_secret(self.s.c, &mark).await?;
        self.s.type_into(&mark, answer.expose(), false).await?;
        Ok(used)
    }

    pub(super) async fn expect(
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
        if self.registers() {
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

    async fn alert(
        &mut self,
        screen: &Screen,
        st: &Step,
        pattern: &Pattern,
        action: AlertAction,
        capture: Option<&str>,
    ) -> StepResultOf {
        let deadline = Instant::now() + self.step_timeout(st);
        let Some(text) = until!(deadline, async { self.s.alert_text().await })? else {
            let what = format!(
                "no alert matching /{pattern}/ within {}s",
                self.step_timeout(st).as_secs()
            );
            return Err(Drift::at_step(&screen.label, &st.label, what).into());
        };
        if let Some(m) = pattern.captures(&text) {
            if let (Some(var), Some(g)) = (capture, m.get(1)) {
                self.vars.insert(var.to_string(), g.as_str().to_string());
            }
            match action {
                AlertAction::Accept => self.s.c.accept_alert().await?,
                AlertAction::Dismiss => self.s.c.dismiss_alert().await?,
            }
            return Ok(Used::default());
        }
        self.outcome_now(None).await?;
        self.s.accept_alert().await?;
        let shown = self.spec.redactor.redact(&text);
        let what = format!("expected an alert matching /{pattern}/, got \"{shown}\"");
        Err(Drift::at_step(&screen.label, &st.label, what).into())
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
        if self.registers() {
            self.outcome_now(last.as_ref()).await?;
        }
        let what = format!("waited {}s for {}", timeout.as_secs(), page::list(t));
        Err(Drift::at_step(&screen.label, &st.label, what).into())
    }

    async fn screenshot(&mut self, name: &str) -> StepResultOf {
        let png = self.s.masked_screenshot().await?;
        let path = self
            .spec
            .artifacts
            .join(format!("{}.png", name.replace(['/', '\\'], "_")));
        self.write_artifact(&path, &png)?;
        Ok(Used {
            target: Some(path.display().to_string()),
            fallback: false,
        })
    }
}

/// Where `want` sits among a dropdown's (value, label) options.
fn option_position(
    options: &[(String, String)],
    choice: &OptionChoice,
    want: &str,
) -> Option<usize> {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    options.iter().position(|(v, l)| match choice {
        OptionChoice::Label(_) => norm(l) == norm(want),
        OptionChoice::Value(_) => v == want,
    })
}

/// "the dropdown has no option ..." with the closest label.
pub(super) fn missing_option(options: &[(String, String)], want: &str) -> String {
    let labels: Vec<&str> = options
        .iter()
        .filter(|(v, l)| !v.is_empty() && !l.is_empty())
        .map(|(_, l)| l.as_str())
        .collect();
    let close = crate::flow::suggest::did_you_mean(want, labels.iter().copied())
        .map(|c| format!("; did you mean \"{c}\"?"))
        .unwrap_or_default();
    format!(
        "the dropdown has no option \"{want}\" ({} options{close})",
        labels.len()
    )
}
