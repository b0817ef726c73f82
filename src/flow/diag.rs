//! Diagnostics that name file:line:column and say how to fix the problem.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Loc {
    /// 1-based; 0 means "the whole file".
    pub line: usize,
    pub col: usize,
}

impl Loc {
    pub fn of(src: &str, byte: usize) -> Loc {
        let byte = byte.min(src.len());
        let before = &src[..byte];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        Loc {
            line,
            col: src[line_start..byte].chars().count() + 1,
        }
    }
}

/// Where each line of a text starts, so a byte offset becomes a line and
/// column in O(log n): a flow's every element has a location, and
/// scanning from the start for each one made checking quadratic.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(src: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// The location of `byte` in `src` (the text this index was made of).
    pub fn loc(&self, src: &str, byte: usize) -> Loc {
        let byte = byte.min(src.len());
        let line = self.starts.partition_point(|s| *s <= byte);
        let start = self.starts[line - 1];
        Loc {
            line,
            col: src.get(start..byte).map_or(1, |t| t.chars().count() + 1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    pub loc: Loc,
    pub message: String,
    pub help: String,
}

impl Diagnostic {
    pub fn error(
        file: &Path,
        loc: Loc,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_path_buf(),
            loc,
            message: message.into(),
            help: help.into(),
        }
    }
    pub fn warning(
        file: &Path,
        loc: Loc,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(file, loc, message, help)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {sev}: {}",
            self.file.display(),
            self.loc.line,
            self.loc.col,
            self.message
        )?;
        if !self.help.is_empty() {
            write!(f, "\n  help: {}", self.help)?;
        }
        Ok(())
    }
}

/// The last line of a regex error, without its "error: " prefix.
pub fn regex_error(e: &regex::Error) -> String {
    let s = e.to_string();
    let last = s.lines().last().unwrap_or("").trim();
    last.strip_prefix("error: ").unwrap_or(last).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn loc_counts_lines_and_chars() {
        let s = "a = 1\nbé = 2\n";
        assert_eq!(Loc::of(s, 0), Loc { line: 1, col: 1 });
        assert_eq!(Loc::of(s, 6), Loc { line: 2, col: 1 });
        assert_eq!(Loc::of(s, 10), Loc { line: 2, col: 4 });
        let idx = LineIndex::new(s);
        for b in (0..=s.len()).filter(|b| s.is_char_boundary(*b)) {
            assert_eq!(idx.loc(s, b), Loc::of(s, b), "byte {b}");
        }
    }
}
