//! Replica settings: the layout (which of the portals' known behaviours
//! it shows), faults and drift, parsed from `--layout`, `--faults` and
//! `--drift`.

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

/// Faults to inject (`--faults "latency=50-200ms;http500=login@0.3;idle_expiry=30s;spurious_already_created;slow_alert=2s;hold_create=30s;unknown_confirm"`).
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
    /// Each production page after login shows, with this probability, an
    /// interruption at a random moment: the technical-person notice, an
    /// announcement, or a "session about to expire" alert.
    pub interruptions: Option<f64>,
    /// A credential the portal has just created is answered only after
    /// this long: the submit window, held open for crash tests.
    pub hold_create: Option<Duration>,
    /// A hostile create answer: the posted form echoed back in every
    /// encoding (text, escaped, URL-encoded, JSON, base64, an input's
    /// value); `stubborn` also undoes any style put on the echo.
    pub echo_form: Option<Echo>,
    /// The API user form asks "Are you sure you want to create the API
    /// user?" before it posts [guess]; Cancel posts nothing.
    pub confirm_create: bool,
    /// The same confirm, asked 300 ms after the Submit click; the form
    /// posts 150 ms after a yes [guess]: the click's wait meets it.
    pub late_confirm: bool,
    /// The dashboard asks a confirm no flow knows [guess]: OK opens
    /// another page (counted as `unknown_confirm.accepted`), Cancel stays.
    pub unknown_confirm: bool,
    /// The dashboard asks, at a random moment up to 1.5 s after it loads,
    /// "Your session will time out … Do you want to continue?" [guess]:
    /// OK keeps the session (`session_confirm.kept`), Cancel logs out.
    pub session_confirm: bool,
    /// The page after the create asks a confirm no flow knows, then shows
    /// the success alert [guess].
    pub confirm_after_create: bool,
    /// The success alert's page moves on by itself (to the dashboard) the
    /// moment the alert is answered [guess].
    pub success_moves_on: bool,
    /// The auth API's first N calls answer HTTP 503.
    pub auth_busy: u64,
    /// The auth API answers HTTP 429 past N calls a second for one GSTIN.
    pub auth_rate: Option<u32>,
    /// The first page after a login shows the session-expiry alert three
    /// times in a row, as a browser does when a driver's answers do not
    /// reach it (seen under load); once per replica.
    pub stuck_alert: bool,
    /// While the API password is typed the re-enter box hides; 150 ms
    /// after its last key the session-expiry alert opens, and answered, the
    /// box shows again: the next step's look, waiting for the box, meets
    /// the alert while the password's value check is still to be made;
    /// once per replica.
    pub expiry_after_password: bool,
    /// The session-expiry alert the moment the first key goes into the
    /// re-enter box: the keys typed while it is open are lost; once per
    /// replica.
    pub expiry_mid_retype: bool,
    /// The Create API User page is 1.5 s slow to come, and the
    /// session-expiry alert opens on the old page 50 ms after its link is
    /// clicked: a load under way when the alert is answered; once per
    /// replica.
    pub expiry_while_loading: bool,
}

/// How the `echo_form` page behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Echoes; a screenshot can mask it.
    Plain,
    /// Echoes and restores its elements' style whenever it changes.
    Stubborn,
    /// Also draws each value in ways a markup-only masker misses (a set
    /// of [`TRICKS`] bits): a broken image's alt text, CSS generated
    /// content, a bidi override of the reversed text, a canvas, and a
    /// row-reversed flex of single characters; all in pure red.
    Tricks(u8),
}

/// The `echo_form=tricks:…` names, bit by bit.
pub const TRICKS: &[&str] = &["alt", "attr", "bidi", "canvas", "flex"];

pub(crate) fn tricks(list: &str) -> Result<u8, ConfigError> {
    list.split('+').try_fold(0u8, |bits, t| {
        match TRICKS.iter().position(|n| *n == t.trim()) {
            Some(i) => Ok(bits | 1 << i),
            None => Err(ConfigError(format!(
                "echo_form=tricks: `{t}` is not one of {}",
                TRICKS.join(", ")
            ))),
        }
    })
}

pub const FAULT_NAMES: &[&str] = &[
    "latency",
    "http500",
    "idle_expiry",
    "spurious_already_created",
    "slow_alert",
    "interruptions",
    "hold_create",
    "echo_form",
    "unknown_confirm",
    "confirm_create",
    "late_confirm",
    "session_confirm",
    "confirm_after_create",
    "success_moves_on",
    "auth_busy",
    "auth_rate",
    "stuck_alert",
    "expiry_after_password",
    "expiry_mid_retype",
    "expiry_while_loading",
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
    "auth_api",
];

fn need<'a>(name: &str, v: Option<&'a str>) -> Result<&'a str, ConfigError> {
    v.ok_or_else(|| ConfigError(format!("fault `{name}` needs a value: {name}=...")))
}

fn probability(name: &str, v: Option<&str>) -> Result<f64, ConfigError> {
    let v = v.unwrap_or("1");
    match v.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(ConfigError(format!(
            "{name}: `{v}` is not a probability between 0 and 1"
        ))),
    }
}

fn count(name: &str, v: Option<&str>) -> Result<u64, ConfigError> {
    let v = need(name, v)?;
    v.parse()
        .map_err(|_| ConfigError(format!("{name}: `{v}` is not a whole number")))
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
                "unknown_confirm" => f.unknown_confirm = true,
                "confirm_create" => f.confirm_create = true,
                "late_confirm" => f.late_confirm = true,
                "session_confirm" => f.session_confirm = true,
                "confirm_after_create" => f.confirm_after_create = true,
                "success_moves_on" => f.success_moves_on = true,
                "stuck_alert" => f.stuck_alert = true,
                "expiry_after_password" => f.expiry_after_password = true,
                "expiry_mid_retype" => f.expiry_mid_retype = true,
                "expiry_while_loading" => f.expiry_while_loading = true,
                "slow_alert" => f.slow_alert = Some(dur(need(name, val)?)?),
                "interruptions" => f.interruptions = Some(probability(name, val)?),
                "hold_create" => f.hold_create = Some(dur(need(name, val)?)?),
                "auth_busy" => f.auth_busy = count(name, val)?,
                "auth_rate" => f.auth_rate = Some(count(name, val)? as u32),
                "echo_form" => {
                    f.echo_form = Some(match val {
                        None | Some("plain") => Echo::Plain,
                        Some("stubborn") => Echo::Stubborn,
                        Some("tricks") => Echo::Tricks(u8::MAX >> 3),
                        Some(v) if v.starts_with("tricks:") => Echo::Tricks(tricks(&v[7..])?),
                        Some(v) => {
                            return Err(ConfigError(format!(
                                "echo_form: `{v}` is not plain, stubborn, tricks or tricks:alt+attr+bidi+canvas+flex"
                            )))
                        }
                    })
                }
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

/// Which of the portals' known behaviours the replica shows. `evidence`
/// (the default) follows the public evidence in portal-facts.md;
/// `legacy` is the replica as it was first built from our guesses; both
/// may be real (fixtures/README.md gives each behaviour's source).
/// `renamed` is `evidence` with every id and name that is not public
/// renamed; `relabelled` is `renamed` whose buttons also read otherwise;
/// `widgets` is `evidence` with dropdown widgets, the second factor in a
/// frame and Create API User in a new window. Single behaviours switch with `+name` / `-name`, e.g.
/// `evidence,-options-in-place`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// What `--layout` said, for `/__replica/info`.
    pub name: String,
    /// Production: the login form is part of the home page, shown by
    /// `#btnLogin`, and the password is posted hashed with a salt.
    pub login_on_home: bool,
    /// Production: login, OTP and form errors are JS alerts, not page text.
    pub alert_errors: bool,
    /// Production: a public "List of GSPs" page (our guess; no evidence).
    pub gsp_list_page: bool,
    /// Production: the technical-person notice is a modal over the dashboard.
    pub notice_modal: bool,
    /// Production: the API user options and form appear in place on the
    /// OTP page's answer (`/APIUserAccount/VerifyRegOTP`).
    pub options_in_place: bool,
    /// Production: the username box starts with `API_`, kept by a script.
    pub prefix_in_box: bool,
    /// Production: "Directly" asks for the taxpayer's Client ID and Secret
    /// and is offered only to eligible taxpayers; "other GSTIN" is a
    /// dropdown of same-PAN GSTINs.
    pub route_forms: bool,
    /// Sandbox: the acknowledgement says "account has been created"
    /// instead of "Registration Successful" (the real wording is unknown).
    pub ack_account_created: bool,
    /// Every id and name that is not public is renamed; labels stay.
    pub renamed_ids: bool,
    /// The buttons and menu entries a flow clicks read otherwise [guess].
    pub relabelled_buttons: bool,
    /// The provider dropdowns are a widget over a hidden `<select>` [guess].
    pub dropdown_widget: bool,
    /// Create API User opens in a new window that closes itself [guess].
    pub create_window: bool,
    /// The login's second factor is inside an iframe [guess].
    pub framed_2fa: bool,
    /// That iframe sits in an iframe of its own [guess].
    pub frame_in_frame: bool,
}

/// The behaviours `+name` / `-name` switch.
pub const BEHAVIOURS: &[&str] = &[
    "login-on-home",
    "alert-errors",
    "gsp-list-page",
    "notice-modal",
    "options-in-place",
    "prefix-in-box",
    "route-forms",
    "ack-account-created",
    "renamed-ids",
    "relabelled-buttons",
    "dropdown-widget",
    "create-window",
    "framed-2fa",
    "frame-in-frame",
];

/// Layout names `--layout` takes.
pub const LAYOUT_NAMES: &[&str] = &["evidence", "legacy", "renamed", "relabelled", "widgets"];

impl Default for Layout {
    fn default() -> Self {
        Layout::named("evidence").expect("evidence is a layout")
    }
}

impl Layout {
    fn named(name: &str) -> Option<Layout> {
        let evidence = name != "legacy";
        Some(Layout {
            name: name.to_string(),
            login_on_home: evidence,
            alert_errors: evidence,
            gsp_list_page: !evidence,
            notice_modal: evidence,
            options_in_place: evidence,
            prefix_in_box: evidence,
            route_forms: evidence,
            ack_account_created: evidence,
            renamed_ids: match name {
                "renamed" | "relabelled" => true,
                "evidence" | "legacy" | "widgets" => false,
                _ => return None,
            },
            relabelled_buttons: name == "relabelled",
            dropdown_widget: name == "widgets",
            create_window: name == "widgets",
            framed_2fa: name == "widgets",
            frame_in_frame: false,
        })
    }

    fn flag(&mut self, behaviour: &str) -> Option<&mut bool> {
        Some(match behaviour {
            "login-on-home" => &mut self.login_on_home,
            "alert-errors" => &mut self.alert_errors,
            "gsp-list-page" => &mut self.gsp_list_page,
            "notice-modal" => &mut self.notice_modal,
            "options-in-place" => &mut self.options_in_place,
            "prefix-in-box" => &mut self.prefix_in_box,
            "route-forms" => &mut self.route_forms,
            "ack-account-created" => &mut self.ack_account_created,
            "renamed-ids" => &mut self.renamed_ids,
            "relabelled-buttons" => &mut self.relabelled_buttons,
            "dropdown-widget" => &mut self.dropdown_widget,
            "create-window" => &mut self.create_window,
            "framed-2fa" => &mut self.framed_2fa,
            "frame-in-frame" => &mut self.frame_in_frame,
            _ => return None,
        })
    }

    /// Parses `--layout`: a name, then `+behaviour` / `-behaviour` parts.
    pub fn parse(spec: &str) -> Result<Layout, ConfigError> {
        let mut parts = spec.split(',').map(str::trim).filter(|p| !p.is_empty());
        let first = parts.next().unwrap_or("evidence");
        let mut l = Layout::named(first).ok_or_else(|| {
            ConfigError(format!(
                "unknown layout `{first}`; {}",
                crate::flow::suggest::hint(first, LAYOUT_NAMES)
            ))
        })?;
        for part in parts {
            let (on, name) = match part.split_at(1) {
                ("+", n) => (true, n),
                ("-", n) => (false, n),
                _ => {
                    return Err(ConfigError(format!(
                        "`{part}`: write +behaviour or -behaviour after the layout name"
                    )))
                }
            };
            let hint = crate::flow::suggest::hint(name, BEHAVIOURS);
            let f = l
                .flag(name)
                .ok_or_else(|| ConfigError(format!("unknown behaviour `{name}`; {hint}")))?;
            *f = on;
        }
        l.name = spec.to_string();
        Ok(l)
    }
}

/// Named, realistic markup changes for the smoke check to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    /// Production login: the username box's id changes, its name stays (a fallback still matches).
    RenamedId,
    /// Production login: the username box's id, name and label all change.
    RenamedField,
    /// Production home: the Login button becomes "Sign In" with a new id.
    RelabelledButton,
    /// Sandbox registration: the captcha box moves into a panel on a row of
    /// its own and is renamed (new id and name, no label).
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
    fn parses_layouts() {
        let e = Layout::default();
        assert!(e.login_on_home && e.options_in_place && !e.gsp_list_page && !e.renamed_ids);
        let l = Layout::parse("legacy").unwrap();
        assert!(!l.login_on_home && !l.alert_errors && l.gsp_list_page);
        assert!(Layout::parse("renamed").unwrap().renamed_ids);
        let w = Layout::parse("widgets").unwrap();
        assert!(
            w.dropdown_widget
                && w.create_window
                && w.framed_2fa
                && w.login_on_home
                && !w.renamed_ids
        );
        assert!(!e.dropdown_widget && !e.create_window && !w.frame_in_frame);
        assert!(
            Layout::parse("widgets,+frame-in-frame")
                .unwrap()
                .frame_in_frame
        );
        assert!(
            Layout::parse("evidence,+create-window")
                .unwrap()
                .create_window
        );
        let mixed = Layout::parse("evidence, -options-in-place, +gsp-list-page").unwrap();
        assert!(!mixed.options_in_place && mixed.gsp_list_page && mixed.login_on_home);
        assert!(Layout::parse("evidense")
            .unwrap_err()
            .contains("did you mean `evidence`"));
        assert!(Layout::parse("evidence,-prefix-in-bx").is_err());
        assert!(Layout::parse("evidence,prefix-in-box").is_err());
    }
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
        assert_eq!(
            Faults::parse("interruptions=0.5").unwrap().interruptions,
            Some(0.5)
        );
        assert!(Faults::parse("interruptions=2").is_err());
        assert!(Drift::parse("renamed").is_err());
    }
}
