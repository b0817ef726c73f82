//! Dropdown widgets: a box that opens a list of items, maybe with a search
//! field, standing for a hidden `<select>` (select2, chosen, a portal's
//! own) or for none. The page script finds and tags; the walk clicks and
//! types as a person would.

use super::COMMON_JS;
use fantoccini::{error::CmdError, Client};
use serde_json::json;
use std::time::Duration;

const WIDGET_JS: &str = include_str!("widget.js");

/// What stands for a dropdown a step found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropdown {
    /// A `<select>` shown as one: picked as always.
    Native,
    /// A widget, now tagged with the mark asked for.
    Widget,
    /// The element left the page.
    Gone,
}

/// The list a widget opened, as the page shows it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Opened {
    /// An item reads what was wanted (tagged).
    pub hit: bool,
    /// A search field has the focus (tagged).
    pub search: bool,
    /// What the items read.
    pub texts: Vec<String>,
}

/// The marks a look at the opened list tags its finds with.
pub struct Marks<'a> {
    pub item: &'a str,
    pub search: &'a str,
}

async fn run(c: &Client, args: Vec<serde_json::Value>) -> Result<serde_json::Value, CmdError> {
    c.execute_async(&format!("{COMMON_JS}\n{WIDGET_JS}"), args)
        .await
}

/// What to click to open the dropdown tagged `mark`; tags it `tag`.
pub async fn stand(c: &Client, mark: &str, tag: &str) -> Result<Dropdown, CmdError> {
    let v = run(
        c,
        vec![
            json!("stand"),
            json!(mark),
            json!(tag),
            json!(""),
            json!(0),
            json!(false),
        ],
    )
    .await?;
    Ok(match v.as_str() {
        Some("native") => Dropdown::Native,
        Some("widget") => Dropdown::Widget,
        _ => Dropdown::Gone,
    })
}

/// Waits up to `within` for the opened list to show items (`exact`: an
/// item reading `want`, whitespace aside), tagging the item reading `want`
/// and a focused search field.
pub async fn opened(
    c: &Client,
    want: &str,
    marks: &Marks<'_>,
    (within, exact): (Duration, bool),
) -> Result<Opened, CmdError> {
    let tags = json!({ "item": marks.item, "search": marks.search });
    let want = want.split_whitespace().collect::<Vec<_>>().join(" ");
    let ms = within.as_millis() as u64;
    let args = vec![
        json!("items"),
        json!(""),
        tags,
        json!(want),
        json!(ms),
        json!(exact),
    ];
    let v = run(c, args).await?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// The text the widget tagged `mark` shows.
pub async fn shows(c: &Client, mark: &str) -> Result<Option<String>, CmdError> {
    let v = run(
        c,
        vec![
            json!("shows"),
            json!(mark),
            json!(""),
            json!(""),
            json!(0),
            json!(false),
        ],
    )
    .await?;
    Ok(v.as_str().map(String::from))
}
