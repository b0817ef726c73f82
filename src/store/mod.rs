//! The append-only store under the vault and the journal: JSON lines that
//! are only ever added to, one write and one fsync per record.
//!
//! Opening takes an exclusive lock (a second einvreg is refused, named by
//! its PID), refuses symlinks (`O_NOFOLLOW`) and files another user owns,
//! and moves a torn last line (a crash mid-write) aside to a side file so
//! the next record starts on a line of its own. A failed append is cut
//! back to the length before it, so no half record stays behind.

pub mod owner;
pub mod private;

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file system said no.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the lock.
    #[error("{} is in use by another einvreg (PID {pid}); wait for it to end, or use another file", path.display())]
    Locked {
        /// The file.
        path: PathBuf,
        /// The holder, as its lock file says ("unknown" if unreadable).
        pid: String,
    },
    /// The path is a symbolic link.
    #[error("{} is a symbolic link; einvreg writes only to a regular file it owns: give the real path", path.display())]
    Symlink {
        /// The file.
        path: PathBuf,
    },
    /// The file belongs to someone else.
    #[error("{} belongs to another user (uid {uid}); einvreg writes only to files it owns", path.display())]
    NotOwned {
        /// The file.
        path: PathBuf,
        /// Its owner.
        uid: u32,
    },
    /// A second Ctrl-C aborted the batch: the journal records no more rows.
    #[error("{}: the batch was aborted; the abort records the rows in flight", path.display())]
    Sealed {
        /// The journal.
        path: PathBuf,
    },
}

impl StoreError {
    /// Whether an abort's seal refused the write: the abort records the
    /// row, so it is no lost write.
    pub fn by_abort(&self) -> bool {
        matches!(self, StoreError::Sealed { .. })
    }
}

/// An open, locked, append-only file of lines.
pub struct Store {
    path: PathBuf,
    file: Mutex<File>,
    // Held for the lock's lifetime; the lock ends when it closes.
    _lock: File,
}

impl Store {
    /// Opens (or creates, 0600) `path`, locked for this process.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let io = |source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                owner::owner_only_dir(std::fs::DirBuilder::new().recursive(true))
                    .create(dir)
                    .map_err(io)?;
            }
        }
        let lock = lock(path)?;
        let file = open_nofollow(path)?;
        check_owner(path, &file)?;
        // A copy made with wider permissions is tightened.
        owner::tighten(&file).map_err(io)?;
        set_torn_tail_aside(path, &file).map_err(io)?;
        Ok(Store {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            _lock: lock,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A store whose every append fails as on a full disk (`/dev/full`),
    /// locked through a file in `dir`: for tests of what a failed write does.
    #[cfg(test)]
    pub(crate) fn failing(dir: &Path) -> Result<Store, StoreError> {
        let full = Path::new("/dev/full");
        let file = OpenOptions::new()
            .append(true)
            .open(full)
            .map_err(|source| StoreError::Io {
                path: full.into(),
                source,
            })?;
        Ok(Store {
            path: full.into(),
            file: Mutex::new(file),
            _lock: lock(&dir.join("full"))?,
        })
    }

    /// Appends `line` (a newline is added) in one write, then fsyncs.
    /// On failure the file is cut back to where it was.
    pub fn append(&self, line: &str) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        let mut buf = String::with_capacity(line.len() + 1);
        buf.push_str(line);
        buf.push('\n');
        let mut f = self.file.lock().expect("store lock");
        let before = f.metadata().map_err(io)?.len();
        let written = f.write_all(buf.as_bytes()).and_then(|()| f.sync_data());
        if let Err(e) = written {
            if let Err(cut) = f.set_len(before) {
                tracing::error!(
                    "{}: cannot remove a partial record: {cut}",
                    self.path.display()
                );
            }
            return Err(io(e));
        }
        Ok(())
    }
}

/// The lock file beside `path` (`<name>.lock`), locked, holding our PID.
fn lock(path: &Path) -> Result<File, StoreError> {
    let lock_path = side_path(path, "lock");
    let io = |source| StoreError::Io {
        path: lock_path.clone(),
        source,
    };
    let mut f = owner::owner_only(&mut OpenOptions::new())
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| symlink_or(e, &lock_path, io))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let read = f.read_to_string(&mut pid);
            let pid = match read.map(|_| pid.trim().to_string()) {
                Ok(p) if !p.is_empty() => p,
                _ => "unknown".into(),
            };
            return Err(StoreError::Locked {
                path: path.to_path_buf(),
                pid,
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    f.set_len(0).map_err(io)?;
    f.write_all(std::process::id().to_string().as_bytes())
        .map_err(io)?;
    Ok(f)
}

fn open_nofollow(path: &Path) -> Result<File, StoreError> {
    owner::owner_only(&mut OpenOptions::new())
        .read(true)
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            symlink_or(e, path, |source| StoreError::Io {
                path: path.to_path_buf(),
                source,
            })
        })
}

/// `O_NOFOLLOW` on a symlink fails with ELOOP: say what it means.
fn symlink_or(
    e: std::io::Error,
    path: &Path,
    other: impl FnOnce(std::io::Error) -> StoreError,
) -> StoreError {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    match is_link || owner::is_refused_link(&e) {
        true => StoreError::Symlink {
            path: path.to_path_buf(),
        },
        false => other(e),
    }
}

fn check_owner(path: &Path, f: &File) -> Result<(), StoreError> {
    let meta = f.metadata().map_err(|source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match owner::foreign_owner(&meta) {
        None => Ok(()),
        Some(uid) => Err(StoreError::NotOwned {
            path: path.to_path_buf(),
            uid,
        }),
    }
}

/// `<path>.<ext>` (e.g. `vault.jsonl.lock`).
fn side_path(path: &Path, ext: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{ext}"));
    PathBuf::from(s)
}

/// A last line without its newline was torn by a crash: copy it to
/// `<path>.torn-<unix time>` and cut it off, so the next record is whole.
fn set_torn_tail_aside(path: &Path, f: &File) -> std::io::Result<()> {
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut r = f;
    // Read back from the end to the last newline.
    let chunk = len.min(64 * 1024);
    r.seek(SeekFrom::Start(len - chunk))?;
    let mut tail = vec![0u8; chunk as usize];
    r.read_exact(&mut tail)?;
    if tail.last() == Some(&b'\n') {
        return Ok(());
    }
    let keep = match tail.iter().rposition(|b| *b == b'\n') {
        Some(i) => len - chunk + i as u64 + 1,
        None if chunk == len => 0,
        // A torn line longer than 64 KiB is no record einvreg wrote.
        None => return Err(std::io::Error::other("the last line is not a record")),
    };
    let torn = &tail[(keep - (len - chunk)) as usize..];
    let aside = side_path(
        path,
        &format!("torn-{}", time::OffsetDateTime::now_utc().unix_timestamp()),
    );
    let mut side = owner::owner_only(&mut OpenOptions::new())
        .create_new(true)
        .write(true)
        .open(&aside)?;
    side.write_all(torn)?;
    side.sync_data()?;
    f.set_len(keep)?;
    f.sync_data()?;
    tracing::warn!(
        "{}: a torn last line (a crash mid-write) was moved to {}",
        path.display(),
        aside.display()
    );
    Ok(())
}

/// Whether `bytes` ends mid-line: its last line is torn and not a record.
pub fn torn_tail(bytes: &str) -> Option<&str> {
    match bytes.is_empty() || bytes.ends_with('\n') {
        true => None,
        false => bytes.rsplit('\n').next(),
    }
}

#[cfg(test)]
mod tests;
