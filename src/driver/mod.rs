//! WebDriver sessions: a chromedriver we start and stop ourselves, or any W3C
//! endpoint (`--webdriver URL`, e.g. Selenium Grid). Capabilities follow the
//! WebDriver spec (https://www.w3.org/TR/webdriver2/#capabilities) plus
//! `goog:chromeOptions` for Chromium.

pub mod chromedriver;

pub use chromedriver::ChromeDriver;

use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

/// How to get browser sessions. Paths are resolved at the CLI edge.
#[derive(Debug, Clone, Default)]
pub struct DriverConfig {
    /// Use this W3C endpoint instead of starting chromedriver.
    pub webdriver_url: Option<String>,
    /// The chromedriver binary to start.
    pub chromedriver: Binary,
    /// The Chromium binary (found on the machine, or given).
    pub chromium: Option<PathBuf>,
    /// Show the browser window (needs a display).
    pub headed: bool,
    /// Extra Chromium flags for unusual hosts (e.g. a proxy).
    pub extra_args: Vec<String>,
}

/// A binary the user named, one found on PATH, or none.
#[derive(Debug, Clone, Default)]
pub enum Binary {
    /// Named with a flag (it may not exist).
    Given(PathBuf),
    /// Found on PATH.
    Found(PathBuf),
    /// Not on PATH.
    #[default]
    Missing,
}

/// Why no browser session could be had.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// chromedriver or Chromium is missing, mismatched or would not start.
    #[error("{0}")]
    Setup(String),
    /// The endpoint refused a new session.
    #[error("could not open a browser session at {url}: {msg}")]
    Session {
        /// The WebDriver endpoint.
        url: String,
        /// What it said, with a fix when one is known.
        msg: String,
    },
}

/// The fix for a missing or mismatched browser.
pub const APT_FIX: &str = "apt-get install chromium chromium-driver";

/// Where WebDriver sessions come from. One per process; sessions are cheap.
pub struct Endpoint {
    pub url: String,
    config: DriverConfig,
    _driver: Option<Arc<ChromeDriver>>,
}

impl Endpoint {
    /// Starts chromedriver on a free loopback port, or checks the given URL.
    pub async fn start(config: &DriverConfig) -> Result<Endpoint, DriverError> {
        match &config.webdriver_url {
            Some(url) => Ok(Endpoint {
                url: url.trim_end_matches('/').to_string(),
                config: config.clone(),
                _driver: None,
            }),
            None => {
                let d = ChromeDriver::start(config).await?;
                Ok(Endpoint {
                    url: d.url.clone(),
                    config: config.clone(),
                    _driver: Some(Arc::new(d)),
                })
            }
        }
    }

    /// Stops the chromedriver we started (and its browsers) at once.
    pub fn kill(&self) {
        if let Some(d) = &self._driver {
            d.kill();
        }
    }

    pub fn capabilities(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut args = vec![
            "--no-sandbox",            // root and containers
            "--disable-dev-shm-usage", // small /dev/shm in containers
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking", // closed networks: no stray lookups
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--disable-extensions",
            "--disable-features=Translate,OptimizationHints,MediaRouter,PasswordLeakDetection",
            "--password-store=basic",
            "--window-size=1280,1000",
            // One site, one tab: one renderer is enough and saves ~10% CPU per run (BENCHMARKS.md).
            "--disable-site-isolation-trials",
            "--renderer-process-limit=1",
        ];
        if !self.config.headed {
            args.insert(0, "--headless=new");
        }
        let mut args: Vec<String> = args.into_iter().map(String::from).collect();
        args.extend(self.config.extra_args.iter().cloned());
        let mut opts = json!({ "args": args, "prefs": { "credentials_enable_service": false, "profile.password_manager_enabled": false } });
        if let Some(bin) = &self.config.chromium {
            opts["binary"] = json!(bin.to_string_lossy());
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": opts,
            // The runner reads and answers JS alerts itself.
            "unhandledPromptBehavior": "ignore",
            "pageLoadStrategy": "normal",
        });
        caps.as_object()
            .expect("capabilities are an object")
            .clone()
    }

    /// A fresh browser session (its own profile, cookies and cache).
    pub async fn session(&self) -> Result<Client, DriverError> {
        let mut b = ClientBuilder::rustls()
            .map_err(|e| DriverError::Setup(format!("TLS setup failed: {e}")))?;
        b.capabilities(self.capabilities());
        b.connect(&self.url).await.map_err(|e| {
            let msg = e.to_string();
            let hint = if msg.contains("cannot find Chrome binary") || msg.contains("no chrome binary") {
                format!(" (install Chromium: {APT_FIX})")
            } else if msg.to_lowercase().contains("only supports chrome version") {
                format!(" (chromium and chromedriver versions differ: {APT_FIX} installs matching ones)")
            } else {
                String::new()
            };
            DriverError::Session { url: self.url.clone(), msg: format!("{msg}{hint}") }
        })
    }
}
