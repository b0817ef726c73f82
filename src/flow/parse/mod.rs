//! Source text to [`Flow`], collecting every problem instead of stopping at
//! the first, each with file:line:column and a fix.
//!
//! `values` holds the helpers over TOML values; `input`, `screen` and
//! `outcome` parse one part of a flow each.

mod input;
mod language;
mod outcome;
mod screen;
mod step;
mod values;

use super::diag::{Diagnostic, LineIndex, Loc};
use super::model::*;
use super::suggest::hint;
use super::{Target, Template};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

pub(super) type Sv<'i> = Spanned<DeValue<'i>>;
use input::input;
use language::{infer_roles, language};
use outcome::outcome;
use screen::{screen, Section};
pub use values::parse_duration;
use values::*;

/// How long a page must stay still before a target missing from it is
/// drift, unless the flow says (`[flow] settled`).
const SETTLED: Duration = Duration::from_secs(3);

pub const TOP_KEYS: &[&str] = &[
    "flow",
    "inputs",
    "screens",
    "interrupts",
    "cleanup",
    "outcomes",
];
pub const FLOW_KEYS: &[&str] = &[
    "language",
    "name",
    "portal",
    "base_url",
    "origins",
    "description",
    "timeout",
    "settled",
    "credentials",
];
pub const CREDENTIAL_KEYS: &[&str] = &[
    "username", "password", "prefix", "provider", "created", "kind",
];
pub const INPUT_KEYS: &[&str] = &[
    "type",
    "label",
    "default",
    "required",
    "required_when",
    "strict",
    "values",
    "pattern",
    "generate",
    "rule",
    "role",
];
pub const INPUT_TYPES: &[&str] = &["text", "gstin", "mobile", "email", "choice", "secret"];
pub const INPUT_RULES: &[&str] = &["api_username", "password", "web_username"];
pub const SCREEN_KEYS: &[&str] = &[
    "id",
    "label",
    "optional",
    "when",
    "timeout",
    "recognise",
    "steps",
];
pub const INTERRUPT_KEYS: &[&str] = &["id", "label", "when", "recognise", "steps"];
pub const RECOGNISE_KEYS: &[&str] = &["url", "elements", "texts", "alert"];
pub const OUTCOME_KEYS: &[&str] = &[
    "id",
    "kind",
    "message",
    "alert",
    "text",
    "element",
    "screens",
    "when",
    "retry_from",
    "max_retries",
];
pub const STEP_COMMON: &[&str] = &[
    "label", "timeout", "optional", "when", "barrier", "submits", "confirm",
];
pub const STEP_KINDS: &[(&str, &[&str])] = &[
    ("goto", &["reload"]),
    ("fill", &["value", "fast", "keep_prefix"]),
    ("fill_secret", &["secret", "fast"]),
    ("click", &["navigates", "then"]),
    ("choose", &["navigates", "then"]),
    ("select", &["option", "option_value", "navigates", "then"]),
    ("captcha", &["input", "refresh"]),
    ("otp", &["prompt", "resend", "rotates"]),
    ("expect", &["text", "absent"]),
    ("alert", &["action", "capture"]),
    ("capture", &["into", "attribute", "pattern"]),
    ("wait_for", &[]),
    ("screenshot", &[]),
];

pub fn step_kind_names() -> Vec<&'static str> {
    STEP_KINDS.iter().map(|(k, _)| *k).collect()
}

pub(super) struct P<'s> {
    pub(super) file: &'s Path,
    pub(super) src: &'s str,
    pub(super) lines: LineIndex,
    pub(super) diags: Vec<Diagnostic>,
}

impl P<'_> {
    pub(super) fn loc(&self, span: &Range<usize>) -> Loc {
        self.lines.loc(self.src, span.start)
    }
    pub(super) fn err(
        &mut self,
        span: &Range<usize>,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::error(self.file, self.loc(span), msg, help);
        self.diags.push(d);
    }
}

/// Parses a flow. Returns the flow when its skeleton is usable (even with
/// errors, so the linter can report more) and every diagnostic found.
pub fn parse(file: &Path, src: &str) -> (Option<Flow>, Vec<Diagnostic>) {
    let mut p = P {
        file,
        src,
        lines: LineIndex::new(src),
        diags: vec![],
    };
    let root = match DeTable::parse(src) {
        Ok(r) => r,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let msg = e.message().trim().to_string();
            p.err(
                &span,
                format!("not valid TOML: {msg}"),
                "fix the TOML syntax; quote strings and close every [ and {",
            );
            return (None, p.diags);
        }
    };
    let top = Obj {
        map: root.get_ref(),
        span: 0..0,
        what: "the flow file".into(),
    };
    top.check_keys(&mut p, TOP_KEYS, &[]);

    let Some(header_v) = top.get("flow") else {
        p.err(
            &(0..0),
            "the file has no [flow] header",
            "start the file with [flow] giving name, portal and base_url",
        );
        return (None, p.diags);
    };
    let Some(h) = Obj::of(&mut p, header_v, "flow") else {
        return (None, p.diags);
    };
    h.check_keys(&mut p, FLOW_KEYS, &[]);
    let language = language(&mut p, &h);
    let name = h
        .req_str(&mut p, "name", "add name = \"my-flow\" under [flow]")
        .map(|x| x.0)
        .unwrap_or_default();
    let portal = portal(&mut p, &h);
    let base_url = base_url(&mut p, &h);
    let origins = origins(&mut p, &h);
    let description = h
        .str(&mut p, "description")
        .map(|x| x.0)
        .unwrap_or_default();
    let timeout = duration(&mut p, &h, "timeout").unwrap_or(Duration::from_secs(20));
    let settled = duration(&mut p, &h, "settled").unwrap_or(SETTLED);
    let credentials = credentials(&mut p, &h);
    let mut inputs = inputs(&mut p, &top);
    let inferred = infer_roles(&mut inputs);
    let screens = screens(&mut p, &top);
    let interrupts = interrupts(&mut p, &top);
    let cleanup = cleanup(&mut p, &top);
    let outcomes = outcomes(&mut p, &top);
    let flow = portal.map(|portal| Flow {
        file: file.to_path_buf(),
        language,
        inferred,
        name,
        portal,
        base_url,
        origins,
        description,
        timeout,
        settled,
        inputs,
        credentials,
        screens,
        interrupts,
        cleanup,
        outcomes,
    });
    (flow, p.diags)
}

fn portal(p: &mut P, h: &Obj) -> Option<PortalKind> {
    let portal = match h.req_str(
        p,
        "portal",
        "add portal = \"sandbox\" or portal = \"production\" under [flow]",
    ) {
        Some((s, _)) if s == "sandbox" => Some(PortalKind::Sandbox),
        Some((s, _)) if s == "production" => Some(PortalKind::Production),
        Some((s, span)) => {
            p.err(
                &span,
                format!("unknown portal `{s}`"),
                hint(&s, &["sandbox", "production"]),
            );
            None
        }
        None => None,
    };
    portal
}
fn base_url(p: &mut P, h: &Obj) -> String {
    let base_url = match h.req_str(
        p,
        "base_url",
        "add base_url = \"https://einvoice1.gst.gov.in\" under [flow]",
    ) {
        Some((u, span)) => {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                p.err(
                    &span,
                    format!("base_url `{u}` is not an http(s) URL"),
                    "write the portal's address, e.g. \"https://einv-apisandbox.nic.in\"",
                );
            }
            u.trim_end_matches('/').to_string()
        }
        None => String::new(),
    };
    base_url
}
/// `origins = ["https://…"]`: each an http(s) origin, kept as the browser
/// writes `location.origin` (scheme, host, and a port only when not the default).
fn origins(p: &mut P, h: &Obj) -> Vec<String> {
    let mut out = vec![];
    for (o, span) in h.strings(p, "origins") {
        match url::Url::parse(&o).map(|u| u.origin()) {
            Ok(origin @ url::Origin::Tuple(..)) if o.starts_with("http") => {
                out.push(origin.ascii_serialization())
            }
            _ => p.err(
                &span,
                format!("origins: `{o}` is not an http(s) origin"),
                "write an origin such as \"https://einvoice1.gst.gov.in\" (scheme and host, no path)",
            ),
        }
    }
    out
}

fn credentials(p: &mut P, h: &Obj) -> Option<Credentials> {
    let credentials = match h.get("credentials") {
        Some(cv) => Obj::of(p, cv, "flow.credentials").and_then(|c| {
            c.check_keys(p, CREDENTIAL_KEYS, &[]);
            let username = c
                .req_str(
                    p,
                    "username",
                    "name the input holding the new username: username = \"api_username\"",
                )?
                .0;
            let password = c
                .req_str(
                    p,
                    "password",
                    "name the secret input holding the new password: password = \"api_password\"",
                )?
                .0;
            let prefix = c.str(p, "prefix").map(|x| x.0).unwrap_or_default();
            let provider = c.str(p, "provider").map(|x| x.0);
            let created = c.str(p, "created").map(|x| x.0);
            let kind = credential_kind(p, &c);
            Some(Credentials {
                loc: p.loc(&cv.span()),
                username,
                password,
                prefix,
                provider,
                created,
                kind,
            })
        }),
        None => None,
    };
    credentials
}
/// `credentials.kind`: an API user when not said.
fn credential_kind(p: &mut P, c: &Obj) -> crate::vault::Kind {
    use crate::vault::Kind;
    let Some((s, span)) = c.str(p, "kind") else {
        return Kind::default();
    };
    Kind::parse(&s).unwrap_or_else(|| {
        let names = [Kind::ApiUser.name(), Kind::PortalLogin.name()];
        let msg = format!("`kind` in flow.credentials is `{s}`, which is no kind of credential");
        p.err(&span, msg, hint(&s, &names));
        Kind::default()
    })
}

fn inputs(p: &mut P, top: &Obj) -> Vec<Input> {
    let mut inputs = vec![];
    if let Some(iv) = top.get("inputs") {
        if let Some(io) = Obj::of(p, iv, "inputs") {
            for (k, v) in io.map.iter() {
                if let Some(i) = input(p, k.get_ref(), &k.span(), v) {
                    inputs.push(i);
                }
            }
        }
    }
    inputs
}
fn screens(p: &mut P, top: &Obj) -> Vec<Screen> {
    let mut screens = vec![];
    match top.get("screens") {
        Some(sv) => {
            for (n, s) in array_of_tables(p, sv, "screens").into_iter().enumerate() {
                if let Some(s) = screen(p, Section::Screens, n, s) {
                    screens.push(s);
                }
            }
        }
        None => p.err(
            &(0..0),
            "the flow has no screens",
            "describe each page as a [[screens]] entry with id, label, recognise and steps",
        ),
    }
    screens
}
fn interrupts(p: &mut P, top: &Obj) -> Vec<Screen> {
    let Some(v) = top.get("interrupts") else {
        return vec![];
    };
    array_of_tables(p, v, "interrupts")
        .into_iter()
        .enumerate()
        .filter_map(|(n, s)| screen(p, Section::Interrupts, n, s))
        .collect()
}
fn cleanup(p: &mut P, top: &Obj) -> Vec<Step> {
    let Some(v) = top.get("cleanup") else {
        return vec![];
    };
    array_of_tables(p, v, "cleanup")
        .into_iter()
        .enumerate()
        .filter_map(|(i, s)| step::step(p, "cleanup", i, s))
        .collect()
}
fn outcomes(p: &mut P, top: &Obj) -> Vec<Outcome> {
    let mut outcomes = vec![];
    if let Some(ov) = top.get("outcomes") {
        for (n, o) in array_of_tables(p, ov, "outcomes").into_iter().enumerate() {
            if let Some(o) = outcome(p, n, o) {
                outcomes.push(o);
            }
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("soon"), None);
    }

    fn production() -> &'static str {
        let b = crate::flow::bundled::BUNDLED.iter();
        b.clone()
            .find(|b| b.name == "production-api-user")
            .unwrap()
            .text
    }

    fn goto_reload(flow: &Flow, label: &str) -> bool {
        let steps = flow.screens.iter().flat_map(|s| s.steps.iter());
        match steps.clone().find(|s| s.label == label).map(|s| &s.kind) {
            Some(crate::flow::StepKind::Goto { reload, .. }) => *reload,
            other => panic!("{label}: {other:?}"),
        }
    }

    #[test]
    fn a_goto_reloads_unless_it_says_reload_false() {
        let (flow, diags) = parse(Path::new("p.toml"), production());
        let flow = flow.unwrap_or_else(|| panic!("{diags:?}"));
        assert!(
            goto_reload(&flow, "Open the portal"),
            "the default is to load"
        );
        assert!(!goto_reload(&flow, "Open the dashboard"));
    }

    #[test]
    fn a_reload_that_is_not_true_or_false_names_its_line() {
        let src = production().replace("reload = false", "reload = \"no\"");
        let line = src.lines().position(|l| l.contains("reload = ")).unwrap() + 1;
        let (_, diags) = parse(Path::new("p.toml"), &src);
        let d = diags.iter().find(|d| d.message.contains("`reload`"));
        let d = d.unwrap_or_else(|| panic!("{diags:?}"));
        assert!(d.message.contains("must be true or false"), "{}", d.message);
        assert_eq!(d.loc.line, line);
    }
}
