//! `--resume`: what an earlier run recorded decides whether a row runs.

use super::journal::{Entry, State};
use crate::events::{RowStatus, RunStatus};

/// Whether a row needs running, given what an earlier run recorded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Never seen, or it failed: run it.
    Run,
    /// Ran before and may have submitted: run, and let the portal's answer
    /// decide (with the vault id of the pending credential, if known).
    Verify(Option<String>),
    /// Done in an earlier run.
    Skip(&'static str),
}

/// The plan for a row whose last journal entry is `prev`.
pub(crate) fn plan(prev: Option<&Entry>) -> Plan {
    let Some(prev) = prev else {
        return Plan::Run;
    };
    match (prev.state, prev.status) {
        (State::Finished, Some(RowStatus::Ran(RunStatus::Registered))) => {
            Plan::Skip("registered in an earlier run")
        }
        (State::Finished, Some(RowStatus::Ran(RunStatus::AlreadyRegistered))) => {
            Plan::Skip("already registered (earlier run)")
        }
        (State::Finished, Some(RowStatus::Ran(RunStatus::NeedsVerification)))
        | (State::Submitting, _)
        | (State::InDoubt, _) => Plan::Verify(prev.vault_id.clone()),
        (State::Started, _) => Plan::Verify(None),
        _ => Plan::Run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(state: State, status: Option<RowStatus>, vault: Option<&str>) -> Entry {
        Entry {
            at: String::new(),
            key: "k".into(),
            gstin: "g".into(),
            line: 2,
            flow: None,
            state,
            status,
            vault_id: vault.map(String::from),
            message: None,
            answered: vec![],
        }
    }

    #[test]
    fn the_journal_decides_each_row() {
        assert_eq!(plan(None), Plan::Run);
        let done = e(
            State::Finished,
            Some(RowStatus::Ran(RunStatus::Registered)),
            None,
        );
        assert!(matches!(plan(Some(&done)), Plan::Skip(_)));
        let failed = e(
            State::Finished,
            Some(RowStatus::Ran(RunStatus::Failed)),
            None,
        );
        assert_eq!(plan(Some(&failed)), Plan::Run);
        let submitting = e(State::Submitting, None, Some("v1"));
        assert_eq!(plan(Some(&submitting)), Plan::Verify(Some("v1".into())));
        assert_eq!(
            plan(Some(&e(State::Started, None, None))),
            Plan::Verify(None)
        );
        let doubt = e(State::InDoubt, None, Some("v2"));
        assert_eq!(plan(Some(&doubt)), Plan::Verify(Some("v2".into())));
    }
}
