//! One `[[screens]]` table and its steps.

use super::*;

pub(super) fn screen(p: &mut P, n: usize, v: &Sv) -> Option<Screen> {
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
                let alert = r.str(p, "alert").map(|x| Pattern::new(x.0));
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

pub(super) fn step(p: &mut P, screen: &str, i: usize, v: &Sv) -> Option<Step> {
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
            let pat = Pattern::new(pat);
            if let Some(e) = pat.error() {
                p.err(
                    &span,
                    format!(
                        "`alert` pattern of {what} is not a valid regex: {}",
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
            StepKind::Alert {
                pattern: pat,
                action,
                capture: o.str(p, "capture").map(|x| x.0),
            }
        }
        "capture" => {
            need(p, "into", "add into = \"variable_name\"");
            let pattern = o.str(p, "pattern").map(|x| Pattern::new(x.0));
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
