//! A smoke check's finding: one selector, option, text or navigation the
//! flow relies on, and whether the portal still offers it.

use serde::Serialize;

/// How a check came out, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// As the flow expects.
    Ok,
    /// Only a fallback target matched: works, but update the flow.
    Fallback,
    /// The portal no longer matches the flow.
    Drift,
    /// The portal could not be reached.
    Unreachable,
}

impl Class {
    /// The word shown in tables and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::Fallback => "fallback",
            Class::Drift => "drift",
            Class::Unreachable => "unreachable",
        }
    }
}

/// What a check looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// A screen's recognition rule.
    Recognise,
    /// A step's target.
    Target,
    /// A dropdown option.
    Option,
    /// A text the flow expects.
    Text,
    /// Opening a page or following a click.
    Navigation,
    /// Where the check stopped: a captcha, OTP or submit comes next.
    Barrier,
}

impl CheckKind {
    /// The word shown in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Recognise => "recognise",
            CheckKind::Target => "target",
            CheckKind::Option => "option",
            CheckKind::Text => "text",
            CheckKind::Navigation => "navigation",
            CheckKind::Barrier => "barrier",
        }
    }
}

/// One finding of the smoke check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Flow name.
    pub flow: String,
    /// Screen label.
    pub screen: String,
    /// Step label, or `recognise (after "...")`.
    pub step: String,
    /// What was checked.
    pub check: CheckKind,
    /// The selector, option or text concerned.
    pub selector: Option<String>,
    /// How it came out.
    pub class: Class,
    /// One line for a person.
    pub detail: String,
    /// For drift or a fallback: what now stands there, and the TOML to paste.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Seconds the walk took to reach this finding since the one before
    /// (page loads and waits included): JUnit's testcase `time`.
    pub time_s: f64,
}
