//! Repair during the run (`--repair`): on drift the walk asks a person, or
//! a `--repair-command`, what stands there now instead of stopping; the
//! answer is checked on the page and the walk goes on in the same session.
//! Every repair goes into one [`Book`]: later rows of a batch use it first
//! (the same drift is asked about once), the journal records it, and `cli`
//! writes it back into the flow ([`write`]).

pub mod answer;
pub mod diff;
pub mod write;

use crate::events::DialogAnswer;
use crate::flow::Loc;
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// A step's target list that found nothing, and the target that did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetRepair {
    /// Where the list stands in the flow file.
    pub loc: Loc,
    /// The key it is written under (`click`, `fill`, `input`...).
    pub key: String,
    /// Screen and step labels.
    pub screen: String,
    pub step: String,
    /// The target that matched, put first.
    pub target: String,
    /// The targets the flow had, kept as fallbacks.
    pub old: Vec<String>,
    /// The page it was seen on.
    pub page: String,
    /// The day (UTC), for the comment in the repaired flow.
    pub day: String,
}

/// A dialog nothing in the flow named, and the answer a person chose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DialogRepair {
    /// The screen it opened on, when known.
    pub screen: Option<String>,
    /// Its text (redacted where it shows a secret).
    pub text: String,
    pub answer: DialogAnswer,
    pub page: String,
    pub day: String,
}

/// One repair.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Repair {
    Target(TargetRepair),
    Dialog(DialogRepair),
}

/// Where each repair is recorded as it is made (a batch's journal).
pub trait RepairLog: Send + Sync {
    /// Records `r`; an error is reported, the repair still holds.
    fn record(&self, r: &Repair) -> Result<(), crate::store::StoreError>;
}

/// The repairs of one `run` or `batch`, shared by its rows.
#[derive(Default)]
pub struct Book {
    repairs: Mutex<Vec<Repair>>,
    log: Option<Arc<dyn RepairLog>>,
    /// One repair question at a time: a row that meets a drift another
    /// row is being asked about waits, then uses that answer.
    turn: tokio::sync::Mutex<()>,
}

impl Book {
    /// A book that journals each repair to `log`.
    pub fn logged(log: Arc<dyn RepairLog>) -> Book {
        Book {
            log: Some(log),
            ..Book::default()
        }
    }

    /// Keeps `r`; its journal line is written first, and a failure to
    /// write it comes back (the repair is kept all the same).
    pub fn add(&self, r: Repair) -> Result<(), crate::store::StoreError> {
        let logged = match &self.log {
            Some(l) => l.record(&r),
            None => Ok(()),
        };
        self.lock().push(r);
        logged
    }

    /// The target a repair put first for the list at `loc`.
    pub fn target_for(&self, loc: Loc) -> Option<String> {
        self.lock().iter().rev().find_map(|r| match r {
            Repair::Target(t) if t.loc == loc => Some(t.target.clone()),
            _ => None,
        })
    }

    /// The answer a person gave to a dialog with this text.
    pub fn dialog_for(&self, text: &str) -> Option<DialogAnswer> {
        self.lock().iter().rev().find_map(|r| match r {
            Repair::Dialog(d) if d.text == text => Some(d.answer),
            _ => None,
        })
    }

    /// Every repair, in the order made.
    pub fn all(&self) -> Vec<Repair> {
        self.lock().clone()
    }

    /// Waits for the turn to ask; held while the question is open.
    pub async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Repair>> {
        // A panic elsewhere leaves the list whole: it is only pushed to.
        self.repairs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One thing the person may choose: an element that stands on the page
/// now, like what the step named, with the target that finds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// 1, 2, ... best first.
    pub n: usize,
    pub target: String,
    pub text: String,
    pub label: String,
    /// The line to paste into the flow for this choice.
    pub toml: String,
    /// `<a id="x">, reading "Create"`: for people.
    #[serde(skip)]
    pub describe: String,
}

/// What a repair question is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairKind {
    /// A step's target found nothing.
    Target,
    /// A screen did not show: an element it is known by found nothing.
    Screen,
    /// A dialog nothing in the flow names.
    Dialog,
}

impl RepairKind {
    /// As `EINVREG_REPAIR_KIND` says it.
    pub fn as_str(self) -> &'static str {
        match self {
            RepairKind::Target => "target",
            RepairKind::Screen => "screen",
            RepairKind::Dialog => "dialog",
        }
    }
}

/// Today (UTC) as `2026-12-05`.
pub fn today() -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::OffsetDateTime::now_utc()
        .format(&f)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing(tempfile::TempDir);
    impl RepairLog for Failing {
        fn record(&self, _: &Repair) -> Result<(), crate::store::StoreError> {
            crate::store::Store::failing(self.0.path())?.append("x")
        }
    }

    fn target(line: usize, to: &str) -> Repair {
        Repair::Target(TargetRepair {
            loc: Loc { line, col: 3 },
            key: "click".into(),
            screen: "s".into(),
            step: "t".into(),
            target: to.into(),
            old: vec!["#a".into()],
            page: "/p".into(),
            day: today(),
        })
    }

    #[test]
    fn the_latest_repair_of_a_list_wins_and_dialogs_are_found_by_text() {
        let b = Book::default();
        b.add(target(4, "#b")).unwrap();
        b.add(target(4, "#c")).unwrap();
        assert_eq!(b.target_for(Loc { line: 4, col: 3 }).as_deref(), Some("#c"));
        assert_eq!(b.target_for(Loc { line: 5, col: 3 }), None);
        b.add(Repair::Dialog(DialogRepair {
            screen: None,
            text: "Sure?".into(),
            answer: DialogAnswer::Accept,
            page: "/p".into(),
            day: today(),
        }))
        .unwrap();
        assert_eq!(b.dialog_for("Sure?"), Some(DialogAnswer::Accept));
        assert_eq!(b.dialog_for("Other?"), None);
        assert_eq!(b.all().len(), 3);
    }

    #[test]
    fn a_journal_that_cannot_record_says_so_and_the_repair_still_holds() {
        let b = Book::logged(Arc::new(Failing(tempfile::tempdir().unwrap())));
        assert!(b.add(target(1, "#b")).is_err());
        assert_eq!(b.target_for(Loc { line: 1, col: 3 }).as_deref(), Some("#b"));
    }
}
