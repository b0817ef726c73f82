//! The batch's progress bar on stderr: a consumer of the batch's events.
//! While a person answers a prompt it steps aside (cleared, then not drawn)
//! and comes back after, so a prompt is never drawn over and no stale bar
//! is left above it.

use crate::events::Event;
use crate::operator::Queue;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Where the bar is drawn while it is shown.
type Target = Box<dyn Fn() -> ProgressDrawTarget + Send + Sync>;

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

pub(super) struct Display {
    /// The bar's owner: it can clear what it drew, which a bar alone cannot.
    bars: MultiProgress,
    pub(super) pb: ProgressBar,
    /// `None`: never drawn (stderr is not a terminal, or `-q`).
    target: Option<Target>,
    pub(super) queue: OnceLock<Arc<Queue>>,
    ok: AtomicUsize,
    bad: AtomicUsize,
    running: Mutex<HashSet<usize>>,
}

impl Display {
    /// A bar on stderr when it is a person's terminal and not `-q`.
    pub(super) fn new(rows: usize) -> Display {
        let shown = std::io::stderr().is_terminal() && !super::logging::quiet();
        let stderr: Target = Box::new(ProgressDrawTarget::stderr);
        Display::drawn_on(rows, shown.then_some(stderr))
    }

    fn drawn_on(rows: usize, target: Option<Target>) -> Display {
        let first = target
            .as_ref()
            .map_or_else(ProgressDrawTarget::hidden, |t| t());
        let bars = MultiProgress::with_draw_target(first);
        let pb = bars.add(ProgressBar::new(rows as u64));
        // No ETA until a row has finished: before that it can only say "0s".
        pb.set_style(style("{bar:30} {pos}/{len} {msg}"));
        Display {
            bars,
            pb,
            target,
            queue: OnceLock::new(),
            ok: AtomicUsize::new(0),
            bad: AtomicUsize::new(0),
            running: Mutex::new(HashSet::new()),
        }
    }

    fn refresh(&self) {
        let waiting = self.queue.get().map(|q| q.waiting()).unwrap_or(0);
        let running = self.running.lock().expect("display lock").len();
        self.pb.set_message(format!(
            "registered {} · failed {} · running {running} · waiting for you {waiting}",
            self.ok.load(Ordering::SeqCst),
            self.bad.load(Ordering::SeqCst),
        ));
    }

    /// A prompt opens: the bar's lines are cleared and it draws nothing more.
    fn step_aside(&self) {
        if self.target.is_none() {
            return;
        }
        if let Err(e) = self.bars.clear() {
            tracing::debug!("cannot clear the progress bar: {e}");
        }
        self.bars.set_draw_target(ProgressDrawTarget::hidden());
    }

    /// The prompt closed: the bar is drawn again, below it.
    fn come_back(&self) {
        if let Some(t) = &self.target {
            self.bars.set_draw_target(t());
        }
    }

    pub(super) fn on(&self, e: &Event) {
        match e {
            Event::RowStarted { line, .. } => {
                self.running.lock().expect("display lock").insert(*line);
            }
            Event::RowFinished {
                line,
                gstin,
                status,
                message,
            } => {
                self.running.lock().expect("display lock").remove(line);
                let n = if status.is_done() {
                    &self.ok
                } else {
                    &self.bad
                };
                n.fetch_add(1, Ordering::SeqCst);
                self.pb.inc(1);
                if self.pb.position() == 1 {
                    self.pb
                        .set_style(style("{bar:30} {pos}/{len} {msg} (ETA {eta})"));
                }
                let msg: String = match std::io::stderr().is_terminal() {
                    true => message.chars().take(90).collect(),
                    false => message.clone(),
                };
                let line = format!("  line {line:>3} {gstin} {status}: {msg}");
                self.pb.suspend(|| errln!("{line}"));
            }
            Event::PromptOpened { .. } => self.step_aside(),
            Event::PromptClosed { .. } => self.come_back(),
            Event::Note(msg) => self.pb.suspend(|| errln!("{msg}")),
            Event::Repaired { screen, step, what } => {
                let at = step
                    .as_ref()
                    .map_or(screen.clone(), |s| format!("{screen} › {s}"));
                self.pb
                    .suspend(|| errln!("  ✎ {at}: {what} (repaired; later rows use it)"))
            }
            _ => return,
        }
        self.refresh();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::TermLike;
    use std::time::Duration;

    /// A terminal that records what is drawn on it.
    #[derive(Clone, Debug, Default)]
    struct Screen(Arc<Mutex<Vec<String>>>);

    impl Screen {
        fn log(&self, s: String) -> std::io::Result<()> {
            self.0.lock().unwrap().push(s);
            Ok(())
        }
        fn drawn(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            160
        }
        fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
            self.log(format!("up {n}"))
        }
        fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
            self.log(format!("down {n}"))
        }
        fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
            self.log(format!("right {n}"))
        }
        fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
            self.log(format!("left {n}"))
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.log(format!("line {s}"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.log(format!("str {s}"))
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.log("clear".into())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn finished(line: usize) -> Event {
        Event::RowFinished {
            line,
            gstin: "27AAPFU0939F1ZV".into(),
            status: crate::events::RunStatus::Registered.into(),
            message: "created".into(),
        }
    }

    #[test]
    fn the_bar_is_cleared_for_a_prompt_and_drawn_again_after_it() {
        let screen = Screen::default();
        let s = screen.clone();
        let target: Target =
            Box::new(move || ProgressDrawTarget::term_like_with_hz(Box::new(s.clone()), 100));
        let d = Display::drawn_on(3, Some(target));
        d.on(&Event::RowStarted {
            line: 2,
            gstin: "27AAPFU0939F1ZV".into(),
        });
        d.pb.tick();
        let shown = |drawn: &[String], text: &str| drawn.iter().any(|l| l.contains(text));
        assert!(shown(&screen.drawn(), "0/3"), "{:?}", screen.drawn());
        d.on(&Event::PromptOpened {
            what: "captcha",
            gstin: "27AAPFU0939F1ZV".into(),
            step: "Login captcha".into(),
        });
        let at_prompt = screen.drawn();
        // The bar's line is cleared after it was last drawn.
        let last_draw = at_prompt
            .iter()
            .rposition(|l| l.starts_with("str ░"))
            .unwrap();
        let cleared = at_prompt[last_draw..].iter().any(|l| l == "clear");
        assert!(cleared, "{at_prompt:?}");
        // Rows go on while the person types: nothing is drawn over the prompt.
        d.on(&finished(2));
        // Past the 100 Hz limiter's interval: a shown bar would draw on this tick.
        std::thread::sleep(Duration::from_millis(20));
        d.pb.tick();
        assert_eq!(screen.drawn(), at_prompt, "drawn while a prompt was open");
        d.on(&Event::PromptClosed {
            what: "captcha",
            waited: Duration::from_secs(3),
        });
        d.pb.tick();
        let after = screen.drawn();
        assert!(shown(&after[at_prompt.len()..], "1/3"), "{after:?}");
    }

    #[test]
    fn a_bar_not_shown_stays_hidden_after_a_prompt() {
        let d = Display::drawn_on(2, None);
        d.on(&Event::PromptClosed {
            what: "OTP",
            waited: Duration::from_secs(1),
        });
        assert!(d.bars.is_hidden());
    }
}
