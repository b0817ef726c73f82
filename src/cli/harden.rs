//! The process keeps its secrets to itself: no core file (RLIMIT_CORE 0,
//! inherited by every child) and, on Linux, not dumpable (no core, and
//! other processes of the same user cannot ptrace it or read its memory).
//! `--allow-core-dumps` turns both off for debugging.

/// Applies both; the error says which call failed.
pub fn no_core_dumps() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads `zero` only.
        if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_DUMPABLE) takes plain integers.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_process_is_left_without_core_dumps_and_not_dumpable() {
        super::no_core_dumps().unwrap();
        let mut lim = libc::rlimit {
            rlim_cur: 1,
            rlim_max: 1,
        };
        // SAFETY: getrlimit writes into `lim`; prctl reads nothing.
        let (r, dumpable) = unsafe {
            (
                libc::getrlimit(libc::RLIMIT_CORE, &mut lim),
                libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0),
            )
        };
        assert_eq!((r, lim.rlim_cur, lim.rlim_max), (0, 0, 0));
        assert_eq!(dumpable, 0);
    }
}
