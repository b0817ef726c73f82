//! New-session capabilities (https://www.w3.org/TR/webdriver2/#capabilities)
//! per browser: `goog:chromeOptions` for Chromium, `moz:firefoxOptions`
//! for Firefox, and `se:name` for a Selenium Grid's own UI.

use super::DriverConfig;
use serde_json::{json, Map, Value};

/// Which browser sessions run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BrowserKind {
    /// Debian's chromium, through chromedriver.
    #[default]
    Chromium,
    /// Debian's firefox-esr, through geckodriver.
    Firefox,
}

impl BrowserKind {
    /// The W3C `browserName` (what a Grid's slots are labelled with).
    pub fn w3c_name(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chrome",
            BrowserKind::Firefox => "firefox",
        }
    }

    /// Its driver's name, for messages.
    pub fn driver_name(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chromedriver",
            BrowserKind::Firefox => "geckodriver",
        }
    }
}

/// Chromium's flags: quiet, small and closed to the network.
const CHROMIUM_ARGS: &[&str] = &[
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
    // Chromium 156 builds its omnibox pop-ups as web pages for every
    // window, headless too: two renderers and ~0.5 s of CPU per user
    // context, more than a GSTIN's own pages take (BENCHMARKS.md).
    "--disable-features=Translate,OptimizationHints,MediaRouter,PasswordLeakDetection,WebUIOmniboxPopup,WebUIOmniboxAimPopup",
    "--password-store=basic",
    "--window-size=1280,1000",
    // One site, one tab: one renderer is enough and saves ~10% CPU per run (BENCHMARKS.md).
    "--disable-site-isolation-trials",
    "--renderer-process-limit=1",
    // No GPU, so its process only composites in software: as a thread of
    // the browser, one process less per browser (~3 % CPU at --parallel 4).
    "--in-process-gpu",
];

/// Firefox's preferences: no password manager, no updates, no telemetry,
/// no stray lookups (geckodriver's own profile already turns off most).
const FIREFOX_PREFS: &[(&str, bool)] = &[
    ("signon.rememberSignons", false),
    ("app.update.enabled", false),
    ("browser.shell.checkDefaultBrowser", false),
    ("datareporting.policy.dataSubmissionEnabled", false),
    ("toolkit.telemetry.enabled", false),
    ("network.captive-portal-service.enabled", false),
    ("network.connectivity-service.enabled", false),
    ("browser.safebrowsing.malware.enabled", false),
    ("browser.safebrowsing.phishing.enabled", false),
    ("extensions.update.enabled", false),
];

/// Firefox's preferences when the portal is on this machine.
fn firefox_loopback_only() -> Vec<(&'static str, Value)> {
    vec![
        ("network.proxy.type", json!(1)),
        ("network.proxy.http", json!("127.0.0.1")),
        ("network.proxy.http_port", json!(9)),
        ("network.proxy.ssl", json!("127.0.0.1")),
        ("network.proxy.ssl_port", json!(9)),
        ("network.proxy.socks_remote_dns", json!(true)),
        ("network.dns.disablePrefetch", json!(true)),
        ("network.predictor.enabled", json!(false)),
        ("network.trr.mode", json!(5)),
        // Remote Settings would look up firefox.settings.services.mozilla.com.
        ("services.settings.server", json!("http://127.0.0.1:9/v1")),
        (
            "network.dns.localDomains",
            json!("firefox.settings.services.mozilla.com"),
        ),
    ]
}

/// The capabilities of a new session; `name` becomes `se:name` (a
/// Grid's label for the session: the GSTIN, never a secret).
pub fn capabilities(config: &DriverConfig, name: Option<&str>) -> Map<String, Value> {
    let mut caps = match config.browser {
        BrowserKind::Chromium => chromium(config),
        BrowserKind::Firefox => firefox(config),
    };
    // The runner reads and answers JS alerts itself.
    caps.insert("unhandledPromptBehavior".into(), json!("ignore"));
    caps.insert("pageLoadStrategy".into(), json!("normal"));
    if let Some(n) = name {
        caps.insert("se:name".into(), json!(n));
    }
    caps
}

fn chromium(config: &DriverConfig) -> Map<String, Value> {
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
    if !config.headed {
        args.insert(0, "--headless=new".into());
    }
    if config.loopback_only {
        args.push(
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1".into(),
        );
    }
    args.extend(config.extra_args.iter().cloned());
    let prefs =
        json!({ "credentials_enable_service": false, "profile.password_manager_enabled": false });
    let mut opts = json!({ "args": args, "prefs": prefs });
    if let Some(bin) = &config.chromium {
        opts["binary"] = json!(bin.to_string_lossy());
    }
    object(json!({ "browserName": "chrome", "goog:chromeOptions": opts }))
}

fn firefox(config: &DriverConfig) -> Map<String, Value> {
    let mut args: Vec<String> = ["-width=1280", "-height=1000"].map(String::from).to_vec();
    if !config.headed {
        args.insert(0, "-headless".into());
    }
    let prefs: Map<String, Value> = FIREFOX_PREFS
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut prefs = prefs;
    if config.loopback_only {
        // Everything not on this machine goes to a proxy that is not
        // there (port 9 on loopback), so Firefox looks up no host name.
        for (k, v) in firefox_loopback_only() {
            prefs.insert(k.to_string(), v);
        }
    }
    let mut opts = json!({ "args": args, "prefs": prefs });
    if let Some(bin) = &config.firefox {
        opts["binary"] = json!(bin.to_string_lossy());
    }
    object(json!({ "browserName": "firefox", "moz:firefoxOptions": opts }))
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("capabilities are built as an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_browser_gets_its_own_options_and_a_grid_label_when_named() {
        let mut c = DriverConfig::default();
        let caps = capabilities(&c, Some("29AAFCC9980MZZT"));
        assert_eq!(caps["browserName"], "chrome");
        assert_eq!(caps["se:name"], "29AAFCC9980MZZT");
        assert_eq!(caps["goog:chromeOptions"]["args"][0], "--headless=new");
        let args = caps["goog:chromeOptions"]["args"].to_string();
        assert!(
            !args.contains("host-resolver-rules"),
            "real portals need DNS"
        );
        c.loopback_only = true;
        let caps = capabilities(&c, None);
        let args = caps["goog:chromeOptions"]["args"].to_string();
        assert!(
            args.contains(
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
            ),
            "{args}"
        );
        c.browser = BrowserKind::Firefox;
        c.headed = true;
        let caps = capabilities(&c, None);
        assert_eq!(caps["browserName"], "firefox");
        assert!(!caps.contains_key("se:name"));
        assert_eq!(caps["moz:firefoxOptions"]["args"][0], "-width=1280");
        assert_eq!(
            caps["moz:firefoxOptions"]["prefs"]["signon.rememberSignons"],
            false
        );
        assert_eq!(caps["unhandledPromptBehavior"], "ignore");
    }
}
