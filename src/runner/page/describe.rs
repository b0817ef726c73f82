//! How targets and pages are named in errors and smoke findings.

use super::Miss;
use crate::flow::{Target, Targets};

pub fn describe_targets(t: &Targets, report: &[Miss]) -> String {
    t.list
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let why = match report.get(i) {
                Some(Miss::None) | None => "not on the page",
                Some(Miss::Hidden) => "present but hidden",
                Some(Miss::Disabled) => "present but disabled",
                Some(Miss::Invalid) => "invalid selector",
                Some(Miss::Unsupported) => "not an element target",
            };
            format!("`{x}` ({why})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The target at `i` of a list (from a probe's group index).
pub fn target_of(t: &Targets, i: i64) -> Option<&Target> {
    usize::try_from(i).ok().and_then(|i| t.list.get(i))
}

/// Every target of a list, backquoted, joined by "or".
pub fn list(t: &Targets) -> String {
    t.list
        .iter()
        .map(|x| format!("`{x}`"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Every target of a list joined by " | ", as smoke findings name them.
pub fn joined(t: &Targets) -> String {
    t.list
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Page text on one line, cut at 160 characters, quoted.
pub fn snippet(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 160 {
        format!("\"{}…\"", one.chars().take(160).collect::<String>())
    } else {
        format!("\"{one}\"")
    }
}
