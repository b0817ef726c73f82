//! What now stands where a flow's target stood (smoke's fix proposals).

use super::Need;
use crate::flow::{Target, Targets};
use fantoccini::{error::CmdError, Client};
use serde_json::json;

const NEAREST_JS: &str = include_str!("nearest.js");

/// An element as a person would name it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[allow(missing_docs)]
pub struct Seen {
    pub tag: String,
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    pub text: String,
    pub unique_id: bool,
    pub unique_name: bool,
    /// How like the old targets it is, 0 to 1 (1 for a described element).
    pub score: f64,
}

/// The element a step's lookup tagged `mark`, described.
pub async fn describe(c: &Client, mark: &str) -> Result<Option<Seen>, CmdError> {
    let v = c
        .execute(
            NEAREST_JS,
            vec![json!(mark), json!([]), json!("see"), json!([])],
        )
        .await?;
    Ok(serde_json::from_value(v).ok())
}

/// The visible element most like what `t` named, if one is close enough;
/// never one that `others` (the screen's other CSS targets) find.
pub async fn nearest(
    c: &Client,
    t: &Targets,
    need: Need,
    others: &[String],
) -> Result<Option<Seen>, CmdError> {
    let args = vec![
        json!(null),
        json!(tokens(t)),
        json!(kind(t, need)),
        json!(others),
    ];
    let v = c.execute(NEAREST_JS, args).await?;
    Ok(serde_json::from_value(v).ok())
}

/// The visible elements of the kind `t` needs, most like what it named
/// first, at most `limit`: a repair's candidates.
pub async fn ranked(
    c: &Client,
    t: &Targets,
    need: Need,
    others: &[String],
    limit: usize,
) -> Result<Vec<Seen>, CmdError> {
    let args = vec![
        json!(null),
        json!(tokens(t)),
        json!(kind(t, need)),
        json!(others),
        json!(limit),
    ];
    let v = c.execute(NEAREST_JS, args).await?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// The kind of element the page script looks for.
fn kind(t: &Targets, need: Need) -> &'static str {
    match need {
        // A dropdown is found among fields (`select`), not among buttons.
        Need::Fill | Need::Pick => "fill",
        Need::Click => "click",
        Need::See if kind_of(t) == Some(Need::Fill) => "fill",
        Need::See if kind_of(t) == Some(Need::Click) => "click",
        Need::See => "see",
    }
}

/// What kind of element a target list names, when it says: a `label:`
/// or `input...` names a field, a `button...` or `a[...]` something to click.
pub fn kind_of(t: &Targets) -> Option<Need> {
    t.list.iter().find_map(|x| match x {
        Target::Label(_) => Some(Need::Fill),
        Target::Css(s)
            if ["input", "select", "textarea"]
                .iter()
                .any(|k| s.starts_with(k)) =>
        {
            Some(Need::Fill)
        }
        Target::Css(s) if s.starts_with("button") || s.starts_with("a[") || s.starts_with("a.") => {
            Some(Need::Click)
        }
        _ => None,
    })
}

/// The ids, names and texts a target list names: `#txtUserName`,
/// `input[name='UserName']`, `label:User name` give those three words.
pub fn tokens(t: &Targets) -> Vec<String> {
    let re = regex::Regex::new(r#"#([\w-]+)|\[(?:name|id)[*^$|~]?=\s*['"]?([^'"\]]+)"#)
        .expect("valid regex");
    let quoted = regex::Regex::new(r#"['"]([^'"]{3,})['"]"#).expect("valid regex");
    let mut out = vec![];
    for x in &t.list {
        match x {
            Target::Css(s) => out.extend(
                re.captures_iter(s)
                    .filter_map(|c| c.get(1).or(c.get(2)))
                    .map(|m| m.as_str().to_string()),
            ),
            Target::Text(s) | Target::Label(s) => out.push(s.clone()),
            Target::XPath(s) => out.extend(quoted.captures_iter(s).map(|c| c[1].to_string())),
            Target::Url(_) | Target::Navigation => {}
        }
    }
    out.dedup();
    out
}

impl Seen {
    /// The steadiest target for it: a unique id, a unique name, its label, its text.
    pub fn target(&self) -> Option<String> {
        if self.unique_id && !self.id.is_empty() {
            Some(format!("#{}", self.id))
        } else if self.unique_name {
            Some(format!("{}[name='{}']", self.tag, self.name))
        } else if !self.label.is_empty() {
            Some(format!("label:{}", self.label))
        } else if !self.text.is_empty() {
            Some(format!("text:{}", self.text))
        } else {
            None
        }
    }

    /// `<input id="x" name="y" type="text">, labelled "User name"`.
    pub fn describe(&self) -> String {
        let mut s = format!("<{}", self.tag);
        for (k, v) in [("id", &self.id), ("name", &self.name), ("type", &self.kind)] {
            if !v.is_empty() {
                s.push_str(&format!(" {k}=\"{v}\""));
            }
        }
        s.push('>');
        if !self.label.is_empty() {
            s.push_str(&format!(", labelled \"{}\"", self.label));
        }
        if !self.text.is_empty() {
            s.push_str(&format!(", reading \"{}\"", self.text));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_the_ids_names_and_texts_targets_name() {
        let t = Targets {
            loc: Default::default(),
            list: [
                "#txtUserName",
                "input[name='UserLogin.UserName']",
                "label:User name",
                "xpath://a[normalize-space(.)='Log out']",
            ]
            .iter()
            .map(|s| Target::parse(s).unwrap())
            .collect(),
        };
        assert_eq!(
            tokens(&t),
            ["txtUserName", "UserLogin.UserName", "User name", "Log out"]
        );
    }

    #[test]
    fn the_steadiest_target_is_proposed() {
        let mut s = Seen {
            tag: "input".into(),
            id: "txtLoginId".into(),
            name: "LoginId".into(),
            kind: String::new(),
            label: "Login ID".into(),
            text: String::new(),
            unique_id: true,
            unique_name: true,
            score: 0.7,
        };
        assert_eq!(s.target().as_deref(), Some("#txtLoginId"));
        assert_eq!(
            s.describe(),
            "<input id=\"txtLoginId\" name=\"LoginId\">, labelled \"Login ID\""
        );
        s.unique_id = false;
        assert_eq!(s.target().as_deref(), Some("input[name='LoginId']"));
        s.unique_name = false;
        assert_eq!(s.target().as_deref(), Some("label:Login ID"));
    }
}
