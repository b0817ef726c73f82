//! What einvreg wrote, read back: the journal's entries and the vault's
//! credentials, in a test's folder.

use einvreg::vault::{Credential, Vault};
use std::path::{Path, PathBuf};

/// The default file a test's runs wrote in `dir`: the rehearsal one
/// (`--portal replica`) or the real one (a replica's URL), never both.
fn default_file(dir: &Path, real: &str, rehearsal: &str) -> PathBuf {
    let (real, rehearsal) = (dir.join(real), dir.join(rehearsal));
    assert!(
        !(real.exists() && rehearsal.exists()),
        "a rehearsal and a real run share {}",
        dir.display()
    );
    match rehearsal.exists() {
        true => rehearsal,
        false => real,
    }
}

/// The vault the runs in `dir` wrote by default.
pub fn vault_file(dir: &Path) -> PathBuf {
    use einvreg::vault::{DEFAULT_FILE, REHEARSAL_FILE};
    default_file(dir, DEFAULT_FILE, REHEARSAL_FILE)
}

/// The journal the batches in `dir` kept by default.
pub fn journal_file(dir: &Path) -> PathBuf {
    use einvreg::journal_files::{DEFAULT_FILE, REHEARSAL_FILE};
    default_file(dir, DEFAULT_FILE, REHEARSAL_FILE)
}

/// Every entry of the journal in `dir`.
pub fn journal_states(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(journal_file(dir))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The journal's `finished` entries in `dir`.
pub fn finished_entries(dir: &Path) -> Vec<serde_json::Value> {
    journal_states(dir)
        .into_iter()
        .filter(|e| e["state"] == "finished")
        .collect()
}

/// Every credential in the default vault in `dir` (real or rehearsal).
pub fn vault_in(dir: &Path) -> Vec<Credential> {
    Vault::read(&vault_file(dir)).expect("the vault reads")
}

/// Row `line`'s folder of the batch that ran in `dir`
/// (`einvreg-runs/<time>-batch-<pid>/<line>-<gstin>`); until a batch made
/// it, a path that does not exist.
pub fn row_dir(dir: &Path, line: usize, gstin: &str) -> std::path::PathBuf {
    let name = format!("{line:04}-{gstin}");
    let runs = dir.join("einvreg-runs");
    let batches = std::fs::read_dir(&runs).into_iter().flatten().flatten();
    batches
        .map(|b| b.path().join(&name))
        .find(|p| p.exists())
        .unwrap_or_else(|| runs.join("(no batch yet)").join(&name))
}
