//! The operator: the one place that asks humans (or stands in for them).
//!
//! Every captcha and OTP request becomes a [`Question`]; an [`Operator`]
//! answers it. [`Queue`] puts one operator behind a lock so that any number
//! of concurrent browser sessions show the person one prompt at a time.

pub mod command;
pub mod oracle;
mod race;
pub mod terminal;

use crate::events::{Event, Sink};
use crate::redact::Secret;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone)]
pub enum Ask {
    /// The PNG is saved at `path` before the question is asked.
    Captcha { png: Vec<u8>, path: PathBuf },
    Otp {
        mobile: Option<String>,
        /// The code changes this often (an authenticator app): the prompt
        /// says how long the current one has left.
        rotates: Option<Duration>,
    },
    /// `--repair`: the page differs from the flow; what now?
    Repair(Box<RepairAsk>),
}

/// A repair question: what was tried, what the page shows instead.
#[derive(Debug, Clone)]
pub struct RepairAsk {
    pub kind: crate::repair::RepairKind,
    /// What the step tried and found, or the dialog's text.
    pub what: String,
    /// The page as it is now (secrets masked), when one could be taken.
    pub screenshot: Option<PathBuf>,
    /// The elements most like what the step named, best first.
    pub candidates: Vec<crate::repair::Candidate>,
    /// The candidates (or the dialog) as JSON: `$1` of a repair command.
    pub file: PathBuf,
    /// Why the last answer did not do (asked again), if it did not.
    pub again: Option<String>,
    /// The step may be left out.
    pub can_skip: bool,
}

impl RepairAsk {
    /// The question as a person reads it: why it is asked again, what was
    /// tried, the screenshot, the numbered candidates.
    pub fn text(&self) -> String {
        let mut s = String::new();
        if let Some(why) = &self.again {
            s.push_str(&format!("{why}\n"));
        }
        s.push_str(&format!("{}\n", self.what));
        if let Some(p) = &self.screenshot {
            s.push_str(&format!("screenshot: {}\n", p.display()));
        }
        for c in &self.candidates {
            s.push_str(&format!("{:>2}. {}  →  {}\n", c.n, c.describe, c.target));
        }
        s
    }

    /// The answers it takes.
    pub fn answers(&self) -> String {
        let skip = if self.can_skip { ", skip" } else { "" };
        match self.kind {
            crate::repair::RepairKind::Dialog => "accept, dismiss or stop".into(),
            _ if self.candidates.is_empty() => {
                format!("a target: #id, text:…, label:…, CSS{skip}, or stop")
            }
            crate::repair::RepairKind::Target | crate::repair::RepairKind::Screen => format!(
                "1-{}, a target: #id, text:…, label:…, CSS{skip}, or stop",
                self.candidates.len()
            ),
        }
    }
}

/// What a person (or a stand-in) answers.
#[derive(Debug)]
pub enum Reply {
    /// The captcha's characters or the OTP, and who gave them.
    Answer(Secret, By),
    /// "Show me a new image" / "send a new OTP": the step asks the portal
    /// for one and asks again. Only offered when [`Question::can_renew`].
    Renew,
}

/// Who answered a prompt: the journal records this, never the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Terminal,
    /// `--captcha-command` / `--otp-command`.
    Command,
    /// The replica's oracle (`--auto-answer`).
    Oracle,
    /// An operator on the answer desk.
    DeskOperator,
    /// The taxpayer, through the link meant for them.
    TaxpayerLink,
}

impl std::fmt::Display for By {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            By::Terminal => "the terminal",
            By::Command => "an answer command",
            By::Oracle => "the replica oracle",
            By::DeskOperator => "a desk operator",
            By::TaxpayerLink => "the taxpayer's link",
        })
    }
}

/// What answer commands print to ask for a new captcha image or OTP.
pub const RENEW_WORD: &str = "RENEW";

#[derive(Clone)]
pub struct Question {
    pub ask: Ask,
    pub gstin: String,
    pub portal: String,
    pub base_url: String,
    pub screen: String,
    pub step: String,
    /// Flow text, e.g. "Login OTP sent to the mobile of portal user x".
    pub prompt: String,
    /// 1 on the first try, 2 after a wrong answer...
    pub attempt: u32,
    /// The browser's cookies for this portal: only the replica oracle reads them.
    pub browser_cookies: Vec<(String, String)>,
    /// The step can ask the portal for a new captcha image or OTP.
    pub can_renew: bool,
}

impl Question {
    pub fn what(&self) -> &'static str {
        match self.ask {
            Ask::Captcha { .. } => "captcha",
            Ask::Otp { .. } => "OTP",
            Ask::Repair(_) => "repair",
        }
    }
    /// What a renewal brings: "a new image" or "a new OTP".
    pub fn renewal(&self) -> &'static str {
        match self.ask {
            Ask::Captcha { .. } => "a new image",
            Ask::Otp { .. } | Ask::Repair(_) => "a new OTP",
        }
    }
}

#[derive(Debug, thiserror::Error, Clone)]
pub enum OperatorError {
    /// Nobody can answer: no terminal and no answer source.
    #[error("{0}")]
    NoHuman(String),
    #[error("no answer to the {what} prompt within {secs}s")]
    Timeout { what: &'static str, secs: u64 },
    #[error("{0}")]
    Failed(String),
}

pub trait Operator: Send + Sync {
    fn answer<'a>(&'a self, q: &'a Question) -> BoxFut<'a, Result<Reply, OperatorError>>;
    /// For the run summary: "terminal", "answer commands", "replica oracle"...
    fn describe(&self) -> String;
    /// Whether it can answer at all ([`Nobody`] cannot).
    fn answers(&self) -> bool {
        true
    }
    /// What it answers, beside another source (the desk).
    fn describe_answering(&self) -> String {
        self.describe()
    }
    /// Whether it reads the browser's cookies (the replica oracle finds
    /// the session by them): the walk reads them per prompt only then.
    fn wants_cookies(&self) -> bool {
        false
    }
    /// Whether a person answers `q` here (a terminal, the desk), rather
    /// than a command or the replica's oracle: only then is a session
    /// "waiting for you".
    fn asks_a_person(&self, _q: &Question) -> bool {
        false
    }
}

/// Answers nothing: unattended runs without an answer source fail fast.
pub struct Nobody;

impl Operator for Nobody {
    fn answer<'a>(&'a self, q: &'a Question) -> BoxFut<'a, Result<Reply, OperatorError>> {
        let how = match q.ask {
            Ask::Repair(_) => "run in a terminal, or pass --repair-command",
            _ => "run in a terminal, or pass --captcha-command/--otp-command (or --auto-answer against the replica)",
        };
        let msg = format!(
            "a person is needed for the {} on \"{}\" ({} portal, GSTIN {}), but stdin is not a terminal and no answer source was given; {how}",
            q.what(),
            q.screen,
            q.portal,
            q.gstin
        );
        Box::pin(async move { Err(OperatorError::NoHuman(msg)) })
    }
    fn describe(&self) -> String {
        "nobody (unattended)".into()
    }
    fn answers(&self) -> bool {
        false
    }
}

/// Captchas from one operator, OTPs from another.
pub struct Split {
    pub captcha: Arc<dyn Operator>,
    pub otp: Arc<dyn Operator>,
}

impl Operator for Split {
    fn answer<'a>(&'a self, q: &'a Question) -> BoxFut<'a, Result<Reply, OperatorError>> {
        match q.ask {
            Ask::Captcha { .. } => self.captcha.answer(q),
            Ask::Otp { .. } => self.otp.answer(q),
            // Split only when repairs are not asked for: nobody answers them.
            Ask::Repair(_) => Nobody.answer(q),
        }
    }
    fn describe(&self) -> String {
        format!(
            "captcha: {}; OTP: {}",
            self.captcha.describe(),
            self.otp.describe()
        )
    }
    /// Only the lanes that can answer: "OTP: answer command" beside the
    /// desk, which answers the captchas.
    fn describe_answering(&self) -> String {
        match (self.captcha.answers(), self.otp.answers()) {
            (false, true) => format!("OTP: {}", self.otp.describe()),
            (true, false) => format!("captcha: {}", self.captcha.describe()),
            _ => self.describe(),
        }
    }
    fn answers(&self) -> bool {
        self.captcha.answers() || self.otp.answers()
    }
    fn wants_cookies(&self) -> bool {
        self.captcha.wants_cookies() || self.otp.wants_cookies()
    }
    fn asks_a_person(&self, q: &Question) -> bool {
        match q.ask {
            Ask::Captcha { .. } => self.captcha.asks_a_person(q),
            Ask::Otp { .. } => self.otp.asks_a_person(q),
            Ask::Repair(_) => false,
        }
    }
}

/// Captchas and OTPs from `rest`; repair questions (`--repair`) from
/// `repair`, the terminal or a `--repair-command`.
pub struct WithRepair {
    pub rest: Arc<dyn Operator>,
    pub repair: Arc<dyn Operator>,
}

impl Operator for WithRepair {
    fn answer<'a>(&'a self, q: &'a Question) -> BoxFut<'a, Result<Reply, OperatorError>> {
        match q.ask {
            Ask::Repair(_) => self.repair.answer(q),
            _ => self.rest.answer(q),
        }
    }
    fn describe(&self) -> String {
        format!(
            "{}; repairs: {}",
            self.rest.describe(),
            self.repair.describe()
        )
    }
    fn describe_answering(&self) -> String {
        format!(
            "{}; repairs: {}",
            self.rest.describe_answering(),
            self.repair.describe()
        )
    }
    fn answers(&self) -> bool {
        self.rest.answers() || self.repair.answers()
    }
    fn wants_cookies(&self) -> bool {
        self.rest.wants_cookies() || self.repair.wants_cookies()
    }
    fn asks_a_person(&self, q: &Question) -> bool {
        match q.ask {
            Ask::Repair(_) => self.repair.asks_a_person(q),
            _ => self.rest.asks_a_person(q),
        }
    }
}

/// One prompt at a time for the terminal, the answer commands and the
/// oracle; every prompt at once for the answer desk, which races them.
/// Measures the time spent waiting for people.
pub struct Queue {
    op: Arc<dyn Operator>,
    /// Sees every open prompt at once (the answer desk).
    desk: Option<Arc<dyn Operator>>,
    lock: tokio::sync::Mutex<()>,
    open: AtomicUsize,
    max_open: AtomicUsize,
    waiting: AtomicUsize,
    waited_ms: AtomicU64,
    asked: AtomicU64,
    /// Told when each prompt opens and closes (a progress bar steps aside).
    events: Sink,
}

impl Queue {
    /// A queue in front of `op`, telling `events` about each prompt.
    pub fn new(op: Arc<dyn Operator>, events: Sink) -> Queue {
        Queue {
            op,
            desk: None,
            lock: tokio::sync::Mutex::new(()),
            open: AtomicUsize::new(0),
            max_open: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            waited_ms: AtomicU64::new(0),
            asked: AtomicU64::new(0),
            events,
        }
    }

    /// Also shows every prompt on `desk` at once; the first answer wins.
    pub fn with_desk(mut self, desk: Arc<dyn Operator>) -> Queue {
        self.desk = Some(desk);
        self
    }

    /// Whether a prompt must carry the browser's cookies.
    pub fn wants_cookies(&self) -> bool {
        self.op.wants_cookies() || self.desk.as_ref().is_some_and(|d| d.wants_cookies())
    }

    pub fn describe(&self) -> String {
        match &self.desk {
            Some(d) if self.op.answers() => {
                format!("{} and {}", d.describe(), self.op.describe_answering())
            }
            Some(d) => d.describe(),
            None => self.op.describe(),
        }
    }

    /// Asks, in turn; returns the answer and how long this session waited (queue + person).
    pub async fn ask(&self, q: &Question) -> (Result<Reply, OperatorError>, Duration) {
        let start = Instant::now();
        let person = self.op.asks_a_person(q) || self.desk.is_some();
        let _waiting = person.then(|| Waiting::on(&self.waiting));
        let r = match &self.desk {
            Some(d) => race::first_answer(self.in_turn(q), d.answer(q)).await,
            None => self.in_turn(q).await,
        };
        self.asked.fetch_add(1, Ordering::SeqCst);
        let waited = start.elapsed();
        self.waited_ms
            .fetch_add(waited.as_millis() as u64, Ordering::SeqCst);
        (r, waited)
    }

    /// Waits for the turn, then asks `op`. Dropped when the desk answers
    /// first: the prompt closes all the same.
    async fn in_turn(&self, q: &Question) -> Result<Reply, OperatorError> {
        let _turn = self.lock.lock().await;
        let now_open = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_open.fetch_max(now_open, Ordering::SeqCst);
        (self.events)(&Event::PromptOpened {
            what: q.what(),
            gstin: q.gstin.clone(),
            step: q.step.clone(),
        });
        let _open = Opened {
            queue: self,
            what: q.what(),
            since: Instant::now(),
        };
        self.op.answer(q).await
    }

    /// The most prompts ever open at once (1 when the queue works).
    #[cfg(test)]
    pub fn max_open(&self) -> usize {
        self.max_open.load(Ordering::SeqCst)
    }
    /// Sessions waiting for a person right now (queued or being asked);
    /// prompts a command or the replica's oracle answers are not counted.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
    pub fn asked(&self) -> u64 {
        self.asked.load(Ordering::SeqCst)
    }
}

/// One session counted as waiting for a person, until dropped (answered,
/// or the prompt withdrawn when its run stops).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn on(n: &'a AtomicUsize) -> Waiting<'a> {
        n.fetch_add(1, Ordering::SeqCst);
        Waiting(n)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A prompt shown in turn; closing it (answered, failed or withdrawn) is announced.
struct Opened<'a> {
    queue: &'a Queue,
    what: &'static str,
    since: Instant,
}

impl Drop for Opened<'_> {
    fn drop(&mut self) {
        self.queue.open.fetch_sub(1, Ordering::SeqCst);
        (self.queue.events)(&Event::PromptClosed {
            what: self.what,
            waited: self.since.elapsed(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Slow(AtomicUsize);
    impl Operator for Slow {
        fn answer<'a>(&'a self, _q: &'a Question) -> BoxFut<'a, Result<Reply, OperatorError>> {
            Box::pin(async move {
                let inside = self.0.fetch_add(1, Ordering::SeqCst);
                assert_eq!(inside, 0, "two prompts open at once");
                tokio::time::sleep(Duration::from_millis(20)).await;
                self.0.fetch_sub(1, Ordering::SeqCst);
                Ok(Reply::Answer(Secret::new("123456"), By::Oracle))
            })
        }
        fn describe(&self) -> String {
            "slow".into()
        }
    }

    fn q() -> Question {
        Question {
            ask: Ask::Otp {
                mobile: None,
                rotates: None,
            },
            gstin: "g".into(),
            portal: "p".into(),
            base_url: String::new(),
            screen: "s".into(),
            step: "t".into(),
            prompt: String::new(),
            attempt: 1,
            browser_cookies: vec![],
            can_renew: false,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queue_serialises_prompts() {
        let (opened, sink) = crate::events::Collector::new(|e| match e {
            Event::PromptOpened { .. } => Some(()),
            _ => None,
        });
        let qu = Arc::new(Queue::new(Arc::new(Slow(AtomicUsize::new(0))), sink));
        let mut hs = vec![];
        for _ in 0..6 {
            let qu = qu.clone();
            hs.push(tokio::spawn(async move { qu.ask(&q()).await.0.unwrap() }));
        }
        for h in hs {
            let Reply::Answer(a, _) = h.await.unwrap() else {
                panic!("an answer expected")
            };
            assert_eq!(a.expose(), "123456");
        }
        assert_eq!(qu.max_open(), 1);
        assert_eq!(qu.asked(), 6);
        assert_eq!(opened.take().len(), 6, "every prompt is announced");
    }

    /// A person's prompt counts as waiting while open; one a command or
    /// the oracle answers never does.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_a_persons_prompts_count_as_waiting() {
        struct Person(tokio::sync::Notify);
        impl Operator for Person {
            fn answer<'a>(&'a self, _q: &'a Question) -> BoxFut<'a, Result<Reply, OperatorError>> {
                Box::pin(async move {
                    self.0.notified().await;
                    Ok(Reply::Answer(Secret::new("123456"), By::Terminal))
                })
            }
            fn describe(&self) -> String {
                "person".into()
            }
            fn asks_a_person(&self, _q: &Question) -> bool {
                true
            }
        }
        let person = Arc::new(Person(tokio::sync::Notify::new()));
        let qu = Arc::new(Queue::new(person.clone(), crate::events::discard()));
        let asking = tokio::spawn({
            let qu = qu.clone();
            async move { qu.ask(&q()).await.0.unwrap() }
        });
        while qu.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(qu.waiting(), 1);
        person.0.notify_one();
        asking.await.unwrap();
        assert_eq!(qu.waiting(), 0);

        let machine = Queue::new(
            Arc::new(Slow(AtomicUsize::new(0))),
            crate::events::discard(),
        );
        let question = q();
        let (asked, seen) = tokio::join!(machine.ask(&question), async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            machine.waiting()
        });
        asked.0.unwrap();
        assert_eq!(seen, 0, "an oracle's prompt is nobody's wait");
    }

    #[tokio::test]
    async fn nobody_fails_at_once_naming_the_need() {
        let e = Nobody.answer(&q()).await.unwrap_err();
        assert!(matches!(e, OperatorError::NoHuman(ref m) if m.contains("--captcha-command")));
    }
}
