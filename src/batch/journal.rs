//! The batch journal: append-only JSON lines, fsync'd per record, of each
//! row's state transitions. `--resume` reads it back.

use crate::events::RowStatus;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Started,
    /// The credential is in the vault and the submit is about to happen.
    Submitting,
    Finished,
    /// Stopped (second Ctrl-C) while in flight: check before registering again.
    InDoubt,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub at: String,
    pub key: String,
    pub gstin: String,
    pub line: usize,
    /// In a chained batch (`batch A,B`): the flow this entry is about.
    /// A batch of one flow leaves it out, as journals always have.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flow: Option<String>,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<RowStatus>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vault_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<String>,
    /// On `finished`: who answered each prompt (never what).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub answered: Vec<crate::runner::Answered>,
}

/// The journal `batch` keeps when none is given.
pub const DEFAULT_FILE: &str = "einvreg-journal.jsonl";
/// A rehearsal's (`--portal replica`) default journal.
pub const REHEARSAL_FILE: &str = "einvreg-rehearsal-journal.jsonl";

impl Entry {
    /// What `--resume` looks an entry up by: the row's key, and in a chain
    /// the flow too (each flow of a row is resumed on its own).
    pub fn slot(&self) -> String {
        slot(&self.key, self.flow.as_deref())
    }
}

/// The resume slot of row `key` in `flow` (none for a batch of one flow).
pub fn slot(key: &str, flow: Option<&str>) -> String {
    match flow {
        Some(f) => format!("{key}>{f}"),
        None => key.to_string(),
    }
}

/// A repair (`--repair`) as its journal line: `{"at": …, "repair": …}`.
/// Resume reads entries only; this line is for people and audits.
#[derive(Serialize)]
struct RepairLine<'a> {
    at: String,
    repair: &'a crate::repair::Repair,
}

impl crate::repair::RepairLog for Journal {
    fn record(&self, r: &crate::repair::Repair) -> Result<(), StoreError> {
        let line = RepairLine {
            at: crate::vault::now_rfc3339(),
            repair: r,
        };
        let line = serde_json::to_string(&line).expect("repair serialises");
        self.while_open(|| self.store.append(&line))
    }
}

/// The open journal: locked, append-only, fsync'd per entry.
pub struct Journal {
    store: Store,
    /// Whether rows may still write: no longer once an abort has sealed it.
    /// Held across each row's write, so sealing waits for one under way.
    open: Mutex<bool>,
}

/// A journal an abort has sealed: only its holder writes to it. Rows
/// still running as their browsers are killed would otherwise record
/// "failed" over the "in doubt" the abort records for them.
pub struct Sealed<'a>(&'a Journal);

impl Sealed<'_> {
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn write(&self, e: &Entry) -> Result<(), StoreError> {
        self.0.append(e)
    }
}

impl Journal {
    pub fn open(path: &Path) -> Result<Journal, StoreError> {
        Ok(Journal::on(Store::open(path)?))
    }

    /// A journal on `store` (tests give one that fails).
    pub(crate) fn on(store: Store) -> Journal {
        Journal {
            store,
            open: Mutex::new(true),
        }
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// Records a row's entry; after [`Journal::seal`], refuses it
    /// ([`StoreError::Sealed`]: a row about to submit stops).
    pub fn write(&self, e: &Entry) -> Result<(), StoreError> {
        self.while_open(|| self.append(e))
    }

    /// Runs a row's write `w` unless the journal is sealed (then refuses
    /// it); the lock is held across it, so a seal waits for it to end.
    fn while_open(&self, w: impl FnOnce() -> Result<(), StoreError>) -> Result<(), StoreError> {
        let open = self.open.lock().expect("journal lock");
        match *open {
            true => w(),
            false => Err(StoreError::Sealed {
                path: self.path().to_path_buf(),
            }),
        }
    }

    /// Ends the rows' writes (once one under way has ended); the abort
    /// writes through what this returns.
    pub fn seal(&self) -> Sealed<'_> {
        *self.open.lock().expect("journal lock") = false;
        Sealed(self)
    }

    fn append(&self, e: &Entry) -> Result<(), StoreError> {
        let line = serde_json::to_string(e).expect("entry serialises");
        self.store.append(&line)
    }

    /// The last entry per slot ([`Entry::slot`]). A torn last line (a crash mid-write) is skipped.
    pub fn last_states(path: &Path) -> std::io::Result<HashMap<String, Entry>> {
        let mut out = HashMap::new();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for line in text.lines() {
            if let Ok(e) = serde_json::from_str::<Entry>(line) {
                // Keep the vault id of an earlier "submitting" record.
                let slot = e.slot();
                let vault_id = e
                    .vault_id
                    .clone()
                    .or_else(|| out.get(&slot).and_then(|p: &Entry| p.vault_id.clone()));
                out.insert(slot, Entry { vault_id, ..e });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str, flow: Option<&str>, state: &str, vault: Option<&str>) -> String {
        let mut v =
            serde_json::json!({"at": "t", "key": key, "gstin": "g", "line": 2, "state": state});
        if let Some(f) = flow {
            v["flow"] = f.into();
        }
        if let Some(id) = vault {
            v["vault_id"] = id.into();
        }
        v.to_string()
    }

    /// A chain's flows are resumed each on its own; a batch of one flow
    /// reads (and writes) the journal as it always has.
    #[test]
    fn each_flow_of_a_chained_row_has_its_own_slot() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let lines = [
            line("K|", None, "finished", None),
            line(
                "C|",
                Some("portal-login-register"),
                "submitting",
                Some("v1"),
            ),
            line("C|", Some("portal-login-register"), "finished", None),
            line("C|", Some("production-api-user"), "started", None),
        ];
        std::fs::write(&p, lines.join("\n")).unwrap();
        let last = Journal::last_states(&p).unwrap();
        assert_eq!(last.len(), 3);
        assert_eq!(last["K|"].state, State::Finished);
        let login = &last[&slot("C|", Some("portal-login-register"))];
        assert_eq!(login.state, State::Finished);
        // The finished entry keeps its flow's vault id, not another flow's.
        assert_eq!(login.vault_id.as_deref(), Some("v1"));
        let api = &last[&slot("C|", Some("production-api-user"))];
        assert_eq!((api.state, api.vault_id.as_deref()), (State::Started, None));
        let written = serde_json::to_string(&last["K|"]).unwrap();
        assert!(!written.contains("\"flow\""), "{written}");
    }

    fn entry(state: State) -> Entry {
        serde_json::from_str(&line("K|", None, "started", None))
            .map(|e: Entry| Entry { state, ..e })
            .unwrap()
    }

    /// After an abort seals the journal, a row's late "finished" (its
    /// browser killed under it) is refused; the abort's "in doubt" is
    /// written, and stays the row's last state.
    #[test]
    fn a_sealed_journal_takes_only_the_aborts_entries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let j = Journal::open(&p).unwrap();
        j.write(&entry(State::Started)).unwrap();
        let sealed = j.seal();
        sealed.write(&entry(State::InDoubt)).unwrap();
        let late = j.write(&entry(State::Finished));
        assert!(matches!(late, Err(StoreError::Sealed { .. })), "{late:?}");
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(
            Journal::last_states(&p).unwrap()["K|"].state,
            State::InDoubt
        );
    }

    /// A row repairing a flow as the abort runs: its repair line is
    /// refused like its entries, so the abort's "in doubt" is the last
    /// line a sealed journal gets.
    #[test]
    fn a_sealed_journal_refuses_a_rows_repair_line() {
        use crate::repair::{DialogRepair, Repair, RepairLog};
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.jsonl");
        let j = Journal::open(&p).unwrap();
        let repair = Repair::Dialog(DialogRepair {
            screen: None,
            text: "Session expires soon".into(),
            answer: crate::events::DialogAnswer::Accept,
            page: "http://127.0.0.1/".into(),
            day: "2026-12-07".into(),
        });
        j.record(&repair).unwrap();
        let sealed = j.seal();
        sealed.write(&entry(State::InDoubt)).unwrap();
        let late = j.record(&repair);
        assert!(matches!(late, Err(StoreError::Sealed { .. })), "{late:?}");
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains("Session expires soon"), "{text}");
        assert!(lines[1].contains("in_doubt"), "{text}");
    }
}
