use super::*;
use std::os::unix::fs::PermissionsExt;

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn appends_whole_lines_owner_only() {
    let d = dir();
    let p = d.path().join("sub/v.jsonl");
    let s = Store::open(&p).unwrap();
    s.append("{\"a\":1}").unwrap();
    s.append("{\"a\":2}").unwrap();
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "{\"a\":1}\n{\"a\":2}\n"
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&p), 0o600);
    assert_eq!(
        mode(&d.path().join("sub")),
        0o700,
        "a folder it makes is owner-only"
    );
}

#[test]
fn a_second_opener_is_refused_with_the_holders_pid() {
    let d = dir();
    let p = d.path().join("v.jsonl");
    let first = Store::open(&p).unwrap();
    let err = Store::open(&p).err().expect("refused while held");
    let msg = err.to_string();
    assert!(matches!(err, StoreError::Locked { .. }), "{msg}");
    assert!(
        msg.contains(&format!("PID {}", std::process::id())),
        "{msg}"
    );
    drop(first);
    Store::open(&p).expect("free again once the holder closes");
}

#[test]
fn a_symlink_is_refused_and_its_target_untouched() {
    let d = dir();
    let target = d.path().join("elsewhere");
    std::fs::write(&target, "keep\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = d.path().join("v.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = Store::open(&link).err().expect("refused");
    assert!(matches!(err, StoreError::Symlink { .. }), "{err}");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "the target's permissions are not changed");
}

#[test]
fn a_torn_last_line_is_moved_aside_before_the_next_record() {
    let d = dir();
    let p = d.path().join("v.jsonl");
    std::fs::write(&p, "{\"a\":1}\n{\"a\":2,\"pass").unwrap();
    let s = Store::open(&p).unwrap();
    s.append("{\"a\":3}").unwrap();
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "{\"a\":1}\n{\"a\":3}\n"
    );
    let torn: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".torn-"))
        .collect();
    assert_eq!(torn.len(), 1, "one side file");
    assert_eq!(
        std::fs::read_to_string(torn[0].path()).unwrap(),
        "{\"a\":2,\"pass"
    );
    let mode = torn[0].metadata().unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the fragment may hold a password");
}

#[test]
fn a_failed_append_leaves_no_partial_record() {
    let d = dir();
    let p = d.path().join("v.jsonl");
    let s = Store::open(&p).unwrap();
    s.append("{\"a\":1}").unwrap();
    // The disk fills mid-record: a file-size limit cuts the write short.
    let limit = libc::rlimit {
        rlim_cur: 12,
        rlim_max: libc::RLIM_INFINITY,
    };
    let child = unsafe { libc::fork() };
    if child == 0 {
        // SAFETY: the child only calls async-signal-safe functions and exits.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
        }
        let code = match s.append("{\"a\":2,\"long\":true}") {
            Err(_) => 0,
            Ok(()) => 1,
        };
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    unsafe { libc::waitpid(child, &mut status, 0) };
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "the append reports the failure"
    );
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "{\"a\":1}\n");
}

#[test]
fn torn_tails_are_told_apart() {
    assert_eq!(torn_tail(""), None);
    assert_eq!(torn_tail("a\n"), None);
    assert_eq!(torn_tail("a\nb"), Some("b"));
}
