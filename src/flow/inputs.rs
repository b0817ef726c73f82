//! Turning what a user gave (`--var`, a vars file, a CSV row) into a flow's
//! inputs: required checks, defaults, portal rules. Every problem names
//! where the value came from and how to fix it, before any browser starts.

use super::model::{Flow, InputType};
use crate::redact::Secret;
use crate::rules::{self, GstinStrictness};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Given {
    pub name: String,
    pub value: String,
    /// "--var gstin", "vars.toml:3:9", "batch.csv:7 column mobile"...
    pub source: String,
}

#[derive(Debug, Default, Clone)]
pub struct Resolved {
    pub vars: HashMap<String, String>,
    pub secrets: HashMap<String, Secret>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblem {
    pub source: String,
    pub input: String,
    pub message: String,
    pub fix: String,
}

impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: `{}` {}\n  help: {}",
            self.source, self.input, self.message, self.fix
        )
    }
}

/// Checks one value against its input's type and rule. Err is (message, fix).
pub fn check_value(flow: &Flow, name: &str, value: &str) -> Result<String, (String, String)> {
    let Some(input) = flow.input(name) else {
        let names: Vec<&str> = flow.inputs.iter().map(|i| i.name.as_str()).collect();
        return Err((
            "is not an input of this flow".into(),
            super::suggest::hint(name, &names),
        ));
    };
    let v = value.trim().to_string();
    match &input.ty {
        InputType::Gstin { strict } => {
            let v = v.to_uppercase();
            let s = if *strict {
                GstinStrictness::Strict
            } else {
                GstinStrictness::Sandbox
            };
            rules::validate_gstin(&v, s).map_err(|e| {
                (
                    format!("\"{v}\" is not a valid GSTIN: {e}"),
                    "check the GSTIN against the registration certificate".to_string(),
                )
            })?;
            return check_rule(input.rule.as_deref(), v);
        }
        InputType::Mobile => rules::validate_mobile(&v).map_err(|e| {
            (
                format!("\"{v}\" is not a mobile number: {e}"),
                "give the 10-digit mobile registered with GST, e.g. 9876543210".to_string(),
            )
        })?,
        InputType::Email => rules::validate_email(&v).map_err(|e| {
            (
                format!("\"{v}\" is not an e-mail address: {e}"),
                "give the e-mail registered with GST".to_string(),
            )
        })?,
        InputType::Choice { values } => {
            let lv = v.to_lowercase();
            if let Some(m) = values.iter().find(|x| x.to_lowercase() == lv) {
                return Ok(m.clone());
            }
            let vals: Vec<&str> = values.iter().map(String::as_str).collect();
            return Err((
                format!("\"{v}\" is not one of {}", values.join(", ")),
                super::suggest::hint(&v, &vals),
            ));
        }
        InputType::Text { pattern: Some(p) } => {
            if p.regex().is_some_and(|r| !r.is_match(&v)) {
                return Err((
                    format!("\"{v}\" does not match /{p}/"),
                    format!("give a value matching {p}"),
                ));
            }
        }
        InputType::Text { pattern: None } | InputType::Secret { .. } => {}
    }
    if v.is_empty() {
        return Err((
            "is empty".into(),
            format!("give a value for {}", input.label),
        ));
    }
    check_rule(input.rule.as_deref(), v)
}

/// A control character in a value would be typed as a key: a newline is
/// Enter, and submits a form early. Values are never shown (they may be secrets).
fn control_problem(name: &str, value: &str, source: &str) -> Option<InputProblem> {
    let (at, c) = rules::control_char(value)?;
    Some(InputProblem {
        source: source.to_string(),
        input: name.to_string(),
        message: format!(
            "holds a control character (U+{:04X}) at character {}: it would be typed as a key (a newline is Enter)",
            c as u32,
            at
        ),
        fix: "remove it: values are typed exactly as given".into(),
    })
}

fn check_rule(rule: Option<&str>, v: String) -> Result<String, (String, String)> {
    match rule {
        Some("api_username") => rules::validate_api_username(&v).map_err(|e| (format!("\"{v}\" is not a valid API username: it {e}"), "use 4-15 letters and digits (the portal adds API_ itself)".to_string()))?,
        Some("web_username") => rules::validate_web_username(&v).map_err(|e| (format!("\"{v}\" is not a portal login: it {e}"), "give the GST / e-Invoice portal username".to_string()))?,
        Some("password") => rules::validate_password(&v).map_err(|e| (format!("the password {e}"), "8-15 characters with upper, lower, digit and one of @#$!%, no special first or last".to_string()))?,
        _ => {}
    }
    Ok(v)
}

/// Resolves every input. `secret_of(name, needed)` supplies secrets from
/// elsewhere (secrets file, environment, prompt) when not given; `needed`
/// says whether the run cannot go without it (as the route's own secret),
/// so a person is asked only for those.
pub fn resolve(
    flow: &Flow,
    given: &[Given],
    mut secret_of: impl FnMut(&str, bool) -> Option<Secret>,
) -> Result<Resolved, Vec<InputProblem>> {
    let mut out = Resolved::default();
    let mut problems = vec![];
    for g in given {
        if let Some(p) = control_problem(&g.name, &g.value, &g.source) {
            problems.push(p);
            continue;
        }
        match flow.input(&g.name) {
            Some(i) if i.is_secret() => {
                if i.name
                    == flow
                        .credentials
                        .as_ref()
                        .map(|c| c.password.as_str())
                        .unwrap_or("")
                {
                    if let Err(e) = rules::validate_password(&g.value) {
                        problems.push(InputProblem {
                            source: g.source.clone(),
                            input: g.name.clone(),
                            message: format!("is not a valid API password: it {e}"),
                            fix:
                                "leave it out to have one generated, or follow the password policy"
                                    .into(),
                        });
                        continue;
                    }
                }
                out.secrets
                    .insert(g.name.clone(), Secret::new(g.value.clone()));
            }
            _ => match check_value(flow, &g.name, &g.value) {
                Ok(v) => {
                    out.vars.insert(g.name.clone(), v);
                }
                Err((message, fix)) => problems.push(InputProblem {
                    source: g.source.clone(),
                    input: g.name.clone(),
                    message,
                    fix,
                }),
            },
        }
    }
    for i in &flow.inputs {
        if out.vars.contains_key(&i.name)
            || out.secrets.contains_key(&i.name)
            || problems.iter().any(|p| p.input == i.name)
        {
            continue;
        }
        if let Some(d) = &i.default {
            out.vars.insert(i.name.clone(), d.clone());
        }
    }
    for i in &flow.inputs {
        if out.vars.contains_key(&i.name)
            || out.secrets.contains_key(&i.name)
            || problems.iter().any(|p| p.input == i.name)
        {
            continue;
        }
        let needed = match &i.required_when {
            Some(c) => c.holds(|k| out.vars.get(k).cloned()),
            None => i.required,
        };
        match &i.ty {
            InputType::Secret { generate } => {
                if let Some(s) = secret_of(&i.name, needed) {
                    let from = format!("the secret {}", i.name);
                    match control_problem(&i.name, s.expose(), &from) {
                        Some(p) => problems.push(p),
                        None => drop(out.secrets.insert(i.name.clone(), s)),
                    }
                } else if *generate {
                    out.secrets
                        .insert(i.name.clone(), Secret::new(rules::generate_password()));
                } else if needed {
                    problems.push(InputProblem { source: "inputs".into(), input: i.name.clone(), message: format!("({}) is a secret that was not given", i.label), fix: format!("set EINVREG_{} in the environment, put it in --secrets FILE, or run in a terminal to be asked", i.name.to_uppercase()) });
                }
            }
            _ if needed => problems.push(InputProblem {
                source: "inputs".into(),
                input: i.name.clone(),
                message: format!("({}) is required but was not given", i.label),
                fix: format!("pass --var {}=...", i.name),
            }),
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}
