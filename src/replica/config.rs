//! Replica settings: faults and drift, parsed from `--faults` / `--drift`.

use std::time::Duration;

/// Why a `--faults` or `--drift` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl std::ops::Deref for ConfigError {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Faults to inject (`--faults "latency=50-200ms;http500=login@0.3;idle_expiry=30s;spurious_already_created;slow_alert=2s"`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added before every page: fixed (lo == hi) or uniformly random.
    pub latency: Option<(Duration, Duration)>,
    /// (page name, probability) pairs: answer HTTP 500 there.
    pub http500: Vec<(String, f64)>,
    /// Sessions idle longer than this are gone.
    pub idle_expiry: Option<Duration>,
    /// The first create for a GSTIN succeeds but says "already created" (seed 002).
    pub spurious_already_created: bool,
    /// The "OTP has been sent" alert opens this long after the page loads.
    pub slow_alert: Option<Duration>,
}

pub const FAULT_NAMES: &[&str] = &[
    "latency",
    "http500",
    "idle_expiry",
    "spurious_already_created",
    "slow_alert",
];

/// Page names that `http500=PAGE@P` may name.
pub const PAGES: &[&str] = &[
    "home",
    "login",
    "login_submit",
    "login_otp",
    "tech_popup",
    "dashboard",
    "create_api_user",
    "verify_reg_otp",
    "check_api_user_reg",
    "create_user",
    "sandbox_home",
    "sandbox_login",
    "registration",
    "registration_postback",
    "acknowledgement",
];

fn need<'a>(name: &str, v: Option<&'a str>) -> Result<&'a str, ConfigError> {
    v.ok_or_else(|| ConfigError(format!("fault `{name}` needs a value: {name}=...")))
}

fn dur(s: &str) -> Result<Duration, ConfigError> {
    crate::flow::parse::parse_duration(s)
        .ok_or_else(|| ConfigError(format!("`{s}` is not a duration (write 200ms, 2s, 1m)")))
}

impl Faults {
    /// Parses `--faults`, e.g. `latency=50-200ms;http500=login_submit@0.3`.
    pub fn parse(spec: &str) -> Result<Faults, ConfigError> {
        let mut f = Faults::default();
        for part in spec
            .split([';', ','])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (name, val) = part
                .split_once('=')
                .map(|(a, b)| (a.trim(), Some(b.trim())))
                .unwrap_or((part, None));
            match name {
                "latency" => {
                    let v = need(name, val)?;
                    let (lo, hi) = match v.split_once('-') {
                        Some((a, b)) => {
                            let hi = dur(b)?;
                            // "50-200ms": the unit of the upper bound applies to both.
                            let unit: String = b
                                .chars()
                                .skip_while(|c| c.is_ascii_digit() || *c == '.')
                                .collect();
                            let lo = if a.chars().all(|c| c.is_ascii_digit()) {
                                dur(&format!("{a}{unit}"))?
                            } else {
                                dur(a)?
                            };
                            (lo, hi)
                        }
                        None => (dur(v)?, dur(v)?),
                    };
                    if lo > hi {
                        return Err(ConfigError(format!("latency range {v} runs backwards")));
                    }
                    f.latency = Some((lo, hi));
                }
                "http500" => {
                    let v = need(name, val)?;
                    let (page, p) = v.split_once('@').unwrap_or((v, "1"));
                    if !PAGES.contains(&page) {
                        return Err(ConfigError(format!(
                            "http500: unknown page `{page}`; {}",
                            crate::flow::suggest::hint(page, PAGES)
                        )));
                    }
                    let p: f64 = p
                        .parse()
                        .map_err(|_| ConfigError(format!("http500: `{p}` is not a probability")))?;
                    if !(0.0..=1.0).contains(&p) {
                        return Err(ConfigError(format!(
                            "http500: probability {p} is outside 0..1"
                        )));
                    }
                    f.http500.push((page.to_string(), p));
                }
                "idle_expiry" => f.idle_expiry = Some(dur(need(name, val)?)?),
                "spurious_already_created" => f.spurious_already_created = true,
                "slow_alert" => f.slow_alert = Some(dur(need(name, val)?)?),
                other => {
                    return Err(ConfigError(format!(
                        "unknown fault `{other}`; {}",
                        crate::flow::suggest::hint(other, FAULT_NAMES)
                    )))
                }
            }
        }
        Ok(f)
    }
}

/// Named, realistic markup changes for the smoke check to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    /// Production login: the username box's id changes, its name stays (a fallback still matches).
    RenamedId,
    /// Production login: the username box's id and name both change.
    RenamedField,
    /// Production home: the Login button becomes "Sign In" with a new id.
    RelabelledButton,
    /// Sandbox registration: the captcha box moves into a panel and is renamed (new id and name).
    MovedElement,
    /// Production: an "Important notice" page now sits between home and login.
    Interstitial,
    /// A GSP vanishes from the dropdowns and lists (Vay Network Services).
    MissingGsp,
}

pub const DRIFT_NAMES: &[&str] = &[
    "renamed-id",
    "renamed-field",
    "relabelled-button",
    "moved-element",
    "interstitial",
    "missing-gsp",
];

impl Drift {
    /// Parses a `--drift` name.
    pub fn parse(s: &str) -> Result<Drift, ConfigError> {
        Ok(match s {
            "renamed-id" => Drift::RenamedId,
            "renamed-field" => Drift::RenamedField,
            "relabelled-button" => Drift::RelabelledButton,
            "moved-element" => Drift::MovedElement,
            "interstitial" => Drift::Interstitial,
            "missing-gsp" => Drift::MissingGsp,
            other => {
                return Err(ConfigError(format!(
                    "unknown drift `{other}`; {}",
                    crate::flow::suggest::hint(other, DRIFT_NAMES)
                )))
            }
        })
    }
    /// The name `--drift` takes.
    pub fn name(self) -> &'static str {
        DRIFT_NAMES[self as usize]
    }
}

/// The provider the `missing-gsp` drift removes.
pub const MISSING_GSP: &str = "Vay Network Services Private Limited";

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_fault_specs() {
        let f = Faults::parse("latency=50-200ms; http500=login@0.5, idle_expiry=30s;spurious_already_created;slow_alert=2s").unwrap();
        assert_eq!(
            f.latency,
            Some((Duration::from_millis(50), Duration::from_millis(200)))
        );
        assert_eq!(f.http500, vec![("login".to_string(), 0.5)]);
        assert_eq!(f.idle_expiry, Some(Duration::from_secs(30)));
        assert!(f.spurious_already_created);
        assert_eq!(f.slow_alert, Some(Duration::from_secs(2)));
        assert!(Faults::parse("latncy=1s")
            .unwrap_err()
            .contains("did you mean `latency`"));
        assert!(Faults::parse("http500=nowhere").is_err());
        assert!(Faults::parse("latency=5-1s").is_err());
        assert_eq!(Drift::parse("interstitial").unwrap().name(), "interstitial");
        assert!(Drift::parse("renamed").is_err());
    }
}
