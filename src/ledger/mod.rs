//! A row's credential records: the vault, and in a batch the journal's
//! "submitting" line for the row. The runner writes through one
//! [`Ledger`] handed to it; every write returns a `Result`, so a record
//! that must not be lost never travels by event (events are for
//! observers only).
//!
//! The order is the safety rule: the credential is in the vault, then the
//! journal says the row is submitting, and only then is it submitted. A
//! journal that cannot say so stops the row before its submit, and the
//! credential is marked failed ("not submitted").

use crate::store::StoreError;
use crate::vault::{self, Vault, VaultError};
use std::path::Path;
use std::sync::Arc;

/// Where a batch row's state is kept besides the vault: the journal.
/// The batch implements it for each row; a single `run` has none.
pub trait RowJournal: Send + Sync {
    /// The row's credential `vault_id` is in the vault and its submit comes next.
    fn submitting(&self, vault_id: &str) -> Result<(), StoreError>;
}

/// Why a credential record was not written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The vault refused the pending record: nothing was submitted.
    #[error("not submitting: the vault could not take a pending credential")]
    Pending(#[source] VaultError),
    /// The journal could not say the row is submitting: nothing was submitted.
    #[error("not submitting: the journal could not record credential {id} as submitting (the vault marks it not submitted)")]
    Journal {
        /// The credential, written pending and then marked failed.
        id: String,
        /// Why the journal write failed.
        #[source]
        source: StoreError,
    },
    /// The credential's final status was not recorded; its pending record stands.
    #[error("credential {id} could not be marked {} in the vault; its pending record stands: run again with --resume once the disk is fixed", status.name())]
    Settle {
        /// The credential.
        id: String,
        /// The status it should have had.
        status: vault::Status,
        /// Why the vault write failed.
        #[source]
        source: VaultError,
    },
    /// The auth API's verdict was not recorded; the credential's record stands.
    #[error("the auth API's verdict on credential {id} could not be recorded in the vault; it stays {}", kept.name())]
    Verdict {
        /// The credential.
        id: String,
        /// The status it keeps.
        kept: vault::Status,
        /// Why the vault write failed.
        #[source]
        source: VaultError,
    },
}

/// Where one row's credential records go.
#[derive(Clone, Default)]
pub struct Ledger {
    vault: Option<Arc<Vault>>,
    journal: Option<Arc<dyn RowJournal>>,
    reuse: Option<String>,
}

impl Ledger {
    /// Records nowhere (the smoke check changes nothing).
    pub fn none() -> Ledger {
        Ledger::default()
    }

    /// Records in `vault`.
    pub fn vault(vault: Arc<Vault>) -> Ledger {
        Ledger {
            vault: Some(vault),
            ..Ledger::default()
        }
    }

    /// Also tells `journal` before the submit.
    pub fn with_journal(self, journal: Arc<dyn RowJournal>) -> Ledger {
        Ledger {
            journal: Some(journal),
            ..self
        }
    }

    /// A resumed row: its pending credential `id` is submitted again as
    /// is, instead of a new one being written.
    pub fn reusing(self, id: Option<String>) -> Ledger {
        Ledger { reuse: id, ..self }
    }

    /// The vault's file, when there is a vault.
    pub fn vault_path(&self) -> Option<&Path> {
        self.vault.as_deref().map(Vault::path)
    }

    /// The resumed row's credential, if this row resubmits one.
    pub fn reused(&self) -> Option<&str> {
        self.reuse.as_deref()
    }

    /// Records `record` as pending (or, resuming, the reused credential)
    /// and tells the journal; returns the credential's id, or `None` when
    /// there is no vault to record in. On `Err` nothing may be submitted.
    pub fn pending(&self, record: vault::Record) -> Result<Option<String>, LedgerError> {
        let id = match (&self.reuse, &self.vault) {
            (Some(id), _) => id.clone(),
            (None, Some(v)) => {
                v.append(&record).map_err(LedgerError::Pending)?;
                record.id
            }
            (None, None) => return Ok(None),
        };
        self.tell_journal(&id)?;
        Ok(Some(id))
    }

    fn tell_journal(&self, id: &str) -> Result<(), LedgerError> {
        let Some(j) = &self.journal else {
            return Ok(());
        };
        let Err(source) = j.submitting(id) else {
            return Ok(());
        };
        // A resubmitted credential keeps its pending record: it may exist.
        if let (Some(v), None) = (&self.vault, &self.reuse) {
            let note = match source.by_abort() {
                true => "not submitted: the batch was aborted",
                false => "not submitted: the journal could not be written",
            };
            let note = note.to_string();
            if let Err(e) = v.set_status(id, vault::Status::Failed, Some(note)) {
                tracing::error!("credential {id} stays pending: {}", crate::chain::Chain(&e));
            }
        }
        Err(LedgerError::Journal {
            id: id.to_string(),
            source,
        })
    }

    /// Records how the credential `id` ended.
    pub fn settle(
        &self,
        id: &str,
        status: vault::Status,
        note: Option<String>,
    ) -> Result<(), LedgerError> {
        let Some(v) = &self.vault else {
            return Ok(());
        };
        v.set_status(id, status, note)
            .map_err(|source| LedgerError::Settle {
                id: id.to_string(),
                status,
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    struct FullJournal;

    impl RowJournal for FullJournal {
        fn submitting(&self, _: &str) -> Result<(), StoreError> {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = Store::failing(dir.path()).expect("a store on /dev/full");
            store.append("{}")
        }
    }

    #[test]
    fn a_journal_that_fails_stops_the_submit_and_marks_the_credential_not_submitted() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(Vault::open(&dir.path().join("v.jsonl")).unwrap());
        let ledger = Ledger::vault(vault.clone()).with_journal(Arc::new(FullJournal));
        let err = ledger.pending(vault::Record::sample("c1")).unwrap_err();
        let LedgerError::Journal { id, source } = &err else {
            panic!("not a journal error: {err:?}");
        };
        assert_eq!(id, "c1");
        let StoreError::Io { source: io, .. } = source else {
            panic!("not an io error: {source:?}");
        };
        assert_eq!(io.raw_os_error(), Some(libc::ENOSPC));
        let creds = vault.read_all().unwrap();
        assert_eq!(creds.len(), 1);
        assert_eq!(creds[0].status, vault::Status::Failed);
    }

    #[test]
    fn a_resubmitted_credential_stays_pending_when_the_journal_fails() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(Vault::open(&dir.path().join("v.jsonl")).unwrap());
        vault.append(&vault::Record::sample("old")).unwrap();
        let ledger = Ledger::vault(vault.clone())
            .with_journal(Arc::new(FullJournal))
            .reusing(Some("old".into()));
        assert!(matches!(
            ledger.pending(vault::Record::sample("new")),
            Err(LedgerError::Journal { .. })
        ));
        let creds = vault.read_all().unwrap();
        assert_eq!(creds.len(), 1, "nothing new written");
        assert_eq!(creds[0].status, vault::Status::Pending);
    }

    #[test]
    fn a_vault_that_fails_is_a_pending_error_and_the_journal_hears_nothing() {
        struct Counting(std::sync::atomic::AtomicU32);
        impl RowJournal for Counting {
            fn submitting(&self, _: &str) -> Result<(), StoreError> {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(Vault::on(Store::failing(dir.path()).unwrap()));
        let journal = Arc::new(Counting(0.into()));
        let ledger = Ledger::vault(vault).with_journal(journal.clone());
        assert!(matches!(
            ledger.pending(vault::Record::sample("c1")),
            Err(LedgerError::Pending(_))
        ));
        assert_eq!(journal.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[test]
    fn without_a_vault_nothing_is_recorded() {
        assert_eq!(
            Ledger::none().pending(vault::Record::sample("c1")).unwrap(),
            None
        );
        assert!(Ledger::none()
            .settle("c1", vault::Status::Created, None)
            .is_ok());
    }
}
