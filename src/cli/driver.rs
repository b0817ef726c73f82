//! The options that say where browsers come from: our own chromedriver or
//! geckodriver, or `--webdriver` endpoints (and `--webdriver-file`), read
//! and checked here, before any browser starts.

use crate::driver::{endpoints, Address, Binary, BrowserKind, DriverConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct DriverArgs {
    /// A W3C WebDriver endpoint to use instead of starting a driver: a Selenium Grid, a running chromedriver, any W3C endpoint; give it again for more (each session goes to the one with the most room). Basic auth: http://user@host:4444 with EINVREG_WEBDRIVER_PASSWORD set (a password in the URL shows in `ps`; never printed by einvreg)
    #[arg(long, value_name = "URL")]
    pub webdriver: Vec<String>,
    /// A TOML file listing endpoints: webdriver = ["http://host:4444", ...] (with --webdriver, both count; owner-only if a URL holds a password)
    #[arg(long, value_name = "FILE")]
    pub webdriver_file: Option<PathBuf>,
    /// The browser: chromium (chromedriver) or firefox (geckodriver)
    #[arg(long, value_enum, default_value_t = BrowserArg::Chromium)]
    pub browser: BrowserArg,
    /// chromedriver binary (default: on PATH)
    #[arg(long)]
    pub chromedriver: Option<PathBuf>,
    /// Chromium binary (default: /usr/bin/chromium; with --webdriver, sent only when given: the node picks its own)
    #[arg(long)]
    pub chromium: Option<PathBuf>,
    /// geckodriver binary, with --browser firefox (default: on PATH)
    #[arg(long)]
    pub geckodriver: Option<PathBuf>,
    /// Firefox binary, with --browser firefox (default: firefox-esr or firefox on PATH; with --webdriver, sent only when given)
    #[arg(long)]
    pub firefox: Option<PathBuf>,
    /// Show the browser window (needs a display)
    #[arg(long)]
    pub headed: bool,
    /// Browser sessions started ahead of the GSTINs that will use them, each still a fresh browser (default: 1 with our own chromedriver while --parallel leaves a CPU core free, else 0; 0 with --webdriver)
    #[arg(long, value_name = "N")]
    pub warm: Option<usize>,
    /// While a person is awaited, touch the browser session this often so a Grid does not end it as idle (its --session-timeout is 300s by default); 0 turns it off
    #[arg(long, value_name = "DUR", default_value = "60s", value_parser = parse_keep_alive)]
    pub keep_alive: Duration,
}

/// `--browser`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BrowserArg {
    /// Chromium through chromedriver.
    #[default]
    Chromium,
    /// Firefox (ESR) through geckodriver.
    Firefox,
}

fn parse_keep_alive(s: &str) -> Result<Duration, String> {
    match s.trim() {
        "0" => Ok(Duration::ZERO),
        t => humantime::parse_duration(t).map_err(|e| format!("{e} (e.g. 60s, 2m, or 0 for off)")),
    }
}

impl DriverArgs {
    /// The driver's configuration, with binaries found on PATH, the
    /// endpoints file read, and extra Chromium flags from
    /// `EINVREG_CHROMIUM_ARGS` (e.g. a proxy). Bad endpoints are refused
    /// here, before any browser starts.
    pub fn config(&self) -> Result<DriverConfig, String> {
        let binary = |given: &Option<PathBuf>, name: &str| match given {
            Some(p) => Binary::Given(p.clone()),
            None => which(name).map_or(Binary::Missing, Binary::Found),
        };
        let chromium = self.chromium.clone().or_else(|| {
            BROWSERS
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
                .or_else(|| which("chromium"))
                .or_else(|| which("google-chrome"))
        });
        let firefox = self
            .firefox
            .clone()
            .or_else(|| which("firefox-esr"))
            .or_else(|| which("firefox"));
        let extra = std::env::var("EINVREG_CHROMIUM_ARGS").unwrap_or_default();
        let webdriver = self.endpoints()?;
        // A browser path found here means nothing on a Grid's node: there
        // only one given with --chromium / --firefox is sent.
        let (chromium, firefox) = match webdriver.is_empty() {
            true => (chromium, firefox),
            false => (self.chromium.clone(), self.firefox.clone()),
        };
        Ok(DriverConfig {
            webdriver,
            browser: match self.browser {
                BrowserArg::Chromium => BrowserKind::Chromium,
                BrowserArg::Firefox => BrowserKind::Firefox,
            },
            chromedriver: binary(&self.chromedriver, "chromedriver"),
            chromium,
            geckodriver: binary(&self.geckodriver, "geckodriver"),
            firefox,
            headed: self.headed,
            extra_args: extra.split_whitespace().map(String::from).collect(),
            warm: self.warm,
            // Set by `start`, which knows the portal.
            loopback_only: false,
            // A batch's own options (one run or smoke needs one browser).
            isolation: crate::driver::Isolation::Session,
            recycle: crate::driver::RECYCLE_DEFAULT,
        })
    }

    /// `--webdriver-file`'s endpoints, then each `--webdriver`.
    fn endpoints(&self) -> Result<Vec<Address>, String> {
        let mut out = match &self.webdriver_file {
            Some(f) => read_endpoints(f)?,
            None => vec![],
        };
        for u in &self.webdriver {
            let a = Address::parse(u).map_err(|e| format!("--webdriver: {e}"))?;
            if a.password().is_some() {
                errln!("warning: --webdriver {}: a password on the command line shows in `ps` to every user of this machine; name only the user (http://USER@host) and set EINVREG_WEBDRIVER_PASSWORD, or use --webdriver-file (owner-only)", a.shown());
            }
            out.push(a);
        }
        // The environment is read here, at the edge, once.
        if let Ok(pw) = std::env::var("EINVREG_WEBDRIVER_PASSWORD") {
            out = out
                .into_iter()
                .map(|a| a.with_password(&pw))
                .collect::<Result<_, _>>()
                .map_err(|e| format!("EINVREG_WEBDRIVER_PASSWORD: {e}"))?;
        }
        Ok(out)
    }
}

/// Reads an endpoints file; errors name the file, line and field.
fn read_endpoints(f: &Path) -> Result<Vec<Address>, String> {
    let name = f.display().to_string();
    let text = std::fs::read_to_string(f).map_err(|e| format!("--webdriver-file {name}: {e}"))?;
    let mode = file_mode(f);
    endpoints::parse(&name, &text, mode).map_err(|e| crate::chain::chain(&e))
}

#[cfg(unix)]
fn file_mode(f: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(f).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_: &Path) -> Option<u32> {
    None
}

/// Starts our driver (or reaches the `--webdriver` endpoints) for the
/// portal at `portal`.
pub async fn start(
    config: &DriverConfig,
    portal: &str,
) -> Result<crate::driver::Endpoint, super::error::CliError> {
    let mut config = config.clone();
    config.loopback_only = crate::driver::address::on_this_machine(portal);
    crate::driver::Endpoint::start(&config)
        .await
        .map_err(super::error::CliError::failed)
}

/// Where Chromium (or Chrome) is installed, per platform, in order of preference.
#[cfg(target_os = "macos")]
const BROWSERS: &[&str] = &[
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];
#[cfg(windows)]
const BROWSERS: &[&str] = &[
    r"C:\Program Files\Chromium\Application\chrome.exe",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
];
#[cfg(not(any(target_os = "macos", windows)))]
const BROWSERS: &[&str] = &["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/// A program on PATH (`NAME.exe` on Windows).
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
            .find(|f| f.is_file())
    })
}
