//! The replica's memory: the taxpayer directory, sessions, OTPs, the SMS
//! outbox and the users created so far (optionally persisted with `--state`).

use super::config::{Drift, Faults, Layout, MISSING_GSP};
use crate::rules::gstin::check_char;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// A taxpayer as the GST records know it (`fixtures/taxpayers.toml`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Taxpayer {
    /// The GSTIN.
    pub gstin: String,
    /// Trade name.
    pub trade_name: String,
    /// Legal name.
    pub legal_name: String,
    /// The registered mobile (OTPs go there).
    pub mobile: String,
    /// The registered e-mail.
    pub email: String,
    /// Production (GST / e-way bill) login; `None`: the taxpayer has not
    /// registered one yet (Registration → Portal Login makes it).
    #[serde(default)]
    pub username: Option<String>,
    /// Its password (demo data, replica only).
    #[serde(default)]
    pub password: Option<String>,
    /// Shows the technical-person popup after login.
    #[serde(default)]
    pub tech_popup: bool,
    /// Enabled for e-invoicing; a GSTIN that is not gets the enablement
    /// notice instead of the API Registration menu (seed 001).
    #[serde(default = "yes")]
    pub einvoice_enabled: bool,
    /// May register "Directly" with its own Client ID and Secret (large
    /// taxpayers; seed 001 shows a screen without that option).
    #[serde(default)]
    pub direct_eligible: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct Providers {
    pub gsp: Vec<String>,
    pub erp: Vec<String>,
    #[serde(default)]
    pub sandbox_client_id: HashMap<String, String>,
}

impl Providers {
    /// The sandbox Client ID for a company: the fixture's, or one derived from its name.
    pub fn client_id(&self, company: &str) -> String {
        if let Some(id) = self.sandbox_client_id.get(company) {
            return id.clone();
        }
        let letters: String = company
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .take(5)
            .collect::<String>()
            .to_ascii_uppercase();
        let h = company
            .bytes()
            .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
        format!("{letters:A<5}29GSP{:05}", h % 100000)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SandboxUser {
    pub gstin: String,
    pub username: String,
    pub password_hash: u64,
    pub through: String,
    pub company: String,
    pub client_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiUser {
    pub gstin: String,
    /// GSP/ERP name, "Direct", or "Client-Id of <GSTIN>".
    pub provider: String,
    /// With the `API_` prefix.
    pub username: String,
    pub password_hash: u64,
}

/// A portal login made on the replica (Registration → Portal Login),
/// kept as the digest the login form's hash starts from, never the password.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PortalLogin {
    pub gstin: String,
    pub username: String,
    /// `hash::login_digest` of the password.
    pub digest: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Persisted {
    pub sandbox_users: Vec<SandboxUser>,
    pub api_users: Vec<ApiUser>,
    /// Older state files have none.
    #[serde(default)]
    pub portal_logins: Vec<PortalLogin>,
    /// GSTINs enabled for e-invoicing on the replica (Registration →
    /// e-Invoice Enablement).
    #[serde(default)]
    pub enabled: Vec<String>,
}

/// Not cryptographic: the replica only needs to tell passwords apart without keeping them.
pub fn hash_password(p: &str) -> u64 {
    p.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Sms {
    pub seq: u64,
    pub portal: &'static str,
    /// "sms" or "sandes" (the Sandes app).
    pub channel: &'static str,
    pub mobile: String,
    pub text: String,
    pub otp: String,
    #[serde(skip)]
    pub session: String,
    pub at_unix_ms: u128,
}

#[derive(Debug, Clone)]
pub struct Otp {
    pub code: String,
    pub sent: Instant,
    pub wrong: u32,
    pub resends: u32,
}

pub enum OtpCheck {
    Ok,
    Wrong { left: u32 },
    Expired,
    Locked,
    Missing,
}

/// Where a sandbox registration stands (Registration.aspx is one URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegStage {
    #[default]
    Form,
    Validated,
    OtpSent,
    Verified,
}

/// The Registration menu's forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegForm {
    #[default]
    PortalLogin,
    Enablement,
    /// Forgot Password (under the login form).
    ForgotPassword,
    /// Forgot Username (under the login form): the username goes by SMS.
    ForgotUsername,
}

/// Where a Registration form stands in a session: each stage holds the
/// GSTIN the Go button found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Signup {
    #[default]
    Form,
    Found(String),
    OtpSent(String),
    Verified(String),
}

#[derive(Debug, Clone, Default)]
pub struct Session {
    pub last_seen: Option<Instant>,
    pub captcha: Option<String>,
    pub captcha_serial: u64,
    pub csrf: String,
    pub otp: Option<Otp>,
    // production
    pub pending_login: Option<String>,
    pub gstin: Option<String>,
    pub authenticated: bool,
    pub api_otp_verified: bool,
    /// The salt the login form was given (evidence layout).
    pub salt: String,
    /// The second factor chosen: "SMS", "SANDES" or "SHIELD".
    pub otp_mode: String,
    /// The technical-person modal's Exit was pressed in this session.
    pub tech_notice_closed: bool,
    /// Registration → Portal Login or e-Invoice Enablement, or Forgot Password.
    pub signup: (RegForm, Signup),
    /// The login Forgot Password is resetting.
    pub resetting: Option<String>,
    // sandbox
    pub stage: RegStage,
    pub reg: HashMap<String, String>,
    pub viewstate: String,
    pub ack: Option<(String, String, String)>,
    pub sandbox_login: Option<String>,
}

pub struct Shared {
    pub taxpayers: Vec<Taxpayer>,
    pub providers: Providers,
    /// The e-Invoice auth API's keys and clients.
    pub api: super::api_auth::ApiAuth,
    pub faults: Faults,
    pub drift: Option<Drift>,
    pub layout: Layout,
    pub otp_validity: Duration,
    pub max_resends: u32,
    pub max_wrong: u32,
    pub state_file: Option<PathBuf>,
    pub quiet: bool,
    pub inner: Mutex<Inner>,
}

pub struct Inner {
    pub rng: StdRng,
    pub sessions: HashMap<String, Session>,
    /// Login posts per browser (its `replica_browser` cookie): a browser
    /// shared between two GSTINs shows as one with two logins.
    pub logins_by_browser: HashMap<String, u32>,
    pub outbox: Vec<Sms>,
    pub users: Persisted,
    /// (gstin, provider) pairs whose first create the spurious fault already hit.
    pub spurious_done: Vec<String>,
    pub seq: u64,
    pub tech_popup_seen: Vec<String>,
    pub counters: HashMap<String, u64>,
    /// Every captcha text shown (a test aid: proves answers never leak).
    pub captcha_log: Vec<String>,
    /// Each captcha image served, by its pixels, and its text: the
    /// replica reads its own captchas back for tests that act as people.
    pub captcha_images: HashMap<u64, String>,
    /// Tokens and rate-limit clocks of the auth API.
    pub auth: super::api_auth::AuthState,
}

pub fn mask_mobile(m: &str) -> String {
    if m.len() < 4 {
        return "xxxx".into();
    }
    format!("{}xxxxxx{}", &m[..2], &m[m.len() - 2..])
}

impl Shared {
    pub fn taxpayer(&self, gstin: &str) -> Option<&Taxpayer> {
        self.taxpayers.iter().find(|t| t.gstin == gstin)
    }
    /// The taxpayer a login belongs to, and its password's digest: a
    /// login registered (or reset) on the replica, or the directory's.
    pub fn login(&self, username: &str) -> Option<(Taxpayer, String)> {
        // One made or reset on the replica first: a reset password
        // replaces the directory's.
        let registered = self.registered(|l| l.username.eq_ignore_ascii_case(username));
        if let Some(l) = registered {
            return Some((self.taxpayer(&l.gstin)?.clone(), l.digest));
        }
        self.taxpayers.iter().find_map(|t| {
            let (u, pw) = (t.username.as_deref()?, t.password.as_deref()?);
            u.eq_ignore_ascii_case(username)
                .then(|| (t.clone(), super::hash::login_digest(pw)))
        })
    }

    /// The GSTIN's portal login name, if it has one.
    pub fn login_name(&self, gstin: &str) -> Option<String> {
        let known = self.taxpayer(gstin).and_then(|t| t.username.clone());
        known.or_else(|| self.registered(|l| l.gstin == gstin).map(|l| l.username))
    }

    /// Whether the GSTIN is enabled for e-invoicing: in the GST records,
    /// or since through e-Invoice Enablement.
    pub fn enabled(&self, gstin: &str) -> bool {
        let known = self.taxpayer(gstin).is_none_or(|t| t.einvoice_enabled);
        known
            || self
                .inner
                .lock()
                .unwrap()
                .users
                .enabled
                .iter()
                .any(|g| g == gstin)
    }

    /// Enables the GSTIN for e-invoicing (kept with `--state`).
    pub fn enable(&self, gstin: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.users.enabled.push(gstin.to_string());
        self.persist(&inner);
        *inner.counters.entry("einvoice_enabled".into()).or_default() += 1;
    }

    /// Sets a login's password (Forgot Password): kept as a registered
    /// login, which replaces the directory's.
    pub fn reset_password(&self, gstin: &str, username: &str, password: &str) {
        let mut inner = self.inner.lock().unwrap();
        let logins = &mut inner.users.portal_logins;
        logins.retain(|l| !l.username.eq_ignore_ascii_case(username));
        logins.push(PortalLogin {
            gstin: gstin.to_string(),
            username: username.to_string(),
            digest: super::hash::login_digest(password),
        });
        self.persist(&inner);
        *inner.counters.entry("password_reset".into()).or_default() += 1;
    }

    /// A portal login registered on the replica.
    fn registered(&self, which: impl Fn(&PortalLogin) -> bool) -> Option<PortalLogin> {
        let inner = self.inner.lock().unwrap();
        inner.users.portal_logins.iter().find(|l| which(l)).cloned()
    }

    pub fn gsp_list(&self) -> Vec<&str> {
        self.providers
            .gsp
            .iter()
            .map(String::as_str)
            .filter(|g| !(self.drift == Some(Drift::MissingGsp) && *g == MISSING_GSP))
            .collect()
    }
    pub fn erp_list(&self) -> Vec<&str> {
        self.providers.erp.iter().map(String::as_str).collect()
    }
    /// Other GSTINs with the same PAN, for "Through Client-Id of other GSTIN".
    pub fn same_pan(&self, gstin: &str) -> Vec<&str> {
        self.taxpayers
            .iter()
            .map(|t| t.gstin.as_str())
            .filter(|g| *g != gstin && g.get(2..12) == gstin.get(2..12))
            .collect()
    }

    pub fn persist(&self, inner: &Inner) {
        if let Some(f) = &self.state_file {
            let tmp = f.with_extension("tmp");
            let s = serde_json::to_string_pretty(&inner.users).expect("users serialise");
            // Written aside, then renamed: a crash never leaves half a file.
            if let Err(e) = std::fs::write(&tmp, s).and_then(|()| std::fs::rename(&tmp, f)) {
                tracing::warn!("replica: cannot keep users in {}: {e}", f.display());
            }
        }
    }
}

impl Inner {
    pub fn new_id(&mut self, len: usize) -> String {
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| A[self.rng.random_range(0..A.len())] as char)
            .collect()
    }

    pub fn new_otp(&mut self) -> String {
        format!("{:06}", self.rng.random_range(0..1_000_000u32))
    }

    /// Sends a message (stamped and numbered here): stored in the outbox
    /// and printed on the console, the simulated phone.
    pub fn send(&mut self, shared: &Shared, mut sms: Sms) {
        self.seq += 1;
        sms.seq = self.seq;
        sms.at_unix_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        if !shared.quiet {
            use std::io::Write;
            let app = if sms.channel == "sandes" {
                "Sandes"
            } else {
                "SMS"
            };
            let shown = format!(
                "[replica] {app} to {}: {}",
                mask_mobile(&sms.mobile),
                sms.text
            );
            if let Err(e) = writeln!(std::io::stderr(), "{shown}") {
                tracing::debug!("replica: console gone: {e}");
            }
        }
        self.outbox.push(sms);
    }

    /// Sends an OTP by SMS (or the Sandes app, `channel`): stored in the
    /// outbox and printed on the console.
    #[allow(clippy::too_many_arguments)]
    pub fn send_otp(
        &mut self,
        shared: &Shared,
        portal: &'static str,
        channel: &'static str,
        sid: &str,
        mobile: &str,
        text_of: impl Fn(&str) -> String,
        resend: bool,
    ) -> Result<(), &'static str> {
        let prev = self.sessions.get(sid).and_then(|s| s.otp.clone());
        let resends = match (&prev, resend) {
            (Some(p), true) if p.resends >= shared.max_resends => {
                return Err("Maximum resend limit reached. Please try again after some time.")
            }
            (Some(p), true) => p.resends + 1,
            _ => 0,
        };
        let code = self.new_otp();
        let text = text_of(&code);
        let sms = Sms {
            portal,
            channel,
            mobile: mobile.to_string(),
            text,
            otp: code.clone(),
            session: sid.to_string(),
            ..Sms::default()
        };
        self.send(shared, sms);
        if let Some(s) = self.sessions.get_mut(sid) {
            s.otp = Some(Otp {
                code,
                sent: Instant::now(),
                wrong: prev.map(|p| p.wrong).unwrap_or(0),
                resends,
            });
        }
        Ok(())
    }

    pub fn check_otp(&mut self, shared: &Shared, sid: &str, given: &str) -> OtpCheck {
        let Some(s) = self.sessions.get_mut(sid) else {
            return OtpCheck::Missing;
        };
        let Some(o) = s.otp.as_mut() else {
            return OtpCheck::Missing;
        };
        if o.wrong >= shared.max_wrong {
            return OtpCheck::Locked;
        }
        if o.sent.elapsed() > shared.otp_validity {
            return OtpCheck::Expired;
        }
        if o.code == given.trim() {
            s.otp = None;
            return OtpCheck::Ok;
        }
        o.wrong += 1;
        if o.wrong >= shared.max_wrong {
            OtpCheck::Locked
        } else {
            OtpCheck::Wrong {
                left: shared.max_wrong - o.wrong,
            }
        }
    }

    /// Makes every OTP older than its validity (a test aid).
    pub fn expire_otps(&mut self) {
        for s in self.sessions.values_mut() {
            if let Some(o) = s.otp.as_mut() {
                o.sent = Instant::now() - Duration::from_secs(24 * 3600);
            }
        }
    }

    pub fn bump(&mut self, counter: &str) {
        *self.counters.entry(counter.to_string()).or_default() += 1;
    }
}

/// How often a NIC-GST-Shield code changes [pub: 30 s].
pub const SHIELD_PERIOD: u64 = 30;

/// The NIC-GST-Shield code of a GSTIN for a 30-second window counted from
/// the Unix epoch (the replica's own scheme; the real one is not public).
pub fn shield_code(gstin: &str, window: u64) -> String {
    let h = format!("{gstin}:{window}")
        .bytes()
        .fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100000001b3)
        });
    format!("{:06}", h % 1_000_000)
}

/// The current Shield window.
pub fn shield_window() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        / SHIELD_PERIOD
}

/// Whether `given` is the Shield code of the current or the previous
/// window (a person typing across the change is not refused).
pub fn shield_accepts(gstin: &str, given: &str) -> bool {
    let w = shield_window();
    [w, w.saturating_sub(1)]
        .iter()
        .any(|&w| shield_code(gstin, w) == given.trim())
}

/// Deterministic extra taxpayers for load (`--taxpayers N`).
pub fn generated_taxpayers(n: usize) -> Vec<Taxpayer> {
    let mut rng = StdRng::seed_from_u64(0x5eed_7a4b);
    let states = ["27", "29", "33", "07", "24", "09", "36", "19"];
    (0..n)
        .map(|i| {
            let state = states[i % states.len()];
            let pan: String = (0..5)
                .map(|_| rng.random_range(b'A'..=b'Z') as char)
                .collect::<String>()
                + &format!("{:04}", i % 10000)
                + &((b'A' + (i / 10000 % 26) as u8) as char).to_string();
            let first14 = format!("{state}{pan}1Z");
            let gstin = format!("{first14}{}", check_char(&first14).unwrap());
            Taxpayer {
                trade_name: format!("LOADTEST TRADERS {i:05}"),
                legal_name: format!("Loadtest Traders {i:05} Private Limited"),
                mobile: format!("9{:09}", 100_000_000 + i),
                email: format!("gst{i:05}@loadtest.example"),
                username: Some(format!("load{i:05}")),
                password: Some(format!("Load@{i:05}Pw")),
                tech_popup: i % 3 == 0,
                einvoice_enabled: true,
                direct_eligible: false,
                gstin,
            }
        })
        .collect()
}
