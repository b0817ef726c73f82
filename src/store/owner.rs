//! Owner-only files, per platform. On Unix: mode 0600 (folders 0700),
//! `O_NOFOLLOW`, and the owner's uid checked. On Windows a user's profile
//! folder is already private by its ACL: files are opened without
//! following reparse points (symlinks), and modes are not checked.

use std::fs::{DirBuilder, File, Metadata, OpenOptions};

/// `o`, creating files owner-only and never through a symlink.
pub fn owner_only(o: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW)
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
        o.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
    }
    #[cfg(not(any(unix, windows)))]
    {
        o
    }
}

/// `b`, creating folders owner-only (0700 on Unix).
pub fn owner_only_dir(b: &mut DirBuilder) -> &mut DirBuilder {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700)
    }
    #[cfg(not(unix))]
    {
        b
    }
}

/// The permission bits (on Windows, always 0o600: the ACL decides).
pub fn mode_of(meta: &Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o777
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0o600
    }
}

/// Makes an existing file owner-only again (a copy made with wider permissions).
pub fn tighten(f: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if f.metadata()?.permissions().mode() & 0o077 != 0 {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        let _ = f;
        Ok(())
    }
}

/// Makes a folder owner-only (0700).
pub fn tighten_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The owner's uid when it is not this process's user (Unix only).
pub fn foreign_owner(meta: &Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        (meta.uid() != me).then_some(meta.uid())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Whether an open failed because the path is a symlink we refused.
pub fn is_refused_link(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}
