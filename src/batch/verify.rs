//! `batch --verify`: a row's credential checked through the e-Invoice auth
//! API, before the portal's screens when resuming one left in flight, and
//! after a row that ends in doubt (or created, with `--verify all`).

use super::{Row, Shared};
use crate::events::{Ending, RunStatus};
use crate::runner::RunReport;
use crate::vault::{Credential, Kind};
use crate::verify::settle::{self, Settled};
use crate::verify::Verdict;

/// What the auth API settled for a resumed row's credential in doubt.
pub(super) enum Resumed {
    /// Confirmed (now `created`): nothing left to do.
    Confirmed(String),
    /// It does not exist or does not work (now `failed`): register afresh.
    Rejected,
    /// Not settled: resubmit it through the portal's screens.
    Unsettled,
}

/// Verifies a resumed row's credential in doubt, when `--verify` is on.
pub(super) async fn resumed(shared: &Shared, row: &Row, c: &Credential) -> Resumed {
    // The auth API knows API users only: a portal login is resubmitted.
    let Some(v) = shared
        .spec
        .verify
        .as_ref()
        .filter(|_| c.kind == Kind::ApiUser)
    else {
        return Resumed::Unsettled;
    };
    let s = settle::one(&shared.spec.vault, &v.verifier, c).await;
    noted(shared, row, &s);
    match (&s.verdict, &s.store_error) {
        (Verdict::Works, None) => Resumed::Confirmed(format!(
            "confirmed on resume: {} (an earlier run created {})",
            s.verdict.describe(),
            s.username
        )),
        (Verdict::Rejected { .. }, None) => Resumed::Rejected,
        _ => Resumed::Unsettled,
    }
}

/// The row's status after its run, its credential verified when asked for.
pub(super) async fn after(shared: &Shared, row: &Row, report: &RunReport, end: Ending) -> Ending {
    let Some(v) = &shared.spec.verify else {
        return end;
    };
    let wanted = end.status == RunStatus::NeedsVerification
        || (v.created_too && end.status == RunStatus::Registered);
    let Some(id) = report.credential.as_deref().filter(|_| wanted) else {
        return end;
    };
    match settle::by_id(&shared.spec.vault, &v.verifier, id).await {
        Some(s) => {
            noted(shared, row, &s);
            settle::status_after(end, &s)
        }
        None => end,
    }
}

/// A verdict the vault could not take stops the batch like any store failure.
fn noted(shared: &Shared, row: &Row, s: &Settled) {
    if let Some(e) = &s.store_error {
        shared.store_failed(super::StoreFailure::row(row, e.clone()));
    }
}
