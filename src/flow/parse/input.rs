//! One `[inputs.NAME]` table.

use super::*;

pub(super) fn input(p: &mut P, name: &str, key_span: &Range<usize>, v: &Sv) -> Option<Input> {
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
    let ty = input_type(p, &o, &what, &ty_s, &ty_span);
    let default = default(p, &o, &what, &ty);
    let required_when = o.get("required_when").and_then(|v| condition(p, v, &what));
    let explicit_required = o.get("required").map(|_| o.bool(p, "required"));
    let required = explicit_required.unwrap_or(
        default.is_none()
            && required_when.is_none()
            && !matches!(ty, InputType::Secret { generate: true }),
    );
    let (rule, role) = (rule(p, &o, &what), role(p, &o, &what));
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
        role,
    })
}

/// The input's type, and an error for each key that belongs to another type.
fn input_type(p: &mut P, o: &Obj, what: &str, ty_s: &str, ty_span: &Range<usize>) -> InputType {
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
    let ty = match ty_s {
        "text" => InputType::Text {
            pattern: o.str(p, "pattern").and_then(|(pat, span)| {
                let pat = Pattern::new(pat);
                match pat.error() {
                    None => Some(pat),
                    Some(e) => {
                        let msg = format!(
                            "`pattern` of {what} is not a valid regex: {}",
                            crate::flow::diag::regex_error(e)
                        );
                        p.err(&span, msg, "fix the regular expression");
                        None
                    }
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
                ty_span,
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
    ty
}

fn default(p: &mut P, o: &Obj, what: &str, ty: &InputType) -> Option<String> {
    match o.get("default") {
        Some(_) if matches!(ty, InputType::Secret { .. }) => {
            p.err(&o.key_span("default"), format!("{what} is a secret and cannot have a default"), "secrets never live in flow files: pass them with --var, a secrets file or the prompt");
            None
        }
        Some(_) => o.str(p, "default").map(|(d, span)| {
            if let InputType::Choice { values } = ty {
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
    }
}

fn rule(p: &mut P, o: &Obj, what: &str) -> Option<String> {
    o.str(p, "rule").and_then(|(r, span)| {
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
    })
}

fn role(p: &mut P, o: &Obj, what: &str) -> Option<Role> {
    o.str(p, "role").and_then(|(r, span)| {
        let role = Role::parse(&r);
        if role.is_none() {
            p.err(
                &span,
                format!("unknown role `{r}` for {what}"),
                hint(&r, ROLES),
            );
        }
        role
    })
}
