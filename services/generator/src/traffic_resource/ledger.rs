//! What the reconciler remembers between passes: which run each PaymentTraffic object got
//! (so that a stale view of an object never starts a second run) and when its status was
//! last written (so that progress is written every couple of seconds, not on every event
//! its own writes cause).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Entry {
    run_id: Option<String>,
    written_at: Option<Instant>,
}

/// Runs and status writes by object uid.
#[derive(Debug, Default)]
pub struct RunLedger {
    entries: Mutex<HashMap<String, Entry>>,
}

impl RunLedger {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut entries)
    }

    /// The run started for object `uid`, if any.
    pub fn run_of(&self, uid: &str) -> Option<String> {
        self.with(|e| e.get(uid).and_then(|entry| entry.run_id.clone()))
    }

    /// Remembers that object `uid` got run `run_id`.
    pub fn started(&self, uid: &str, run_id: &str) {
        self.with(|e| {
            e.insert(
                uid.to_owned(),
                Entry {
                    run_id: Some(run_id.to_owned()),
                    written_at: None,
                },
            );
        });
    }

    /// Notes a status write for object `uid` now.
    pub fn wrote(&self, uid: &str) {
        self.with(|e| {
            e.entry(uid.to_owned())
                .or_insert(Entry {
                    run_id: None,
                    written_at: None,
                })
                .written_at = Some(Instant::now());
        });
    }

    /// How long until object `uid` may be written again, if it was written less than
    /// `interval` ago.
    pub fn wait_before_writing(&self, uid: &str, interval: Duration) -> Option<Duration> {
        self.with(|e| {
            let written = e.get(uid)?.written_at?;
            interval
                .checked_sub(written.elapsed())
                .filter(|d| !d.is_zero())
        })
    }

    /// Forgets object `uid`; returns the run it had.
    pub fn forget(&self, uid: &str) -> Option<String> {
        self.with(|e| e.remove(uid).and_then(|entry| entry.run_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_remembered_until_forgotten() {
        let ledger = RunLedger::default();
        assert_eq!(ledger.run_of("a"), None);
        ledger.started("a", "run-1");
        assert_eq!(ledger.run_of("a").as_deref(), Some("run-1"));
        assert_eq!(ledger.forget("a").as_deref(), Some("run-1"));
        assert_eq!(ledger.run_of("a"), None);
    }

    #[test]
    fn a_recent_write_asks_to_wait() {
        let ledger = RunLedger::default();
        assert_eq!(
            ledger.wait_before_writing("a", Duration::from_secs(2)),
            None
        );
        ledger.wrote("a");
        let wait = ledger
            .wait_before_writing("a", Duration::from_secs(2))
            .unwrap();
        assert!(wait <= Duration::from_secs(2) && wait > Duration::from_secs(1));
        assert_eq!(ledger.wait_before_writing("a", Duration::ZERO), None);
    }
}
