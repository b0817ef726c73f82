//! The terminal operator: prompts on stderr naming the GSTIN, portal and
//! screen; shows the captcha inline where the terminal can (kitty, iTerm2,
//! sixel; coloured half-blocks otherwise) and always prints the PNG's path;
//! reads OTPs without echo. Where the step can get a new captcha image or
//! OTP, an empty answer or `r` asks for one.

use super::{Ask, BoxFut, By, Operator, OperatorError, Question, Reply};
use crate::redact::Secret;
use base64::Engine;
use std::io::Write;
use std::time::Duration;

pub struct Terminal {
    pub timeout: Duration,
    pub images: ImageMode,
    /// The terminal's width in columns now (asked per prompt: a window
    /// may be resized during a batch); what an inline captcha must fit.
    pub columns: Columns,
    /// A read still waiting for a line when its prompt was withdrawn
    /// (answered on the desk) or timed out: the next prompt takes it over,
    /// so two reads never split the person's lines between them.
    pending: std::sync::Mutex<Option<Read>>,
}

type Read = tokio::task::JoinHandle<std::io::Result<String>>;

/// How wide the terminal is (the CLI asks the terminal itself).
pub type Columns = Box<dyn Fn() -> Option<usize> + Send + Sync>;

/// Where the width is unknown: the classic terminal's.
const DEFAULT_COLUMNS: usize = 80;

impl Terminal {
    pub fn new(timeout: Duration, images: ImageMode, columns: Columns) -> Terminal {
        Terminal {
            timeout,
            images,
            columns,
            pending: std::sync::Mutex::new(None),
        }
    }
}

/// Holds the read while a prompt waits; a prompt that goes away (answered
/// elsewhere, or timed out) leaves the read for the next one.
struct Reading<'a> {
    slot: &'a std::sync::Mutex<Option<Read>>,
    read: Option<Read>,
}

impl Reading<'_> {
    /// Leaves the read for the next prompt, saying why.
    fn leave(&mut self, why: &str) {
        if let Some(r) = self.read.take() {
            errln!("\n   ({why}; the next prompt takes your next line)");
            *self.slot.lock().expect("terminal lock") = Some(r);
        }
    }
}

impl Drop for Reading<'_> {
    /// The prompt went away unanswered here: another answer source won it,
    /// or the run was stopped (Ctrl-C); which one, this side cannot tell.
    fn drop(&mut self) {
        self.leave("prompt withdrawn: answered elsewhere, or the run stopped");
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageMode {
    Kitty,
    Iterm,
    Sixel,
    HalfBlocks,
    Off,
}

impl ImageMode {
    /// From `EINVREG_IMAGES` (kitty, iterm, sixel, blocks, off) or the
    /// terminal's own variables; `env` looks a variable up (the CLI passes
    /// the process environment).
    pub fn detect(env: impl Fn(&str) -> Option<String>) -> ImageMode {
        match env("EINVREG_IMAGES").as_deref() {
            Some("kitty") => return ImageMode::Kitty,
            Some("iterm") => return ImageMode::Iterm,
            Some("sixel") => return ImageMode::Sixel,
            Some("blocks") => return ImageMode::HalfBlocks,
            Some("off") => return ImageMode::Off,
            _ => {}
        }
        let term = env("TERM").unwrap_or_default();
        let prog = env("TERM_PROGRAM").unwrap_or_default();
        if env("KITTY_WINDOW_ID").is_some() || term.contains("kitty") || prog == "ghostty" {
            ImageMode::Kitty
        } else if prog == "iTerm.app" || prog == "WezTerm" {
            ImageMode::Iterm
        } else if term.contains("sixel") || term == "mlterm" || term.starts_with("foot") {
            ImageMode::Sixel
        } else if term == "dumb" || term.is_empty() {
            ImageMode::Off
        } else if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            // Half-blocks are colour escapes; the image is still saved.
            ImageMode::Off
        } else {
            ImageMode::HalfBlocks
        }
    }
}

fn decode_rgb(png_bytes: &[u8]) -> Option<(usize, usize, Vec<[u8; 3]>)> {
    let dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut r = dec.read_info().ok()?;
    let mut buf = vec![0; r.output_buffer_size()?];
    let info = r.next_frame(&mut buf).ok()?;
    let ch = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        _ => return None,
    };
    if info.bit_depth != png::BitDepth::Eight {
        return None;
    }
    let px = buf[..info.buffer_size()]
        .chunks(ch)
        .map(|p| {
            if ch >= 3 {
                [p[0], p[1], p[2]]
            } else {
                [p[0], p[0], p[0]]
            }
        })
        .collect();
    Some((info.width as usize, info.height as usize, px))
}

/// Escape sequences that draw the PNG inline, or None when not possible.
/// Half-blocks (one character a column) are scaled down to fit `columns`;
/// the image protocols size by pixels, which a captcha fits at any width.
pub fn render_inline(png_bytes: &[u8], mode: ImageMode, columns: usize) -> Option<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(png_bytes);
    match mode {
        ImageMode::Off => None,
        ImageMode::Kitty => {
            let chunks: Vec<&str> = b64
                .as_bytes()
                .chunks(4096)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            let mut s = String::new();
            for (i, c) in chunks.iter().enumerate() {
                let more = u8::from(i + 1 < chunks.len());
                if i == 0 {
                    s.push_str(&format!("\x1b_Gf=100,a=T,m={more};{c}\x1b\\"));
                } else {
                    s.push_str(&format!("\x1b_Gm={more};{c}\x1b\\"));
                }
            }
            Some(s + "\n")
        }
        ImageMode::Iterm => Some(format!(
            "\x1b]1337;File=inline=1;size={};preserveAspectRatio=1:{b64}\x07\n",
            png_bytes.len()
        )),
        ImageMode::Sixel => {
            let (w, h, px) = decode_rgb(png_bytes)?;
            // Two colours are enough for a captcha: ink and paper.
            let mut s = format!("\x1bPq\"1;1;{w};{h}#0;2;100;100;100#1;2;0;0;0");
            for band in (0..h).step_by(6) {
                for color in 0..2u8 {
                    s.push_str(&format!("#{color}"));
                    for x in 0..w {
                        let mut bits = 0u8;
                        for dy in 0..6 {
                            let y = band + dy;
                            if y < h {
                                let p = px[y * w + x];
                                let dark = (p[0] as u32 + p[1] as u32 + p[2] as u32) < 300;
                                if dark == (color == 1) {
                                    bits |= 1 << dy;
                                }
                            }
                        }
                        s.push((63 + bits) as char);
                    }
                    s.push('$');
                }
                s.push('-');
            }
            Some(s + "\x1b\\\n")
        }
        ImageMode::HalfBlocks => {
            let (w, h, px) = decode_rgb(png_bytes)?;
            // A column to spare: a character in the last one wraps on some terminals.
            let fit = columns.saturating_sub(1).clamp(20, 90);
            let step = w.div_ceil(fit).max(1);
            let mut s = String::new();
            let mut y = 0;
            while y < h {
                for x in (0..w).step_by(step) {
                    let top = px[y * w + x];
                    let bot = if y + step < h {
                        px[(y + step) * w + x]
                    } else {
                        top
                    };
                    s.push_str(&format!(
                        "\x1b[38;2;{};{};{}m\x1b[48;2;{};{};{}m\u{2580}",
                        top[0], top[1], top[2], bot[0], bot[1], bot[2]
                    ));
                }
                s.push_str("\x1b[0m\n");
                y += step * 2;
            }
            Some(s)
        }
    }
}

/// What a repair question shows, indented under its heading.
fn repair_head(r: &super::RepairAsk) -> String {
    r.text().lines().map(|l| format!("   {l}\n")).collect()
}

/// The answers a repair question takes.
fn repair_label(r: &super::RepairAsk) -> String {
    format!("   Answer ({}): ", r.answers())
}

/// Whether a typed line asks for a new image or OTP.
fn asks_renewal(line: &str) -> bool {
    matches!(line.trim(), "" | "r" | "R")
}

/// Reads an OTP without echo; a mistyped one (not 6 digits) is asked
/// again, twice at most, before the portal ever sees it.
fn read_otp(label: &str, can_renew: bool) -> std::io::Result<String> {
    let mut answer = rpassword::prompt_password(label)?;
    for _ in 0..2 {
        match crate::rules::validate_otp(answer.trim()) {
            Ok(()) => break,
            Err(_) if can_renew && asks_renewal(&answer) => break,
            Err(e) if !answer.trim().is_empty() => {
                errln!("   {e}; type it again");
                answer = rpassword::prompt_password(label)?;
            }
            Err(_) => break,
        }
    }
    Ok(answer)
}

impl Operator for Terminal {
    fn answer<'a>(&'a self, q: &'a Question) -> BoxFut<'a, Result<Reply, OperatorError>> {
        Box::pin(async move {
            let again = if q.attempt > 1 {
                format!(" (try {})", q.attempt)
            } else {
                String::new()
            };
            let mut head = format!(
                "\n── {} needed{again} ── GSTIN {} · {} portal · {} › {}\n",
                q.what(),
                q.gstin,
                q.portal,
                q.screen,
                q.step
            );
            if !q.prompt.is_empty() {
                head.push_str(&format!("   {}\n", q.prompt));
            }
            if let Ask::Captcha { png, path } = &q.ask {
                head.push_str(&format!("   image: {}\n", path.display()));
                let columns = (self.columns)().unwrap_or(DEFAULT_COLUMNS);
                if let Some(img) = render_inline(png, self.images, columns) {
                    head.push_str(&img);
                }
            }
            if let Ask::Repair(r) = &q.ask {
                head.push_str(&repair_head(r));
            }
            {
                let mut err = std::io::stderr().lock();
                // A closed stderr cannot show the prompt; the read below still decides.
                if let Err(e) = err.write_all(head.as_bytes()) {
                    tracing::debug!("cannot show the prompt: {e}");
                }
            }
            let is_otp = matches!(q.ask, Ask::Otp { .. });
            let can_renew = q.can_renew;
            let renew = match can_renew {
                true => format!("; Enter or r for {}", q.renewal()),
                false => String::new(),
            };
            let label = if let Ask::Repair(r) = &q.ask {
                repair_label(r)
            } else if is_otp {
                format!("   OTP (6 digits, not shown{renew}): ")
            } else {
                format!("   Type the characters in the image{renew}: ")
            };
            let stale = self.pending.lock().expect("terminal lock").take();
            if stale.is_some() {
                errout!("{label}");
            }
            let read = stale.unwrap_or_else(|| {
                tokio::task::spawn_blocking(move || -> std::io::Result<String> {
                    if is_otp {
                        read_otp(&label, can_renew)
                    } else {
                        errout!("{label}");
                        std::io::stderr().flush()?;
                        let mut s = String::new();
                        if std::io::stdin().read_line(&mut s)? == 0 {
                            return Err(std::io::Error::new(
                                std::io::ErrorKind::UnexpectedEof,
                                "the terminal closed (end of input)",
                            ));
                        }
                        Ok(s)
                    }
                })
            });
            let mut reading = Reading {
                slot: &self.pending,
                read: Some(read),
            };
            let read = reading.read.as_mut().expect("a read");
            let got = tokio::time::timeout(self.timeout, read).await;
            if got.is_ok() {
                reading.read = None;
            }
            match got {
                Ok(Ok(Ok(s))) if can_renew && asks_renewal(&s) => Ok(Reply::Renew),
                Ok(Ok(Ok(s))) if !s.trim().is_empty() => Ok(Reply::Answer(
                    Secret::new(s.trim().to_string()),
                    By::Terminal,
                )),
                Ok(Ok(Ok(_))) => Err(OperatorError::Failed(format!("empty {} answer", q.what()))),
                Ok(Ok(Err(e))) => Err(OperatorError::NoHuman(format!(
                    "cannot read the {} answer from the terminal: {e}",
                    q.what()
                ))),
                Ok(Err(e)) => Err(OperatorError::Failed(e.to_string())),
                Err(_) => {
                    reading.leave("timed out");
                    Err(OperatorError::Timeout {
                        what: q.what(),
                        secs: self.timeout.as_secs(),
                    })
                }
            }
        })
    }
    fn describe(&self) -> String {
        "terminal".into()
    }
    fn asks_a_person(&self, _q: &Question) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_color_turns_half_blocks_off_but_not_image_protocols() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            ImageMode::detect(env(&[("TERM", "xterm-256color")])),
            ImageMode::HalfBlocks
        );
        assert_eq!(
            ImageMode::detect(env(&[("TERM", "xterm-256color"), ("NO_COLOR", "1")])),
            ImageMode::Off
        );
        assert_eq!(
            ImageMode::detect(env(&[("TERM", "xterm-256color"), ("NO_COLOR", "")])),
            ImageMode::HalfBlocks
        );
        assert_eq!(
            ImageMode::detect(env(&[("TERM", "xterm-kitty"), ("NO_COLOR", "1")])),
            ImageMode::Kitty
        );
        assert_eq!(
            ImageMode::detect(env(&[("EINVREG_IMAGES", "blocks"), ("NO_COLOR", "1")])),
            ImageMode::HalfBlocks
        );
    }

    use super::*;

    #[test]
    fn empty_or_r_asks_for_a_renewal() {
        assert!(asks_renewal("\n") && asks_renewal(" r ") && asks_renewal("R"));
        assert!(!asks_renewal("a7b9c2") && !asks_renewal("rr"));
    }

    /// A 180x60 PNG of noisy pixels, like a captcha (and too big for one
    /// kitty chunk).
    fn captcha_like_png() -> Vec<u8> {
        let (w, h) = (180u32, 60u32);
        let mut seed = 0x2545_f491_u32;
        let px: Vec<u8> = (0..w * h * 3)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed >> 24) as u8
            })
            .collect();
        let mut out = vec![];
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(&px).unwrap();
        wr.finish().unwrap();
        out
    }

    #[test]
    fn inline_renderings() {
        let png = captcha_like_png();
        let k = render_inline(&png, ImageMode::Kitty, 80).unwrap();
        assert!(k.starts_with("\x1b_Gf=100,a=T,m=1;") && k.contains("\x1b_Gm=0;"));
        assert!(render_inline(&png, ImageMode::Iterm, 80)
            .unwrap()
            .starts_with("\x1b]1337;File=inline=1"));
        let s = render_inline(&png, ImageMode::Sixel, 80).unwrap();
        assert!(s.starts_with("\x1bPq\"1;1;180;60") && s.ends_with("\x1b\\\n"));
        assert_eq!(s.matches('-').count(), 10, "60 rows in 6-row bands");
        let wide = render_inline(&png, ImageMode::HalfBlocks, 200).unwrap();
        assert_eq!(wide.lines().count(), 15);
        assert!(render_inline(&png, ImageMode::Off, 80).is_none());
        assert!(render_inline(b"not a png", ImageMode::HalfBlocks, 80).is_none());
    }

    /// Half-blocks fit the terminal, keeping the picture's shape: 180x60
    /// pixels are 90 columns where there is room, 60 at 80 columns.
    #[test]
    fn half_blocks_fit_the_terminal() {
        let png = captcha_like_png();
        let width = |s: &str| s.lines().map(|l| l.matches('\u{2580}').count()).max();
        let wide = render_inline(&png, ImageMode::HalfBlocks, 200).unwrap();
        assert_eq!(width(&wide), Some(90));
        for cols in [80, 60, 40] {
            let h = render_inline(&png, ImageMode::HalfBlocks, cols).unwrap();
            let w = width(&h).unwrap();
            assert!(w < cols, "{w} characters at {cols} columns");
            // Width to height (each line two pixel rows) stays 180:60.
            let ratio = w as f64 / (2 * h.lines().count()) as f64;
            assert!(
                (ratio - 3.0).abs() < 0.5,
                "{w}x{} at {cols}",
                h.lines().count()
            );
        }
    }
}
