//! Printing that never stops the work. `println!` panics when stdout is a
//! closed pipe (`einvreg batch … | head -0`), which would leave rows
//! unrecorded and reports unwritten; these macros note the closed stream
//! once (in the log) and drop what it can no longer take.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// Which stream.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    /// Standard output.
    Out,
    /// Standard error.
    Err,
}

/// Writes `args` to `stream`; a failed write marks the stream gone.
pub fn write(stream: Stream, args: std::fmt::Arguments) {
    let gone = match stream {
        Stream::Out => &STDOUT_GONE,
        Stream::Err => &STDERR_GONE,
    };
    if gone.load(Ordering::Relaxed) {
        return;
    }
    let text = args.to_string();
    let shown = visible(&text);
    let r = match stream {
        Stream::Out => std::io::stdout().lock().write_all(shown.as_bytes()),
        Stream::Err => std::io::stderr().lock().write_all(shown.as_bytes()),
    };
    if let Err(e) = r {
        if !gone.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "{stream:?}: {e}; the work goes on, its results are in the reports and journal"
            );
        }
    }
}

/// `s` with every control character but newline and tab shown escaped
/// (`\x1b`), and the bidi overrides too: a CSV cell or an argument must
/// not retitle, clear or rewrite the terminal it is echoed to.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.contains(hidden) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !hidden(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
        }
    }
    out.into()
}

/// `print!` that never panics.
macro_rules! out {
    ($($t:tt)*) => { $crate::output::write($crate::output::Stream::Out, format_args!($($t)*)) };
}

/// `println!` that never panics.
macro_rules! outln {
    () => { $crate::output::write($crate::output::Stream::Out, format_args!("\n")) };
    ($($t:tt)*) => { $crate::output::write($crate::output::Stream::Out, format_args!("{}\n", format_args!($($t)*))) };
}

/// `eprint!` that never panics.
macro_rules! errout {
    ($($t:tt)*) => { $crate::output::write($crate::output::Stream::Err, format_args!($($t)*)) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    () => { $crate::output::write($crate::output::Stream::Err, format_args!("\n")) };
    ($($t:tt)*) => { $crate::output::write($crate::output::Stream::Err, format_args!("{}\n", format_args!($($t)*))) };
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_and_bidi_overrides_are_shown_escaped() {
        let s = "a\x1b]0;owned\x07b\x1b[2J\r\u{202e}cba\n\tok";
        assert_eq!(
            super::visible(s),
            "a\\x1b]0;owned\\x07b\\x1b[2J\\x0d\\u{202e}cba\n\tok"
        );
        assert!(matches!(
            super::visible("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
