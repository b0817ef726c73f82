//! The answer to a repair question, as a person types it or a
//! `--repair-command` prints it: a candidate's number, a target, `skip`,
//! `accept`, `dismiss` or `stop`.

use crate::flow::Target;

/// What the person chose.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The candidate with this number (1 is the first).
    Candidate(usize),
    /// A target of their own: `#id`, `text:…`, `label:…`, CSS, `xpath:…`.
    Target(Target),
    /// Leave the step out (optional steps only).
    Skip,
    /// Say yes to the dialog.
    Accept,
    /// Say no to the dialog.
    Dismiss,
    /// Stop the run as drift.
    Stop,
}

/// Why an answer was not understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    #[error("the answer is empty: give a number, a target, skip, accept, dismiss or stop")]
    Empty,
    #[error("`{0}` is not a target: {1}")]
    BadTarget(String, String),
    #[error("there is no candidate {0}")]
    NoCandidate(usize),
}

/// Reads one answer; `candidates` is how many were offered.
pub fn parse(line: &str, candidates: usize) -> Result<Answer, AnswerError> {
    let s = line.trim();
    if s.is_empty() {
        return Err(AnswerError::Empty);
    }
    if let Ok(n) = s.parse::<usize>() {
        return match n >= 1 && n <= candidates {
            true => Ok(Answer::Candidate(n)),
            false => Err(AnswerError::NoCandidate(n)),
        };
    }
    Ok(match s.to_ascii_lowercase().as_str() {
        "skip" => Answer::Skip,
        "accept" | "ok" | "yes" => Answer::Accept,
        "dismiss" | "cancel" | "no" => Answer::Dismiss,
        "stop" | "q" | "quit" => Answer::Stop,
        _ => Answer::Target(
            Target::parse(s).map_err(|e| AnswerError::BadTarget(s.into(), e.to_string()))?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_words_and_targets_are_told_apart() {
        assert_eq!(parse(" 2\n", 3), Ok(Answer::Candidate(2)));
        assert_eq!(parse("4", 3), Err(AnswerError::NoCandidate(4)));
        assert_eq!(parse("0", 3), Err(AnswerError::NoCandidate(0)));
        assert_eq!(parse("SKIP", 3), Ok(Answer::Skip));
        assert_eq!(parse("accept", 0), Ok(Answer::Accept));
        assert_eq!(parse("dismiss", 0), Ok(Answer::Dismiss));
        assert_eq!(parse("stop", 0), Ok(Answer::Stop));
        assert_eq!(parse("", 1), Err(AnswerError::Empty));
        assert_eq!(
            parse("#btnSave", 1),
            Ok(Answer::Target(Target::Css("#btnSave".into())))
        );
        assert_eq!(
            parse("text:Save and Submit", 1),
            Ok(Answer::Target(Target::Text("Save and Submit".into())))
        );
        assert!(matches!(
            parse("xpath:", 1),
            Err(AnswerError::BadTarget(..))
        ));
    }
}
