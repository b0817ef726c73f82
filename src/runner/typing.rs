//! Typing into a box: whole, or after a prefix the page keeps there, and
//! checking the box then holds it (an interrupt may swallow keys); the
//! username as the box held it, for the vault.

use super::error::{Drift, StepErr};
use super::page;
use super::Runner;
use crate::flow::{Screen, Step, Template};

impl Runner<'_> {
    /// Marks a box about to get a secret (screenshots mask it), and
    /// refuses it on a page of another origin than the portal's (or one
    /// the flow lists): a click that landed elsewhere is drift, named with
    /// its address, before a single key is typed.
    /// `seen`: the page's origin and address as the find that marked the
    /// box saw them (`None`: the box is marked now).
    pub(super) async fn secret_box(
        &mut self,
        screen: &Screen,
        st: &Step,
        mark: &str,
        seen: Option<(String, String)>,
    ) -> Result<(), StepErr> {
        let (mut origin, mut href) = seen.unwrap_or_default();
        // An alert that opens as the page answers leaves the answer empty:
        // sort it, ask again.
        for _ in 0..3 {
            if !origin.is_empty() {
                break;
            }
            self.on_alert_during_step(screen).await?;
            (origin, href) = page::mark_secret(self.s.c, mark).await?;
        }
        let own = origin_of(&self.spec.base_url);
        if origin == own || self.flow().origins.contains(&origin) {
            return Ok(());
        }
        let what = format!(
            "the page at {href} is on {origin}, not the portal's {own}: einvreg types secrets only on the portal's own origin (list another under [flow] origins if the portal really uses it)"
        );
        Err(Drift::at_step(&screen.label, &st.label, what).into())
    }

    /// Types, then checks the box holds what was typed: a dialog that
    /// opens mid-typing (an interrupt) can swallow keys without an error.
    /// Typed again, twice at most; a page that changes what is typed is
    /// left to show its own answer.
    pub(super) async fn type_checked(
        &mut self,
        mark: &str,
        value: &str,
        how: Typing<'_>,
    ) -> Result<(), StepErr> {
        // Only the first try may rely on the find having focused the box.
        let mut focused = matches!(how, Typing::Whole { focused: true, .. });
        for _ in 0..3 {
            let want = match how {
                Typing::Whole { fast, .. } => {
                    self.s.type_into(mark, value, fast, focused).await?;
                    value.to_string()
                }
                Typing::After(prefix) => {
                    page::select_after(self.s.c, mark, prefix.chars().count()).await?;
                    self.s.type_keys(value).await?;
                    format!("{prefix}{value}")
                }
            };
            focused = false;
            if page::value_is(self.s.c, mark, &want).await? {
                return Ok(());
            }
            self.interrupt_alert().await?;
        }
        tracing::debug!("the box does not hold what was typed; going on");
        Ok(())
    }

    /// Keeps the credentials' username as the box now holds it (prefix
    /// included), for the vault: exactly what the portal will be sent.
    pub(super) async fn note_typed_username(
        &mut self,
        value: &Template,
        prefix: &str,
        mark: &str,
    ) -> Result<(), StepErr> {
        let Some(c) = &self.flow().credentials else {
            return Ok(());
        };
        let vars: Vec<&str> = value.vars().collect();
        if vars != [c.username.as_str()] {
            return Ok(());
        }
        let (_, now) = page::tag_and_value(self.s.c, mark).await?;
        self.cred.typed_username = now.starts_with(prefix).then_some(now);
        Ok(())
    }
}

/// How a value goes into a box.
#[derive(Clone, Copy)]
pub(super) enum Typing<'a> {
    /// Replacing what it holds (`fast`: set at once, with input/change events).
    Whole {
        /// Set the value instead of typing keys.
        fast: bool,
        /// The find focused the box and selected what it holds.
        focused: bool,
    },
    /// After this prefix, which stays.
    After(&'a str),
}

/// `scheme://host[:port]` of an address, as `location.origin` writes it.
fn origin_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn origins_are_written_as_the_browser_writes_them() {
        assert_eq!(
            super::origin_of("https://einvoice1.gst.gov.in/Home/Login"),
            "https://einvoice1.gst.gov.in"
        );
        assert_eq!(
            super::origin_of("http://127.0.0.1:8080/x"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            super::origin_of("https://a.example:443/"),
            "https://a.example"
        );
    }
}
