//! Element targets: the strings a flow uses to find things on a page.
//!
//! - `#id`, `input[name=x]`: CSS (the default)
//! - `css:...`: CSS, explicitly
//! - `xpath://button[.='Login']`: XPath
//! - `text:Verify OTP`: a button, link, submit input or label whose visible
//!   text (or value) is exactly this, ignoring surrounding space; a label
//!   (or the words right after a radio or checkbox) stands for its control
//! - `label:User name`: the input, dropdown or text area a person would say
//!   is called this: its `<label>`, `aria-label`, placeholder or the table
//!   cell before it, ignoring case, spaces and a trailing `:` or `*`; exact
//!   names first, then names that contain the text
//! - `url:/Home/MainMenu` and `navigation`: only in `wait_for`

/// Why a target string is not a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(pub String);

/// One way to find an element (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Css(String),
    XPath(String),
    Text(String),
    Label(String),
    Url(String),
    Navigation,
}

impl Target {
    /// Parses one target as a flow file writes it.
    pub fn parse(s: &str) -> Result<Target, TargetError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(TargetError(
                "empty target: write a CSS selector such as `#txtUserName`".into(),
            ));
        }
        let t = if let Some(r) = s.strip_prefix("css:") {
            Target::Css(r.trim().to_string())
        } else if let Some(r) = s.strip_prefix("xpath:") {
            Target::XPath(r.trim().to_string())
        } else if let Some(r) = s.strip_prefix("text:") {
            Target::Text(r.trim().to_string())
        } else if let Some(r) = s.strip_prefix("label:") {
            Target::Label(r.trim().to_string())
        } else if let Some(r) = s.strip_prefix("url:") {
            Target::Url(r.trim().to_string())
        } else if s == "navigation" {
            Target::Navigation
        } else {
            Target::Css(s.to_string())
        };
        match &t {
            Target::Css(c) if c.is_empty() => {
                Err(TargetError("empty CSS selector after `css:`".into()))
            }
            Target::Css(c) if !brackets_balance(c) => Err(TargetError(format!(
                "CSS selector `{c}` has unbalanced brackets or quotes"
            ))),
            Target::XPath(x) if x.is_empty() => {
                Err(TargetError("empty XPath after `xpath:`".into()))
            }
            Target::XPath(x) if !brackets_balance(x) => Err(TargetError(format!(
                "XPath `{x}` has unbalanced brackets or quotes"
            ))),
            Target::Text(x) if x.is_empty() => Err(TargetError("empty text after `text:`".into())),
            Target::Label(x) if x.is_empty() => {
                Err(TargetError("empty label after `label:`".into()))
            }
            _ => Ok(t),
        }
    }

    /// How the page scripts look it up: ("css", selector), ("xpath",
    /// expression), ("text", words) or ("label", words); `None` for the
    /// targets only `wait_for` understands.
    pub fn locator(&self) -> Option<(&'static str, String)> {
        match self {
            Target::Css(c) => Some(("css", c.clone())),
            Target::XPath(x) => Some(("xpath", x.clone())),
            Target::Text(t) => Some(("text", t.clone())),
            Target::Label(t) => Some(("label", t.clone())),
            Target::Url(_) | Target::Navigation => None,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Css(c) => write!(f, "{c}"),
            Target::XPath(x) => write!(f, "xpath:{x}"),
            Target::Text(t) => write!(f, "text:{t}"),
            Target::Label(t) => write!(f, "label:{t}"),
            Target::Url(u) => write!(f, "url:{u}"),
            Target::Navigation => write!(f, "navigation"),
        }
    }
}

fn brackets_balance(s: &str) -> bool {
    let mut stack = Vec::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '(' => stack.push(c),
            ']' if stack.pop() != Some('[') => return false,
            ')' if stack.pop() != Some('(') => return false,
            _ => {}
        }
    }
    stack.is_empty() && quote.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_prefixes() {
        assert_eq!(Target::parse("#a").unwrap(), Target::Css("#a".into()));
        assert_eq!(
            Target::parse("xpath://a").unwrap(),
            Target::XPath("//a".into())
        );
        assert_eq!(
            Target::parse("text: Login ").unwrap(),
            Target::Text("Login".into())
        );
        assert_eq!(
            Target::parse("url:/Home").unwrap(),
            Target::Url("/Home".into())
        );
        assert_eq!(
            Target::parse("label: User name: ").unwrap(),
            Target::Label("User name:".into())
        );
        assert!(Target::parse("label:").is_err());
        assert!(Target::parse("input[name=x").is_err());
        assert!(Target::parse("").is_err());
    }
}
