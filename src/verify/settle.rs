//! Verdicts into the vault: `Works` confirms a credential (`created`, with
//! `verified_at`), `Rejected` fails it with NIC's code, anything else
//! leaves it as it was. The one place `verify` writes.

use super::{Verdict, Verifier};
use crate::flow::PortalKind;
use crate::ledger::LedgerError;
use crate::vault::{Credential, Status, Vault};
use std::sync::Arc;

/// Credentials checked at once (each GSTIN is paced on its own).
const AT_ONCE: usize = 4;

/// One credential's check.
#[derive(Debug, Clone)]
pub struct Settled {
    pub id: String,
    pub gstin: String,
    pub portal: String,
    pub provider: String,
    pub username: String,
    pub before: Status,
    pub after: Status,
    pub verdict: Verdict,
    /// The vault could not record the verdict.
    pub store_error: Option<Arc<LedgerError>>,
}

/// The portal a vault record names.
pub fn portal_of(c: &Credential) -> Option<PortalKind> {
    match c.portal.as_str() {
        "sandbox" => Some(PortalKind::Sandbox),
        "production" => Some(PortalKind::Production),
        _ => None,
    }
}

/// Records `v` for `c`; the status it has now.
pub fn apply(vault: &Vault, c: &Credential, v: &Verdict) -> Result<Status, LedgerError> {
    let written = match v {
        Verdict::Works => vault
            .set_verified(&c.id, v.describe())
            .map(|()| Status::Created),
        Verdict::Rejected { .. } => vault
            .set_status(&c.id, Status::Failed, Some(v.describe()))
            .map(|()| Status::Failed),
        _ => Ok(c.status),
    };
    written.map_err(|source| LedgerError::Verdict {
        id: c.id.clone(),
        kept: c.status,
        source,
    })
}

/// Checks one credential and records the verdict.
pub async fn one(vault: &Vault, verifier: &Verifier, c: &Credential) -> Settled {
    let verdict = match portal_of(c) {
        Some(p) => {
            let on = (p, c.base_url.as_str());
            verifier.check(on, &c.gstin, &c.username, &c.password).await
        }
        None => Verdict::Unsettled(format!("the vault names no portal for {}", c.id)),
    };
    let (after, store_error) = match apply(vault, c, &verdict) {
        Ok(s) => (s, None),
        Err(e) => (c.status, Some(Arc::new(e))),
    };
    Settled {
        id: c.id.clone(),
        gstin: c.gstin.clone(),
        portal: c.portal.clone(),
        provider: c.provider.clone(),
        username: c.username.clone(),
        before: c.status,
        after,
        verdict,
        store_error,
    }
}

/// Checks every credential, a few at a time, in the given order.
pub async fn all(
    vault: Arc<Vault>,
    verifier: Arc<Verifier>,
    creds: Vec<Credential>,
) -> Vec<Settled> {
    let sem = Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, c) in creds.into_iter().enumerate() {
        let (vault, verifier, sem) = (vault.clone(), verifier.clone(), sem.clone());
        tasks.spawn(async move {
            let _turn = sem.acquire_owned().await.expect("semaphore open");
            (i, one(&vault, &verifier, &c).await)
        });
    }
    let mut out = vec![];
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(x) => out.push(x),
            Err(e) => tracing::error!("a verify task failed: {e}"),
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, s)| s).collect()
}

/// Checks the credential `id` of `vault` (read afresh), if it is there.
pub async fn by_id(vault: &Vault, verifier: &Verifier, id: &str) -> Option<Settled> {
    let creds = match vault.read_all() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(
                "cannot read the vault to verify {id}: {}",
                crate::chain::Chain(&e)
            );
            return None;
        }
    };
    // The auth API knows API users only: a portal login keeps its run's word.
    let c = creds
        .into_iter()
        .find(|c| c.id == id && c.kind == crate::vault::Kind::ApiUser)?;
    Some(one(vault, verifier, &c).await)
}

/// A run's status and message once its credential was checked: confirmed
/// is registered, rejected is failed, anything else leaves the run's own.
pub fn status_after(end: crate::events::Ending, s: &Settled) -> crate::events::Ending {
    use crate::events::{Ending, RunStatus};
    let message = &end.message;
    let store = s
        .store_error
        .as_ref()
        .map(|e| format!("; but {}", crate::chain::chain(e.as_ref())))
        .unwrap_or_default();
    match &s.verdict {
        Verdict::Works if store.is_empty() => Ending::new(
            RunStatus::Registered,
            format!("confirmed by the e-Invoice auth API · {message}"),
        ),
        Verdict::Rejected { .. } if store.is_empty() => Ending::new(
            RunStatus::Failed,
            format!("{message}; {}", s.verdict.describe()),
        ),
        _ => Ending::new(
            end.status,
            format!("{message}; verify: {}{store}", s.verdict.describe()),
        ),
    }
}
