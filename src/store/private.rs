//! Every other file einvreg writes (artifacts, reports, logs): owner-only
//! (0600, folders 0700), never through a symlink.

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
    let mut f = open(
        path,
        OpenOptions::new().write(true).create(true).truncate(true),
    )?;
    f.write_all(bytes)
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
        assert_eq!(mode(&p), 0o600, "an existing file is tightened");
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert!(write(&link, b"z").is_err(), "never through a symlink");
        assert_eq!(std::fs::read(&p).unwrap(), b"y");
    }
}
