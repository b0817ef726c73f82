//! Every other file einvreg writes (artifacts, reports, logs): owner-only
//! (0600, folders 0700), never through a symlink. A file is written as a
//! new one of ours (O_EXCL) and renamed into place, so a file someone else
//! placed there in advance is replaced, never written into; a run's folder
//! must be a real folder of this user's.

use super::owner;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Makes `dir` and any missing parents, each new one 0700.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    owner::owner_only_dir(std::fs::DirBuilder::new().recursive(true)).create(dir)
}

/// Writes `bytes` to `path` (replacing it), owner-only; its folder is made if missing.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(d) = path.parent() {
        create_dir(d)?;
    }
    let tmp = sibling(path);
    let mut f = owner::owner_only(OpenOptions::new().write(true).create_new(true)).open(&tmp)?;
    let done = f.write_all(bytes).and_then(|_| std::fs::rename(&tmp, path));
    if done.is_err() {
        if let Err(e) = std::fs::remove_file(&tmp) {
            tracing::warn!("{}: {e}", tmp.display());
        }
    }
    done
}

/// A name beside `path` for its new content (`.NAME.einvreg-PID-N`).
fn sibling(path: &Path) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.einvreg-{}-{n}", std::process::id()))
}

/// A folder for a run's files: made (0700) if missing; if it was there, it
/// must be a real folder (not a symlink) of this user's, and is made owner-only.
pub fn own_dir(dir: &Path) -> std::io::Result<()> {
    create_dir(dir)?;
    check_own_dir(dir)
}

/// [`own_dir`]'s checks on a folder that may not exist yet (made later).
pub fn check_own_dir(dir: &Path) -> std::io::Result<()> {
    let m = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let refuse = |why: String| Err(std::io::Error::other(format!("{}: {why}", dir.display())));
    if m.file_type().is_symlink() {
        return refuse("is a symbolic link; give the folder's own path".into());
    }
    if let Some(uid) = owner::foreign_owner(&m) {
        return refuse(format!(
            "belongs to another user (uid {uid}); give a folder of your own"
        ));
    }
    if owner::mode_of(&m) & 0o077 != 0 {
        owner::tighten_dir(dir)?;
    }
    Ok(())
}

/// Opens `path` for appending, owner-only (a log).
pub fn append(path: &Path) -> std::io::Result<File> {
    if let Some(d) = path.parent() {
        create_dir(d)?;
    }
    open(path, OpenOptions::new().append(true).create(true))
}

fn open(path: &Path, o: &mut OpenOptions) -> std::io::Result<File> {
    let f = owner::owner_only(o).open(path)?;
    // A file that existed with wider permissions is tightened.
    owner::tighten(&f)?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn files_and_folders_are_owner_only() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b/report.csv");
        write(&p, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(&d.path().join("a")), 0o700);
        assert_eq!(mode(&d.path().join("a/b")), 0o700);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&p, b"y").unwrap();
        assert_eq!(
            mode(&p),
            0o600,
            "an existing file is replaced by one of ours"
        );
        // A symlink placed where a file goes is replaced, its target untouched.
        let target = d.path().join("theirs.txt");
        std::fs::write(&target, "theirs").unwrap();
        let link = d.path().join("a/trace.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write(&link, b"ours").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "theirs");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "ours");
        assert!(!std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        // As root, a file another user placed in advance is replaced by ours.
        // SAFETY: geteuid and chown have no memory-safety preconditions here.
        if unsafe { libc::geteuid() } == 0 {
            use std::os::unix::fs::MetadataExt;
            let c = std::ffi::CString::new(link.to_str().unwrap()).unwrap();
            assert_eq!(unsafe { libc::chown(c.as_ptr(), 65534, 65534) }, 0);
            write(&link, b"ours again").unwrap();
            assert_eq!(std::fs::metadata(&link).unwrap().uid(), 0);
        }
        // A run folder that is a symlink is refused; a loose one is tightened.
        std::os::unix::fs::symlink(d.path().join("a"), d.path().join("run")).unwrap();
        let e = own_dir(&d.path().join("run")).unwrap_err();
        assert!(e.to_string().contains("is a symbolic link"), "{e}");
        std::fs::set_permissions(d.path().join("a"), std::fs::Permissions::from_mode(0o777))
            .unwrap();
        own_dir(&d.path().join("a")).unwrap();
        assert_eq!(mode(&d.path().join("a")), 0o700);
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        write(&link, b"z").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"y", "never through a symlink");
    }
}
