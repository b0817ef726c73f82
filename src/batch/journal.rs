//! The batch journal: append-only JSON lines, fsync'd per record, of each
//! row's state transitions. `--resume` reads it back.

use crate::events::RowStatus;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
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
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<RowStatus>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vault_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub message: Option<String>,
}

pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Journal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write(&self, e: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_string(e).expect("entry serialises");
        line.push('\n');
        let mut f = self.file.lock().expect("journal lock");
        f.write_all(line.as_bytes())?;
        f.sync_data()
    }

    /// The last entry per key. A torn last line (a crash mid-write) is skipped.
    pub fn last_states(path: &Path) -> std::io::Result<HashMap<String, Entry>> {
        let mut out = HashMap::new();
        let f = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for line in std::io::BufReader::new(f).lines() {
            let line = line?;
            if let Ok(e) = serde_json::from_str::<Entry>(&line) {
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
