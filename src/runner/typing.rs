//! Typing into a box: whole, or after a prefix the page keeps there, and
//! checking the box then holds it (an interrupt may swallow keys); the
//! username as the box held it, for the vault.

use super::error::StepErr;
use super::page;
use super::Runner;
use crate::flow::Template;

impl Runner<'_> {
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
        for _ in 0..3 {
            let want = match how {
                Typing::Whole { fast } => {
                    self.s.type_into(mark, value, fast).await?;
                    value.to_string()
                }
                Typing::After(prefix) => {
                    page::select_after(self.s.c, mark, prefix.chars().count()).await?;
                    self.s.tagged(mark).await?.send_keys(value).await?;
                    format!("{prefix}{value}")
                }
            };
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
        self.typed_username = now.starts_with(prefix).then_some(now);
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
    },
    /// After this prefix, which stays.
    After(&'a str),
}
