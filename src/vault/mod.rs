//! The credentials vault: the one place credentials are written.
//!
//! An append-only JSON-lines file, owner-only (0600), fsync'd per record.
//! A credential is appended as `pending` *before* the submit that creates
//! it; later records with the same id only change its status. Nothing is
//! ever overwritten, so no crash can lose a credential.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Created,
    NeedsVerification,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub id: String,
    pub at: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub portal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flow: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gstin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub note: Option<String>,
}

/// A credential as it stands after all its records.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub id: String,
    pub status: Status,
    pub portal: String,
    pub gstin: String,
    pub provider: String,
    pub username: String,
    pub password: String,
    pub note: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("vault {path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("vault {path} line {line}: {msg}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        msg: String,
    },
}

pub struct Vault {
    path: PathBuf,
    file: Mutex<File>,
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Vault {
    /// Opens (or creates) the vault with owner-only permissions.
    pub fn open(path: &Path) -> Result<Vault, VaultError> {
        let io = |err| VaultError::Io {
            path: path.to_path_buf(),
            err,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        // An existing vault may have been copied with wider permissions.
        let mode = file.metadata().map_err(io)?.permissions().mode() & 0o777;
        if mode != 0o600 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
        Ok(Vault {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&self, rec: &Record) -> Result<(), VaultError> {
        let io = |err| VaultError::Io {
            path: self.path.clone(),
            err,
        };
        let mut line = serde_json::to_string(rec).expect("record serialises");
        line.push('\n');
        let mut f = self.file.lock().unwrap();
        f.write_all(line.as_bytes()).map_err(io)?;
        f.sync_data().map_err(io)
    }

    pub fn set_status(
        &self,
        id: &str,
        status: Status,
        note: Option<String>,
    ) -> Result<(), VaultError> {
        self.append(&Record {
            id: id.to_string(),
            at: now_rfc3339(),
            status,
            portal: None,
            base_url: None,
            flow: None,
            gstin: None,
            provider: None,
            username: None,
            password: None,
            note,
        })
    }

    /// Every credential with its latest status, in first-written order.
    pub fn read(path: &Path) -> Result<Vec<Credential>, VaultError> {
        let f = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(err) => {
                return Err(VaultError::Io {
                    path: path.into(),
                    err,
                })
            }
        };
        let mut out: Vec<Credential> = vec![];
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|err| VaultError::Io {
                path: path.into(),
                err,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let r: Record = match serde_json::from_str(&line) {
                Ok(r) => r,
                // A torn last line (crash mid-write) is ignored; anything else is reported.
                Err(e) => {
                    return Err(VaultError::Corrupt {
                        path: path.into(),
                        line: i + 1,
                        msg: e.to_string(),
                    })
                }
            };
            match out.iter_mut().find(|c| c.id == r.id) {
                Some(c) => {
                    c.status = r.status;
                    if r.note.is_some() {
                        c.note = r.note;
                    }
                }
                None => out.push(Credential {
                    id: r.id,
                    status: r.status,
                    portal: r.portal.unwrap_or_default(),
                    gstin: r.gstin.unwrap_or_default(),
                    provider: r.provider.unwrap_or_default(),
                    username: r.username.unwrap_or_default(),
                    password: r.password.unwrap_or_default(),
                    note: r.note,
                }),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_only_owner_only_latest_status_wins() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("v.jsonl");
        let v = Vault::open(&p).unwrap();
        let rec = Record {
            id: "a".into(),
            at: now_rfc3339(),
            status: Status::Pending,
            portal: Some("production".into()),
            base_url: None,
            flow: None,
            gstin: Some("27AAPFU0939F1ZV".into()),
            provider: Some("Tera".into()),
            username: Some("API_x".into()),
            password: Some("Pw@12345x".into()),
            note: None,
        };
        v.append(&rec).unwrap();
        v.set_status("a", Status::Created, None).unwrap();
        let c = Vault::read(&p).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].status, Status::Created);
        assert_eq!(c[0].password, "Pw@12345x");
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
}
