//! The credentials vault: the one place credentials are written.
//!
//! An append-only JSON-lines file, owner-only (0600), fsync'd per record.
//! A credential is appended as `pending` *before* the submit that creates
//! it; later records with the same id only change its status. Nothing is
//! ever overwritten, so no crash can lose a credential. With age
//! recipients ([`seal`]), each line is `{at, sealed}` instead.

pub mod seal;

/// The vault `run`, `batch`, `verify` and `vault` use when none is given.
pub const DEFAULT_FILE: &str = "einvreg-vault.jsonl";
/// The default vault of a rehearsal (`--portal replica`): rehearsed
/// credentials never sit beside real ones.
pub const REHEARSAL_FILE: &str = "einvreg-rehearsal-vault.jsonl";

use crate::store::{Store, StoreError};
pub use seal::{Keys, SealError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// Where a credential stands.
pub enum Status {
    /// Written before the submit; the portal's answer is not known yet.
    Pending,
    /// The portal said it was created.
    Created,
    /// The portal said "already created" on a first try: log in to check.
    NeedsVerification,
    /// The submit did not create it.
    Failed,
}

impl Status {
    /// As written in the vault.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Created => "created",
            Status::NeedsVerification => "needs_verification",
            Status::Failed => "failed",
        }
    }
}

/// What a credential logs in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An e-Invoice API user (Create API User, sandbox registration); what
    /// records written before kinds existed hold.
    #[default]
    ApiUser,
    /// A login to the portal's web pages (Registration → Portal Login).
    PortalLogin,
}

impl Kind {
    /// How listings and reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::ApiUser => "api_user",
            Kind::PortalLogin => "portal_login",
        }
    }

    /// The kind a flow's `credentials.kind` names.
    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::ApiUser, Kind::PortalLogin]
            .into_iter()
            .find(|k| k.name() == s)
    }
}

/// One line of the vault: a new credential, or a later status of one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// The credential's id (later records repeat it).
    pub id: String,
    /// When, RFC 3339.
    pub at: String,
    /// Its status as of this record.
    pub status: Status,
    /// `sandbox` or `production`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub portal: Option<String>,
    /// The portal address used.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub base_url: Option<String>,
    /// The flow that made it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flow: Option<String>,
    /// The GSTIN.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gstin: Option<String>,
    /// What it logs in to; on the first record of a credential only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kind: Option<Kind>,
    /// The GSP/ERP (or route) it is for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub provider: Option<String>,
    /// The API username as the portal knows it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub username: Option<String>,
    /// The API password: the one place it is written.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub password: Option<String>,
    /// Why a status changed (redacted).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
    /// When the e-Invoice auth API last accepted it, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verified_at: Option<String>,
}

impl Record {
    /// A pending credential `id` for a GSTIN, as tests need one.
    #[cfg(test)]
    pub(crate) fn sample(id: &str) -> Record {
        Record {
            id: id.into(),
            at: now_rfc3339(),
            status: Status::Pending,
            portal: Some("production".into()),
            base_url: None,
            flow: None,
            gstin: Some("27AAAAA0000A1Z5".into()),
            kind: Some(Kind::ApiUser),
            provider: None,
            username: Some("u".into()),
            password: Some("p".into()),
            note: None,
            verified_at: None,
        }
    }

    /// A later record of credential `id`: its new status, nothing else.
    fn change(id: &str, status: Status, note: Option<String>) -> Record {
        Record {
            id: id.to_string(),
            at: now_rfc3339(),
            status,
            portal: None,
            base_url: None,
            flow: None,
            gstin: None,
            kind: None,
            provider: None,
            username: None,
            password: None,
            note,
            verified_at: None,
        }
    }
}

/// A credential as it stands after all its records.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    /// Its id.
    pub id: String,
    /// Its latest status.
    pub status: Status,
    /// `sandbox` or `production`.
    pub portal: String,
    /// The portal address it was made on.
    pub base_url: String,
    /// The GSTIN.
    pub gstin: String,
    /// What it logs in to.
    pub kind: Kind,
    /// The GSP/ERP (or route).
    pub provider: String,
    /// The API username.
    pub username: String,
    /// The API password.
    pub password: String,
    /// The latest note.
    pub note: Option<String>,
    /// When the auth API last accepted it.
    pub verified_at: Option<String>,
    /// When it was first written (RFC 3339).
    pub written_at: String,
    /// When its status last changed (RFC 3339).
    pub changed_at: String,
}

/// Why the vault could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Opening or appending failed (locked, a symlink, another owner, disk full).
    #[error("vault")]
    Store(#[from] StoreError),
    /// The file system said no.
    #[error("vault {}", path.display())]
    Io {
        /// The vault file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line that is not a record (other than a torn last line).
    #[error("vault {} line {line}", path.display())]
    Corrupt {
        /// The vault file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A sealed line that could not be opened.
    #[error("vault {} line {line}", path.display())]
    Sealed {
        /// The vault file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// Why.
        #[source]
        source: SealError,
    },
}

/// A vault line as written: sealed (with recipients) or plain. A sealed
/// line shows only when it was written: the id names the GSTIN.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Sealed { at: String, sealed: String },
    Plain(Box<Record>),
}

/// The open vault file: locked, appends serialised and fsync'd.
pub struct Vault {
    store: Store,
    keys: Arc<Keys>,
}

/// Now, as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Vault {
    /// Opens (or creates) the vault, owner-only and locked for this process.
    pub fn open(path: &Path) -> Result<Vault, VaultError> {
        Vault::open_with(path, Arc::new(Keys::default()))
    }

    /// Opens the vault; records are sealed for `keys`' recipients, if any.
    pub fn open_with(path: &Path, keys: Arc<Keys>) -> Result<Vault, VaultError> {
        Ok(Vault {
            store: Store::open(path)?,
            keys,
        })
    }

    /// A vault on `store` (for tests: a store that fails).
    #[cfg(test)]
    pub(crate) fn on(store: Store) -> Vault {
        Vault {
            store,
            keys: Arc::new(Keys::default()),
        }
    }

    /// Every credential, read afresh with this vault's identities.
    pub fn read_all(&self) -> Result<Vec<Credential>, VaultError> {
        Vault::read_with(self.path(), &self.keys)
    }

    /// The vault file.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// Appends one record and waits until it is on disk.
    pub fn append(&self, rec: &Record) -> Result<(), VaultError> {
        let mut line = serde_json::to_string(rec).expect("record serialises");
        if self.keys.seals() {
            let sealed = self.keys.seal(&line).map_err(|source| VaultError::Sealed {
                path: self.path().into(),
                line: 0,
                source,
            })?;
            let l = Line::Sealed {
                at: rec.at.clone(),
                sealed,
            };
            line = serde_json::to_string(&l).expect("sealed line serialises");
        }
        Ok(self.store.append(&line)?)
    }

    /// Records a new status for credential `id`.
    pub fn set_status(
        &self,
        id: &str,
        status: Status,
        note: Option<String>,
    ) -> Result<(), VaultError> {
        self.append(&Record::change(id, status, note))
    }

    /// Records that the auth API accepted credential `id` just now.
    pub fn set_verified(&self, id: &str, note: String) -> Result<(), VaultError> {
        let mut r = Record::change(id, Status::Created, Some(note));
        r.verified_at = Some(r.at.clone());
        self.append(&r)
    }

    /// Every credential with its latest status, in first-written order.
    /// A torn last line (a crash mid-write) is not a record and is skipped.
    pub fn read(path: &Path) -> Result<Vec<Credential>, VaultError> {
        Vault::read_with(path, &Keys::default())
    }

    /// [`Vault::read`], opening sealed lines with `keys`' identities.
    pub fn read_with(path: &Path, keys: &Keys) -> Result<Vec<Credential>, VaultError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(source) => {
                return Err(VaultError::Io {
                    path: path.into(),
                    source,
                })
            }
        };
        let whole = match crate::store::torn_tail(&text) {
            Some(torn) => &text[..text.len() - torn.len()],
            None => &text,
        };
        let mut out: Vec<Credential> = vec![];
        // Sealed lines that would not open: skipped (named) unless none
        // opened at all, which is a wrong identity, not a damaged line.
        let (mut opened, mut damaged) = (0, vec![]);
        for (i, line) in whole.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let corrupt = |source| VaultError::Corrupt {
                path: path.into(),
                line: i + 1,
                source,
            };
            let r = match serde_json::from_str(line).map_err(corrupt)? {
                Line::Plain(r) => *r,
                Line::Sealed { sealed, .. } => match keys.open(&sealed) {
                    Ok(plain) => {
                        opened += 1;
                        serde_json::from_str(&plain).map_err(corrupt)?
                    }
                    Err(source) => {
                        damaged.push(VaultError::Sealed {
                            path: path.into(),
                            line: i + 1,
                            source,
                        });
                        continue;
                    }
                },
            };
            merge(&mut out, r);
        }
        if opened == 0 && !damaged.is_empty() {
            return Err(damaged.remove(0));
        }
        for e in &damaged {
            tracing::warn!(
                "{}; that line is skipped, the other credentials are usable",
                crate::chain::Chain(e)
            );
        }
        Ok(out)
    }
}

/// Folds one record into the credentials read so far.
fn merge(out: &mut Vec<Credential>, r: Record) {
    match out.iter_mut().find(|c| c.id == r.id) {
        Some(c) => {
            c.status = r.status;
            c.changed_at = r.at;
            if r.note.is_some() {
                c.note = r.note;
            }
            if r.verified_at.is_some() {
                c.verified_at = r.verified_at;
            }
        }
        None => out.push(Credential {
            written_at: r.at.clone(),
            changed_at: r.at,
            id: r.id,
            status: r.status,
            portal: r.portal.unwrap_or_default(),
            base_url: r.base_url.unwrap_or_default(),
            gstin: r.gstin.unwrap_or_default(),
            kind: r.kind.unwrap_or_default(),
            provider: r.provider.unwrap_or_default(),
            username: r.username.unwrap_or_default(),
            password: r.password.unwrap_or_default(),
            note: r.note,
            verified_at: r.verified_at,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> Record {
        let mut r = Record::change(id, Status::Created, None);
        r.gstin = Some("27AAPFU0939F1ZV".into());
        r.password = Some(format!("Pw@{id}12345"));
        r
    }

    #[test]
    fn one_damaged_sealed_line_is_skipped_and_a_wrong_identity_still_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("v.jsonl");
        let (id, recipient) = seal::keygen();
        let mut keys = seal::Keys::default();
        keys.add_recipient("r", &recipient).unwrap();
        keys.add_identity_file("id.txt", &id).unwrap();
        let keys = Arc::new(keys);
        let v = Vault::open_with(&p, keys.clone()).unwrap();
        v.append(&record("a")).unwrap();
        v.append(&record("b")).unwrap();
        drop(v);
        let text = std::fs::read_to_string(&p).unwrap();
        let first = text.lines().next().unwrap();
        let cut = first.find("\"sealed\":\"").unwrap() + 20;
        let damaged = format!("{}XXXX{}", &first[..cut], &first[cut + 4..]);
        std::fs::write(&p, text.replacen(first, &damaged, 1)).unwrap();
        let creds = Vault::read_with(&p, &keys).unwrap();
        assert_eq!(creds.len(), 1, "{creds:?}");
        assert_eq!(creds[0].id, "b");
        let (other, _) = seal::keygen();
        let mut wrong = seal::Keys::default();
        wrong.add_identity_file("other.txt", &other).unwrap();
        assert!(
            Vault::read_with(&p, &wrong).is_err(),
            "no line opens: a wrong identity"
        );
    }

    #[test]
    fn append_only_owner_only_latest_status_wins() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("v.jsonl");
        let v = Vault::open(&p).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let rec = Record {
            id: "a".into(),
            at: now_rfc3339(),
            status: Status::Pending,
            portal: Some("production".into()),
            base_url: None,
            flow: None,
            gstin: Some("27AAPFU0939F1ZV".into()),
            kind: None,
            provider: Some("Tera".into()),
            username: Some("API_x".into()),
            password: Some("Pw@12345x".into()),
            note: None,
            verified_at: None,
        };
        v.append(&rec).unwrap();
        v.set_status("a", Status::Created, None).unwrap();
        let c = Vault::read(&p).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].status, Status::Created);
        assert_eq!(c[0].password, "Pw@12345x");
        // Written without a kind, as vaults were before kinds: an API user.
        assert_eq!(c[0].kind, Kind::ApiUser);
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 2, "appended, not rewritten");
        assert_eq!(
            text.matches("Pw@12345x").count(),
            1,
            "the password is written once"
        );
        // Wider permissions on an existing vault are tightened.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(v);
        Vault::open(&p).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn a_portal_login_keeps_its_kind_through_status_changes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("v.jsonl");
        let v = Vault::open(&p).unwrap();
        let mut rec = Record::sample("login");
        rec.kind = Some(Kind::PortalLogin);
        v.append(&rec).unwrap();
        v.set_status("login", Status::Created, None).unwrap();
        let c = Vault::read(&p).unwrap();
        assert_eq!(
            (c[0].kind, c[0].status),
            (Kind::PortalLogin, Status::Created)
        );
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(r#""kind":"portal_login""#), "{text}");
        assert_eq!(Kind::parse("portal_login"), Some(Kind::PortalLogin));
        assert_eq!(Kind::parse("portal-login"), None);
    }
}
