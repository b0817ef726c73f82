//! Process containment, for every child einvreg starts (a driver and its
//! browsers, answer and notify commands): kept together, so none
//! outlives einvreg. On Unix they share one process group, killed at
//! once; a guard `sh` waits on a pipe only einvreg holds and kills the
//! group when einvreg dies, however it dies (on Linux, chromedriver also
//! gets PR_SET_PDEATHSIG). On Windows the tree is ended with `taskkill
//! /T`; a killed einvreg there can leave chromedriver behind.

static HIDDEN: std::sync::OnceLock<Vec<std::ffi::OsString>> = std::sync::OnceLock::new();

/// Names of einvreg's own environment (`EINVREG_*`: secrets among them)
/// that no child may inherit; set once at the CLI edge.
pub fn hide_env(names: Vec<std::ffi::OsString>) {
    if HIDDEN.set(names).is_err() {
        tracing::warn!("the hidden environment was set twice; the first stands");
    }
}

/// Removes the hidden names from a child's environment: called where a
/// command is made, before it is given variables of its own (Chromium
/// inherits chromedriver's).
pub fn scrub(cmd: &mut std::process::Command) {
    for k in HIDDEN.get().into_iter().flatten() {
        cmd.env_remove(k);
    }
}

/// Sets up `cmd` (chromedriver, an answer or notify command) to lead its
/// own process group.
pub fn contain(cmd: &mut tokio::process::Command) {
    #[cfg(unix)]
    {
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: setpgid, prctl and getppid are async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                #[cfg(target_os = "linux")]
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                // einvreg died before the line above: no guard would ever kill us.
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                libc::setpgid(0, 0);
                Ok(())
            });
        }
    }
    #[cfg(not(unix))]
    {
        let _ = cmd;
    }
}

/// Every group einvreg started and has not killed yet: what a check at
/// exit ends, whatever path the exit took (a driver still starting, a
/// warm browser made as the batch ended).
static STARTED: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Records a group einvreg just started (led by `pid`).
pub fn started(pid: u32) {
    STARTED.lock().expect("groups lock").push(pid);
}

/// Ends every recorded group still alive; how many there were. Called
/// as einvreg exits.
pub fn reap_all() -> usize {
    let left = std::mem::take(&mut *STARTED.lock().expect("groups lock"));
    let alive: Vec<u32> = left.into_iter().filter(|p| alive(*p)).collect();
    for pid in &alive {
        kill(*pid);
    }
    alive.len()
}

/// Whether any process of group `pid` is alive.
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    // SAFETY: kill with signal 0 only checks.
    return unsafe { libc::kill(-(pid as i32), 0) } == 0;
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

/// Kills the group (or, on Windows, the process tree) led by `pid`.
pub fn kill(pid: u32) {
    STARTED.lock().expect("groups lock").retain(|p| *p != pid);
    #[cfg(unix)]
    {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
    #[cfg(windows)]
    {
        let done = std::process::Command::new("taskkill")
            .args(["/T", "/F", "/PID", &pid.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if let Err(e) = done {
            tracing::debug!("taskkill: {e}");
        }
    }
}

/// Kills the group when einvreg dies (Unix; elsewhere it does nothing).
pub struct Guard {
    #[cfg(unix)]
    pipe: std::os::fd::OwnedFd,
    #[cfg(unix)]
    child: std::process::Child,
}

impl Guard {
    /// Starts the guard of group `pgid`.
    #[cfg(unix)]
    pub fn start(pgid: u32) -> std::io::Result<Guard> {
        use std::process::Stdio;
        let (read, write) = cloexec_pipe()?;
        let mut cmd = std::process::Command::new("/bin/sh");
        cmd.args([
            "-c",
            "trap '' INT TERM HUP; read _ ; kill -9 -\"$1\" 2>/dev/null; exit 0",
            "guard",
        ])
        .arg(pgid.to_string())
        .stdin(Stdio::from(read))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        scrub(&mut cmd);
        // Its own group: a terminal's Ctrl-C must not end it first.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        Ok(Guard {
            pipe: write,
            child: cmd.spawn()?,
        })
    }

    /// No guard process off Unix.
    #[cfg(not(unix))]
    pub fn start(_pgid: u32) -> std::io::Result<Guard> {
        Ok(Guard {})
    }

    /// Lets the guard do its work now (the group is being killed anyway) and reaps it.
    pub fn release(self) {
        #[cfg(unix)]
        {
            let Guard { pipe, mut child } = self;
            drop(pipe);
            if let Err(e) = child.wait() {
                tracing::debug!("the chromedriver guard: {e}");
            }
        }
    }
}

/// A pipe whose ends no child inherits (O_CLOEXEC at creation on Linux,
/// so a process forked by another thread meanwhile cannot hold it open).
#[cfg(unix)]
fn cloexec_pipe() -> std::io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0i32; 2];
    #[cfg(target_os = "linux")]
    // SAFETY: pipe2 fills two fds we then own.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    #[cfg(not(target_os = "linux"))]
    // SAFETY: pipe fills two fds we then own; fcntl sets their flags.
    let r = unsafe {
        let r = libc::pipe(fds.as_mut_ptr());
        for fd in fds.iter().filter(|_| r == 0) {
            libc::fcntl(*fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
        r
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds are fresh and owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

#[cfg(all(test, unix))]
mod tests {
    #[tokio::test]
    async fn a_group_left_running_is_ended_at_exit() {
        let mut cmd = tokio::process::Command::new("sleep");
        cmd.arg("30").kill_on_drop(false);
        super::contain(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let pid = child.id().unwrap();
        super::started(pid);
        assert!(super::alive(pid));
        assert_eq!(super::reap_all(), 1);
        let st = child.wait().await.unwrap();
        assert!(!st.success(), "killed, not finished");
        assert_eq!(super::reap_all(), 0, "each group is ended once");
    }
}
