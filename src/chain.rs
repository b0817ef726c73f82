//! One printer for an error and its causes: "what failed: why: why",
//! each error's own message once. Error messages therefore never repeat
//! their `#[source]`; the chain adds it.

use std::error::Error;
use std::fmt;

/// Shows an error followed by each of its sources, `: `-separated.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut last = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(c) = cause {
            let text = c.to_string();
            // A transparent wrapper shows its inner error's message; say it once.
            if !text.is_empty() && !last.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            cause = c.source();
        }
        Ok(())
    }
}

/// `e` and its causes as one string.
pub fn chain(e: &(dyn Error + 'static)) -> String {
    Chain(e).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    enum Middle {
        #[error(transparent)]
        Inner(#[from] std::io::Error),
    }

    #[test]
    fn each_cause_once_in_order() {
        let e = Outer(Middle::Inner(std::io::Error::other("disk full")));
        assert_eq!(chain(&e), "outer: disk full");
    }

    #[test]
    fn a_lone_error_is_its_message() {
        let e = std::io::Error::other("x");
        assert_eq!(chain(&e), "x");
    }
}
