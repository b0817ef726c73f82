//! The smoke check: walks each flow's screens as far as they go with no
//! person and no side effect, and checks every selector the flow would use
//! there. A captcha, an OTP, a submit or a step marked `barrier` is never
//! crossed. Each finding is `ok`, `fallback`, `drift` or `unreachable`.

pub mod junit;

use crate::flow::{Condition, Flow, OptionChoice, StepKind, Target, Targets};
use crate::runner::page::{self, Miss};
use fantoccini::{Client, Locator};
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Ok,
    Fallback,
    Drift,
    Unreachable,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::Fallback => "fallback",
            Class::Drift => "drift",
            Class::Unreachable => "unreachable",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub flow: String,
    pub screen: String,
    pub step: String,
    /// recognise, target, option, text, navigation, barrier
    pub check: String,
    pub selector: Option<String>,
    pub class: Class,
    pub detail: String,
}

pub struct SmokeSpec {
    pub flow: std::sync::Arc<Flow>,
    pub base_url: String,
    pub vars: HashMap<String, String>,
    pub timeout: Duration,
    pub artifacts: PathBuf,
}

struct Walk<'a> {
    c: &'a Client,
    spec: &'a SmokeSpec,
    out: Vec<Finding>,
    marks: u64,
    /// The step that led to the page now showing, for recognition findings.
    last_step: Option<String>,
}

const POLL: Duration = Duration::from_millis(60);

pub async fn smoke(c: &Client, spec: &SmokeSpec) -> Vec<Finding> {
    let _ = c
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            None,
            Some(spec.timeout),
            None,
        ))
        .await;
    let mut w = Walk {
        c,
        spec,
        out: vec![],
        marks: 0,
        last_step: None,
    };
    w.walk().await;
    if w.out.iter().any(|f| f.class >= Class::Drift) {
        w.screenshot().await;
    }
    w.out
}

impl Walk<'_> {
    fn holds(&self, c: &Option<Condition>) -> bool {
        c.as_ref()
            .is_none_or(|c| c.holds(|k| self.spec.vars.get(k).cloned()))
    }

    fn add(
        &mut self,
        screen: &str,
        step: &str,
        check: &str,
        selector: Option<String>,
        class: Class,
        detail: impl Into<String>,
    ) {
        let step = match (step, &self.last_step) {
            ("recognise", Some(prev)) => format!("recognise (after \"{prev}\")"),
            _ => step.to_string(),
        };
        let step = step.as_str();
        self.out.push(Finding {
            flow: self.spec.flow.name.clone(),
            screen: screen.into(),
            step: step.into(),
            check: check.into(),
            selector,
            class,
            detail: detail.into(),
        });
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.into()
        } else {
            format!(
                "{}{}{}",
                self.spec.base_url,
                if path.starts_with('/') { "" } else { "/" },
                path
            )
        }
    }

    async fn screenshot(&self) {
        if std::fs::create_dir_all(&self.spec.artifacts).is_ok() {
            if let Ok(png) = self.c.screenshot().await {
                let _ = std::fs::write(
                    self.spec
                        .artifacts
                        .join(format!("{}.png", self.spec.flow.name)),
                    png,
                );
            }
        }
    }

    /// Returns false when the walk must stop.
    async fn walk(&mut self) -> bool {
        let flow = self.spec.flow.clone();
        let screens = &flow.screens;
        let mut idx = 0;
        while idx < screens.len() {
            let s = &screens[idx];
            if !self.holds(&s.when) {
                idx += 1;
                continue;
            }
            let mut first = 0;
            for st in s
                .steps
                .iter()
                .take_while(|st| matches!(st.kind, StepKind::Goto { .. }))
            {
                first += 1;
                if let StepKind::Goto { url } = &st.kind {
                    self.last_step = Some(st.label.clone());
                    let Ok(u) = url.render(&self.spec.vars) else {
                        continue;
                    };
                    let u = self.url(&u);
                    if let Err(e) = self.c.goto(&u).await {
                        self.add(
                            &s.label,
                            &st.label,
                            "navigation",
                            Some(u.clone()),
                            Class::Unreachable,
                            format!("cannot open {u}: {e}"),
                        );
                        return false;
                    }
                }
            }
            // Recognise this screen, or (when optional) a later one.
            let mut cands = vec![idx];
            if s.optional {
                for (j, n) in screens.iter().enumerate().skip(idx + 1) {
                    if self.holds(&n.when) {
                        cands.push(j);
                        if !n.optional {
                            break;
                        }
                    }
                }
            }
            let Some(seen) = self.recognise(&cands).await else {
                return false;
            };
            if seen != idx {
                idx = seen;
                first = screens[seen]
                    .steps
                    .iter()
                    .take_while(|st| matches!(st.kind, StepKind::Goto { .. }))
                    .count();
            }
            let s = &screens[idx];
            for st in &s.steps[first..] {
                if !self.holds(&st.when) {
                    continue;
                }
                let barrier = st.kind.needs_human() || st.submits || st.barrier;
                for t in st.kind.targets() {
                    if t.list.iter().all(is_element) {
                        self.check_target(&s.label, &st.label, t, need_of(&st.kind))
                            .await;
                    }
                }
                if barrier {
                    self.add(
                        &s.label,
                        &st.label,
                        "barrier",
                        None,
                        Class::Ok,
                        format!(
                            "stopped before \"{}\": it needs a person or changes state",
                            st.label
                        ),
                    );
                    return true;
                }
                match &st.kind {
                    StepKind::Goto { url } => {
                        let Ok(u) = url.render(&self.spec.vars) else {
                            continue;
                        };
                        if let Err(e) = self.c.goto(&self.url(&u)).await {
                            self.add(
                                &s.label,
                                &st.label,
                                "navigation",
                                Some(u),
                                Class::Unreachable,
                                e.to_string(),
                            );
                            return false;
                        }
                    }
                    StepKind::Click { target, navigates }
                    | StepKind::Choose { target, navigates } => {
                        self.last_step = Some(st.label.clone());
                        if !self.act(&s.label, &st.label, target, *navigates).await {
                            return false;
                        }
                    }
                    StepKind::Select { target, option, .. } => {
                        self.check_options(&s.label, &st.label, target, option)
                            .await
                    }
                    StepKind::Expect {
                        target,
                        text: Some(t),
                        absent: false,
                    } => {
                        if let Ok(want) = t.render(&self.spec.vars) {
                            self.check_text(&s.label, &st.label, target, &want).await;
                        }
                    }
                    _ => {}
                }
            }
            idx += 1;
        }
        true
    }

    async fn recognise(&mut self, cands: &[usize]) -> Option<usize> {
        let flow = self.spec.flow.clone();
        let deadline = Instant::now() + self.spec.timeout;
        loop {
            if let Ok(text) = self.c.get_alert_text().await {
                let _ = self.c.accept_alert().await;
                let s = &flow.screens[cands[0]];
                self.add(
                    &s.label,
                    "recognise",
                    "recognise",
                    None,
                    Class::Drift,
                    format!("an unexpected alert: \"{text}\""),
                );
                return None;
            }
            let groups: Vec<&Targets> = cands
                .iter()
                .flat_map(|&c| flow.screens[c].recognise.elements.iter())
                .collect();
            let p = match page::probe(self.c, &groups, "").await {
                Ok(p) => p,
                Err(_) => {
                    if Instant::now() > deadline {
                        let s = &flow.screens[cands[0]];
                        self.add(
                            &s.label,
                            "recognise",
                            "recognise",
                            None,
                            Class::Unreachable,
                            "the page did not answer",
                        );
                        return None;
                    }
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
            let mut gi = 0;
            for &c in cands {
                let r = &flow.screens[c].recognise;
                let n = r.elements.len();
                let gs = &p.groups[gi..gi + n];
                gi += n;
                let url_ok = r.url.as_ref().is_none_or(|u| p.url.contains(u.as_str()));
                let texts_ok = r.texts.iter().all(|t| p.text.contains(t.as_str()));
                if url_ok
                    && texts_ok
                    && gs.iter().all(|g| g.is_some())
                    && p.ready != "loading"
                    && (r.url.is_some() || n > 0 || !r.texts.is_empty())
                {
                    let label = flow.screens[c].label.clone();
                    for (e, g) in r.elements.iter().zip(gs) {
                        let i = g.as_ref().map(|x| x.0).unwrap_or(0);
                        let used = page::target_of(e, i).map(|t| t.to_string());
                        let (class, detail) = if i == 0 {
                            (Class::Ok, "matched".to_string())
                        } else {
                            (
                                Class::Fallback,
                                format!(
                                    "primary `{}` no longer matches; fallback #{} did",
                                    e.list[0],
                                    i + 1
                                ),
                            )
                        };
                        self.add(&label, "recognise", "recognise", used, class, detail);
                    }
                    return Some(c);
                }
            }
            if Instant::now() > deadline {
                // Name exactly what is missing on the screen we expected.
                let s = &flow.screens[cands[0]];
                let r = &s.recognise;
                let mut missing = vec![];
                if let Some(u) = &r.url {
                    if !p.url.contains(u.as_str()) {
                        missing.push((
                            Some(format!("url:{u}")),
                            format!("the address is {}, not one containing \"{u}\"", p.url),
                        ));
                    }
                }
                for (e, g) in r.elements.iter().zip(&p.groups) {
                    if g.is_none() {
                        missing.push((
                            Some(
                                e.list
                                    .iter()
                                    .map(|t| t.to_string())
                                    .collect::<Vec<_>>()
                                    .join(" | "),
                            ),
                            "no element matches any of these selectors".to_string(),
                        ));
                    }
                }
                for t in &r.texts {
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
                let label = s.label.clone();
                for (sel, why) in missing {
                    self.add(
                        &label,
                        "recognise",
                        "recognise",
                        sel,
                        Class::Drift,
                        format!("expected screen \"{label}\" at {}: {why}", p.url),
                    );
                }
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn find(&mut self, t: &Targets, need: &str) -> (String, page::Found) {
        self.marks += 1;
        let mark = format!("s{}", self.marks);
        let deadline = Instant::now() + self.spec.timeout;
        loop {
            let f = page::find(self.c, t, need, &mark)
                .await
                .unwrap_or(page::Found {
                    index: -1,
                    report: vec![],
                });
            if f.index >= 0 || Instant::now() > deadline {
                return (mark, f);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn check_target(
        &mut self,
        screen: &str,
        step: &str,
        t: &Targets,
        need: &str,
    ) -> Option<String> {
        let (mark, f) = self.find(t, need).await;
        let all = t
            .list
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" | ");
        match f.index {
            0 => self.add(
                screen,
                step,
                "target",
                Some(t.list[0].to_string()),
                Class::Ok,
                "matched",
            ),
            i if i > 0 => {
                let used = page::target_of(t, i).map(|x| x.to_string());
                let why = match f.report.first() {
                    Some(Miss::Hidden) => "is hidden",
                    Some(Miss::Disabled) => "is disabled",
                    _ => "matches nothing",
                };
                self.add(
                    screen,
                    step,
                    "target",
                    used,
                    Class::Fallback,
                    format!(
                        "primary `{}` {why}; fallback #{} matched: update the flow",
                        t.list[0],
                        i + 1
                    ),
                );
            }
            _ => {
                self.add(
                    screen,
                    step,
                    "target",
                    Some(all),
                    Class::Drift,
                    format!(
                        "no usable element: {}",
                        page::describe_targets(t, &f.report)
                    ),
                );
                return None;
            }
        }
        Some(mark)
    }

    /// Clicks a non-barrier control (e.g. a Login link) to reach the next screen.
    async fn act(&mut self, screen: &str, step: &str, t: &Targets, navigates: bool) -> bool {
        let (mark, f) = self.find(t, "click").await;
        if f.index < 0 {
            return false; // already reported by check_target
        }
        let token = format!("nav{}", self.marks);
        if navigates && page::set_nav_marker(self.c, &token).await.is_err() {
            return false;
        }
        if page::is_checked(self.c, &mark).await.unwrap_or(false) {
            return true;
        }
        let Ok(el) = self
            .c
            .find(Locator::Css(&format!("[data-einvreg-target=\"{mark}\"]")))
            .await
        else {
            return false;
        };
        if let Err(e) = el.click().await {
            self.add(
                screen,
                step,
                "navigation",
                None,
                Class::Drift,
                format!("could not click: {e}"),
            );
            return false;
        }
        if navigates {
            let deadline = Instant::now() + self.spec.timeout;
            loop {
                match page::probe(self.c, &[], &token).await {
                    Ok(p) if !p.marked && p.ready == "complete" => break,
                    Err(e) if page::is_alert_open(&e) => break,
                    _ => {}
                }
                if Instant::now() > deadline {
                    self.add(
                        screen,
                        step,
                        "navigation",
                        None,
                        Class::Unreachable,
                        format!(
                            "the next page did not load within {}s",
                            self.spec.timeout.as_secs()
                        ),
                    );
                    return false;
                }
                tokio::time::sleep(POLL).await;
            }
        }
        true
    }

    async fn check_options(
        &mut self,
        screen: &str,
        step: &str,
        t: &Targets,
        option: &OptionChoice,
    ) {
        let (tmpl, by_label) = match option {
            OptionChoice::Label(t) => (t, true),
            OptionChoice::Value(t) => (t, false),
        };
        // The given value, or every allowed value of a choice input.
        let wanted: Vec<String> = match tmpl.render(&self.spec.vars) {
            Ok(v) => vec![v],
            Err(_) => {
                let vars: Vec<&str> = tmpl.vars().collect();
                match vars.as_slice() {
                    [one] => match self.spec.flow.input(one).map(|i| &i.ty) {
                        Some(crate::flow::InputType::Choice { values }) => values
                            .iter()
                            .map(|v| {
                                tmpl.render(&HashMap::from([(one.to_string(), v.clone())]))
                                    .unwrap_or_default()
                            })
                            .collect(),
                        _ => vec![],
                    },
                    _ => vec![],
                }
            }
        };
        if wanted.is_empty() {
            return;
        }
        let (mark, f) = self.find(t, "see").await;
        if f.index < 0 {
            return;
        }
        let options = page::select_options(self.c, &mark)
            .await
            .unwrap_or_default();
        let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        for w in wanted {
            let found = options.iter().any(|(v, l)| {
                if by_label {
                    norm(l) == norm(&w)
                } else {
                    *v == w
                }
            });
            if found {
                self.add(screen, step, "option", Some(w), Class::Ok, "listed");
            } else {
                let labels: Vec<&str> = options.iter().map(|(_, l)| l.as_str()).collect();
                let close = crate::flow::suggest::did_you_mean(&w, labels.iter().copied())
                    .map(|c| format!("; closest: \"{c}\""))
                    .unwrap_or_default();
                self.add(
                    screen,
                    step,
                    "option",
                    Some(w.clone()),
                    Class::Drift,
                    format!("the dropdown no longer lists \"{w}\"{close}"),
                );
            }
        }
    }

    async fn check_text(&mut self, screen: &str, step: &str, t: &Targets, want: &str) {
        let p = page::probe(self.c, &[t], "").await.unwrap_or_default();
        match p.groups.first().cloned().flatten() {
            Some((_, inner)) if inner.contains(want) => self.add(
                screen,
                step,
                "text",
                Some(want.into()),
                Class::Ok,
                "present",
            ),
            Some(_) => self.add(
                screen,
                step,
                "text",
                Some(want.into()),
                Class::Drift,
                format!("\"{want}\" is not in {}", t.list[0]),
            ),
            None => {}
        }
    }
}

fn need_of(k: &StepKind) -> &'static str {
    match k {
        StepKind::Fill { .. } | StepKind::FillSecret { .. } | StepKind::Otp { .. } => "fill",
        StepKind::Click { .. } | StepKind::Choose { .. } | StepKind::Select { .. } => "click",
        StepKind::Captcha { .. } => "see",
        _ => "see",
    }
}

/// Targets that only `wait_for` understands are not page elements.
pub fn is_element(t: &Target) -> bool {
    !matches!(t, Target::Url(_) | Target::Navigation)
}

pub fn table(findings: &[Finding], verbose: bool) -> String {
    let mut s = String::new();
    for f in findings.iter().filter(|f| verbose || f.class != Class::Ok) {
        let sel = f
            .selector
            .as_ref()
            .map(|x| format!(" [{x}]"))
            .unwrap_or_default();
        s.push_str(&format!(
            "{:<11} {} › {} › {}: {}{sel}\n",
            f.class.as_str(),
            f.flow,
            f.screen,
            f.step,
            f.detail
        ));
    }
    let n = |c: Class| findings.iter().filter(|f| f.class == c).count();
    s.push_str(&format!(
        "{} checks: {} ok, {} fallback, {} drift, {} unreachable\n",
        findings.len(),
        n(Class::Ok),
        n(Class::Fallback),
        n(Class::Drift),
        n(Class::Unreachable)
    ));
    s
}

/// 0 clean, 5 drift (or fallback with `strict`), 6 unreachable.
pub fn exit_code(findings: &[Finding], strict: bool) -> i32 {
    use crate::cli::exit::*;
    if findings.iter().any(|f| f.class == Class::Unreachable) {
        PORTAL
    } else if findings
        .iter()
        .any(|f| f.class == Class::Drift || (strict && f.class == Class::Fallback))
    {
        DRIFT
    } else {
        OK
    }
}
