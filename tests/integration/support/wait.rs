//! The one deadline helper: every wait of the tests polls through
//! [`poll`], and a wait that runs out fails the test naming what it
//! waited for.

use std::time::{Duration, Instant};

/// A wait for something, named for the failure message.
pub struct Poll {
    what: String,
    limit: Duration,
    every: Duration,
}

/// Waits for `what`: two minutes at most, looking every 20 ms, unless told.
pub fn poll(what: impl Into<String>) -> Poll {
    Poll {
        what: what.into(),
        limit: Duration::from_secs(120),
        every: Duration::from_millis(20),
    }
}

impl Poll {
    /// The longest wait.
    pub fn within(self, limit: Duration) -> Poll {
        Poll { limit, ..self }
    }

    /// How often to look (a look that costs a request: less often).
    pub fn every(self, every: Duration) -> Poll {
        Poll { every, ..self }
    }

    /// Looks until `f` gives a value; `None` if the time runs out.
    pub fn try_value<T>(&self, mut f: impl FnMut() -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + self.limit;
        loop {
            if let Some(v) = f() {
                return Some(v);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(self.every);
        }
    }

    /// Looks until `f` gives a value; fails the test when the time runs out.
    pub fn value<T>(&self, f: impl FnMut() -> Option<T>) -> T {
        self.try_value(f)
            .unwrap_or_else(|| panic!("waited {:?} for {}", self.limit, self.what))
    }

    /// Looks until `f` holds; fails the test when the time runs out.
    pub fn until(&self, mut f: impl FnMut() -> bool) {
        self.value(|| f().then_some(()))
    }
}
