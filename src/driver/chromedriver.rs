//! Starting and stopping chromedriver. It is killed when dropped (normal
//! exit, Ctrl-C, panic) and, through PR_SET_PDEATHSIG, when einvreg itself
//! is killed.

use super::{Binary, DriverConfig, DriverError, APT_FIX};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub struct ChromeDriver {
    pub url: String,
    child: std::sync::Mutex<Option<tokio::process::Child>>,
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
                unsafe {
                    libc::kill(-(pid as i32), libc::SIGKILL);
                }
            }
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
        if let (Some(d), Some(c)) = (major_version(&bin), major_version(&chromium)) {
            if d != c {
                return Err(DriverError::Setup(format!(
                    "chromedriver {} is version {d} but {} is version {c}; they must match. Fix: {APT_FIX}",
                    bin.display(),
                    chromium.display()
                )));
            }
        }
        // A free port can be taken between probe and bind: try a few.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port()
                .map_err(|e| DriverError::Setup(format!("no free loopback port: {e}")))?;
            let mut cmd = tokio::process::Command::new(&bin);
            cmd.arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true);
            unsafe {
                cmd.pre_exec(|| {
                    libc::setpgid(0, 0);
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = cmd
                .spawn()
                .map_err(|e| DriverError::Setup(format!("cannot start {}: {e}", bin.display())))?;
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(15);
            let ready = crate::wait::until!(deadline, async {
                if let Ok(Some(st)) = child.try_wait() {
                    return Err(format!("chromedriver exited ({st}) before it was ready"));
                }
                let status = format!("{url}/status");
                let ok = crate::loopback::request("GET", &status, &[], None)
                    .await
                    .is_ok_and(|r| r.status == 200 && r.text().contains("\"ready\":true"));
                Ok(ok.then_some(()))
            });
            match ready {
                Ok(Some(())) => {
                    return Ok(ChromeDriver {
                        url,
                        child: std::sync::Mutex::new(Some(child)),
                    })
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
