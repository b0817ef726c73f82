//! `--repair` in the walk: a step target that found nothing, or a dialog
//! nothing names, is asked about instead of ending the run. The answer is
//! checked on the page and the walk goes on in the same session: no new
//! login, captcha or OTP. Never once the credential is recorded pending:
//! after that the in-flight rule holds.

use super::error::{Drift, StepErr};
use super::lookup::Hit;
use super::page::{nearest, Need, Prep, Probe};
use super::{Runner, Used};
use crate::events::{DialogAnswer, DialogSort, Event};
use crate::flow::{Screen, Step, Target, Targets};
use crate::operator::{Ask, RepairAsk, Reply};
use crate::repair::answer::{self, Answer};
use crate::repair::{Book, Candidate, DialogRepair, Repair, RepairKind, TargetRepair};
use std::borrow::Cow;
use std::sync::Arc;

/// The step a screen's repair names (it is the screen's recognition).
const RECOGNITION: &str = "(recognition)";
/// How many answers one question takes before the run stops as drift.
const TRIES: usize = 3;
/// Candidates offered, best first.
const CANDIDATES: usize = 9;
/// How long a chosen target may take to show.
const CHECK_MS: u64 = 1500;

impl Runner<'_> {
    /// The book, when a drift here may be repaired: asked for, a walk that
    /// acts, nothing recorded pending yet, and not the cleanup after the end.
    fn may_repair(&self) -> Option<Arc<Book>> {
        let book = self.spec.repairs.clone()?;
        let open = self.mode().acts() && self.cred.vault_id.is_none() && !self.at.cleaning;
        open.then_some(book)
    }

    /// `t` led by the target a repair put first, when one did.
    pub(super) fn repaired<'t>(&self, t: &'t Targets) -> Cow<'t, Targets> {
        let first = self.spec.repairs.as_ref().and_then(|b| b.target_for(t.loc));
        match first.and_then(|f| Target::parse(&f).ok()) {
            Some(f) if t.list.first() != Some(&f) => {
                let mut list = vec![f.clone()];
                list.extend(t.list.iter().filter(|x| **x != f).cloned());
                Cow::Owned(Targets { loc: t.loc, list })
            }
            _ => Cow::Borrowed(t),
        }
    }

    /// Asks what stands where `t` (the flow's list) stood, checks the
    /// answer on the page and records it; `drift` when it cannot be.
    pub(super) async fn repair_target(
        &mut self,
        screen: &Screen,
        st: &Step,
        t: &Targets,
        need: Need,
        drift: Drift,
    ) -> Result<(Hit, Used), StepErr> {
        let Some(book) = self.may_repair() else {
            return Err(drift.into());
        };
        let _turn = book.turn().await;
        // Another row may have been asked about this list while this one waited.
        if let Some(first) = book.target_for(t.loc) {
            if let Some(hit) = self.try_target(&first, t, need).await? {
                return Ok(hit);
            }
        }
        let key = key_of(st, t);
        let candidates = self.repair_candidates(screen, t, need, key).await;
        let q = Missing {
            kind: RepairKind::Target,
            step: &st.label,
            what: self.spec.redactor.redact(&drift.what),
            candidates,
            can_skip: st.optional,
        };
        if let Some((target, hit)) = self.choose_target(screen, q, t, need).await? {
            self.record(&book, screen, &st.label, (key, t), &target)
                .await;
            return Ok(hit);
        }
        Err(drift.into())
    }

    /// A screen that did not show because an element it is known by found
    /// nothing: asks what stands for that element now, checks it, records
    /// it. `true` when the walk may look for the screen again.
    pub(super) async fn repair_screen(
        &mut self,
        idx: usize,
        last: &Probe,
    ) -> Result<bool, StepErr> {
        let Some(book) = self.may_repair() else {
            return Ok(false);
        };
        let screen = &self.flow().screens[idx];
        let r = &screen.recognise;
        let missing =
            (0..r.elements.len()).find(|&i| last.groups.get(i).is_none_or(|g| g.is_none()));
        let Some(t) = missing.map(|i| &r.elements[i]) else {
            return Ok(false); // an address or a text: nothing to point at
        };
        let _turn = book.turn().await;
        let need = nearest::kind_of(t).unwrap_or(Need::See);
        if let Some(first) = book.target_for(t.loc) {
            if self.try_target(&first, t, need).await?.is_some() {
                return Ok(true);
            }
        }
        let candidates = self.repair_candidates(screen, t, need, "elements").await;
        let q = Missing {
            kind: RepairKind::Screen,
            step: RECOGNITION,
            what: format!(
                "screen \"{}\" did not show: no element matches {}",
                screen.label,
                super::page::list(t)
            ),
            candidates,
            can_skip: false,
        };
        if let Some((target, _)) = self.choose_target(screen, q, t, need).await? {
            self.record(&book, screen, RECOGNITION, ("elements", t), &target)
                .await;
            return Ok(true);
        }
        Ok(false)
    }

    /// Asks what stands where `t` stood, up to [`TRIES`] answers, each
    /// checked on the page: the target chosen and what it found, or
    /// `None` (skip, stop, or no answer that found anything).
    async fn choose_target(
        &mut self,
        screen: &Screen,
        q: Missing<'_>,
        t: &Targets,
        need: Need,
    ) -> Result<Option<(String, (Hit, Used))>, StepErr> {
        let shot = self.repair_shot().await;
        let mut again = None;
        for _ in 0..TRIES {
            let ask = RepairAsk {
                kind: q.kind,
                what: q.what.clone(),
                screenshot: shot.clone(),
                file: self.repair_file(&candidates_json(&q.candidates))?,
                candidates: q.candidates.clone(),
                again: again.take(),
                can_skip: q.can_skip,
            };
            let line = self.ask_repair(screen, q.step, ask).await?;
            let target = match answer::parse(&line, q.candidates.len()) {
                Ok(Answer::Candidate(n)) => q.candidates[n - 1].target.clone(),
                Ok(Answer::Target(x)) => x.to_string(),
                Ok(Answer::Skip) if q.can_skip => return Ok(None),
                Ok(Answer::Stop) => return Ok(None),
                Ok(Answer::Skip) => {
                    again = Some("skip is for optional steps only".into());
                    continue;
                }
                Ok(_) => {
                    again = Some(format!("`{line}` answers a dialog, not a missing target"));
                    continue;
                }
                Err(e) => {
                    again = Some(e.to_string());
                    continue;
                }
            };
            match self.try_target(&target, t, need).await? {
                Some(hit) => return Ok(Some((target, hit))),
                None => again = Some(format!("`{target}` finds nothing usable on this page")),
            }
        }
        Ok(None)
    }

    /// With `--repair`: finds the submit step's target before the
    /// credential is recorded pending, so a repair it needs is asked while
    /// repairs may still be made. The click itself comes after.
    pub(super) async fn ready_to_submit(
        &mut self,
        screen: &Screen,
        st: &Step,
    ) -> Result<(), StepErr> {
        if self.may_repair().is_none() {
            return Ok(());
        }
        let need = match st.kind {
            crate::flow::StepKind::Fill { .. } | crate::flow::StepKind::FillSecret { .. } => {
                Need::Fill
            }
            crate::flow::StepKind::Select { .. } => Need::Pick,
            _ => Need::Click,
        };
        for t in st.kind.targets() {
            self.find(screen, st, t, need).await?;
        }
        Ok(())
    }

    /// Looks `target` up once, waiting briefly: the answer, checked.
    async fn try_target(
        &mut self,
        target: &str,
        t: &Targets,
        need: Need,
    ) -> Result<Option<(Hit, Used)>, StepErr> {
        let Ok(parsed) = Target::parse(target) else {
            return Ok(None);
        };
        let one = Targets {
            loc: t.loc,
            list: vec![parsed],
        };
        let mark = self.s.mark();
        let prep = Prep {
            wait_ms: CHECK_MS,
            ..Prep::default()
        };
        let found = self.s.find_once(&one, need, &mark, &prep).await?;
        tracing::debug!(target, matched = ?found.matched, report = ?found.report, "repair target checked");
        Ok(found.matched.map(|_| {
            let used = Used {
                target: Some(target.to_string()),
                fallback: false,
            };
            (Hit { mark, found }, used)
        }))
    }

    /// The visible elements of the kind the step needs, most like what it named.
    async fn repair_candidates(
        &self,
        screen: &Screen,
        t: &Targets,
        need: Need,
        key: &str,
    ) -> Vec<Candidate> {
        let others = super::proposal::css_of(screen, t);
        let seen = nearest::ranked(self.s.c, t, need, &others, CANDIDATES).await;
        let seen = seen.unwrap_or_else(|e| {
            tracing::debug!("no repair candidates: {e}");
            vec![]
        });
        seen.iter()
            .filter_map(|s| Some((s.target()?, s)))
            .enumerate()
            .map(|(i, (target, s))| Candidate {
                n: i + 1,
                toml: format!(
                    "{key} = {}",
                    super::proposal::toml_list(&super::proposal::with_first(&target, t))
                ),
                target,
                text: s.text.clone(),
                label: s.label.clone(),
                describe: s.describe(),
            })
            .collect()
    }

    /// The page as it is, secrets masked, for the person to look at.
    async fn repair_shot(&mut self) -> Option<std::path::PathBuf> {
        let png = match self.safe_screenshot().await {
            Ok(Some(png)) => png,
            Ok(None) => return None,
            Err(e) => {
                tracing::debug!("no repair screenshot: {e}");
                return None;
            }
        };
        self.people.repairs += 1;
        let name = format!("repair-{}.png", self.people.repairs);
        let path = self.spec.artifacts.join(name);
        match self.write_artifact(&path, &png) {
            Ok(()) => Some(path),
            Err(e) => {
                tracing::warn!("{}", crate::chain::Chain(&e));
                None
            }
        }
    }

    /// The question's JSON, for a repair command's `$1`.
    fn repair_file(&mut self, json: &str) -> Result<std::path::PathBuf, StepErr> {
        self.people.repair_files += 1;
        let name = format!("repair-{}.json", self.people.repair_files);
        let path = self.spec.artifacts.join(name);
        let json = self.spec.redactor.redact(json);
        self.write_artifact(&path, json.as_bytes())?;
        Ok(path)
    }

    /// Asks through the queue; the answer line (never kept as a secret).
    async fn ask_repair(
        &mut self,
        screen: &Screen,
        step: &str,
        ask: RepairAsk,
    ) -> Result<String, StepErr> {
        match self
            .ask(
                screen,
                step,
                Ask::Repair(Box::new(ask)),
                String::new(),
                false,
            )
            .await?
        {
            Reply::Answer(a, _) => Ok(a.expose().trim().to_string()),
            Reply::Renew => Ok(String::new()),
        }
    }

    async fn record(
        &mut self,
        book: &Book,
        screen: &Screen,
        step: &str,
        (key, t): (&str, &Targets),
        target: &str,
    ) {
        let page = self.s.c.current_url().await.map(|u| u.to_string());
        let r = TargetRepair {
            loc: t.loc,
            key: key.into(),
            screen: screen.label.clone(),
            step: step.into(),
            target: target.into(),
            old: t.list.iter().map(|x| x.to_string()).collect(),
            page: self.spec.redactor.redact(&page.unwrap_or_default()),
            day: crate::repair::today(),
        };
        self.emit(Event::Repaired {
            screen: screen.label.clone(),
            step: Some(step.into()),
            what: format!("`{target}` put first"),
        });
        self.keep_repair(book, Repair::Target(r));
    }

    fn keep_repair(&mut self, book: &Book, r: Repair) {
        self.repairs.push(r.clone());
        match book.add(r) {
            Ok(()) => {}
            // The abort records the rows in flight; the repair holds for this run.
            Err(e) if e.by_abort() => {
                tracing::debug!("the batch was aborted: the journal records no more repairs")
            }
            Err(e) => tracing::warn!(
                "the journal could not record a repair (it still holds for this run): {}",
                crate::chain::Chain(&e)
            ),
        }
    }

    /// A dialog nothing in the flow names: answered as a repair said, or
    /// asked about. `true` when it was answered and the walk goes on.
    pub(super) async fn repair_dialog(
        &mut self,
        text: &str,
        screen: Option<&Screen>,
    ) -> Result<bool, StepErr> {
        let Some(book) = self.spec.repairs.clone() else {
            return Ok(false);
        };
        if let Some(a) = book.dialog_for(&self.spec.redactor.redact(text)) {
            self.answer(text, DialogSort::Repaired, a).await?;
            return Ok(true);
        }
        let (Some(book), Some(screen)) = (self.may_repair(), screen) else {
            return Ok(false);
        };
        let _turn = book.turn().await;
        let shown = self.spec.redactor.redact(text);
        let json = serde_json::json!({ "kind": "dialog", "text": shown }).to_string();
        let mut again = None;
        for _ in 0..TRIES {
            let ask = RepairAsk {
                kind: RepairKind::Dialog,
                what: format!("a dialog nothing in the flow names: \"{shown}\""),
                screenshot: None,
                file: self.repair_file(&json)?,
                candidates: vec![],
                again: again.take(),
                can_skip: false,
            };
            let line = self.ask_repair(screen, "(a dialog)", ask).await?;
            let a = match answer::parse(&line, 0) {
                Ok(Answer::Accept) => DialogAnswer::Accept,
                Ok(Answer::Dismiss) => DialogAnswer::Dismiss,
                Ok(Answer::Stop) => return Ok(false),
                _ => {
                    again = Some(format!("`{line}`: answer accept, dismiss or stop"));
                    continue;
                }
            };
            self.answer(text, DialogSort::Repaired, a).await?;
            let page = self.s.c.current_url().await.map(|u| u.to_string());
            let r = DialogRepair {
                screen: Some(screen.label.clone()),
                text: shown.clone(),
                answer: a,
                page: self.spec.redactor.redact(&page.unwrap_or_default()),
                day: crate::repair::today(),
            };
            self.emit(Event::Repaired {
                screen: screen.label.clone(),
                step: None,
                what: format!("dialog \"{shown}\" {}", a.past()),
            });
            self.keep_repair(&book, Repair::Dialog(r));
            return Ok(true);
        }
        Ok(false)
    }
}

/// The key a step writes `t` under (`click`, `input`, ...).
fn key_of(st: &Step, t: &Targets) -> &'static str {
    st.kind
        .named_targets()
        .iter()
        .find(|(_, x)| x.loc == t.loc)
        .map(|(k, _)| *k)
        .unwrap_or_else(|| st.kind.name())
}

/// The candidates as a repair command reads them.
fn candidates_json(c: &[Candidate]) -> String {
    serde_json::to_string_pretty(c).expect("candidates serialise")
}

/// A question about a missing target: what it is about and what to offer.
struct Missing<'a> {
    kind: RepairKind,
    /// The step it is asked for (a screen's: its recognition).
    step: &'a str,
    /// What was tried and found.
    what: String,
    candidates: Vec<Candidate>,
    /// `skip` may be answered (an optional step).
    can_skip: bool,
}
