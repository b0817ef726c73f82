//! What a batch must not lose, and how a loss is reported: each row's
//! journal lines, and the ledger the row's walk records its credential
//! through. A failed write comes back typed ([`StoreFailure`]) and stops
//! new rows; it never travels as an event or a string.

use super::journal::{Entry, Journal, State};
use super::rows::Row;
use crate::ledger::{LedgerError, RowJournal};
use crate::store::StoreError;
use crate::vault;
use std::sync::Arc;

/// A write the batch could not make. Each names the row it belongs to.
#[derive(Debug, thiserror::Error)]
pub enum StoreFailure {
    /// The row's credential record (vault, or the journal's "submitting").
    #[error("line {line} ({gstin})")]
    Row {
        /// CSV line.
        line: usize,
        /// The row's GSTIN.
        gstin: String,
        /// What was not recorded.
        #[source]
        source: Arc<LedgerError>,
    },
    /// A journal line of the row's progress.
    #[error("journal line {line} ({gstin}) not recorded; the vault still holds every credential")]
    Journal {
        /// CSV line.
        line: usize,
        /// The row's GSTIN.
        gstin: String,
        /// Why.
        #[source]
        source: StoreError,
    },
}

impl StoreFailure {
    /// `row`'s credential record failed with `e`.
    pub(super) fn row(row: &Row, e: Arc<LedgerError>) -> StoreFailure {
        StoreFailure::Row {
            line: row.line,
            gstin: row.gstin(),
            source: e,
        }
    }

    /// Whether the write was refused by an abort's seal: the abort
    /// records the row, so this is no failure to report.
    pub(super) fn by_abort(&self) -> bool {
        match self {
            StoreFailure::Journal { source, .. } => source.by_abort(),
            StoreFailure::Row { source, .. } => {
                matches!(source.as_ref(), LedgerError::Journal { source, .. } if source.by_abort())
            }
        }
    }
}

/// A journal entry for `row` (in a chain, its `flow`) in `state`, stamped now.
pub(super) fn entry(row: &Row, flow: Option<&str>, state: State) -> Entry {
    Entry {
        at: vault::now_rfc3339(),
        key: row.key(),
        gstin: row.gstin(),
        line: row.line,
        flow: flow.map(String::from),
        state,
        status: None,
        vault_id: None,
        message: None,
        answered: vec![],
    }
}

/// One row's page of the journal (in a chain, one flow's), as its walk's
/// ledger writes it.
pub(super) struct RowBook {
    pub(super) journal: Arc<Journal>,
    pub(super) row: Row,
    pub(super) flow: Option<String>,
}

impl RowJournal for RowBook {
    fn submitting(&self, vault_id: &str) -> Result<(), StoreError> {
        let mut e = entry(&self.row, self.flow.as_deref(), State::Submitting);
        e.vault_id = Some(vault_id.to_string());
        self.journal.write(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Ledger;
    use crate::store::Store;
    use crate::vault::Vault;

    fn row() -> Row {
        Row {
            line: 2,
            given: vec![],
            values: [("gstin".to_string(), "27AAAAA0000A1Z5".to_string())].into(),
        }
    }

    #[test]
    fn a_journal_that_fails_inside_a_row_comes_back_as_a_typed_failure() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(Journal::on(Store::failing(dir.path()).unwrap()));
        let vault = Arc::new(Vault::open(&dir.path().join("v.jsonl")).unwrap());
        let book = RowBook {
            journal,
            row: row(),
            flow: None,
        };
        let ledger = Ledger::vault(vault).with_journal(Arc::new(book));
        // What the runner does before the submit, and hands back in its report.
        let e = Arc::new(ledger.pending(vault::Record::sample("c1")).unwrap_err());
        let failure = StoreFailure::row(&row(), e);
        let StoreFailure::Row { line, source, .. } = &failure else {
            panic!("{failure:?}");
        };
        assert_eq!(*line, 2);
        assert!(
            matches!(source.as_ref(), LedgerError::Journal { id, .. } if id == "c1"),
            "{source:?}"
        );
        let shown = crate::chain::chain(&failure);
        assert!(
            shown.starts_with("line 2 (27AAAAA0000A1Z5): not submitting: the journal could not record credential c1 as submitting"),
            "{shown}"
        );
        assert!(
            shown.ends_with("/dev/full: No space left on device (os error 28)"),
            "{shown}"
        );
    }

    /// A row the abort's seal refuses before its submit does not submit:
    /// its credential says so, and its failure is the abort's, not one to
    /// report as a lost write.
    #[test]
    fn a_row_refused_by_an_aborts_seal_does_not_submit_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(Journal::open(&dir.path().join("j.jsonl")).unwrap());
        let vault = Arc::new(Vault::open(&dir.path().join("v.jsonl")).unwrap());
        let book = RowBook {
            journal: journal.clone(),
            row: row(),
            flow: None,
        };
        let _sealed = journal.seal();
        let ledger = Ledger::vault(vault.clone()).with_journal(Arc::new(book));
        let e = Arc::new(ledger.pending(vault::Record::sample("c1")).unwrap_err());
        assert!(StoreFailure::row(&row(), e).by_abort());
        let creds = vault.read_all().unwrap();
        assert_eq!(creds[0].status, vault::Status::Failed);
        assert_eq!(
            creds[0].note.as_deref(),
            Some("not submitted: the batch was aborted")
        );
        let full = Journal::on(Store::failing(dir.path()).unwrap());
        let lost = full
            .write(&entry(&row(), None, State::Started))
            .unwrap_err();
        let failure = StoreFailure::Journal {
            line: 2,
            gstin: "g".into(),
            source: lost,
        };
        assert!(!failure.by_abort());
    }
}
