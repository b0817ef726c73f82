//! Smoke's fix proposals: when a target drifted or only a fallback matched,
//! what now stands there (id, name, label, text) and the TOML to paste.

use super::page::nearest::{self, Seen};
use super::page::Need;
use crate::events::{Check, CheckKind, Class};
use crate::flow::{Flow, Recognise, Screen, Targets};
use fantoccini::Client;

/// Adds a proposal to each recognition finding that drifted or fell back
/// (step targets get theirs as they are checked). Only the page the walk
/// stopped on can be asked what stands there now.
pub async fn for_recognition(c: &Client, flow: &Flow, findings: &mut [Check]) {
    let last_drift = findings.iter().rposition(|f| f.class == Class::Drift);
    for (i, f) in findings.iter_mut().enumerate() {
        let Some(sel) = f.selector.clone() else {
            continue;
        };
        if f.check != CheckKind::Recognise || !matches!(f.class, Class::Drift | Class::Fallback) {
            continue;
        }
        let Some(screen) = flow.screens.iter().find(|s| s.label == f.screen) else {
            continue;
        };
        let r = &screen.recognise;
        let joined = |g: &Targets| super::page::joined(g);
        let group = match f.class {
            Class::Drift => r.elements.iter().position(|g| joined(g) == sel),
            _ => r
                .elements
                .iter()
                .position(|g| g.list.iter().any(|t| t.to_string() == sel)),
        };
        let Some(group) = group else { continue };
        let seen = match (f.class, Some(i) == last_drift) {
            (Class::Drift, true) => {
                let others = css_of(screen, &r.elements[group]);
                nearest::nearest(c, &r.elements[group], Need::See, &others)
                    .await
                    .ok()
                    .flatten()
            }
            _ => None,
        };
        let first = match f.class {
            Class::Fallback => Some(sel.clone()),
            _ => seen.as_ref().and_then(Seen::target),
        };
        if let Some(first) = first {
            f.fix = Some(for_recognise(&f.screen, r, group, seen.as_ref(), &first));
        }
    }
}

/// The CSS targets of `screen`'s lists that share no target with
/// `except`: elements some other part of the flow already claims.
pub fn css_of(screen: &Screen, except: &Targets) -> Vec<String> {
    let steps = screen.steps.iter().flat_map(|s| s.kind.targets());
    screen
        .recognise
        .elements
        .iter()
        .chain(steps)
        .filter(|t| !t.list.iter().any(|x| except.list.contains(x)))
        .flat_map(|t| t.list.iter())
        .filter_map(|x| match x {
            crate::flow::Target::Css(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// A TOML array of strings: `["#a", "label:B"]`.
pub fn toml_list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| toml::Value::String(s.as_ref().to_string()).to_string())
        .collect();
    format!("[{}]", quoted.join(", "))
}

/// `t` with `first` in front and no target twice.
pub fn with_first(first: &str, t: &Targets) -> Vec<String> {
    let mut v = vec![first.to_string()];
    v.extend(t.list.iter().map(|x| x.to_string()).filter(|x| x != first));
    v
}

/// What to paste for a step's target list under `key`.
pub fn for_step(
    screen: &str,
    step: &str,
    key: &str,
    t: &Targets,
    seen: Option<&Seen>,
    first: &str,
) -> String {
    let mut s = String::new();
    if let Some(e) = seen {
        s.push_str(&format!("now there: {}\n", e.describe()));
    }
    s.push_str(&format!(
        "in screen \"{screen}\", step \"{step}\", write:\n  {key} = {}",
        toml_list(&with_first(first, t))
    ));
    s
}

/// What to paste for a screen's recognition, its `group`th element list led by `first`.
pub fn for_recognise(
    screen: &str,
    r: &Recognise,
    group: usize,
    seen: Option<&Seen>,
    first: &str,
) -> String {
    let mut parts = vec![];
    if let Some(u) = &r.url {
        parts.push(format!("url = {}", toml::Value::String(u.clone())));
    }
    if !r.texts.is_empty() {
        parts.push(format!("texts = {}", toml_list(&r.texts)));
    }
    if let Some(a) = &r.alert {
        parts.push(format!(
            "alert = {}",
            toml::Value::String(a.source().to_string())
        ));
    }
    let groups: Vec<String> = r
        .elements
        .iter()
        .enumerate()
        .map(|(i, g)| match i == group {
            true => toml_list(&with_first(first, g)),
            false => toml_list(&g.list.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        })
        .collect();
    parts.push(format!("elements = [{}]", groups.join(", ")));
    let mut s = String::new();
    if let Some(e) = seen {
        s.push_str(&format!("now there: {}\n", e.describe()));
    }
    s.push_str(&format!(
        "in screen \"{screen}\", write:\n  recognise = {{ {} }}",
        parts.join(", ")
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Target;

    fn targets(list: &[&str]) -> Targets {
        Targets {
            loc: Default::default(),
            list: list.iter().map(|s| Target::parse(s).unwrap()).collect(),
        }
    }

    #[test]
    fn the_lines_to_paste_are_toml_that_parses() {
        let t = targets(&[
            "#txtUserName",
            "input[name='UserName']",
            "label:User \"name\"",
        ]);
        let s = for_step("Login", "Username", "fill", &t, None, "#txtLoginId");
        let line = s.lines().last().unwrap().trim();
        assert_eq!(
            line,
            r##"fill = ["#txtLoginId", "#txtUserName", "input[name='UserName']", 'label:User "name"']"##
        );
        let v: toml::Table = line.parse().unwrap();
        assert_eq!(v["fill"].as_array().unwrap().len(), 4);
        // A fallback that matched moves to the front, once.
        assert_eq!(with_first("label:User \"name\"", &t).len(), 3);
        let r = Recognise {
            url: Some("/Home".into()),
            elements: vec![t.clone(), targets(&["#b"])],
            texts: vec!["Dash Board".into()],
            alert: None,
        };
        let s = for_recognise("Home", &r, 0, None, "#txtLoginId");
        let v: toml::Table = s.lines().last().unwrap().trim().parse().unwrap();
        let els = v["recognise"]["elements"].as_array().unwrap();
        assert_eq!(els[0][0].as_str(), Some("#txtLoginId"));
        assert_eq!(els[1][0].as_str(), Some("#b"));
    }
}
