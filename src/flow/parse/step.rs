//! One `[[screens.steps]]` table: which action it is, its keys, and the
//! step kind with its targets, templates and patterns.

use super::*;

/// Parses step `i` of screen `screen`.
pub(super) fn step(p: &mut P, screen: &str, i: usize, v: &Sv) -> Option<Step> {
    let o = Obj::of(p, v, format!("step {} of screen `{screen}`", i + 1))?;
    let kind = action(p, &o)?;
    check_keys(p, &o, kind, screen);
    let label = label(p, &o, kind, screen, i);
    let s = StepSrc {
        o: &o,
        kind,
        what: format!("step \"{label}\""),
    };
    let step_kind = s.kind(p)?;
    s.check_wait_only_targets(p, &step_kind);
    let when = o.get("when").and_then(|v| condition(p, v, &s.what));
    Some(Step {
        label,
        loc: p.loc(&v.span()),
        kind: step_kind,
        timeout: duration(p, &o, "timeout"),
        optional: o.bool(p, "optional"),
        when,
        barrier: o.bool(p, "barrier"),
        submits: o.bool(p, "submits"),
        confirm: o.str(p, "confirm").map(|x| Pattern::new(x.0)),
    })
}

/// The one action key (`fill`, `click`, ...) the step has.
fn action(p: &mut P, o: &Obj) -> Option<&'static str> {
    let kinds: Vec<&'static str> = STEP_KINDS
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| o.get(k).is_some())
        .collect();
    match kinds.as_slice() {
        [k] => Some(*k),
        [] => {
            no_action(p, o);
            None
        }
        [a, b, ..] => {
            p.err(
                &o.key_span(b),
                format!("{} has two actions, `{a}` and `{b}`", o.what),
                "one action per step: split it into two [[screens.steps]]",
            );
            None
        }
    }
}

/// Reports the misspelt action itself where there is one.
fn no_action(p: &mut P, o: &Obj) {
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
}

/// Keys that belong to no step, or to another kind of step.
fn check_keys(p: &mut P, o: &Obj, kind: &str, screen: &str) {
    let extra = STEP_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[][..], |k| k.1);
    let mut allowed: Vec<&str> = STEP_COMMON.to_vec();
    allowed.push(kind);
    allowed.extend_from_slice(extra);
    for (k, _) in o.map.iter() {
        let key: &str = k.get_ref();
        if allowed.contains(&key) {
            continue;
        }
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

fn label(p: &mut P, o: &Obj, kind: &str, screen: &str, i: usize) -> String {
    if let Some((l, _)) = o.str(p, "label") {
        return l;
    }
    if o.get("label").is_none() {
        p.err(
            &o.key_span(kind),
            format!("`{kind}` step {} of screen `{screen}` has no label", i + 1),
            "add label = \"...\": prompts, errors and reports name steps by it",
        );
    }
    format!("{kind} #{}", i + 1)
}

/// One step's table, its action and how errors name it.
struct StepSrc<'o, 'a, 'i> {
    o: &'o Obj<'a, 'i>,
    kind: &'static str,
    what: String,
}

impl StepSrc<'_, '_, '_> {
    /// The targets under the action key.
    fn targets(&self, p: &mut P) -> Option<Targets> {
        let v = self.o.get(self.kind)?;
        targets(p, v, &format!("`{}` of {}", self.kind, self.what))
    }

    /// Targets under another key (`refresh`, `resend`), when given.
    fn extra_targets(&self, p: &mut P, key: &str) -> Option<Targets> {
        let v = self.o.get(key)?;
        targets(p, v, &format!("`{key}` of {}", self.what))
    }

    fn tmpl(&self, p: &mut P, key: &str) -> Option<Template> {
        let (s, span) = self.o.str(p, key)?;
        template(p, &s, &span, &format!("`{key}` of {}", self.what))
    }

    fn need(&self, p: &mut P, key: &str, help: &str) {
        if self.o.get(key).is_none() {
            p.err(
                &self.o.key_span(self.kind),
                format!("`{}` {} is missing `{key}`", self.kind, self.what),
                help.to_string(),
            );
        }
    }

    fn kind(&self, p: &mut P) -> Option<StepKind> {
        let o = self.o;
        Some(match self.kind {
            "goto" => StepKind::Goto {
                url: self.tmpl(p, "goto")?,
                reload: o.get("reload").is_none() || o.bool(p, "reload"),
            },
            "fill" => {
                self.need(p, "value", "add value = \"${input_name}\"");
                StepKind::Fill {
                    target: self.targets(p)?,
                    value: self.tmpl(p, "value")?,
                    fast: o.bool(p, "fast"),
                    keep_prefix: o.str(p, "keep_prefix").map(|x| x.0),
                }
            }
            "fill_secret" => {
                self.need(p, "secret", "add secret = \"name_of_secret_input\"");
                StepKind::FillSecret {
                    target: self.targets(p)?,
                    secret: o.str(p, "secret")?.0,
                    fast: o.bool(p, "fast"),
                }
            }
            "click" => StepKind::Click {
                target: self.targets(p)?,
                navigates: o.bool(p, "navigates"),
                then: o.str(p, "then").map(|x| x.0),
            },
            "choose" => StepKind::Choose {
                target: self.targets(p)?,
                navigates: o.bool(p, "navigates"),
                then: o.str(p, "then").map(|x| x.0),
            },
            "select" => self.select(p)?,
            "captcha" => {
                self.need(
                    p,
                    "input",
                    "add input = \"#CaptchaCode\": where the answer is typed",
                );
                let image = self.targets(p)?;
                let input = targets(p, o.get("input")?, &format!("`input` of {}", self.what))?;
                StepKind::Captcha {
                    image,
                    input,
                    refresh: self.extra_targets(p, "refresh"),
                }
            }
            "otp" => {
                self.need(
                    p,
                    "prompt",
                    "add prompt = \"OTP sent to the mobile of ${gstin}\"",
                );
                StepKind::Otp {
                    input: self.targets(p)?,
                    prompt: self.tmpl(p, "prompt")?,
                    resend: self.extra_targets(p, "resend"),
                    rotates: duration(p, o, "rotates"),
                }
            }
            "expect" => StepKind::Expect {
                target: self.targets(p)?,
                text: self.tmpl(p, "text"),
                absent: o.bool(p, "absent"),
            },
            "alert" => self.alert(p)?,
            "capture" => {
                self.need(p, "into", "add into = \"variable_name\"");
                let pattern = o.str(p, "pattern").map(|x| Pattern::new(x.0));
                StepKind::Capture {
                    target: self.targets(p)?,
                    into: o.str(p, "into")?.0,
                    attribute: o.str(p, "attribute").map(|x| x.0),
                    pattern,
                }
            }
            "wait_for" => StepKind::WaitFor {
                target: self.targets(p)?,
            },
            "screenshot" => StepKind::Screenshot {
                name: o.str(p, "screenshot")?.0,
            },
            other => unreachable!("STEP_KINDS has no `{other}`"),
        })
    }

    fn select(&self, p: &mut P) -> Option<StepKind> {
        let o = self.o;
        let what = &self.what;
        let option = match (o.get("option"), o.get("option_value")) {
            (Some(_), None) => OptionChoice::Label(self.tmpl(p, "option")?),
            (None, Some(_)) => OptionChoice::Value(self.tmpl(p, "option_value")?),
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
                    &o.key_span(self.kind),
                    format!("`select` {what} does not say which option"),
                    "add option = \"${provider}\" (visible label) or option_value = \"...\"",
                );
                return None;
            }
        };
        Some(StepKind::Select {
            target: self.targets(p)?,
            option,
            navigates: o.bool(p, "navigates"),
            then: o.str(p, "then").map(|x| x.0),
        })
    }

    fn alert(&self, p: &mut P) -> Option<StepKind> {
        let o = self.o;
        let (pat, span) = o.str(p, "alert")?;
        let pattern = Pattern::new(pat);
        if let Some(e) = pattern.error() {
            p.err(
                &span,
                format!(
                    "`alert` pattern of {} is not a valid regex: {}",
                    self.what,
                    crate::flow::diag::regex_error(e)
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
        Some(StepKind::Alert {
            pattern,
            action,
            capture: o.str(p, "capture").map(|x| x.0),
        })
    }

    /// `url:` and `navigation` only make sense to wait for.
    fn check_wait_only_targets(&self, p: &mut P, k: &StepKind) {
        if matches!(k, StepKind::WaitFor { .. }) {
            return;
        }
        let waits = |t: &&Targets| {
            t.list
                .iter()
                .any(|x| matches!(x, Target::Url(_) | Target::Navigation))
        };
        let Some(v) = self.o.get(self.kind) else {
            return;
        };
        if k.targets().iter().any(waits) {
            let span = v.span();
            p.err(
                &span,
                format!(
                    "{} targets a URL or navigation, which only `wait_for` can wait for",
                    self.what
                ),
                "use a CSS selector here, or a separate wait_for step",
            );
        }
    }
}
