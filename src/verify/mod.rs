//! Proves a credential works by logging in with it through the e-Invoice
//! authentication API (`POST <api>/eivital/v1.04/auth`), the call the
//! credential exists for. One call per credential, paced per GSTIN and
//! retried with backoff when the API is busy; a refusal that every further
//! call would get too (wrong client ID, wrong public key) stops all calls,
//! since NIC blocks clients that send many erroneous calls. The token and
//! the Sek in a granted answer are dropped unread.

pub mod http;
pub mod key;
pub mod pace;
pub mod payload;
pub mod settle;

use crate::flow::PortalKind;
use crate::redact::Secret;
use pace::{Pace, Retry};
use payload::Answer;
use std::sync::Mutex;
use std::time::Duration;

/// The auth API's base URL for a portal at `portal_base`: NIC's public
/// API host for the real portals (production's is seen in many public
/// clients; the sandbox's is issued on registration, so ours is a guess),
/// else the portal's own origin (the replica, a rehearsal portal).
pub fn default_url(portal: PortalKind, portal_base: &str) -> String {
    let u = url::Url::parse(portal_base).ok();
    match (portal, u.as_ref().and_then(|u| u.host_str())) {
        (PortalKind::Production, Some("einvoice1.gst.gov.in")) => {
            "https://api.einvoice1.gst.gov.in".into()
        }
        (PortalKind::Sandbox, Some("einv-apisandbox.nic.in")) => {
            "https://einv-apisandbox.nic.in".into()
        }
        _ => u
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|| portal_base.trim_end_matches('/').to_string()),
    }
}

/// The path of the auth API under a portal's API base URL.
pub const AUTH_PATH: &str = "/eivital/v1.04/auth";

/// NIC's codes saying the credential does not work (incorrect login,
/// no such user, incorrect password).
const REJECTS: &[&str] = &["1008", "1017", "1019"];

/// Codes every further call would get too: the header, the payload, the
/// client ID or secret, or the public key is wrong.
const HALTS: &[&str] = &["1004", "1007", "1010", "1011", "1012", "1013", "1016"];

/// Codes that mean "busy, try again" (application or server error).
const BUSY: &[&str] = &["SYS_5001", "3020", "3043"];

/// Whether an answer is worth asking again: no usable answer, or a busy code.
fn busy(v: &Verdict) -> bool {
    match v {
        Verdict::Unsettled(_) => true,
        Verdict::Refused { code, .. } => BUSY.contains(&code.as_str()),
        _ => false,
    }
}

/// The API of one portal: where, and the key to encrypt for it.
#[derive(Clone)]
pub struct Api {
    /// Base URL (`https://api.einvoice1.gst.gov.in`, a GSP gateway, the replica).
    pub url: String,
    /// NIC's public key for this portal.
    pub key: rsa::RsaPublicKey,
}

/// Where one portal's credentials are checked: the portal (kind and base
/// URL) they were made on, and the auth API that answers for it.
pub struct Route {
    pub portal: PortalKind,
    /// The portal's base URL, as the vault records it (no trailing `/`).
    pub base: String,
    pub api: Api,
}

/// The caller's API client (a GSP's, an ERP's or a direct integrator's).
#[derive(Clone)]
pub struct ApiClient {
    pub id: String,
    pub secret: Secret,
}

/// What the API says of one credential.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Granted a token: the credential works.
    Works,
    /// The credential does not work (NIC's code and message).
    Rejected { code: String, message: String },
    /// Refused for another reason; the credential's status stays.
    Refused {
        code: String,
        message: String,
        /// Every further call would be refused too.
        halt: bool,
    },
    /// No usable answer (network, 5xx, rate limit past the retries).
    Unsettled(String),
}

impl Verdict {
    /// One line for people and the vault's note.
    pub fn describe(&self) -> String {
        match self {
            Verdict::Works => "the e-Invoice auth API accepted it".into(),
            Verdict::Rejected { code, message } | Verdict::Refused { code, message, .. } => {
                format!(
                    "the e-Invoice auth API answered {code} {message}{}",
                    fix(code)
                )
            }
            Verdict::Unsettled(why) => format!("not settled: {why}"),
        }
    }

    fn of(a: Answer) -> Verdict {
        match a {
            Answer::Granted => Verdict::Works,
            Answer::Refused { code, message } if REJECTS.contains(&code.as_str()) => {
                Verdict::Rejected { code, message }
            }
            Answer::Refused { code, message } => Verdict::Refused {
                halt: HALTS.contains(&code.as_str()),
                code,
                message,
            },
            Answer::Unreadable(why) => Verdict::Unsettled(why),
        }
    }
}

/// What to check for a code that is the caller's to fix.
fn fix(code: &str) -> &'static str {
    match code {
        "1010" | "1011" | "1012" => " (check api_client_id and api_client_secret)",
        "1013" | "1016" => " (check --nic-public-key: sandbox and production keys differ)",
        "1015" => " (the user belongs to another GSTIN)",
        "1018" => " (the user is mapped to another client ID: verify with that GSP's client)",
        _ => "",
    }
}

/// Asks the auth API, paced and retried; stops asking after a halting refusal.
pub struct Verifier {
    client: ApiClient,
    routes: Vec<Route>,
    http: http::Http,
    pace: Pace,
    retry: Retry,
    halted: Mutex<Option<String>>,
    /// Until one answer proves the client and key, calls go one at a time:
    /// a wrong secret costs one erroneous call, not one per credential.
    proven: std::sync::atomic::AtomicBool,
    solo: tokio::sync::Mutex<()>,
}

/// How a verifier paces and retries.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Least time between two calls for one GSTIN.
    pub gap: Duration,
    pub retry: Retry,
    /// One call's time limit.
    pub timeout: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            // "A few calls per second per GSTIN" at most: two.
            gap: Duration::from_millis(500),
            retry: Retry::default(),
            timeout: Duration::from_secs(30),
        }
    }
}

impl Verifier {
    pub fn new(client: ApiClient, routes: Vec<Route>, pacing: Pacing) -> Verifier {
        Verifier {
            client,
            routes,
            http: http::Http::new(pacing.timeout),
            pace: Pace::new(pacing.gap),
            retry: pacing.retry,
            halted: Mutex::new(None),
            proven: std::sync::atomic::AtomicBool::new(false),
            solo: tokio::sync::Mutex::new(()),
        }
    }

    /// The API for credentials made on `base`: its own route, else (a
    /// resumed run on a restarted portal) the first of the same kind.
    fn api(&self, portal: PortalKind, base: &str) -> Option<&Api> {
        let base = base.trim_end_matches('/');
        let kind = |r: &&Route| r.portal == portal;
        let mut same = self.routes.iter().filter(kind);
        same.clone()
            .find(|r| r.base == base)
            .or_else(|| same.next())
            .map(|r| &r.api)
    }

    /// Logs in once (retrying only busy answers) with this credential,
    /// made on the portal at `base`.
    pub async fn check(
        &self,
        (portal, base): (PortalKind, &str),
        gstin: &str,
        username: &str,
        password: &str,
    ) -> Verdict {
        let Some(api) = self.api(portal, base) else {
            return Verdict::Unsettled(format!("no auth API configured for {}", portal.as_str()));
        };
        let mut attempt = 1;
        loop {
            let (verdict, retry_after) = match self.ask(api, gstin, username, password).await {
                Ok(answer) => answer,
                Err(not_asked) => return not_asked,
            };
            if !busy(&verdict) || attempt >= self.retry.attempts {
                return verdict;
            }
            self.back_off(gstin, attempt, retry_after, &verdict).await;
            attempt += 1;
        }
    }

    /// One call, alone until an answer proves the client and key; `Err`
    /// once an earlier refusal stopped all calls.
    async fn ask(
        &self,
        api: &Api,
        gstin: &str,
        username: &str,
        password: &str,
    ) -> Result<(Verdict, Option<u64>), Verdict> {
        use std::sync::atomic::Ordering::SeqCst;
        let _solo = match self.proven.load(SeqCst) {
            true => None,
            false => Some(self.solo.lock().await),
        };
        if let Some(why) = self.halted.lock().expect("halt lock").clone() {
            return Err(Verdict::Unsettled(format!("not asked: {why}")));
        }
        self.pace.wait(gstin).await;
        let (verdict, retry_after) = self.call(api, gstin, username, password).await;
        match &verdict {
            Verdict::Refused { halt: true, .. } => {
                *self.halted.lock().expect("halt lock") = Some(verdict.describe())
            }
            Verdict::Unsettled(_) => {}
            _ => self.proven.store(true, SeqCst),
        }
        Ok((verdict, retry_after))
    }

    /// Waits before busy answer `attempt` is tried again; a `Retry-After`
    /// also slows every call for this GSTIN.
    async fn back_off(&self, gstin: &str, attempt: u32, retry_after: Option<u64>, v: &Verdict) {
        let wait = self.retry.delay(attempt, retry_after);
        if let Some(secs) = retry_after {
            let pause = Duration::from_secs(secs).min(self.retry.max);
            self.pace
                .slow_down(gstin, tokio::time::Instant::now(), pause);
        }
        tracing::info!(
            gstin,
            attempt,
            "auth API busy ({}); again in {wait:?}",
            v.describe()
        );
        tokio::time::sleep(wait).await;
    }

    /// One call; the verdict and any `Retry-After`. Busy answers are `Unsettled`.
    async fn call(
        &self,
        api: &Api,
        gstin: &str,
        username: &str,
        password: &str,
    ) -> (Verdict, Option<u64>) {
        let body = match payload::body(&api.key, username, password, &payload::app_key()) {
            Ok(b) => b,
            Err(e) => return (Verdict::Unsettled(crate::chain::chain(&e)), None),
        };
        let url = format!("{}{AUTH_PATH}", api.url.trim_end_matches('/'));
        let shown = http::shown(&url);
        let headers = [
            ("client_id", self.client.id.as_str()),
            ("client_secret", self.client.secret.expose()),
            ("Gstin", gstin),
        ];
        match self.http.post_json(&url, &headers, body).await {
            Err(http::HttpError::Plaintext(_)) => (
                Verdict::Refused {
                    code: "-".into(),
                    message: format!("{shown}: plain http is allowed to this machine only"),
                    halt: true,
                },
                None,
            ),
            Err(e) => (Verdict::Unsettled(format!("{shown}: {e}")), None),
            Ok(r) if r.status == 200 => (Verdict::of(payload::answer(&r.body)), None),
            Ok(r) if r.status == 429 => (
                Verdict::Unsettled(format!("{shown}: HTTP 429 (rate limited)")),
                Some(r.retry_after.unwrap_or(1)),
            ),
            Ok(r) if r.status >= 500 => (
                Verdict::Unsettled(format!("{shown}: HTTP {}", r.status)),
                r.retry_after,
            ),
            // A wrong URL or a gateway refusing us: every call would get the same.
            Ok(r) => (
                Verdict::Refused {
                    code: format!("HTTP {}", r.status),
                    message: format!("from {shown}; check --api-url"),
                    halt: true,
                },
                None,
            ),
        }
    }
}

/// `--verify` on `run` and `batch`: what to check once a row has run.
#[derive(Clone)]
pub struct AfterRun {
    pub verifier: std::sync::Arc<Verifier>,
    /// `--verify all`: a freshly created credential is tried too.
    pub created_too: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_portals_use_nic_api_hosts_others_their_own_origin() {
        assert_eq!(
            default_url(PortalKind::Production, "https://einvoice1.gst.gov.in"),
            "https://api.einvoice1.gst.gov.in"
        );
        assert_eq!(
            default_url(PortalKind::Sandbox, "https://einv-apisandbox.nic.in/"),
            "https://einv-apisandbox.nic.in"
        );
        assert_eq!(
            default_url(PortalKind::Production, "http://127.0.0.1:4011/Home/Login"),
            "http://127.0.0.1:4011"
        );
    }

    #[test]
    fn codes_sort_into_rejected_refused_and_halting() {
        let r = |code: &str| {
            Verdict::of(Answer::Refused {
                code: code.into(),
                message: "m".into(),
            })
        };
        assert!(matches!(r("1019"), Verdict::Rejected { .. }));
        assert!(matches!(r("1017"), Verdict::Rejected { .. }));
        assert!(matches!(r("1010"), Verdict::Refused { halt: true, .. }));
        assert!(matches!(r("1013"), Verdict::Refused { halt: true, .. }));
        assert!(matches!(r("1015"), Verdict::Refused { halt: false, .. }));
        assert_eq!(Verdict::of(Answer::Granted), Verdict::Works);
        assert!(r("1013").describe().contains("--nic-public-key"));
    }
}
