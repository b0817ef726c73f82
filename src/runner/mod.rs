//! The runner: executes a flow screen by screen in one browser session.
//!
//! It recognises each screen, waits for targets to be visible and enabled
//! (polling, never sleeping blind), reads and answers JS alerts itself,
//! applies outcome rules (retry a captcha, re-ask an OTP, stop on a known
//! error), writes the vault before the submit step, and records a step
//! trace. It asks people only through the operator [`Queue`].

pub mod page;
pub mod report;

pub use report::{Event, RunReport, RunStatus, StepTrace};

use crate::flow::{
    AlertAction, Condition, Flow, OptionChoice, Outcome, OutcomeKind, Screen, Step, StepKind,
    Target, Targets,
};
use crate::operator::{Ask, OperatorError, Question, Queue};
use crate::redact::{Redactor, Secret};
use crate::vault::{self, Vault};
use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use page::{Found, Probe};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(60);

pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;
/// Told the vault id once the pending credential is on disk.
pub type PendingSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Everything one run needs besides the browser.
pub struct RunSpec {
    pub flow: Arc<Flow>,
    pub base_url: String,
    /// Non-secret inputs, validated, defaults applied.
    pub vars: HashMap<String, String>,
    pub secrets: HashMap<String, Secret>,
    pub artifacts: PathBuf,
    pub vault: Option<Arc<Vault>>,
    pub queue: Arc<Queue>,
    pub redactor: Redactor,
    pub on_event: Option<EventSink>,
    /// Called with the vault id right after the pending record is written.
    pub on_pending: Option<PendingSink>,
}

/// Why a run stopped before an outcome.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Drift(String),
    #[error("{0}")]
    Human(String),
    #[error("{0}")]
    Portal(String),
    #[error("{0}")]
    Other(String),
}

impl RunError {
    fn status(&self) -> RunStatus {
        match self {
            RunError::Drift(_) => RunStatus::Drift,
            RunError::Human(_) => RunStatus::HumanNeeded,
            RunError::Portal(_) => RunStatus::PortalError,
            RunError::Other(_) => RunStatus::Failed,
        }
    }
}

impl From<CmdError> for RunError {
    fn from(e: CmdError) -> Self {
        if e.is_unexpected_alert_open() {
            return RunError::Drift(format!("an unexpected JS alert blocked the page: {e}"));
        }
        match e {
            CmdError::Lost(_) | CmdError::Failed(_) | CmdError::FailedC(_) => {
                RunError::Other(format!("lost the browser session: {e}"))
            }
            other => RunError::Other(format!("WebDriver error: {other}")),
        }
    }
}

enum Next {
    Retry(usize),
    Done(Finish),
}

struct Finish {
    status: RunStatus,
    outcome: Option<String>,
    message: String,
}

enum StepErr {
    Outcome(Box<Outcome>, Option<String>),
    Fail(RunError),
}

impl From<RunError> for StepErr {
    fn from(e: RunError) -> Self {
        StepErr::Fail(e)
    }
}
impl From<CmdError> for StepErr {
    fn from(e: CmdError) -> Self {
        StepErr::Fail(e.into())
    }
}

pub struct Runner<'a> {
    c: &'a Client,
    spec: &'a RunSpec,
    vars: HashMap<String, String>,
    retries: HashMap<String, u32>,
    current: Option<usize>,
    started: Instant,
    human: Duration,
    trace: Vec<StepTrace>,
    vault_id: Option<String>,
    marks: u64,
    captchas: u32,
    nav_token: String,
}

fn gstin_of(vars: &HashMap<String, String>) -> String {
    vars.get("gstin").cloned().unwrap_or_default()
}

impl<'a> Runner<'a> {
    pub fn new(c: &'a Client, spec: &'a RunSpec) -> Runner<'a> {
        Runner {
            c,
            spec,
            vars: spec.vars.clone(),
            retries: HashMap::new(),
            current: None,
            started: Instant::now(),
            human: Duration::ZERO,
            trace: vec![],
            vault_id: None,
            marks: 0,
            captchas: 0,
            nav_token: String::new(),
        }
    }

    fn flow(&self) -> &'a Flow {
        &self.spec.flow
    }

    fn emit(&self, e: Event) {
        if let Some(f) = &self.spec.on_event {
            f(&e);
        }
    }

    fn holds(&self, c: &Option<Condition>) -> bool {
        c.as_ref()
            .is_none_or(|c| c.holds(|k| self.vars.get(k).cloned()))
    }

    fn mark(&mut self) -> String {
        self.marks += 1;
        format!("m{}", self.marks)
    }

    fn ms_since_start(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!(
                "{}{}{}",
                self.spec.base_url.trim_end_matches('/'),
                if path.starts_with('/') { "" } else { "/" },
                path
            )
        }
    }

    /// Runs the flow to its end and always returns a report; artifacts are
    /// written for anything but success.
    pub async fn run(mut self) -> RunReport {
        let result = self.run_screens().await;
        let finish = match result {
            Ok(f) => f,
            Err(e) => Finish {
                status: e.status(),
                outcome: None,
                message: e.to_string(),
            },
        };
        if let (Some(v), Some(id)) = (&self.spec.vault, &self.vault_id) {
            let status = match finish.status {
                RunStatus::Registered => vault::Status::Created,
                RunStatus::NeedsVerification => vault::Status::NeedsVerification,
                _ => vault::Status::Failed,
            };
            let note = (status != vault::Status::Created)
                .then(|| self.spec.redactor.redact(&finish.message));
            if let Err(e) = v.set_status(id, status, note) {
                tracing::error!("could not update the vault: {e}");
            }
        }
        if finish.status != RunStatus::Registered {
            self.save_failure_artifacts().await;
        }
        let creds = self.flow().credentials.as_ref();
        let api_username = self.vars.get("api_user").cloned().or_else(|| {
            creds.and_then(|c| {
                self.vars
                    .get(&c.username)
                    .map(|u| format!("{}{u}", c.prefix))
            })
        });
        let report = RunReport {
            status: finish.status,
            message: self.spec.redactor.redact(&finish.message),
            outcome: finish.outcome,
            gstin: gstin_of(&self.vars),
            portal: self.flow().portal.as_str().to_string(),
            api_username: if matches!(
                finish.status,
                RunStatus::Registered | RunStatus::NeedsVerification
            ) || self.vault_id.is_some()
            {
                api_username
            } else {
                None
            },
            vault: self
                .vault_id
                .as_ref()
                .and(self.spec.vault.as_ref())
                .map(|v| v.path().to_path_buf()),
            artifacts: self.spec.artifacts.clone(),
            total: self.started.elapsed(),
            human_wait: self.human,
            steps: self.trace.clone(),
        };
        self.write_trace(&report);
        report
    }

    async fn run_screens(&mut self) -> Result<Finish, RunError> {
        let screens = &self.flow().screens;
        let mut idx = 0;
        let mut skip_gotos = false;
        // A retry decided on the result page starts the walk again.
        'flow: loop {
            while idx < screens.len() {
                let screen = &screens[idx];
                if !self.holds(&screen.when) {
                    idx += 1;
                    continue;
                }
                let mut first = 0;
                for st in &screen.steps {
                    if !matches!(st.kind, StepKind::Goto { .. }) {
                        break;
                    }
                    if !skip_gotos && self.holds(&st.when) {
                        self.exec_traced(screen, st).await.map_err(|e| match e {
                            StepErr::Fail(e) => e,
                            StepErr::Outcome(o, _) => RunError::Portal(o.message),
                        })?;
                    }
                    first += 1;
                }
                skip_gotos = false;
                match self.await_screen(idx).await? {
                    Seen::Screen(i) => {
                        if i != idx {
                            // An optional screen did not appear; the next one did.
                            idx = i;
                            first = screens[i]
                                .steps
                                .iter()
                                .take_while(|s| matches!(s.kind, StepKind::Goto { .. }))
                                .count();
                        }
                    }
                    Seen::Outcome(o, alert) => match self.apply(&o, alert.as_deref()).await? {
                        Next::Retry(to) => {
                            idx = to;
                            // The old page's error is still showing: do not match it again.
                            self.current = None;
                            continue;
                        }
                        Next::Done(f) => return Ok(f),
                    },
                }
                let screen = &screens[idx];
                self.current = Some(idx);
                self.emit(Event::Screen {
                    label: screen.label.clone(),
                });
                tracing::info!(screen = %screen.id, "screen recognised");
                // Known end states visible on arrival (e.g. provider already registered).
                if let Some((o, a)) = self.check_outcomes(None, true).await? {
                    match self.apply(&o, a.as_deref()).await? {
                        Next::Retry(to) => {
                            idx = to;
                            continue;
                        }
                        Next::Done(f) => return Ok(f),
                    }
                }
                let mut jumped = None;
                for st in &screen.steps[first..] {
                    if !self.holds(&st.when) {
                        self.push_trace(
                            screen,
                            st,
                            Instant::now(),
                            "skipped",
                            None,
                            false,
                            Some("when does not hold".into()),
                        );
                        continue;
                    }
                    match self.exec_traced(screen, st).await {
                        Ok(()) => {}
                        Err(StepErr::Outcome(o, alert)) => {
                            match self.apply(&o, alert.as_deref()).await? {
                                Next::Retry(to) => {
                                    jumped = Some(to);
                                    break;
                                }
                                Next::Done(f) => return Ok(f),
                            }
                        }
                        Err(StepErr::Fail(e))
                            if st.optional && !matches!(e, RunError::Human(_)) =>
                        {
                            tracing::debug!(step = %st.label, "optional step skipped: {e}");
                        }
                        Err(StepErr::Fail(e)) => return Err(e),
                    }
                }
                match jumped {
                    Some(to) => {
                        idx = to;
                        self.current = None;
                    }
                    None => idx += 1,
                }
            }
            // The last screen is done: its result arrives as a page or an alert.
            let deadline = Instant::now() + self.flow().timeout;
            loop {
                if let Some((o, a)) = self.check_outcomes(None, false).await? {
                    match self.apply(&o, a.as_deref()).await? {
                        Next::Done(f) => return Ok(f),
                        Next::Retry(to) => {
                            idx = to;
                            self.current = None;
                            continue 'flow;
                        }
                    }
                }
                if Instant::now() > deadline {
                    let p = self.probe_lenient().await;
                    return Err(RunError::Drift(format!(
                    "the flow's last screen is done but no outcome matched within {}s; the page at {} shows: {}",
                    self.flow().timeout.as_secs(),
                    p.url,
                    snippet(&p.text)
                )));
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }

    async fn exec_traced(&mut self, screen: &Screen, st: &Step) -> Result<(), StepErr> {
        let t0 = Instant::now();
        let started = self.ms_since_start();
        let human_before = self.human;
        let r = self.exec(screen, st).await;
        let waited = self.human > human_before;
        let (result, target, fallback, detail) = match &r {
            Ok(info) => (
                if waited { "waited" } else { "ok" }.to_string(),
                info.0.clone(),
                info.1,
                None,
            ),
            Err(StepErr::Outcome(o, _)) => (format!("outcome:{}", o.id), None, false, None),
            Err(StepErr::Fail(e)) => (
                "failed".to_string(),
                None,
                false,
                Some(self.spec.redactor.redact(&e.to_string())),
            ),
        };
        self.trace.push(StepTrace {
            screen: screen.id.clone(),
            step: st.label.clone(),
            kind: st.kind.name().into(),
            started_ms: started,
            ms: t0.elapsed().as_millis() as u64,
            result,
            target,
            fallback,
            detail,
        });
        tracing::debug!(screen = %screen.id, step = %st.label, ms = t0.elapsed().as_millis() as u64, "step");
        r.map(|_| ())
    }

    #[allow(clippy::too_many_arguments)]
    fn push_trace(
        &mut self,
        screen: &Screen,
        st: &Step,
        t0: Instant,
        result: &str,
        target: Option<String>,
        fallback: bool,
        detail: Option<String>,
    ) {
        let started = self
            .ms_since_start()
            .saturating_sub(t0.elapsed().as_millis() as u64);
        self.trace.push(StepTrace {
            screen: screen.id.clone(),
            step: st.label.clone(),
            kind: st.kind.name().into(),
            started_ms: started,
            ms: t0.elapsed().as_millis() as u64,
            result: result.into(),
            target,
            fallback,
            detail,
        });
    }

    fn render(&self, t: &crate::flow::Template) -> Result<String, RunError> {
        t.render(&self.vars).map_err(RunError::Other)
    }

    fn timeout(&self, st: &Step) -> Duration {
        st.timeout.unwrap_or(self.flow().timeout)
    }

    /// Runs one step; returns the target used and whether it was a fallback.
    async fn exec(
        &mut self,
        screen: &Screen,
        st: &Step,
    ) -> Result<(Option<String>, bool), StepErr> {
        let timeout = self.timeout(st);
        if st.submits {
            self.write_vault_pending()?;
        }
        match &st.kind {
            StepKind::Goto { url } => {
                let u = self.url(&self.render(url)?);
                self.c
                    .goto(&u)
                    .await
                    .map_err(|e| RunError::Portal(format!("cannot open {u}: {e}")))?;
                Ok((None, false))
            }
            StepKind::Fill {
                target,
                value,
                fast,
            } => {
                let v = self.render(value)?;
                let (mark, used) = self.find(screen, st, target, "fill", timeout).await?;
                self.type_into(&mark, &v, *fast).await?;
                Ok(used)
            }
            StepKind::FillSecret {
                target,
                secret,
                fast,
            } => {
                let v = self
                    .spec
                    .secrets
                    .get(secret)
                    .ok_or_else(|| RunError::Other(format!("secret `{secret}` was not provided")))?
                    .clone();
                let (mark, used) = self.find(screen, st, target, "fill", timeout).await?;
                page::mark_secret(self.c, &mark).await?;
                self.type_into(&mark, v.expose(), *fast).await?;
                Ok(used)
            }
            StepKind::Click { target, navigates } => {
                let (mark, used) = self.find(screen, st, target, "click", timeout).await?;
                self.click(&mark, *navigates, timeout).await?;
                if *navigates {
                    self.after_navigation().await?;
                }
                Ok(used)
            }
            StepKind::Choose { target, navigates } => {
                let (mark, used) = self.find(screen, st, target, "click", timeout).await?;
                if page::is_checked(self.c, &mark).await? {
                    return Ok(used);
                }
                self.click(&mark, *navigates, timeout).await?;
                if *navigates {
                    self.after_navigation().await?;
                }
                Ok(used)
            }
            StepKind::Select {
                target,
                option,
                navigates,
            } => {
                let (mark, used) = self.find(screen, st, target, "click", timeout).await?;
                let options = page::select_options(self.c, &mark).await?;
                let (want, by_label) = match option {
                    OptionChoice::Label(t) => (self.render(t)?, true),
                    OptionChoice::Value(t) => (self.render(t)?, false),
                };
                let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
                let pos = options.iter().position(|(v, l)| {
                    if by_label {
                        norm(l) == norm(&want)
                    } else {
                        *v == want
                    }
                });
                let Some(pos) = pos else {
                    let labels: Vec<&str> = options
                        .iter()
                        .filter(|(v, l)| !v.is_empty() && !l.is_empty())
                        .map(|(_, l)| l.as_str())
                        .collect();
                    let close = crate::flow::suggest::did_you_mean(&want, labels.iter().copied())
                        .map(|c| format!("; did you mean \"{c}\"?"))
                        .unwrap_or_default();
                    return Err(drift(
                        screen,
                        st,
                        format!(
                            "the dropdown has no option \"{want}\" ({} options{close})",
                            labels.len()
                        ),
                    ));
                };
                let sel = self
                    .c
                    .find(Locator::Css(&format!("[data-einvreg-target=\"{mark}\"]")))
                    .await?;
                let opt = sel
                    .find(Locator::XPath(&format!("./option[{}]", pos + 1)))
                    .await?;
                if *navigates {
                    self.nav_token = self.mark();
                    page::set_nav_marker(self.c, &self.nav_token).await?;
                }
                opt.click().await?;
                if *navigates {
                    self.wait_navigation(timeout).await?;
                    self.after_navigation().await?;
                }
                Ok(used)
            }
            StepKind::Captcha { image, input } => {
                let (img_mark, used) = self.find(screen, st, image, "see", timeout).await?;
                let deadline = Instant::now() + timeout;
                while !page::image_loaded(self.c, &img_mark).await? {
                    if Instant::now() > deadline {
                        return Err(StepErr::Fail(RunError::Portal(format!(
                            "the captcha image on \"{}\" did not load",
                            screen.label
                        ))));
                    }
                    tokio::time::sleep(POLL).await;
                }
                let png = self
                    .c
                    .find(Locator::Css(&format!(
                        "[data-einvreg-target=\"{img_mark}\"]"
                    )))
                    .await?
                    .screenshot()
                    .await?;
                self.captchas += 1;
                let path = self
                    .spec
                    .artifacts
                    .join(format!("captcha-{}.png", self.captchas));
                std::fs::create_dir_all(&self.spec.artifacts).ok();
                std::fs::write(&path, &png).map_err(|e| {
                    RunError::Other(format!(
                        "cannot save the captcha to {}: {e}",
                        path.display()
                    ))
                })?;
                let answer = self
                    .ask(screen, st, Ask::Captcha { png, path }, String::new())
                    .await?;
                let (mark, _) = self.find(screen, st, input, "fill", timeout).await?;
                page::mark_secret(self.c, &mark).await?;
                self.type_into(&mark, answer.expose(), false).await?;
                Ok(used)
            }
            StepKind::Otp { input, prompt } => {
                let (mark, used) = self.find(screen, st, input, "fill", timeout).await?;
                let text = self.render(prompt)?;
                let answer = self
                    .ask(
                        screen,
                        st,
                        Ask::Otp {
                            mobile: self.vars.get("mobile").cloned(),
                        },
                        text,
                    )
                    .await?;
                // The page may have changed while the person typed (e.g. a late alert).
                let (mark2, _) = self
                    .find(screen, st, input, "fill", timeout)
                    .await
                    .unwrap_or((mark, used.clone()));
                page::mark_secret(self.c, &mark2).await?;
                self.type_into(&mark2, answer.expose(), false).await?;
                Ok(used)
            }
            StepKind::Expect {
                target,
                text,
                absent,
            } => {
                let want = text.as_ref().map(|t| self.render(t)).transpose()?;
                let deadline = Instant::now() + timeout;
                loop {
                    let p = self.probe(&[target]).await?;
                    let hit = p.groups.first().cloned().flatten();
                    let ok = match (&hit, &want) {
                        (Some((_, inner)), Some(w)) => inner.contains(w.as_str()),
                        (Some(_), None) => true,
                        (None, _) => false,
                    };
                    if ok != *absent {
                        return Ok((
                            hit.and_then(|(i, _)| {
                                page::target_of(target, i).map(|t| t.to_string())
                            }),
                            false,
                        ));
                    }
                    if Instant::now() > deadline {
                        if let Some((o, a)) = self.check_outcomes(Some(&p), false).await? {
                            return Err(StepErr::Outcome(Box::new(o), a));
                        }
                        let what = match (&want, absent) {
                            (Some(w), false) => format!("text \"{w}\" in {}", list(target)),
                            (None, false) => format!("element {}", list(target)),
                            (Some(w), true) => format!("text \"{w}\" to go from {}", list(target)),
                            (None, true) => format!("element {} to go", list(target)),
                        };
                        return Err(drift(
                            screen,
                            st,
                            format!("expected {what} within {}s", timeout.as_secs()),
                        ));
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
            StepKind::Alert {
                pattern,
                action,
                capture,
            } => {
                let re = regex::Regex::new(pattern).map_err(|e| RunError::Other(e.to_string()))?;
                let deadline = Instant::now() + timeout;
                loop {
                    if let Some(text) = self.alert_text().await? {
                        if let Some(m) = re.captures(&text) {
                            if let (Some(var), Some(g)) = (capture, m.get(1)) {
                                self.vars.insert(var.clone(), g.as_str().to_string());
                            }
                            match action {
                                AlertAction::Accept => self.c.accept_alert().await?,
                                AlertAction::Dismiss => self.c.dismiss_alert().await?,
                            }
                            return Ok((None, false));
                        }
                        if let Some((o, a)) = self.check_outcomes(None, false).await? {
                            return Err(StepErr::Outcome(Box::new(o), a));
                        }
                        let _ = self.c.accept_alert().await;
                        return Err(drift(
                            screen,
                            st,
                            format!(
                                "expected an alert matching /{pattern}/, got \"{}\"",
                                self.spec.redactor.redact(&text)
                            ),
                        ));
                    }
                    if Instant::now() > deadline {
                        return Err(drift(
                            screen,
                            st,
                            format!(
                                "no alert matching /{pattern}/ within {}s",
                                timeout.as_secs()
                            ),
                        ));
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
            StepKind::Capture {
                target,
                into,
                attribute,
                pattern,
            } => {
                let (mark, used) = self.find(screen, st, target, "see", timeout).await?;
                let el = self
                    .c
                    .find(Locator::Css(&format!("[data-einvreg-target=\"{mark}\"]")))
                    .await?;
                let raw = match attribute {
                    Some(a) => el.attr(a).await?.unwrap_or_default(),
                    None => el.text().await?,
                };
                let val = match pattern {
                    Some(p) => {
                        let re =
                            regex::Regex::new(p).map_err(|e| RunError::Other(e.to_string()))?;
                        re.captures(&raw)
                            .and_then(|c| c.get(1).or(c.get(0)))
                            .map(|m| m.as_str().to_string())
                            .ok_or_else(|| {
                                RunError::Drift(format!(
                                    "screen \"{}\", step \"{}\": \"{}\" does not match /{p}/",
                                    screen.label,
                                    st.label,
                                    snippet(&raw)
                                ))
                            })?
                    }
                    None => raw.trim().to_string(),
                };
                self.vars.insert(into.clone(), val);
                Ok(used)
            }
            StepKind::WaitFor { target } => {
                let deadline = Instant::now() + timeout;
                loop {
                    let p = self.probe(&[target]).await?;
                    let ok = target.list.iter().any(|t| match t {
                        Target::Url(u) => p.url.contains(u.as_str()),
                        Target::Navigation => p.ready == "complete",
                        _ => false,
                    }) || p.groups.first().is_some_and(|g| g.is_some());
                    if ok {
                        return Ok((None, false));
                    }
                    if Instant::now() > deadline {
                        if let Some((o, a)) = self.check_outcomes(Some(&p), false).await? {
                            return Err(StepErr::Outcome(Box::new(o), a));
                        }
                        return Err(drift(
                            screen,
                            st,
                            format!("waited {}s for {}", timeout.as_secs(), list(target)),
                        ));
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
            StepKind::Screenshot { name } => {
                let png = self.safe_screenshot().await?;
                std::fs::create_dir_all(&self.spec.artifacts).ok();
                let path = self
                    .spec
                    .artifacts
                    .join(format!("{}.png", name.replace(['/', '\\'], "_")));
                std::fs::write(&path, png).map_err(|e| {
                    RunError::Other(format!("cannot write {}: {e}", path.display()))
                })?;
                Ok((Some(path.display().to_string()), false))
            }
        }
    }

    async fn type_into(&mut self, mark: &str, value: &str, fast: bool) -> Result<(), StepErr> {
        if fast {
            page::fast_fill(self.c, mark, value).await?;
        } else {
            let el = self
                .c
                .find(Locator::Css(&format!("[data-einvreg-target=\"{mark}\"]")))
                .await?;
            el.clear().await?;
            el.send_keys(value).await?;
        }
        Ok(())
    }

    async fn click(
        &mut self,
        mark: &str,
        navigates: bool,
        timeout: Duration,
    ) -> Result<(), StepErr> {
        if navigates {
            self.nav_token = self.mark();
            page::set_nav_marker(self.c, &self.nav_token).await?;
        }
        let el = self
            .c
            .find(Locator::Css(&format!("[data-einvreg-target=\"{mark}\"]")))
            .await?;
        let deadline = Instant::now() + timeout;
        loop {
            match el.click().await {
                Ok(()) => break,
                Err(e) if e.is_unexpected_alert_open() => break,
                // Something (an overlay, an animation) is in the way: try again briefly.
                Err(e)
                    if (e.to_string().contains("click intercepted")
                        || e.is_element_not_interactable())
                        && Instant::now() < deadline =>
                {
                    tokio::time::sleep(POLL).await
                }
                Err(e) => return Err(e.into()),
            }
        }
        if navigates {
            self.wait_navigation(timeout).await?;
        }
        Ok(())
    }

    /// Waits until the marked document is gone and the new one is loaded (or an alert opened).
    async fn wait_navigation(&mut self, timeout: Duration) -> Result<(), StepErr> {
        let deadline = Instant::now() + timeout.max(Duration::from_secs(5));
        loop {
            match page::probe(self.c, &[], &self.nav_token).await {
                Ok(p) if !p.marked && p.ready == "complete" => return Ok(()),
                Ok(_) => {}
                Err(e) if page::is_alert_open(&e) => return Ok(()),
                Err(e) if page::is_transient(&e) => {}
                Err(e) => return Err(e.into()),
            }
            if Instant::now() > deadline {
                return Err(StepErr::Fail(RunError::Portal(format!(
                    "the page did not load within {}s after the click",
                    timeout.as_secs()
                ))));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Right after a navigation: a known error or result may be showing.
    async fn after_navigation(&mut self) -> Result<(), StepErr> {
        if let Some((o, a)) = self.check_outcomes(None, false).await? {
            return Err(StepErr::Outcome(Box::new(o), a));
        }
        Ok(())
    }

    async fn alert_text(&self) -> Result<Option<String>, CmdError> {
        match self.c.get_alert_text().await {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.is_no_such_alert() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn probe(&self, groups: &[&Targets]) -> Result<Probe, RunError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match page::probe(self.c, groups, "").await {
                Ok(p) => return Ok(p),
                Err(e) if page::is_transient(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(POLL).await
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn probe_lenient(&self) -> Probe {
        page::probe(self.c, &[], "").await.unwrap_or_default()
    }

    /// Finds a target, waiting until visible (and enabled for fill/click).
    /// On time-out, a matching outcome wins over a drift error.
    async fn find(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        need: &str,
        timeout: Duration,
    ) -> Result<(String, (Option<String>, bool)), StepErr> {
        let mark = self.mark();
        let deadline = Instant::now() + timeout;
        let mut polls = 0u32;
        let mut last = Found {
            index: -1,
            report: vec![],
        };
        loop {
            match page::find(self.c, t, need, &mark).await {
                Ok(f) if f.index >= 0 => {
                    let used = page::target_of(t, f.index).map(|x| x.to_string());
                    if f.index > 0 {
                        tracing::warn!(screen = %screen.id, step = %st.label, "primary target failed; matched fallback #{}: {}", f.index + 1, used.clone().unwrap_or_default());
                        self.emit(Event::Fallback {
                            screen: screen.label.clone(),
                            step: st.label.clone(),
                            used: used.clone().unwrap_or_default(),
                            primary: t.list[0].to_string(),
                        });
                    }
                    return Ok((mark, (used, f.index > 0)));
                }
                Ok(f) => last = f,
                Err(e) if page::is_alert_open(&e) => {
                    if let Some(r) = self.on_alert_during_step(screen).await? {
                        return Err(r);
                    }
                }
                Err(e) if page::is_transient(&e) => {}
                Err(e) => return Err(e.into()),
            }
            polls += 1;
            let expired = Instant::now() > deadline;
            if polls.is_multiple_of(6) || expired {
                if let Some((o, a)) = self.check_outcomes(None, false).await? {
                    return Err(StepErr::Outcome(Box::new(o), a));
                }
            }
            if expired {
                let p = self.probe_lenient().await;
                return Err(drift(
                    screen,
                    st,
                    format!(
                        "no usable element after {}s; tried {}; page {}",
                        timeout.as_secs(),
                        page::describe_targets(t, &last.report),
                        p.url
                    ),
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// An alert opened mid-step: an outcome, a late notice the screen expects, or drift.
    async fn on_alert_during_step(&mut self, screen: &Screen) -> Result<Option<StepErr>, StepErr> {
        let Some(text) = self.alert_text().await? else {
            return Ok(None);
        };
        if let Some((o, a)) = self.match_outcomes(Some(&text), None, false) {
            return Ok(Some(StepErr::Outcome(Box::new(o), a)));
        }
        let expected = screen.steps.iter().any(|s| matches!(&s.kind, StepKind::Alert { pattern, .. } if regex::Regex::new(pattern).is_ok_and(|r| r.is_match(&text))))
            || screen.recognise.alert.as_ref().is_some_and(|p| regex::Regex::new(p).is_ok_and(|r| r.is_match(&text)));
        self.c.accept_alert().await.ok();
        if expected {
            tracing::debug!(screen = %screen.id, "accepted a late alert the screen expects");
            return Ok(None);
        }
        Ok(Some(StepErr::Fail(RunError::Drift(format!(
            "screen \"{}\": unexpected alert \"{}\"",
            screen.label,
            self.spec.redactor.redact(&text)
        )))))
    }

    /// Outcomes that may apply now: scoped to the current screen, or unscoped.
    fn candidates(&self, terminal_only: bool) -> Vec<&'a Outcome> {
        let cur = self.current.map(|i| self.flow().screens[i].id.as_str());
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

    fn pattern(&self, t: &crate::flow::Template) -> Option<regex::Regex> {
        let s = t.render_with(&self.vars, regex::escape).ok()?;
        regex::Regex::new(&s).ok()
    }

    fn match_outcomes(
        &mut self,
        alert: Option<&str>,
        probe: Option<&Probe>,
        terminal_only: bool,
    ) -> Option<(Outcome, Option<String>)> {
        let cands = self.candidates(terminal_only);
        let mut el_i = 0;
        for o in cands {
            // What to search, and with which pattern.
            let (hay, pat) = if let Some(a) = &o.alert {
                (alert.map(String::from), Some(a))
            } else if let Some(p) = probe {
                let hay = match &o.element {
                    Some(_) => {
                        let g = p.groups.get(el_i).cloned().flatten();
                        el_i += 1;
                        g.map(|(_, t)| t)
                    }
                    None => Some(p.text.clone()),
                };
                (hay, o.text.as_ref())
            } else {
                (None, None)
            };
            let Some(hay) = hay else { continue };
            let captured: Option<Vec<(String, String)>> = match pat {
                Some(t) => {
                    let Some(re) = self.pattern(t) else { continue };
                    re.captures(&hay).map(|c| {
                        re.capture_names()
                            .flatten()
                            .filter_map(|n| {
                                c.name(n).map(|m| (n.to_string(), m.as_str().to_string()))
                            })
                            .collect()
                    })
                }
                // An element-only outcome: its presence is the match.
                None => Some(vec![]),
            };
            if let Some(caps) = captured {
                for (k, v) in caps {
                    self.vars.insert(k, v);
                }
                return Some((o.clone(), alert.map(String::from)));
            }
        }
        None
    }

    /// Probes the page (or reads the open alert) and matches outcomes.
    async fn check_outcomes(
        &mut self,
        probe: Option<&Probe>,
        terminal_only: bool,
    ) -> Result<Option<(Outcome, Option<String>)>, RunError> {
        if let Some(text) = self.alert_text().await? {
            return Ok(self.match_outcomes(Some(&text), None, terminal_only));
        }
        let owned;
        let p = match probe {
            Some(p) => p,
            None => {
                let cands = self.candidates(terminal_only);
                let groups: Vec<&Targets> = cands
                    .iter()
                    .filter(|o| o.alert.is_none())
                    .filter_map(|o| o.element.as_ref())
                    .collect();
                owned = match page::probe(self.c, &groups, "").await {
                    Ok(p) => p,
                    Err(e) if page::is_transient(&e) || page::is_alert_open(&e) => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                &owned
            }
        };
        Ok(self.match_outcomes(None, Some(p), terminal_only))
    }

    async fn apply(&mut self, o: &Outcome, alert: Option<&str>) -> Result<Next, RunError> {
        if alert.is_some() {
            self.c.accept_alert().await.ok();
        }
        if o.kind.may_retry() {
            if let Some(to) = &o.retry_from {
                let n = self.retries.entry(o.id.clone()).or_insert(0);
                if *n < o.max_retries {
                    *n += 1;
                    let attempt = *n + 1;
                    let idx = self.flow().screen_index(to).ok_or_else(|| {
                        RunError::Other(format!("retry_from names unknown screen {to}"))
                    })?;
                    tracing::info!(outcome = %o.id, screen = %to, attempt, "retrying");
                    self.emit(Event::Retry {
                        outcome: o.message.clone(),
                        screen: self.flow().screens[idx].label.clone(),
                        attempt,
                    });
                    return Ok(Next::Retry(idx));
                }
                return Ok(Next::Done(Finish {
                    status: RunStatus::from_outcome(o.kind),
                    outcome: Some(o.id.clone()),
                    message: format!("{} (gave up after {} retries)", o.message, o.max_retries),
                }));
            }
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
        }))
    }

    async fn ask(
        &mut self,
        screen: &Screen,
        st: &Step,
        ask: Ask,
        prompt: String,
    ) -> Result<Secret, StepErr> {
        let cookies = self
            .c
            .get_all_cookies()
            .await
            .map(|cs| {
                cs.into_iter()
                    .map(|c| (c.name().to_string(), c.value().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let attempt = 1 + self.retries.values().sum::<u32>();
        let q = Question {
            ask,
            gstin: gstin_of(&self.vars),
            portal: self.flow().portal.as_str().into(),
            base_url: self.spec.base_url.clone(),
            screen: screen.label.clone(),
            step: st.label.clone(),
            prompt,
            attempt,
            browser_cookies: cookies,
        };
        self.emit(Event::Asking {
            what: q.what(),
            step: st.label.clone(),
        });
        let (r, waited) = self.spec.queue.ask(&q).await;
        self.human += waited;
        match r {
            Ok(s) => {
                self.spec.redactor.add(s.expose());
                Ok(s)
            }
            Err(OperatorError::NoHuman(m)) => Err(StepErr::Fail(RunError::Human(m))),
            Err(e @ OperatorError::Timeout { .. }) => {
                Err(StepErr::Fail(RunError::Human(e.to_string())))
            }
            Err(OperatorError::Failed(m)) => Err(StepErr::Fail(RunError::Other(m))),
        }
    }

    fn write_vault_pending(&mut self) -> Result<(), RunError> {
        if self.vault_id.is_some() {
            return Ok(()); // a retry of the submit: the record already exists
        }
        let (Some(v), Some(c)) = (&self.spec.vault, &self.flow().credentials) else {
            return Ok(());
        };
        let username = self
            .vars
            .get(&c.username)
            .map(|u| format!("{}{u}", c.prefix))
            .unwrap_or_default();
        let password = self
            .spec
            .secrets
            .get(&c.password)
            .map(|s| s.expose().to_string());
        let provider = c
            .provider
            .as_ref()
            .and_then(|p| self.vars.get(p).cloned())
            .or_else(|| self.vars.get("through").cloned());
        let id = format!(
            "{}-{}-{}",
            gstin_of(&self.vars),
            self.flow().portal.as_str(),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos()
        );
        v.append(&vault::Record {
            id: id.clone(),
            at: vault::now_rfc3339(),
            status: vault::Status::Pending,
            portal: Some(self.flow().portal.as_str().into()),
            base_url: Some(self.spec.base_url.clone()),
            flow: Some(self.flow().name.clone()),
            gstin: Some(gstin_of(&self.vars)),
            provider,
            username: Some(username),
            password,
            note: None,
        })
        .map_err(|e| {
            RunError::Other(format!(
                "not submitting: the vault could not be written first: {e}"
            ))
        })?;
        if let Some(f) = &self.spec.on_pending {
            f(&id);
        }
        self.vault_id = Some(id);
        Ok(())
    }

    async fn safe_screenshot(&self) -> Result<Vec<u8>, RunError> {
        page::mask_secrets(self.c, true).await.ok();
        let png = self.c.screenshot().await;
        page::mask_secrets(self.c, false).await.ok();
        Ok(png?)
    }

    async fn save_failure_artifacts(&mut self) {
        let dir = &self.spec.artifacts;
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        // An open alert blocks everything else; keep its text, then close it.
        if let Ok(Some(t)) = self.alert_text().await {
            let _ = std::fs::write(dir.join("alert.txt"), self.spec.redactor.redact(&t));
            let _ = self.c.accept_alert().await;
        }
        if let Ok(png) = self.safe_screenshot().await {
            let _ = std::fs::write(dir.join("screenshot.png"), png);
        }
        if let Ok(html) = self.c.source().await {
            let _ = std::fs::write(
                dir.join("page.html"),
                self.spec.redactor.redact(&blank_sensitive_inputs(&html)),
            );
        }
    }

    fn write_trace(&self, report: &RunReport) {
        if std::fs::create_dir_all(&self.spec.artifacts).is_ok() {
            if let Ok(s) = serde_json::to_string_pretty(report) {
                let _ = std::fs::write(
                    self.spec.artifacts.join("trace.json"),
                    self.spec.redactor.redact(&s),
                );
            }
        }
    }

    /// Waits for screen `idx` (or, when it is optional, a later one).
    async fn await_screen(&mut self, idx: usize) -> Result<Seen, RunError> {
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
        let timeout = screens[idx].timeout.unwrap_or(self.flow().timeout);
        let deadline = Instant::now() + timeout;
        let mut last;
        loop {
            if let Some(text) = self.alert_text().await? {
                for &c in &cands {
                    if let Some(p) = &screens[c].recognise.alert {
                        if regex::Regex::new(p).is_ok_and(|r| r.is_match(&text)) {
                            return Ok(Seen::Screen(c));
                        }
                    }
                }
                if let Some((o, a)) = self.match_outcomes(Some(&text), None, false) {
                    return Ok(Seen::Outcome(Box::new(o), a));
                }
                let _ = self.c.accept_alert().await;
                return Err(RunError::Drift(format!(
                    "waiting for screen \"{}\": unexpected alert \"{}\"",
                    screens[idx].label,
                    self.spec.redactor.redact(&text)
                )));
            }
            let mut groups: Vec<&Targets> = vec![];
            for &c in &cands {
                groups.extend(screens[c].recognise.elements.iter());
            }
            let p = match page::probe(self.c, &groups, "").await {
                Ok(p) => p,
                Err(e) if page::is_transient(&e) || page::is_alert_open(&e) => {
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let mut gi = 0;
            for &c in &cands {
                let r = &screens[c].recognise;
                let n = r.elements.len();
                let els_ok = p.groups[gi..gi + n].iter().all(|g| g.is_some());
                gi += n;
                let url_ok = r.url.as_ref().is_none_or(|u| p.url.contains(u.as_str()));
                let texts_ok = r.texts.iter().all(|t| p.text.contains(t.as_str()));
                let has_static = r.url.is_some() || n > 0 || !r.texts.is_empty();
                if has_static && url_ok && els_ok && texts_ok && p.ready != "loading" {
                    return Ok(Seen::Screen(c));
                }
            }
            if let Some((o, a)) = self.check_outcomes(Some(&p), false).await? {
                return Ok(Seen::Outcome(Box::new(o), a));
            }
            last = p;
            if Instant::now() > deadline {
                let s = &screens[idx];
                let mut want = vec![];
                if let Some(u) = &s.recognise.url {
                    want.push(format!("URL containing \"{u}\""));
                }
                for e in &s.recognise.elements {
                    want.push(format!("element {}", list(e)));
                }
                for t in &s.recognise.texts {
                    want.push(format!("text \"{t}\""));
                }
                return Err(RunError::Drift(format!(
                    "expected screen \"{}\" ({}) within {}s, but the page at {} shows: {}",
                    s.label,
                    want.join(", "),
                    timeout.as_secs(),
                    last.url,
                    snippet(&last.text)
                )));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// A drift error that names the screen and step.
fn drift(screen: &Screen, st: &Step, what: String) -> StepErr {
    StepErr::Fail(RunError::Drift(format!(
        "screen \"{}\", step \"{}\": {what}",
        screen.label, st.label
    )))
}

enum Seen {
    Screen(usize),
    Outcome(Box<Outcome>, Option<String>),
}

fn list(t: &Targets) -> String {
    t.list
        .iter()
        .map(|x| format!("`{x}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

fn snippet(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 160 {
        format!("\"{}…\"", one.chars().take(160).collect::<String>())
    } else {
        format!("\"{one}\"")
    }
}

/// Blanks the values of password, OTP and captcha inputs in saved HTML.
pub fn blank_sensitive_inputs(html: &str) -> String {
    let input = regex::Regex::new(r"(?is)<input\b[^>]*>").unwrap();
    let sensitive = regex::Regex::new(
        r#"(?i)type\s*=\s*["']?password|(name|id)\s*=\s*["'][^"']*(otp|captcha|password)"#,
    )
    .unwrap();
    let value = regex::Regex::new(r#"(?i)\svalue\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)"#).unwrap();
    input
        .replace_all(html, |c: &regex::Captures| {
            let tag = &c[0];
            if sensitive.is_match(tag) {
                value.replace_all(tag, " value=\"\"").into_owned()
            } else {
                tag.to_string()
            }
        })
        .into_owned()
}

/// Opens a fresh browser session, runs the flow in it, closes it.
pub async fn run_in_new_session(endpoint: &crate::driver::Endpoint, spec: &RunSpec) -> RunReport {
    let started = Instant::now();
    let client = match endpoint.session().await {
        Ok(c) => c,
        Err(e) => {
            return RunReport {
                status: RunStatus::Failed,
                message: e.to_string(),
                outcome: None,
                gstin: gstin_of(&spec.vars),
                portal: spec.flow.portal.as_str().into(),
                api_username: None,
                vault: None,
                artifacts: spec.artifacts.clone(),
                total: started.elapsed(),
                human_wait: Duration::ZERO,
                steps: vec![],
            }
        }
    };
    let report = Runner::new(&client, spec).run().await;
    let _ = client.close().await;
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn blanks_secret_inputs_only() {
        let html = r#"<input id="txtOTP" name="OTP" value="123456"><input type="password" value='pw'><input name="UserName" value="keep"><input id="ctl00_txtCaptcha" value=ABC>"#;
        let out = blank_sensitive_inputs(html);
        assert!(!out.contains("123456") && !out.contains("'pw'") && !out.contains("ABC"));
        assert!(out.contains(r#"value="keep""#));
    }
}
