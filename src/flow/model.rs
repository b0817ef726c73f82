//! What a parsed flow is. Every item keeps the [`Loc`] it came from, so a
//! runtime failure can point back at the flow line too.

use super::{Loc, Target, Template};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PortalKind {
    Sandbox,
    Production,
}

impl PortalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PortalKind::Sandbox => "sandbox",
            PortalKind::Production => "production",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub file: PathBuf,
    /// The flow language the file is written in (`[flow] language`, 1 if absent).
    pub language: u32,
    /// Roles no input names but the earlier language gave by name or type
    /// (the input named `mobile`, or the one of type `mobile`): role, input.
    pub inferred: Vec<(Role, String)>,
    pub name: String,
    pub portal: PortalKind,
    pub base_url: String,
    /// Origins besides `base_url`'s where secrets may be typed (a portal
    /// that logs in on another host): anything else is drift.
    pub origins: Vec<String>,
    pub description: String,
    /// Default for steps and screen recognition.
    pub timeout: Duration,
    /// A target missing from a page this long still (no DOM change, no
    /// request, no load) is drift at once, not after the step's timeout.
    pub settled: Duration,
    pub inputs: Vec<Input>,
    /// Which inputs are the credentials the flow creates (for the vault).
    pub credentials: Option<Credentials>,
    pub screens: Vec<Screen>,
    /// Screens that may show anywhere (a modal, an announcement, a
    /// "session about to expire" alert): whenever one is seen, its steps
    /// run and the walk carries on where it was.
    pub interrupts: Vec<Screen>,
    /// Steps run after the walk, whatever its result (e.g. log out).
    pub cleanup: Vec<Step>,
    pub outcomes: Vec<Outcome>,
}

impl Flow {
    /// The input called `name`.
    pub fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|i| i.name == name)
    }
    /// The input that plays `role` (`role = "gstin"` in the flow file).
    pub fn input_for(&self, role: Role) -> Option<&Input> {
        self.inputs.iter().find(|i| i.role == Some(role))
    }
    pub fn screen_index(&self, id: &str) -> Option<usize> {
        self.screens.iter().position(|s| s.id == id)
    }
    /// Every step with the screen (or interrupt) it belongs to; cleanup
    /// steps come last, with no screen.
    pub fn all_steps(&self) -> impl Iterator<Item = (Option<&Screen>, &Step)> {
        self.screens
            .iter()
            .chain(&self.interrupts)
            .flat_map(|s| s.steps.iter().map(move |st| (Some(s), st)))
            .chain(self.cleanup.iter().map(|st| (None, st)))
    }
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub loc: super::Loc,
    pub username: String,
    pub password: String,
    /// What the portal puts in front of the username (production: `API_`).
    pub prefix: String,
    /// The input naming the GSP/ERP, for the vault record.
    pub provider: Option<String>,
    /// The variable an outcome captures with the username exactly as the
    /// portal reports it (e.g. `api_user` from "Api user API_x has been created").
    pub created: Option<String>,
    /// What the credentials log in to (`kind = "portal_login"`; an API
    /// user when not said).
    pub kind: crate::vault::Kind,
}

/// What an input means to the runner beyond its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The GSTIN being registered: prompts, the vault and reports name it.
    Gstin,
    /// The mobile that receives the OTP: prompts and answer commands get it.
    Mobile,
    /// How the GSTIN reaches the API (GSP, ERP...): the vault's provider when none is named.
    Route,
}

/// Role names as flow files write them.
pub const ROLES: &[&str] = &["gstin", "mobile", "route"];

impl Role {
    /// The role called `s` in a flow file.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "gstin" => Some(Role::Gstin),
            "mobile" => Some(Role::Mobile),
            "route" => Some(Role::Route),
            _ => None,
        }
    }
    /// The name flow files use.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Gstin => "gstin",
            Role::Mobile => "mobile",
            Role::Route => "route",
        }
    }
    /// Whether an input of type `ty` is the kind this role's value is.
    pub fn fits(self, ty: &InputType) -> bool {
        matches!(
            (self, ty),
            (Role::Gstin, InputType::Gstin { .. }) | (Role::Mobile, InputType::Mobile)
        )
    }
}

/// The newest flow language this einvreg reads (`[flow] language`).
pub const LANGUAGE: u32 = 1;

/// A regular expression from a flow file, compiled once when the flow is
/// loaded. An invalid one is kept with its error for `einvreg check` to
/// report; a flow with errors never reaches a browser.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    compiled: Result<regex::Regex, regex::Error>,
}

impl Pattern {
    /// Compiles `source`.
    pub fn new(source: impl Into<String>) -> Pattern {
        let source = source.into();
        let compiled = regex::Regex::new(&source);
        Pattern { source, compiled }
    }
    /// The compile error, if the pattern is not a valid regex.
    pub fn error(&self) -> Option<&regex::Error> {
        self.compiled.as_ref().err()
    }
    /// The regex (`None` when invalid).
    pub fn regex(&self) -> Option<&regex::Regex> {
        self.compiled.as_ref().ok()
    }
    /// The pattern as the flow file wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// Whether `text` matches (an invalid pattern matches nothing).
    pub fn is_match(&self, text: &str) -> bool {
        self.regex().is_some_and(|r| r.is_match(text))
    }
    /// The captures in `text`.
    pub fn captures<'t>(&self, text: &'t str) -> Option<regex::Captures<'t>> {
        self.regex().and_then(|r| r.captures(text))
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum InputType {
    Text {
        pattern: Option<Pattern>,
    },
    /// `strict = false` lets the sandbox's dummy GSTINs through.
    Gstin {
        strict: bool,
    },
    Mobile,
    Email,
    Choice {
        values: Vec<String>,
    },
    /// Never printed, captured or templated; used only by `fill_secret`.
    /// `generate = true`: made to the password policy when not given.
    Secret {
        generate: bool,
    },
}

impl InputType {
    pub fn name(&self) -> &'static str {
        match self {
            InputType::Text { .. } => "text",
            InputType::Gstin { .. } => "gstin",
            InputType::Mobile => "mobile",
            InputType::Email => "email",
            InputType::Choice { .. } => "choice",
            InputType::Secret { .. } => "secret",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub loc: Loc,
    pub ty: InputType,
    pub label: String,
    pub default: Option<String>,
    /// Needed only when this holds (e.g. `client_id` only `through = "erp"`).
    pub required_when: Option<Condition>,
    pub required: bool,
    /// The portal rule the value must pass: `api_username`, `password`, `web_username`.
    pub rule: Option<String>,
    /// What the input means to the runner, if anything.
    pub role: Option<Role>,
}

impl Input {
    pub fn is_secret(&self) -> bool {
        matches!(self.ty, InputType::Secret { .. })
    }
}

/// `when = { through = "erp" }` or `{ through = ["gsp", "erp"] }`: every key must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub loc: Loc,
    pub clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub input: String,
    pub loc: Loc,
    pub any_of: Vec<String>,
}

impl Condition {
    pub fn holds(&self, lookup: impl Fn(&str) -> Option<String>) -> bool {
        self.clauses
            .iter()
            .all(|c| lookup(&c.input).is_some_and(|v| c.any_of.iter().any(|a| a == &v)))
    }
}

/// A list of targets tried in order; the first visible one wins.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    pub loc: Loc,
    pub list: Vec<Target>,
}

#[derive(Debug, Clone)]
pub struct Recognise {
    pub url: Option<String>,
    pub elements: Vec<Targets>,
    pub texts: Vec<String>,
    /// Recognised while a JS alert matching this is open (the page is hidden behind it).
    pub alert: Option<Pattern>,
}

#[derive(Debug, Clone)]
pub struct Screen {
    pub id: String,
    pub label: String,
    pub loc: Loc,
    /// May or may not appear (e.g. the technical-person popup).
    pub optional: bool,
    pub when: Option<Condition>,
    pub timeout: Option<Duration>,
    pub recognise: Recognise,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub label: String,
    pub loc: Loc,
    pub kind: StepKind,
    pub timeout: Option<Duration>,
    pub optional: bool,
    pub when: Option<Condition>,
    /// The smoke check stops before this step.
    pub barrier: bool,
    /// This step creates the credentials: the vault is written before it runs.
    pub submits: bool,
    /// A dialog (a confirm) this step may raise, answered yes while it
    /// runs; any other dialog is sorted as always, and one nothing names
    /// is answered no.
    pub confirm: Option<Pattern>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertAction {
    Accept,
    Dismiss,
}

/// Which option of a dropdown: by its visible label or its value.
#[derive(Debug, Clone)]
pub enum OptionChoice {
    /// `option = "..."`: the visible label.
    Label(Template),
    /// `option_value = "..."`: the `value` attribute.
    Value(Template),
}

impl OptionChoice {
    /// The template either way.
    pub fn template(&self) -> &Template {
        match self {
            OptionChoice::Label(t) | OptionChoice::Value(t) => t,
        }
    }
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Goto {
        url: Template,
        /// `false`: a page already at this address (as the last page load
        /// left it) is not loaded again.
        reload: bool,
    },
    Fill {
        target: Targets,
        value: Template,
        fast: bool,
        /// Text the page puts in the box itself (production's `API_`):
        /// kept, and the value typed after it.
        keep_prefix: Option<String>,
    },
    FillSecret {
        target: Targets,
        secret: String,
        fast: bool,
    },
    Click {
        target: Targets,
        navigates: bool,
        then: Option<String>,
    },
    Choose {
        target: Targets,
        navigates: bool,
        then: Option<String>,
    },
    Select {
        target: Targets,
        option: OptionChoice,
        navigates: bool,
        then: Option<String>,
    },
    Captcha {
        image: Targets,
        input: Targets,
        /// The control that shows a new image, when the operator asks for one.
        refresh: Option<Targets>,
    },
    Otp {
        input: Targets,
        prompt: Template,
        /// The control that sends a new OTP, when the operator asks for one.
        resend: Option<Targets>,
        /// The code changes this often (an authenticator app, e.g. NIC-GST-Shield).
        rotates: Option<Duration>,
    },
    Expect {
        target: Targets,
        text: Option<Template>,
        absent: bool,
    },
    Alert {
        pattern: Pattern,
        action: AlertAction,
        capture: Option<String>,
    },
    Capture {
        target: Targets,
        into: String,
        attribute: Option<String>,
        pattern: Option<Pattern>,
    },
    WaitFor {
        target: Targets,
    },
    Screenshot {
        name: String,
    },
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Goto { .. } => "goto",
            StepKind::Fill { .. } => "fill",
            StepKind::FillSecret { .. } => "fill_secret",
            StepKind::Click { .. } => "click",
            StepKind::Choose { .. } => "choose",
            StepKind::Select { .. } => "select",
            StepKind::Captcha { .. } => "captcha",
            StepKind::Otp { .. } => "otp",
            StepKind::Expect { .. } => "expect",
            StepKind::Alert { .. } => "alert",
            StepKind::Capture { .. } => "capture",
            StepKind::WaitFor { .. } => "wait_for",
            StepKind::Screenshot { .. } => "screenshot",
        }
    }
    /// Whether a box's value check may still be pending when this step
    /// starts: its own find makes it, or (an alert) it must not be made
    /// first, as the check would meet and sort away the very dialog the
    /// step waits for.
    pub fn takes_a_pending_check(&self) -> bool {
        self.starts_with_find() || matches!(self, StepKind::Alert { .. })
    }

    /// Whether the step begins by finding its element (a check of the box
    /// typed into before can ride on that find).
    pub fn starts_with_find(&self) -> bool {
        matches!(
            self,
            StepKind::Fill { .. }
                | StepKind::FillSecret { .. }
                | StepKind::Click { .. }
                | StepKind::Choose { .. }
                | StepKind::Select { .. }
                | StepKind::Captcha { .. }
                | StepKind::Otp { .. }
        )
    }

    /// Every target list the step uses, for the smoke check.
    pub fn targets(&self) -> Vec<&Targets> {
        match self {
            StepKind::Fill { target, .. }
            | StepKind::FillSecret { target, .. }
            | StepKind::Click { target, .. }
            | StepKind::Choose { target, .. }
            | StepKind::Select { target, .. }
            | StepKind::Expect { target, .. }
            | StepKind::Capture { target, .. }
            | StepKind::WaitFor { target } => vec![target],
            StepKind::Captcha {
                image,
                input,
                refresh,
            } => [Some(image), Some(input), refresh.as_ref()]
                .into_iter()
                .flatten()
                .collect(),
            StepKind::Otp { input, resend, .. } => [Some(input), resend.as_ref()]
                .into_iter()
                .flatten()
                .collect(),
            StepKind::Goto { .. } | StepKind::Alert { .. } | StepKind::Screenshot { .. } => vec![],
        }
    }
    /// Each target list with the key a flow file writes it under
    /// (`fill`, `input`, `refresh`, ...).
    pub fn named_targets(&self) -> Vec<(&'static str, &Targets)> {
        let main = self.name();
        match self {
            StepKind::Captcha {
                image,
                input,
                refresh,
            } => [
                Some(("captcha", image)),
                Some(("input", input)),
                refresh.as_ref().map(|r| ("refresh", r)),
            ]
            .into_iter()
            .flatten()
            .collect(),
            StepKind::Otp { input, resend, .. } => {
                [Some(("otp", input)), resend.as_ref().map(|r| ("resend", r))]
                    .into_iter()
                    .flatten()
                    .collect()
            }
            _ => self.targets().into_iter().map(|t| (main, t)).collect(),
        }
    }
    /// Steps that need a human: the smoke check never crosses them.
    pub fn needs_human(&self) -> bool {
        matches!(self, StepKind::Captcha { .. } | StepKind::Otp { .. })
    }
    /// The screen a click, choose or select leads to (`then = "..."`).
    pub fn then(&self) -> Option<&str> {
        match self {
            StepKind::Click { then, .. }
            | StepKind::Choose { then, .. }
            | StepKind::Select { then, .. } => then.as_deref(),
            _ => None,
        }
    }
}

/// Result kinds, each with its exit code at the CLI edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Registered,
    AlreadyRegistered,
    WrongCaptcha,
    WrongOtp,
    OtpExpired,
    SessionExpired,
    PortalError,
    NeedsVerification,
    /// The portal refused the login (username or password): a portal
    /// error of its own, so reports can tell it from the others.
    LoginRefused,
}

pub const OUTCOME_KINDS: &[&str] = &[
    "registered",
    "already_registered",
    "wrong_captcha",
    "wrong_otp",
    "otp_expired",
    "session_expired",
    "portal_error",
    "needs_verification",
    "login_refused",
];

impl OutcomeKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "registered" => Self::Registered,
            "already_registered" => Self::AlreadyRegistered,
            "wrong_captcha" => Self::WrongCaptcha,
            "wrong_otp" => Self::WrongOtp,
            "otp_expired" => Self::OtpExpired,
            "session_expired" => Self::SessionExpired,
            "portal_error" => Self::PortalError,
            "needs_verification" => Self::NeedsVerification,
            "login_refused" => Self::LoginRefused,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        OUTCOME_KINDS[self as usize]
    }
    /// Kinds that may send the run back to an earlier screen.
    pub fn may_retry(self) -> bool {
        matches!(
            self,
            Self::WrongCaptcha | Self::WrongOtp | Self::OtpExpired | Self::SessionExpired
        )
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: String,
    pub loc: Loc,
    pub kind: OutcomeKind,
    pub message: String,
    /// Regex over the text of a JS alert.
    pub alert: Option<Template>,
    /// Regex over the page's visible text (or `element`'s, when given).
    pub text: Option<Template>,
    pub element: Option<Targets>,
    /// Screens after which this may appear; empty means anywhere.
    pub screens: Vec<String>,
    pub when: Option<Condition>,
    pub retry_from: Option<String>,
    pub max_retries: u32,
    /// Named groups of the pattern become variables (e.g. `api_user`).
    pub capture: bool,
}
