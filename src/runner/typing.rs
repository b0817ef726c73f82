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
            (origin, href) = page::mark_secret(self.s.scripts(), mark).await?;
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
    /// With `later`, the check rides on the next step's find (one round
    /// trip fewer); else, or inside a frame, it is made now.
    pub(super) async fn type_checked(
        &mut self,
        mark: &str,
        value: &str,
        how: Typing<'_>,
        later: bool,
    ) -> Result<(), StepErr> {
        self.settle_typed().await?;
        let want = self.type_once(mark, value, how).await?;
        let typed = Typed {
            mark: mark.to_string(),
            value: value.to_string(),
            want,
            how: how.into(),
        };
        match later && !self.s.in_frame() {
            true => self.at.typed = Some(typed),
            false => self.retype_until_held(&typed, 2).await?,
        }
        Ok(())
    }

    /// Types once; returns what the box should hold then.
    async fn type_once(
        &mut self,
        mark: &str,
        value: &str,
        how: Typing<'_>,
    ) -> Result<String, StepErr> {
        match how {
            Typing::Whole { fast, focused } => {
                self.s.type_into(mark, value, fast, focused).await?;
                Ok(value.to_string())
            }
            Typing::After(prefix) => {
                page::select_after(self.s.scripts(), mark, prefix.chars().count()).await?;
                self.s.type_keys(value).await?;
                Ok(format!("{prefix}{value}"))
            }
        }
    }

    /// Checks the box, typing again up to `again` times while it does
    /// not hold what was typed; a page that changes what is typed is left
    /// to show its own answer.
    async fn retype_until_held(&mut self, t: &Typed, again: u32) -> Result<(), StepErr> {
        for _ in 0..again {
            if page::value_is(self.s.scripts(), &t.mark, &t.want).await? {
                return Ok(());
            }
            self.typed_wrong(t).await?;
        }
        if !page::value_is(self.s.scripts(), &t.mark, &t.want).await? {
            tracing::debug!("the box does not hold what was typed; going on");
        }
        Ok(())
    }

    /// The box did not hold what was typed: an alert that took the keys
    /// is closed, and the value typed again (the find no longer focused it).
    async fn typed_wrong(&mut self, t: &Typed) -> Result<(), StepErr> {
        self.interrupt_alert().await?;
        let how = match &t.how {
            Retype::Whole { fast } => Typing::Whole {
                fast: *fast,
                focused: false,
            },
            Retype::After(p) => Typing::After(p),
        };
        self.type_once(&t.mark, &t.value, how).await.map(drop)
    }

    /// A check left for the next find, made now: what comes next is no find.
    /// Kept when the check fails (an alert opened under it): the step is
    /// done again once the alert is sorted, and makes the check then.
    pub(super) async fn settle_typed(&mut self) -> Result<(), StepErr> {
        let Some(t) = self.at.typed.take() else {
            return Ok(());
        };
        let r = self.retype_until_held(&t, 2).await;
        self.keep_unless_done(t, r)
    }

    /// Puts a check back when making it failed; a check made is gone.
    fn keep_unless_done(&mut self, t: Typed, r: Result<(), StepErr>) -> Result<(), StepErr> {
        if r.is_err() {
            self.at.typed = Some(t);
        }
        r
    }

    /// What a find said of the box typed into before (`None`: the box is
    /// not on this page any more, which a later step will show). `true`
    /// when it was typed again, so the find must look again (focus moved).
    pub(super) async fn typed_seen(&mut self, held: Option<bool>) -> Result<bool, StepErr> {
        let Some(t) = self.at.typed.take() else {
            return Ok(false);
        };
        match held {
            Some(true) => Ok(false),
            None => {
                tracing::debug!("the box typed into is gone from the page; not checked");
                Ok(false)
            }
            Some(false) => {
                let r = match self.typed_wrong(&t).await {
                    Ok(()) => self.retype_until_held(&t, 1).await,
                    Err(e) => Err(e),
                };
                self.keep_unless_done(t, r).map(|()| true)
            }
        }
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
        let (_, now) = page::tag_and_value(self.s.scripts(), mark).await?;
        self.cred.typed_username = now.starts_with(prefix).then_some(now);
        Ok(())
    }
}

/// A box typed into, its check left for the next find. No Debug: the
/// value may be a secret.
pub(super) struct Typed {
    mark: String,
    value: String,
    want: String,
    how: Retype,
}

impl Typed {
    /// What the next find is asked to check.
    pub(super) fn check(&self) -> page::TypedCheck {
        page::TypedCheck {
            mark: self.mark.clone(),
            want: self.want.clone(),
        }
    }
}

/// How a value goes into a box again (the find's focus no longer holds).
enum Retype {
    Whole { fast: bool },
    After(String),
}

impl From<Typing<'_>> for Retype {
    fn from(how: Typing<'_>) -> Retype {
        match how {
            Typing::Whole { fast, .. } => Retype::Whole { fast },
            Typing::After(p) => Retype::After(p.to_string()),
        }
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
