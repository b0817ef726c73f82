//! Starting and stopping a driver of our own (chromedriver, or
//! geckodriver for Firefox), bound to loopback only. It and every browser
//! it starts are killed together ([`super::group`]) when the driver is
//! dropped (normal exit, Ctrl-C, panic) and, through a guard process, when
//! einvreg itself is killed: the browser escapes PR_SET_PDEATHSIG by being
//! the driver's child, not einvreg's.

use super::caps::BrowserKind;
use super::{Binary, DriverConfig, DriverError, APT_FIX, FIREFOX_FIX};
use crate::process::{self as group, Guard};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

pub struct LocalDriver {
    pub url: String,
    child: std::sync::Mutex<Option<tokio::process::Child>>,
    guard: std::sync::Mutex<Option<Guard>>,
}

impl Drop for LocalDriver {
    fn drop(&mut self) {
        self.kill();
    }
}

impl LocalDriver {
    /// Kills the driver and every browser it started, now.
    pub fn kill(&self) {
        if let Some(mut c) = self.child.lock().expect("driver lock").take() {
            if let Err(e) = c.start_kill() {
                tracing::debug!("the driver is already gone: {e}");
            }
            // The browser is the driver's child, in its process group.
            if let Some(pid) = c.id() {
                group::kill(pid);
            }
        }
        if let Some(g) = self.guard.lock().expect("guard lock").take() {
            g.release();
        }
    }

    /// Whether the driver has exited (crashed or was killed).
    pub fn exited(&self) -> bool {
        match self.child.lock().expect("driver lock").as_mut() {
            Some(c) => !matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }
}

fn major_version(bin: &Path) -> Option<u32> {
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("--version").stderr(Stdio::null());
    group::scrub(&mut cmd);
    let out = cmd.output().ok()?;
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

impl LocalDriver {
    /// Starts the driver of `config.browser`, checked against its browser.
    pub async fn start(config: &DriverConfig) -> Result<LocalDriver, DriverError> {
        match config.browser {
            BrowserKind::Chromium => Self::chromedriver(config).await,
            BrowserKind::Firefox => Self::geckodriver(config).await,
        }
    }

    /// geckodriver runs one session at a time: one is started per session.
    async fn geckodriver(config: &DriverConfig) -> Result<LocalDriver, DriverError> {
        let bin = match &config.geckodriver {
            Binary::Given(p) | Binary::Found(p) if p.is_file() => p.clone(),
            Binary::Given(p) | Binary::Found(p) => return Err(DriverError::Setup(format!("--geckodriver {}: no such file", p.display()))),
            Binary::Missing => return Err(DriverError::Setup(format!("geckodriver is not on PATH. Install it with: {FIREFOX_FIX}  (or pass --geckodriver PATH, or --webdriver URL)"))),
        };
        if config.firefox.is_none() {
            return Err(DriverError::Setup(format!(
                "Firefox is not installed. Install it with: {FIREFOX_FIX}"
            )));
        }
        Self::launch(&bin, |port| {
            vec![
                "--host".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
            ]
        })
        .await
    }

    async fn chromedriver(config: &DriverConfig) -> Result<LocalDriver, DriverError> {
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
        // No --allowed-ips: given any, chromedriver listens on every interface.
        let driver = Self::launch(&bin, |port| vec![format!("--port={port}")]).await?;
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

    /// Starts a driver on a free loopback port (`args` names it) and waits
    /// until it is ready.
    async fn launch(
        bin: &Path,
        args: impl Fn(u16) -> Vec<String>,
    ) -> Result<LocalDriver, DriverError> {
        let name = bin
            .file_name()
            .map_or("the driver".into(), |n| n.to_string_lossy());
        // A free port can be taken between probe and bind: try a few.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port()
                .map_err(|e| DriverError::Setup(format!("no free loopback port: {e}")))?;
            let mut cmd = tokio::process::Command::new(bin);
            cmd.args(args(port))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true);
            group::scrub(cmd.as_std_mut());
            group::contain(&mut cmd);
            let mut child = cmd
                .spawn()
                .map_err(|e| DriverError::Setup(format!("cannot start {}: {e}", bin.display())))?;
            if let Some(pid) = child.id() {
                group::started(pid);
            }
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(15);
            let ready = crate::wait::until!(
                deadline,
                async {
                    if let Ok(Some(st)) = child.try_wait() {
                        return Err(format!("{name} exited ({st}) before it was ready"));
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
                        DriverError::Setup(format!("cannot start the {name} guard (/bin/sh): {e}"))
                    })?;
                    return Ok(LocalDriver {
                        url,
                        child: std::sync::Mutex::new(Some(child)),
                        guard: std::sync::Mutex::new(Some(guard)),
                    });
                }
                Ok(None) => {
                    if let Err(e) = child.start_kill() {
                        tracing::debug!("{name} already gone: {e}");
                    }
                    last = format!("{name} did not become ready within 15s");
                }
                Err(why) => last = why,
            }
        }
        Err(DriverError::Setup(last))
    }
}
