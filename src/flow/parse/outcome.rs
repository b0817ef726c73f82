//! One `[[outcomes]]` table.

use super::*;

pub(super) fn outcome(p: &mut P, n: usize, v: &Sv) -> Option<Outcome> {
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
                    crate::flow::diag::regex_error(&e)
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
