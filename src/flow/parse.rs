//! Source text to [`Flow`], collecting every problem instead of stopping at
//! the first, each with file:line:column and a fix.

use super::diag::{Diagnostic, Loc};
use super::model::*;
use super::suggest::hint;
use super::{Target, Template};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

type Sv<'i> = Spanned<DeValue<'i>>;

pub const TOP_KEYS: &[&str] = &["flow", "inputs", "screens", "outcomes"];
pub const FLOW_KEYS: &[&str] = &[
    "name",
    "portal",
    "base_url",
    "description",
    "timeout",
    "credentials",
];
pub const CREDENTIAL_KEYS: &[&str] = &["username", "password", "prefix", "provider"];
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
pub const STEP_COMMON: &[&str] = &["label", "timeout", "optional", "when", "barrier", "submits"];
pub const STEP_KINDS: &[(&str, &[&str])] = &[
    ("goto", &[]),
    ("fill", &["value", "fast"]),
    ("fill_secret", &["secret", "fast"]),
    ("click", &["navigates"]),
    ("choose", &["navigates"]),
    ("select", &["option", "option_value", "navigates"]),
    ("captcha", &["input"]),
    ("otp", &["prompt"]),
    ("expect", &["text", "absent"]),
    ("alert", &["action", "capture"]),
    ("capture", &["into", "attribute", "pattern"]),
    ("wait_for", &[]),
    ("screenshot", &[]),
];

pub fn step_kind_names() -> Vec<&'static str> {
    STEP_KINDS.iter().map(|(k, _)| *k).collect()
}

struct P<'s> {
    file: &'s Path,
    src: &'s str,
    diags: Vec<Diagnostic>,
}

impl P<'_> {
    fn loc(&self, span: &Range<usize>) -> Loc {
        Loc::of(self.src, span.start)
    }
    fn err(&mut self, span: &Range<usize>, msg: impl Into<String>, help: impl Into<String>) {
        let d = Diagnostic::error(self.file, self.loc(span), msg, help);
        self.diags.push(d);
    }
}

struct Obj<'a, 'i> {
    map: &'a DeTable<'i>,
    span: Range<usize>,
    what: String,
}

fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

impl<'a, 'i> Obj<'a, 'i> {
    fn of(p: &mut P, v: &'a Sv<'i>, what: impl Into<String>) -> Option<Self> {
        let what = what.into();
        match v.get_ref() {
            DeValue::Table(t) => Some(Obj {
                map: t,
                span: v.span(),
                what,
            }),
            other => {
                p.err(
                    &v.span(),
                    format!("{what} must be a table, found {}", type_name(other)),
                    format!("write it as [{what}] with keys below it"),
                );
                None
            }
        }
    }
    fn check_keys(&self, p: &mut P, allowed: &[&str], extra_hints: &[&str]) {
        for (k, _) in self.map.iter() {
            let key: &str = k.get_ref();
            if !allowed.contains(&key) {
                let mut all: Vec<&str> = allowed.to_vec();
                all.extend_from_slice(extra_hints);
                p.err(
                    &k.span(),
                    format!("unknown key `{key}` in {}", self.what),
                    hint(key, &all),
                );
            }
        }
    }
    fn get(&self, k: &str) -> Option<&'a Sv<'i>> {
        self.map.get(k)
    }
    fn key_span(&self, k: &str) -> Range<usize> {
        self.map
            .get_key_value(k)
            .map(|(k, _)| k.span())
            .unwrap_or(self.span.clone())
    }
    fn str(&self, p: &mut P, k: &str) -> Option<(String, Range<usize>)> {
        let v = self.get(k)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span())),
            other => {
                p.err(
                    &v.span(),
                    format!(
                        "`{k}` in {} must be a string, found {}",
                        self.what,
                        type_name(other)
                    ),
                    format!("write {k} = \"...\""),
                );
                None
            }
        }
    }
    fn req_str(&self, p: &mut P, k: &str, help: &str) -> Option<(String, Range<usize>)> {
        if self.get(k).is_none() {
            p.err(
                &self.span,
                format!("{} is missing `{k}`", self.what),
                help.to_string(),
            );
            return None;
        }
        self.str(p, k)
    }
    fn bool(&self, p: &mut P, k: &str) -> bool {
        let Some(v) = self.get(k) else { return false };
        match v.get_ref() {
            DeValue::Boolean(b) => *b,
            other => {
                p.err(
                    &v.span(),
                    format!(
                        "`{k}` in {} must be true or false, found {}",
                        self.what,
                        type_name(other)
                    ),
                    format!("write {k} = true"),
                );
                false
            }
        }
    }
    fn int(&self, p: &mut P, k: &str) -> Option<i64> {
        let v = self.get(k)?;
        match v.get_ref() {
            DeValue::Integer(i) => {
                match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
                    Ok(n) => Some(n),
                    Err(_) => {
                        p.err(
                            &v.span(),
                            format!("`{k}` is not a whole number"),
                            "write a plain number such as 3",
                        );
                        None
                    }
                }
            }
            other => {
                p.err(
                    &v.span(),
                    format!(
                        "`{k}` in {} must be a whole number, found {}",
                        self.what,
                        type_name(other)
                    ),
                    format!("write {k} = 3"),
                );
                None
            }
        }
    }
    fn strings(&self, p: &mut P, k: &str) -> Vec<(String, Range<usize>)> {
        let Some(v) = self.get(k) else { return vec![] };
        strings_of(p, v, &format!("`{k}` in {}", self.what))
    }
}

fn strings_of(p: &mut P, v: &Sv, what: &str) -> Vec<(String, Range<usize>)> {
    match v.get_ref() {
        DeValue::String(s) => vec![(s.to_string(), v.span())],
        DeValue::Array(a) => {
            let mut out = vec![];
            for item in a.iter() {
                match item.get_ref() {
                    DeValue::String(s) => out.push((s.to_string(), item.span())),
                    other => p.err(
                        &item.span(),
                        format!("{what} must list strings, found {}", type_name(other)),
                        "quote each entry: [\"a\", \"b\"]",
                    ),
                }
            }
            out
        }
        other => {
            p.err(
                &v.span(),
                format!(
                    "{what} must be a string or a list of strings, found {}",
                    type_name(other)
                ),
                "write \"x\" or [\"x\", \"y\"]",
            );
            vec![]
        }
    }
}

pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return None,
    };
    (secs > 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs))
}

fn duration(p: &mut P, o: &Obj, k: &str) -> Option<Duration> {
    let v = o.get(k)?;
    let d = match v.get_ref() {
        DeValue::String(s) => parse_duration(s),
        DeValue::Integer(i) => i
            .as_str()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Duration::from_secs),
        _ => None,
    };
    if d.is_none() {
        p.err(
            &v.span(),
            format!("`{k}` in {} is not a duration", o.what),
            "write a positive duration such as \"10s\", \"500ms\" or \"2m\"",
        );
    }
    d
}

fn targets(p: &mut P, v: &Sv, what: &str) -> Option<Targets> {
    let list = strings_of(p, v, what);
    let mut out = vec![];
    for (s, span) in list {
        match Target::parse(&s) {
            Ok(t) => out.push(t),
            Err(e) => p.err(&span, format!("bad target in {what}: {e}"), "targets are CSS selectors, or xpath:..., text:..., url:... (see docs/flow-language.md)"),
        }
    }
    if out.is_empty() {
        if matches!(v.get_ref(), DeValue::Array(a) if a.is_empty()) {
            p.err(
                &v.span(),
                format!("{what} lists no targets"),
                "give at least one selector, the most specific first",
            );
        }
        return None;
    }
    Some(Targets {
        loc: p.loc(&v.span()),
        list: out,
    })
}

fn template(p: &mut P, s: &str, span: &Range<usize>, what: &str) -> Option<Template> {
    match Template::parse(s) {
        Ok(t) => Some(t),
        Err((off, msg)) => {
            // +1 steps over the opening quote of a basic string.
            let span = span.start + 1 + off..span.end;
            p.err(
                &span,
                format!("bad template in {what}: {msg}"),
                "write ${name} for a variable, $${ for a literal ${",
            );
            None
        }
    }
}

fn condition(p: &mut P, v: &Sv, what: &str) -> Option<Condition> {
    let DeValue::Table(t) = v.get_ref() else {
        p.err(
            &v.span(),
            format!("`when` in {what} must be a table such as {{ through = \"erp\" }}"),
            "write when = { input = \"value\" } or { input = [\"a\", \"b\"] }",
        );
        return None;
    };
    let mut clauses = vec![];
    for (k, val) in t.iter() {
        let any_of: Vec<String> = strings_of(p, val, &format!("`when.{}` in {what}", k.get_ref()))
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        clauses.push(Clause {
            input: k.get_ref().to_string(),
            loc: p.loc(&k.span()),
            any_of,
        });
    }
    if clauses.is_empty() {
        p.err(
            &v.span(),
            format!("`when` in {what} is empty, so it always holds"),
            "remove it, or name an input: when = { through = \"erp\" }",
        );
        return None;
    }
    Some(Condition {
        loc: p.loc(&v.span()),
        clauses,
    })
}

fn array_of_tables<'a, 'i>(p: &mut P, v: &'a Sv<'i>, what: &str) -> Vec<&'a Sv<'i>> {
    match v.get_ref() {
        DeValue::Array(a) => a.iter().collect(),
        other => {
            p.err(
                &v.span(),
                format!(
                    "`{what}` must be an array of tables, found {}",
                    type_name(other)
                ),
                format!("write each entry as [[{what}]]"),
            );
            vec![]
        }
    }
}

/// Parses a flow. Returns the flow when its skeleton is usable (even with
/// errors, so the linter can report more) and every diagnostic found.
pub fn parse(file: &Path, src: &str) -> (Option<Flow>, Vec<Diagnostic>) {
    let mut p = P {
        file,
        src,
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
    let name = h
        .req_str(&mut p, "name", "add name = \"my-flow\" under [flow]")
        .map(|x| x.0)
        .unwrap_or_default();
    let portal = match h.req_str(
        &mut p,
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
    let base_url = match h.req_str(
        &mut p,
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
    let description = h
        .str(&mut p, "description")
        .map(|x| x.0)
        .unwrap_or_default();
    let timeout = duration(&mut p, &h, "timeout").unwrap_or(Duration::from_secs(20));
    let credentials = match h.get("credentials") {
        Some(cv) => Obj::of(&mut p, cv, "flow.credentials").and_then(|c| {
            c.check_keys(&mut p, CREDENTIAL_KEYS, &[]);
            let username = c
                .req_str(
                    &mut p,
                    "username",
                    "name the input holding the new username: username = \"api_username\"",
                )?
                .0;
            let password = c
                .req_str(
                    &mut p,
                    "password",
                    "name the secret input holding the new password: password = \"api_password\"",
                )?
                .0;
            let prefix = c.str(&mut p, "prefix").map(|x| x.0).unwrap_or_default();
            let provider = c.str(&mut p, "provider").map(|x| x.0);
            Some(Credentials {
                loc: p.loc(&cv.span()),
                username,
                password,
                prefix,
                provider,
            })
        }),
        None => None,
    };

    let mut inputs = vec![];
    if let Some(iv) = top.get("inputs") {
        if let Some(io) = Obj::of(&mut p, iv, "inputs") {
            for (k, v) in io.map.iter() {
                if let Some(i) = input(&mut p, k.get_ref(), &k.span(), v) {
                    inputs.push(i);
                }
            }
        }
    }

    let mut screens = vec![];
    match top.get("screens") {
        Some(sv) => {
            for (n, s) in array_of_tables(&mut p, sv, "screens")
                .into_iter()
                .enumerate()
            {
                if let Some(s) = screen(&mut p, n, s) {
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

    let mut outcomes = vec![];
    if let Some(ov) = top.get("outcomes") {
        for (n, o) in array_of_tables(&mut p, ov, "outcomes")
            .into_iter()
            .enumerate()
        {
            if let Some(o) = outcome(&mut p, n, o) {
                outcomes.push(o);
            }
        }
    }

    let flow = portal.map(|portal| Flow {
        file: file.to_path_buf(),
        name,
        portal,
        base_url,
        description,
        timeout,
        inputs,
        credentials,
        screens,
        outcomes,
    });
    (flow, p.diags)
}

fn input(p: &mut P, name: &str, key_span: &Range<usize>, v: &Sv) -> Option<Input> {
    let what = format!("input `{name}`");
    let o = Obj::of(p, v, format!("inputs.{name}"))?;
    o.check_keys(p, INPUT_KEYS, &[]);
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        p.err(
            key_span,
            format!("input name `{name}` has characters templates cannot name"),
            "use letters, digits and _ only",
        );
    }
    let (ty_s, ty_span) = o.req_str(
        p,
        "type",
        &format!(
            "add type = \"text\" (or {}) under [inputs.{name}]",
            INPUT_TYPES.join(", ")
        ),
    )?;
    let only = |p: &mut P, key: &str, ty: &str| {
        if o.get(key).is_some() {
            let span = o.key_span(key);
            p.err(
                &span,
                format!("`{key}` only applies to {ty} inputs, and {what} is {ty_s}"),
                format!("remove `{key}`, or change the type to {ty}"),
            );
        }
    };
    let ty = match ty_s.as_str() {
        "text" => InputType::Text {
            pattern: o
                .str(p, "pattern")
                .and_then(|(pat, span)| match regex::Regex::new(&pat) {
                    Ok(_) => Some(pat),
                    Err(e) => {
                        p.err(
                            &span,
                            format!(
                                "`pattern` of {what} is not a valid regex: {}",
                                super::diag::regex_error(&e)
                            ),
                            "fix the regular expression",
                        );
                        None
                    }
                }),
        },
        "gstin" => InputType::Gstin {
            strict: o.get("strict").map(|_| o.bool(p, "strict")).unwrap_or(true),
        },
        "mobile" => InputType::Mobile,
        "email" => InputType::Email,
        "choice" => {
            let values: Vec<String> = o.strings(p, "values").into_iter().map(|x| x.0).collect();
            if values.is_empty() {
                p.err(
                    &o.span,
                    format!("{what} is a choice but lists no `values`"),
                    "add values = [\"gsp\", \"erp\"]",
                );
            }
            InputType::Choice { values }
        }
        "secret" => InputType::Secret {
            generate: o.bool(p, "generate"),
        },
        other => {
            p.err(
                &ty_span,
                format!("unknown input type `{other}` for {what}"),
                hint(other, INPUT_TYPES),
            );
            InputType::Text { pattern: None }
        }
    };
    if !matches!(ty, InputType::Text { .. }) {
        only(p, "pattern", "text");
    }
    if !matches!(ty, InputType::Gstin { .. }) {
        only(p, "strict", "gstin");
    }
    if !matches!(ty, InputType::Choice { .. }) {
        only(p, "values", "choice");
    }
    if !matches!(ty, InputType::Secret { .. }) {
        only(p, "generate", "secret");
    }
    let default = match o.get("default") {
        Some(_) if matches!(ty, InputType::Secret { .. }) => {
            p.err(&o.key_span("default"), format!("{what} is a secret and cannot have a default"), "secrets never live in flow files: pass them with --var, a secrets file or the prompt");
            None
        }
        Some(_) => o.str(p, "default").map(|(d, span)| {
            if let InputType::Choice { values } = &ty {
                if !values.contains(&d) {
                    p.err(
                        &span,
                        format!("default `{d}` of {what} is not one of its values"),
                        hint(&d, &values.iter().map(String::as_str).collect::<Vec<_>>()),
                    );
                }
            }
            d
        }),
        None => None,
    };
    let required_when = o.get("required_when").and_then(|v| condition(p, v, &what));
    let explicit_required = o.get("required").map(|_| o.bool(p, "required"));
    let required = explicit_required.unwrap_or(
        default.is_none()
            && required_when.is_none()
            && !matches!(ty, InputType::Secret { generate: true }),
    );
    let rule = o.str(p, "rule").and_then(|(r, span)| {
        if INPUT_RULES.contains(&r.as_str()) {
            Some(r)
        } else {
            p.err(
                &span,
                format!("unknown rule `{r}` for {what}"),
                hint(&r, INPUT_RULES),
            );
            None
        }
    });
    let label = o
        .str(p, "label")
        .map(|x| x.0)
        .unwrap_or_else(|| name.replace('_', " "));
    Some(Input {
        name: name.to_string(),
        loc: p.loc(key_span),
        ty,
        label,
        default,
        required_when,
        required,
        rule,
    })
}

fn screen(p: &mut P, n: usize, v: &Sv) -> Option<Screen> {
    let o = Obj::of(p, v, format!("screens[{n}]"))?;
    o.check_keys(p, SCREEN_KEYS, &[]);
    let id = o
        .req_str(p, "id", "give every screen a short id, e.g. id = \"login\"")
        .map(|x| x.0)
        .unwrap_or_else(|| format!("#{n}"));
    let what = format!("screen `{id}`");
    let label = o
        .req_str(
            p,
            "label",
            "add label = \"...\" naming the page as a person sees it",
        )
        .map(|x| x.0)
        .unwrap_or_default();
    let optional = o.bool(p, "optional");
    let when = o.get("when").and_then(|v| condition(p, v, &what));
    let timeout = duration(p, &o, "timeout");
    let recognise = match o.get("recognise") {
        Some(rv) => match Obj::of(p, rv, format!("screens[{n}].recognise")) {
            Some(r) => {
                r.check_keys(p, RECOGNISE_KEYS, &[]);
                let url = r.str(p, "url").map(|x| x.0);
                let elements = match r.get("elements") {
                    Some(ev) => match ev.get_ref() {
                        DeValue::Array(a) => a
                            .iter()
                            .filter_map(|e| targets(p, e, &format!("recognise.elements of {what}")))
                            .collect(),
                        _ => targets(p, ev, &format!("recognise.elements of {what}"))
                            .into_iter()
                            .collect(),
                    },
                    None => vec![],
                };
                let texts = r.strings(p, "texts").into_iter().map(|x| x.0).collect();
                let alert = r.str(p, "alert").map(|x| x.0);
                Recognise {
                    url,
                    elements,
                    texts,
                    alert,
                }
            }
            None => Recognise {
                url: None,
                elements: vec![],
                texts: vec![],
                alert: None,
            },
        },
        None => {
            p.err(
                &o.span,
                format!("{what} has no [screens.recognise]"),
                "say how to know the page: recognise = { url = \"/path\", elements = [\"#id\"] }",
            );
            Recognise {
                url: None,
                elements: vec![],
                texts: vec![],
                alert: None,
            }
        }
    };
    let mut steps = vec![];
    if let Some(sv) = o.get("steps") {
        for (i, s) in array_of_tables(p, sv, "screens.steps")
            .into_iter()
            .enumerate()
        {
            if let Some(s) = step(p, &id, i, s) {
                steps.push(s);
            }
        }
    }
    Some(Screen {
        id,
        label,
        loc: p.loc(&v.span()),
        optional,
        when,
        timeout,
        recognise,
        steps,
    })
}

fn step(p: &mut P, screen: &str, i: usize, v: &Sv) -> Option<Step> {
    let o = Obj::of(p, v, format!("step {} of screen `{screen}`", i + 1))?;
    let kinds: Vec<&str> = STEP_KINDS
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| o.get(k).is_some())
        .collect();
    let kind = match kinds.as_slice() {
        [k] => *k,
        [] => {
            // Report the misspelt action itself where there is one.
            let names = step_kind_names();
            let mut all: Vec<&str> = STEP_COMMON.to_vec();
            for (_, extra) in STEP_KINDS {
                all.extend_from_slice(extra);
            }
            let unknown = o
                .map
                .iter()
                .find(|(k, _)| !all.contains(&k.get_ref().as_ref()));
            match unknown {
                Some((k, _)) => p.err(
                    &k.span(),
                    format!("unknown step kind `{}` in {}", k.get_ref(), o.what),
                    hint(k.get_ref(), &names),
                ),
                None => p.err(
                    &o.span,
                    format!("{} does nothing: it has no action", o.what),
                    format!("add one of: {}", names.join(", ")),
                ),
            }
            return None;
        }
        [a, b, ..] => {
            p.err(
                &o.key_span(b),
                format!("{} has two actions, `{a}` and `{b}`", o.what),
                "one action per step: split it into two [[screens.steps]]",
            );
            return None;
        }
    };
    let extra = STEP_KINDS.iter().find(|(k, _)| *k == kind).unwrap().1;
    let mut allowed: Vec<&str> = STEP_COMMON.to_vec();
    allowed.push(kind);
    allowed.extend_from_slice(extra);
    let mut hints: Vec<&str> = step_kind_names();
    for (_, e) in STEP_KINDS {
        hints.extend_from_slice(e);
    }
    for (k, _) in o.map.iter() {
        let key: &str = k.get_ref();
        if !allowed.contains(&key) {
            let belongs = STEP_KINDS
                .iter()
                .find(|(_, e)| e.contains(&key))
                .map(|(k, _)| *k);
            let help = match belongs {
                Some(owner) => format!("`{key}` belongs to `{owner}` steps; remove it here"),
                None => hint(key, &allowed),
            };
            p.err(
                &k.span(),
                format!("unknown key `{key}` in `{kind}` step of screen `{screen}`"),
                help,
            );
        }
    }
    let label = match o.str(p, "label") {
        Some((l, _)) => l,
        None => {
            if o.get("label").is_none() {
                p.err(
                    &o.key_span(kind),
                    format!("`{kind}` step {} of screen `{screen}` has no label", i + 1),
                    "add label = \"...\": prompts, errors and reports name steps by it",
                );
            }
            format!("{kind} #{}", i + 1)
        }
    };
    let what = format!("step \"{label}\"");
    let kv = o.get(kind).unwrap();
    let req_targets = |p: &mut P, v: &Sv| targets(p, v, &format!("`{kind}` of {what}"));
    let tmpl = |p: &mut P, key: &str| -> Option<Template> {
        let (s, span) = o.str(p, key)?;
        template(p, &s, &span, &format!("`{key}` of {what}"))
    };
    let need = |p: &mut P, key: &str, help: &str| {
        if o.get(key).is_none() {
            p.err(
                &o.key_span(kind),
                format!("`{kind}` {what} is missing `{key}`"),
                help.to_string(),
            );
        }
    };
    let step_kind = match kind {
        "goto" => {
            let (s, span) = o.str(p, "goto")?;
            StepKind::Goto {
                url: template(p, &s, &span, &format!("`goto` of {what}"))?,
            }
        }
        "fill" => {
            need(p, "value", "add value = \"${input_name}\"");
            StepKind::Fill {
                target: req_targets(p, kv)?,
                value: tmpl(p, "value")?,
                fast: o.bool(p, "fast"),
            }
        }
        "fill_secret" => {
            need(p, "secret", "add secret = \"name_of_secret_input\"");
            StepKind::FillSecret {
                target: req_targets(p, kv)?,
                secret: o.str(p, "secret")?.0,
                fast: o.bool(p, "fast"),
            }
        }
        "click" => StepKind::Click {
            target: req_targets(p, kv)?,
            navigates: o.bool(p, "navigates"),
        },
        "choose" => StepKind::Choose {
            target: req_targets(p, kv)?,
            navigates: o.bool(p, "navigates"),
        },
        "select" => {
            let option = match (o.get("option"), o.get("option_value")) {
                (Some(_), None) => OptionChoice::Label(tmpl(p, "option")?),
                (None, Some(_)) => OptionChoice::Value(tmpl(p, "option_value")?),
                (Some(_), Some(_)) => {
                    p.err(
                        &o.key_span("option_value"),
                        format!("`select` {what} has both `option` and `option_value`"),
                        "choose by visible label (option) or by value (option_value), not both",
                    );
                    return None;
                }
                (None, None) => {
                    p.err(
                        &o.key_span(kind),
                        format!("`select` {what} does not say which option"),
                        "add option = \"${provider}\" (visible label) or option_value = \"...\"",
                    );
                    return None;
                }
            };
            StepKind::Select {
                target: req_targets(p, kv)?,
                option,
                navigates: o.bool(p, "navigates"),
            }
        }
        "captcha" => {
            need(
                p,
                "input",
                "add input = \"#CaptchaCode\": where the answer is typed",
            );
            let image = req_targets(p, kv)?;
            let input = targets(p, o.get("input")?, &format!("`input` of {what}"))?;
            StepKind::Captcha { image, input }
        }
        "otp" => {
            need(
                p,
                "prompt",
                "add prompt = \"OTP sent to the mobile of ${gstin}\"",
            );
            StepKind::Otp {
                input: req_targets(p, kv)?,
                prompt: tmpl(p, "prompt")?,
            }
        }
        "expect" => StepKind::Expect {
            target: req_targets(p, kv)?,
            text: tmpl(p, "text"),
            absent: o.bool(p, "absent"),
        },
        "alert" => {
            let (pat, span) = o.str(p, "alert")?;
            if let Err(e) = regex::Regex::new(&pat) {
                p.err(
                    &span,
                    format!(
                        "`alert` pattern of {what} is not a valid regex: {}",
                        super::diag::regex_error(&e)
                    ),
                    "escape ( ) . ? * + with a backslash to match them literally",
                );
            }
            let action = match o.str(p, "action") {
                None => AlertAction::Accept,
                Some((a, _)) if a == "accept" => AlertAction::Accept,
                Some((a, _)) if a == "dismiss" => AlertAction::Dismiss,
                Some((a, span)) => {
                    p.err(
                        &span,
                        format!("unknown alert action `{a}`"),
                        hint(&a, &["accept", "dismiss"]),
                    );
                    AlertAction::Accept
                }
            };
            StepKind::Alert {
                pattern: pat,
                action,
                capture: o.str(p, "capture").map(|x| x.0),
            }
        }
        "capture" => {
            need(p, "into", "add into = \"variable_name\"");
            let pattern = o.str(p, "pattern").map(|x| x.0);
            StepKind::Capture {
                target: req_targets(p, kv)?,
                into: o.str(p, "into")?.0,
                attribute: o.str(p, "attribute").map(|x| x.0),
                pattern,
            }
        }
        "wait_for" => StepKind::WaitFor {
            target: req_targets(p, kv)?,
        },
        "screenshot" => StepKind::Screenshot {
            name: o.str(p, "screenshot")?.0,
        },
        _ => unreachable!(),
    };
    // `url:` and `navigation` only make sense to wait for.
    if !matches!(step_kind, StepKind::WaitFor { .. }) {
        for t in step_kind.targets() {
            if t.list
                .iter()
                .any(|x| matches!(x, Target::Url(_) | Target::Navigation))
            {
                p.err(
                    &kv.span(),
                    format!(
                        "{what} targets a URL or navigation, which only `wait_for` can wait for"
                    ),
                    "use a CSS selector here, or a separate wait_for step",
                );
            }
        }
    }
    let when = o.get("when").and_then(|v| condition(p, v, &what));
    Some(Step {
        label,
        loc: p.loc(&v.span()),
        kind: step_kind,
        timeout: duration(p, &o, "timeout"),
        optional: o.bool(p, "optional"),
        when,
        barrier: o.bool(p, "barrier"),
        submits: o.bool(p, "submits"),
    })
}

fn outcome(p: &mut P, n: usize, v: &Sv) -> Option<Outcome> {
    let o = Obj::of(p, v, format!("outcomes[{n}]"))?;
    o.check_keys(p, OUTCOME_KEYS, &[]);
    let id = o
        .req_str(
            p,
            "id",
            "give every outcome an id, e.g. id = \"bad-captcha\"",
        )
        .map(|x| x.0)
        .unwrap_or_else(|| format!("#{n}"));
    let what = format!("outcome `{id}`");
    let kind = match o.req_str(
        p,
        "kind",
        &format!("add kind = one of {}", OUTCOME_KINDS.join(", ")),
    ) {
        Some((k, span)) => match OutcomeKind::parse(&k) {
            Some(k) => k,
            None => {
                p.err(
                    &span,
                    format!("unknown outcome kind `{k}` in {what}"),
                    hint(&k, OUTCOME_KINDS),
                );
                return None;
            }
        },
        None => return None,
    };
    let pat = |p: &mut P, key: &str| -> Option<Template> {
        let (s, span) = o.str(p, key)?;
        let t = template(p, &s, &span, &format!("`{key}` of {what}"))?;
        // Variables are substituted escaped, so any placeholder text checks the regex shape.
        let probe = t
            .render_with(
                &t.vars().map(|v| (v.to_string(), "x".to_string())).collect(),
                |s| s.to_string(),
            )
            .unwrap_or_default();
        if let Err(e) = regex::Regex::new(&probe) {
            p.err(
                &span,
                format!(
                    "`{key}` of {what} is not a valid regex: {}",
                    super::diag::regex_error(&e)
                ),
                "escape ( ) . ? * + with a backslash to match them literally",
            );
        }
        Some(t)
    };
    let alert = pat(p, "alert");
    let text = pat(p, "text");
    let element = o
        .get("element")
        .and_then(|v| targets(p, v, &format!("`element` of {what}")));
    let screens = o.strings(p, "screens").into_iter().map(|x| x.0).collect();
    let when = o.get("when").and_then(|v| condition(p, v, &what));
    let retry_from = o.str(p, "retry_from").map(|x| x.0);
    let max_retries = o
        .int(p, "max_retries")
        .map(|n| n.clamp(0, 100) as u32)
        .unwrap_or(if retry_from.is_some() { 3 } else { 0 });
    let capture = alert
        .as_ref()
        .or(text.as_ref())
        .is_some_and(|t| t.raw.contains("(?P<") || t.raw.contains("(?<"));
    let message = o
        .str(p, "message")
        .map(|x| x.0)
        .unwrap_or_else(|| id.replace(['-', '_'], " "));
    Some(Outcome {
        id,
        loc: p.loc(&v.span()),
        kind,
        message,
        alert,
        text,
        element,
        screens,
        when,
        retry_from,
        max_retries,
        capture,
    })
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
}
