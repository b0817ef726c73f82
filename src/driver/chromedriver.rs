//! Starting and stopping chromedriver, bound to loopback only. It and
//! every Chromium it starts share one process group, killed when the
//! driver is dropped (normal exit, Ctrl-C, panic) and, through a guard
//! process, when einvreg itself is killed: Chromium escapes
//! PR_SET_PDEATHSIG by being chromedriver's child, not einvreg's.

use super::{Binary, DriverConfig, DriverError, APT_FIX};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub struct ChromeDriver {
    pub url: String,
    child: std::sync::Mutex<Option<tokio::process::Child>>,
    guard: std::sync::Mutex<Option<Guard>>,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        self.kill();
    }
}

impl ChromeDriver {
    /// Kills chromedriver and every browser it started, now.
    pub fn kill(&self) {
        if let Some(mut c) = self.child.lock().expect("chromedriver lock").take() {
            if let Err(e) = c.start_kill() {
                tracing::debug!("chromedriver already gone: {e}");
            }
            // Chromium is chromedriver's child, in chromedriver's process group.
            if let Some(pid) = c.id() {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe {
                    libc::kill(-(pid as i32), libc::SIGKILL);
                }
            }
        }
        if let Some(g) = self.guard.lock().expect("guard lock").take() {
            g.release();
        }
    }

    /// Whether chromedriver has exited (crashed or was killed).
    pub fn exited(&self) -> bool {
        match self.child.lock().expect("chromedriver lock").as_mut() {
            Some(c) => !matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }
}

/// A `sh` that waits on a pipe only einvreg holds open: when einvreg dies,
/// however it dies, the pipe closes and the guard kills the process group.
struct Guard {
    pipe: OwnedFd,
    child: std::process::Child,
}

impl Guard {
    fn start(pgid: u32) -> std::io::Result<Guard> {
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 fills two fds we then own; O_CLOEXEC keeps the
        // write end out of every child (chromedriver, Chromium, the guard).
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: both fds are fresh and owned by nothing else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
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
        // Its own group: a terminal's Ctrl-C must not end it first.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        Ok(Guard {
            pipe: write,
            child: cmd.spawn()?,
        })
    }

    /// Lets the guard do its work now (the group is being killed anyway) and reaps it.
    fn release(mut self) {
        drop(self.pipe);
        if let Err(e) = self.child.wait() {
            tracing::debug!("the chromedriver guard: {e}");
        }
    }
}

fn major_version(bin: &Path) -> Option<u32> {
    let out = std::process::Command::new(bin)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout);
    s.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w.contains('.'))?
        .split('.')
        .next()?
        .parse()
        .ok()
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl ChromeDriver {
    pub async fn start(config: &DriverConfig) -> Result<ChromeDriver, DriverError> {
        let bin = match &config.chromedriver {
            Binary::Given(p) | Binary::Found(p) if p.is_file() => p.clone(),
            Binary::Given(p) | Binary::Found(p) => return Err(DriverError::Setup(format!("--chromedriver {}: no such file", p.display()))),
            Binary::Missing => return Err(DriverError::Setup(format!("chromedriver is not on PATH. Install it with: {APT_FIX}  (or pass --chromedriver PATH, or --webdriver URL)"))),
        };
        let chromium = config.chromium.clone().ok_or_else(|| {
            DriverError::Setup(format!(
                "Chromium is not installed. Install it with: {APT_FIX}"
            ))
        })?;
        // The versions are read while chromedriver starts (~50 ms saved).
        let versions = {
            let (b, c) = (bin.clone(), chromium.clone());
            tokio::task::spawn_blocking(move || (major_version(&b), major_version(&c)))
        };
        let driver = Self::launch(&bin).await?;
        if let Ok((Some(d), Some(c))) = versions.await {
            if d != c {
                // `driver` is killed as it drops.
                return Err(DriverError::Setup(format!(
                    "chromedriver {} is version {d} but {} is version {c}; they must match. Fix: {APT_FIX}",
                    bin.display(),
                    chromium.display()
                )));
            }
        }
        Ok(driver)
    }

    /// Starts chromedriver on a free loopback port and waits until it is ready.
    async fn launch(bin: &Path) -> Result<ChromeDriver, DriverError> {
        // A free port can be taken between probe and bind: try a few.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port()
                .map_err(|e| DriverError::Setup(format!("no free loopback port: {e}")))?;
            let mut cmd = tokio::process::Command::new(bin);
            // No --allowed-ips: given any, chromedriver listens on every interface.
            cmd.arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true);
            let parent = std::process::id() as libc::pid_t;
            // SAFETY: setpgid, prctl and getppid are async-signal-safe.
            unsafe {
                cmd.pre_exec(move || {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    // einvreg died before the line above: no guard would ever kill us.
                    if libc::getppid() != parent {
                        return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                    }
                    libc::setpgid(0, 0);
                    Ok(())
                });
            }
            let mut child = cmd
                .spawn()
                .map_err(|e| DriverError::Setup(format!("cannot start {}: {e}", bin.display())))?;
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(15);
            let ready = crate::wait::until!(
                deadline,
                async {
                    if let Ok(Some(st)) = child.try_wait() {
                        return Err(format!("chromedriver exited ({st}) before it was ready"));
                    }
                    let status = format!("{url}/status");
                    let ok = crate::loopback::request("GET", &status, &[], None)
                        .await
                        .is_ok_and(|r| r.status == 200 && r.text().contains("\"ready\":true"));
                    Ok(ok.then_some(()))
                },
                Duration::from_millis(10)
            );
            match ready {
                Ok(Some(())) => {
                    let pgid = child.id().unwrap_or_default();
                    let guard = Guard::start(pgid).map_err(|e| {
                        DriverError::Setup(format!(
                            "cannot start the chromedriver guard (/bin/sh): {e}"
                        ))
                    })?;
                    return Ok(ChromeDriver {
                        url,
                        child: std::sync::Mutex::new(Some(child)),
                        guard: std::sync::Mutex::new(Some(guard)),
                    });
                }
                Ok(None) => {
                    if let Err(e) = child.start_kill() {
                        tracing::debug!("chromedriver already gone: {e}");
                    }
                    last = "chromedriver did not become ready within 15s".into();
                }
                Err(why) => last = why,
            }
        }
        Err(DriverError::Setup(last))
    }
}
