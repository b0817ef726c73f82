//! The desk's board: every prompt open now, the taxpayer links, and the
//! batch's progress. Prompts wait on it; the desk's pages read and answer
//! it. The first answer to a prompt takes it: a second finds it gone.

use super::token::{self, Token};
use crate::events::Event;
use crate::operator::{Ask, Question, Reply};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{oneshot, watch};

pub struct Board {
    inner: Mutex<Inner>,
    version: watch::Sender<u64>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    prompts: BTreeMap<u64, Prompt>,
    links: Vec<Link>,
    progress: Progress,
}

struct Prompt {
    view: PromptView,
    png: Option<Arc<Vec<u8>>>,
    tx: Option<oneshot::Sender<Reply>>,
}

/// A prompt as the operator view shows it: no answer, no cookie.
#[derive(Debug, Clone, Serialize)]
pub struct PromptView {
    pub id: u64,
    /// "captcha" or "OTP".
    pub what: &'static str,
    pub gstin: String,
    pub portal: String,
    pub screen: String,
    pub step: String,
    pub prompt: String,
    pub attempt: u32,
    pub can_renew: bool,
    /// The mobile the OTP went to, masked.
    pub mobile: Option<String>,
    /// When it opened (Unix ms), for its age.
    pub opened_ms: u64,
    /// The taxpayer's link: "sent", "expired" (none when links are off).
    pub link: Option<&'static str>,
    /// The link's path, for an operator to send by hand.
    pub link_path: Option<String>,
}

struct Link {
    token: Token,
    /// The link page's form carries it back (a cross-site post cannot).
    csrf: Token,
    prompt: u64,
    gstin: String,
    mobile: String,
    expires: Instant,
    state: LinkState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkState {
    Live,
    Used,
    /// Its prompt closed another way (answered on the desk, timed out).
    Withdrawn,
}

/// A live taxpayer link: what its page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLink {
    pub gstin: String,
    pub mobile: String,
    pub csrf: String,
}

/// Why an answer was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("this prompt was already answered, or is no longer open")]
    Gone,
    #[error("this step cannot ask the portal for a new one")]
    CannotRenew,
}

/// Why a link's answer was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefused {
    Unknown,
    BadForm,
    Used,
    Expired,
    Withdrawn,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Progress {
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub running: usize,
}

/// Everything the operator view shows, oldest prompt first.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub version: u64,
    pub now_ms: u64,
    pub progress: Progress,
    pub prompts: Vec<PromptView>,
}

/// A prompt on the board: its id, where its answer comes, its link.
pub struct Opened {
    pub id: u64,
    pub answer: oneshot::Receiver<Reply>,
    /// The taxpayer link's token, when one was made.
    pub link: Option<Token>,
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The link with `token` if it can still be used at `now`.
fn live<'a>(links: &'a [Link], token: &str, now: Instant) -> Result<&'a Link, LinkRefused> {
    let i = token::find(links, |l| &l.token, token).ok_or(LinkRefused::Unknown)?;
    let l = &links[i];
    match l.state {
        LinkState::Used => Err(LinkRefused::Used),
        LinkState::Withdrawn => Err(LinkRefused::Withdrawn),
        LinkState::Live if now >= l.expires => Err(LinkRefused::Expired),
        LinkState::Live => Ok(l),
    }
}

impl Default for Board {
    fn default() -> Board {
        Board {
            inner: Mutex::default(),
            version: watch::channel(0).0,
        }
    }
}

impl Board {
    fn change<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let r = f(&mut self.inner.lock().expect("board lock"));
        self.version.send_modify(|v| *v += 1);
        r
    }

    /// Puts `q` on the board; an OTP gets a taxpayer link valid for `link_ttl`.
    pub fn open(&self, q: &Question, link_ttl: Option<Duration>) -> Opened {
        let (tx, rx) = oneshot::channel();
        let (png, mobile) = match &q.ask {
            Ask::Captcha { png, .. } => (Some(Arc::new(png.clone())), None),
            Ask::Otp { mobile, .. } => (None, mobile.clone()),
            Ask::Repair(_) => (None, None),
        };
        let masked = mobile.as_deref().map(crate::rules::mask_mobile);
        let is_otp = matches!(q.ask, Ask::Otp { .. });
        self.change(|b| {
            b.next_id += 1;
            let id = b.next_id;
            let link = link_ttl.filter(|_| is_otp).map(|ttl| {
                let token = Token::new();
                b.links.push(Link {
                    token: token.clone(),
                    csrf: Token::new(),
                    prompt: id,
                    gstin: q.gstin.clone(),
                    mobile: masked.clone().unwrap_or_default(),
                    expires: Instant::now() + ttl,
                    state: LinkState::Live,
                });
                token
            });
            let view = PromptView {
                id,
                what: q.what(),
                gstin: q.gstin.clone(),
                portal: q.portal.clone(),
                screen: q.screen.clone(),
                step: q.step.clone(),
                prompt: match &q.ask {
                    Ask::Repair(r) => format!("{}Answer: {}", r.text(), r.answers()),
                    _ => q.prompt.clone(),
                },
                attempt: q.attempt,
                can_renew: q.can_renew,
                mobile: masked,
                opened_ms: unix_ms(SystemTime::now()),
                link: link.as_ref().map(|_| "sent"),
                link_path: link.as_ref().map(|t| format!("/otp/{}", t.expose())),
            };
            b.prompts.insert(
                id,
                Prompt {
                    view,
                    png,
                    tx: Some(tx),
                },
            );
            Opened {
                id,
                answer: rx,
                link,
            }
        })
    }

    /// Takes the prompt off the board (answered, timed out or answered
    /// elsewhere); its live link says so from now on.
    pub fn withdraw(&self, id: u64) {
        self.change(|b| {
            b.prompts.remove(&id);
            for l in b.links.iter_mut().filter(|l| l.prompt == id) {
                if l.state == LinkState::Live {
                    l.state = LinkState::Withdrawn;
                }
            }
        })
    }

    /// Hands `reply` to the prompt waiting on it: only the first one counts.
    pub fn answer(&self, id: u64, reply: Reply) -> Result<(), Refused> {
        self.change(|b| {
            let p = b
                .prompts
                .get_mut(&id)
                .filter(|p| p.tx.is_some())
                .ok_or(Refused::Gone)?;
            if matches!(reply, Reply::Renew) && !p.view.can_renew {
                return Err(Refused::CannotRenew);
            }
            let tx = p.tx.take().ok_or(Refused::Gone)?;
            tx.send(reply).map_err(|_| Refused::Gone)
        })
    }

    /// The live link with `token`, or why it is not one.
    pub fn link(&self, token: &str, now: Instant) -> Result<OpenLink, LinkRefused> {
        let b = self.inner.lock().expect("board lock");
        let l = live(&b.links, token, now)?;
        Ok(OpenLink {
            gstin: l.gstin.clone(),
            mobile: l.mobile.clone(),
            csrf: l.csrf.expose().to_string(),
        })
    }

    /// The taxpayer's OTP, through their link: used once, and only while live.
    pub fn answer_link(
        &self,
        token: &str,
        csrf: &str,
        reply: Reply,
        now: Instant,
    ) -> Result<(), LinkRefused> {
        self.change(|b| {
            let l = live(&b.links, token, now)?;
            if !l.csrf.matches(csrf) {
                return Err(LinkRefused::BadForm);
            }
            let id = l.prompt;
            let tx = b
                .prompts
                .get_mut(&id)
                .and_then(|p| p.tx.take())
                .ok_or(LinkRefused::Withdrawn)?;
            for l in b.links.iter_mut().filter(|l| l.prompt == id) {
                l.state = LinkState::Used;
            }
            tx.send(reply).map_err(|_| LinkRefused::Withdrawn)
        })
    }

    /// What prompt `id` asks for ("captcha", "OTP"), while it is open.
    pub fn what(&self, id: u64) -> Option<&'static str> {
        let b = self.inner.lock().expect("board lock");
        b.prompts.get(&id).map(|p| p.view.what)
    }

    /// The captcha image of prompt `id`.
    pub fn png(&self, id: u64) -> Option<Arc<Vec<u8>>> {
        let b = self.inner.lock().expect("board lock");
        b.prompts.get(&id).and_then(|p| p.png.clone())
    }

    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_at(Instant::now())
    }

    /// The board as it stands at `now` (links past their time show expired).
    fn snapshot_at(&self, now: Instant) -> Snapshot {
        let b = self.inner.lock().expect("board lock");
        let prompts =
            b.prompts
                .values()
                .filter(|p| p.tx.is_some())
                .map(|p| {
                    let mut v = p.view.clone();
                    let expired = b.links.iter().any(|l| {
                        l.prompt == v.id && l.state == LinkState::Live && now >= l.expires
                    });
                    if expired {
                        v.link = Some("expired");
                    }
                    v
                })
                .collect();
        Snapshot {
            version: *self.version.borrow(),
            now_ms: unix_ms(SystemTime::now()),
            progress: b.progress.clone(),
            prompts,
        }
    }

    /// Tells of every change (a prompt opened, answered, withdrawn; a row done).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    pub fn set_total(&self, rows: usize) {
        self.change(|b| b.progress.total = rows)
    }

    /// Keeps the progress from the batch's events.
    pub fn on_event(&self, e: &Event) {
        match e {
            Event::RowStarted { .. } => self.change(|b| b.progress.running += 1),
            Event::RowFinished { status, .. } => self.change(|b| {
                b.progress.running = b.progress.running.saturating_sub(1);
                match status.is_done() {
                    true => b.progress.done += 1,
                    false => b.progress.failed += 1,
                }
            }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::By;
    use crate::redact::Secret;

    fn otp() -> Question {
        Question {
            ask: Ask::Otp {
                mobile: Some("9876543210".into()),
                rotates: None,
            },
            gstin: "27AAPFU0939F1ZV".into(),
            portal: "sandbox".into(),
            base_url: String::new(),
            screen: "OTP".into(),
            step: "Mobile OTP".into(),
            prompt: "OTP sent".into(),
            attempt: 1,
            browser_cookies: vec![("sid".into(), "cookie-value".into())],
            can_renew: false,
        }
    }

    fn answer(by: By) -> Reply {
        Reply::Answer(Secret::new("123456"), by)
    }

    #[test]
    fn the_first_answer_takes_the_prompt_and_a_second_finds_it_gone() {
        let b = Board::default();
        let mut o = b.open(&otp(), None);
        assert_eq!(b.snapshot().prompts.len(), 1);
        assert!(b.answer(o.id, answer(By::DeskOperator)).is_ok());
        assert_eq!(b.answer(o.id, answer(By::DeskOperator)), Err(Refused::Gone));
        assert!(matches!(
            o.answer.try_recv(),
            Ok(Reply::Answer(_, By::DeskOperator))
        ));
        assert!(
            b.snapshot().prompts.is_empty(),
            "an answered prompt leaves the view"
        );
        assert_eq!(b.answer(o.id, Reply::Renew), Err(Refused::Gone));
    }

    #[test]
    fn the_view_shows_no_cookie_and_a_masked_mobile() {
        let b = Board::default();
        let _o = b.open(&otp(), None);
        let json = serde_json::to_string(&b.snapshot()).unwrap();
        assert!(
            !json.contains("cookie-value") && !json.contains("9876543210"),
            "{json}"
        );
        assert!(json.contains("•••••••210"), "{json}");
    }

    #[test]
    fn a_link_answers_once_while_live_and_says_why_otherwise() {
        let b = Board::default();
        let now = Instant::now();
        let mut o = b.open(&otp(), Some(Duration::from_secs(600)));
        let t = o.link.clone().unwrap();
        let Ok(OpenLink { csrf, mobile, .. }) = b.link(t.expose(), now) else {
            panic!("a live link")
        };
        assert_eq!(mobile, "•••••••210");
        assert_eq!(b.link("not-a-token", now), Err(LinkRefused::Unknown));
        let wrong_form = b.answer_link(t.expose(), "forged", answer(By::TaxpayerLink), now);
        assert_eq!(wrong_form, Err(LinkRefused::BadForm));
        assert!(b
            .answer_link(t.expose(), &csrf, answer(By::TaxpayerLink), now)
            .is_ok());
        assert!(matches!(
            o.answer.try_recv(),
            Ok(Reply::Answer(_, By::TaxpayerLink))
        ));
        assert_eq!(b.link(t.expose(), now), Err(LinkRefused::Used));
        let again = b.answer_link(t.expose(), &csrf, answer(By::TaxpayerLink), now);
        assert_eq!(again, Err(LinkRefused::Used));
    }

    #[test]
    fn a_link_expires_with_its_time_and_with_its_prompt() {
        let b = Board::default();
        let now = Instant::now();
        let o = b.open(&otp(), Some(Duration::from_secs(60)));
        let t = o.link.clone().unwrap();
        let later = now + Duration::from_secs(61);
        assert_eq!(b.link(t.expose(), later), Err(LinkRefused::Expired));
        assert_eq!(b.snapshot_at(later).prompts[0].link, Some("expired"));
        assert_eq!(b.snapshot().prompts[0].link, Some("sent"));
        let r = b.answer_link(t.expose(), "x", answer(By::TaxpayerLink), later);
        assert_eq!(r, Err(LinkRefused::Expired));
        let o2 = b.open(&otp(), Some(Duration::from_secs(60)));
        let t2 = o2.link.clone().unwrap();
        b.withdraw(o2.id);
        assert_eq!(b.link(t2.expose(), now), Err(LinkRefused::Withdrawn));
    }

    #[test]
    fn progress_follows_the_rows() {
        let b = Board::default();
        b.set_total(3);
        let started = Event::RowStarted {
            line: 2,
            gstin: "g".into(),
        };
        b.on_event(&started);
        b.on_event(&started);
        b.on_event(&Event::RowFinished {
            line: 2,
            gstin: "g".into(),
            status: crate::events::RowStatus::Ran(crate::events::RunStatus::Registered),
            message: String::new(),
        });
        let p = b.snapshot().progress;
        assert_eq!((p.total, p.done, p.failed, p.running), (3, 1, 0, 1));
    }
}
