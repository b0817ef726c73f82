//! The batch journal: append-only JSON lines, fsync'd per record, of each
//! row's state transitions. `--resume` reads it back.

use crate::events::RowStatus;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

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
        self.store
            .append(&serde_json::to_string(&line).expect("repair serialises"))
    }
}

/// The open journal: locked, append-only, fsync'd per entry.
pub struct Journal {
    store: Store,
}

impl Journal {
    pub fn open(path: &Path) -> Result<Journal, StoreError> {
        Ok(Journal {
            store: Store::open(path)?,
        })
    }

    /// A journal on `store` (for tests: a store that fails).
    #[cfg(test)]
    pub(crate) fn on(store: Store) -> Journal {
        Journal { store }
    }

    pub fn path(&self) -> &Path {
        self.store.path()
    }

    pub fn write(&self, e: &Entry) -> Result<(), StoreError> {
        let line = serde_json::to_string(e).expect("entry serialises");
        self.store.append(&line)
    }

    /// The last entry per key. A torn last line (a crash mid-write) is skipped.
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
                let vault_id = e
                    .vault_id
                    .clone()
                    .or_else(|| out.get(&e.key).and_then(|p: &Entry| p.vault_id.clone()));
                out.insert(e.key.clone(), Entry { vault_id, ..e });
            }
        }
        Ok(out)
    }
}
