//! The repaired flow: the flow file's own text with each repair spliced
//! in where it belongs, so every comment and layout stays. A repaired
//! target list gets the new target first and keeps the old ones as
//! fallbacks; a dialog a person answered becomes an interrupt. Each change
//! carries a comment with the day and the page it was seen on.

use super::{DialogRepair, Repair, TargetRepair};
use crate::events::DialogAnswer;
use crate::flow::Loc;

/// Why the repairs could not be written into the text.
#[derive(Debug, thiserror::Error)]
#[error("line {}, column {}: {why}", loc.line, loc.col)]
pub struct SpliceError {
    /// Where the target list was said to stand.
    pub loc: Loc,
    /// What was found there instead.
    pub why: String,
}

/// `src` with every repair applied.
pub fn apply(src: &str, repairs: &[Repair]) -> Result<String, SpliceError> {
    let mut targets: Vec<&TargetRepair> = vec![];
    for r in repairs {
        if let Repair::Target(t) = r {
            // The latest repair of a list wins.
            targets.retain(|x| x.loc != t.loc);
            targets.push(t);
        }
    }
    // From the end of the file backwards, so earlier offsets stay true.
    targets.sort_by_key(|t| std::cmp::Reverse(t.loc));
    let mut out = src.to_string();
    for t in targets {
        out = splice_target(&out, t)?;
    }
    let mut seen = vec![];
    for r in repairs {
        if let Repair::Dialog(d) = r {
            if !seen.contains(&&d.text) {
                seen.push(&d.text);
                out.push_str(&interrupt(&out, d));
            }
        }
    }
    Ok(out)
}

fn splice_target(src: &str, t: &TargetRepair) -> Result<String, SpliceError> {
    let err = |why: &str| SpliceError {
        loc: t.loc,
        why: why.into(),
    };
    let line_start = nth_line_start(src, t.loc.line).ok_or_else(|| err("no such line"))?;
    let start = line_start
        + src[line_start..]
            .char_indices()
            .nth(t.loc.col.saturating_sub(1))
            .map(|(i, _)| i)
            .ok_or_else(|| err("no such column"))?;
    let end = start + value_len(&src[start..]).ok_or_else(|| err("no target list here"))?;
    let mut list = vec![t.target.clone()];
    list.extend(t.old.iter().filter(|o| **o != t.target).cloned());
    let indent: String = src[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let comment = format!(
        "{indent}# repaired {} by einvreg --repair: `{}` found on {}; the old targets stay as fallbacks\n",
        t.day,
        one_line(&t.target),
        one_line(&t.page)
    );
    Ok(format!(
        "{}{comment}{}{}{}",
        &src[..line_start],
        &src[line_start..start],
        crate::runner::proposal::toml_list(&list),
        &src[end..]
    ))
}

/// Byte offset where 1-based line `n` starts.
fn nth_line_start(src: &str, n: usize) -> Option<usize> {
    match n {
        0 => None,
        1 => Some(0),
        n => src.match_indices('\n').nth(n - 2).map(|(i, _)| i + 1),
    }
}

/// The length of the TOML string or array of strings `s` starts with.
fn value_len(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' => depth += 1,
                ']' if depth > 0 => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                '#' if depth > 0 => {
                    // A comment inside a multi-line array runs to the line's end.
                    quote = Some('\n');
                }
                _ if depth == 0 => return None,
                _ => {}
            },
        }
        if quote == Some('\n') && c == '\n' {
            quote = None;
        }
    }
    None
}

/// An interrupt that answers this dialog as the person did, wherever it opens.
fn interrupt(src: &str, d: &DialogRepair) -> String {
    let id = (1..)
        .map(|k| format!("repaired_dialog_{k}"))
        .find(|id| !src.contains(&format!("\"{id}\"")))
        .expect("an unused id");
    let pattern = toml::Value::String(format!("^{}$", regex::escape(&d.text))).to_string();
    let short: String = one_line(&d.text).chars().take(60).collect();
    let (verb, action) = match d.answer {
        DialogAnswer::Accept => ("accepted", "accept"),
        DialogAnswer::Dismiss => ("dismissed", "dismiss"),
    };
    let label = toml::Value::String(format!("Dialog: {short}")).to_string();
    let on = d.screen.as_deref().map(one_line).unwrap_or_default();
    format!(
        "\n# repaired {} by einvreg --repair: this dialog opened on \"{on}\" ({}) and a person {verb} it\n\
         [[interrupts]]\nid = \"{id}\"\nlabel = {label}\nrecognise = {{ alert = {pattern} }}\n\n  \
         [[interrupts.steps]]\n  label = \"Answer it\"\n  alert = {pattern}\n  action = \"{action}\"\n",
        d.day,
        one_line(&d.page),
    )
}

/// A text safe inside a one-line comment.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const FLOW: &str = include_str!("../../flows/production-api-user.toml");

    fn at(src: &str, needle: &str) -> Loc {
        let i = src.find(needle).expect("needle");
        Loc::of(src, i + needle.find('[').unwrap_or(0))
    }

    fn repair(loc: Loc, to: &str, old: &[&str]) -> Repair {
        Repair::Target(TargetRepair {
            loc,
            key: "click".into(),
            screen: "Dash Board".into(),
            step: "API Registration menu".into(),
            target: to.into(),
            old: old.iter().map(|s| s.to_string()).collect(),
            page: "http://127.0.0.1:1/Home/MainMenu".into(),
            day: "2026-12-05".into(),
        })
    }

    #[test]
    fn a_repaired_flow_puts_the_new_target_first_and_still_checks() {
        let loc = at(FLOW, "click = [\"#menuApiRegistration\"");
        let dialog = Repair::Dialog(DialogRepair {
            screen: Some("Dash Board".into()),
            text: "Link Aadhaar now? (OK to go on)".into(),
            answer: DialogAnswer::Dismiss,
            page: "http://127.0.0.1:1/Home/MainMenu".into(),
            day: "2026-12-05".into(),
        });
        let old = ["#menuApiRegistration", "text:API Registration"];
        let repairs = [repair(loc, "text:Register for API", &old), dialog];
        let out = apply(FLOW, &repairs).unwrap();
        assert!(out.contains(
            "  # repaired 2026-12-05 by einvreg --repair: `text:Register for API` found on http://127.0.0.1:1/Home/MainMenu; the old targets stay as fallbacks\n  click = [\"text:Register for API\", \"#menuApiRegistration\", \"text:API Registration\"]\n"
        ), "{out}");
        let (flow, _) = crate::flow::load_str(Path::new("x.toml"), &out).expect("it checks");
        let step = flow
            .screens
            .iter()
            .flat_map(|s| &s.steps)
            .find(|s| s.label == "API Registration menu")
            .unwrap();
        assert_eq!(
            step.kind.targets()[0].list[0].to_string(),
            "text:Register for API"
        );
        let i = flow.interrupts.last().unwrap();
        assert_eq!(i.id, "repaired_dialog_1");
        assert!(i
            .recognise
            .alert
            .as_ref()
            .unwrap()
            .is_match("Link Aadhaar now? (OK to go on)"));
        // Everything else is as it was.
        let diff = super::super::diff::unified(FLOW, &out, "a", "b");
        assert_eq!(
            diff.lines()
                .filter(|l| l.starts_with('-') && !l.starts_with("---"))
                .count(),
            1,
            "{diff}"
        );
    }

    #[test]
    fn a_single_string_and_a_multi_line_array_are_replaced_whole() {
        let src = "a = \"#x\" # note\nb = [\n  \"#y\", # why\n  \"text:Y\",\n]\nc = 1\n";
        let la = at(src, "\"#x\"");
        let lb = at(src, "[\n");
        let out = apply(
            src,
            &[
                repair(la, "#x2", &["#x"]),
                repair(lb, "#y2", &["#y", "text:Y"]),
            ],
        )
        .unwrap();
        assert_eq!(
            out.lines().nth(1),
            Some("a = [\"#x2\", \"#x\"] # note"),
            "{out}"
        );
        assert!(
            out.contains("b = [\"#y2\", \"#y\", \"text:Y\"]\nc = 1\n"),
            "{out}"
        );
        let bad = apply(src, &[repair(Loc { line: 6, col: 5 }, "#z", &["#x"])]);
        assert!(bad.is_err());
    }
}
