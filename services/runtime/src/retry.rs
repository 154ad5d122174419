//! [`Backoff`]: the one retry policy for work that must not be dropped (a sink write, a
//! traffic batch): retry the same thing after a delay that doubles from 50 ms up to 5 s,
//! until it succeeds or the caller's stop token is cancelled.

use crate::Shutdown;
use std::time::Duration;

/// The first delay.
const FIRST: Duration = Duration::from_millis(50);
/// The longest delay.
const LONGEST: Duration = Duration::from_secs(5);

/// The delays between attempts of one piece of work.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: FIRST }
    }
}

impl Backoff {
    /// The delay before the next attempt (doubling each time, at most 5 s).
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(LONGEST);
        delay
    }

    /// Waits out `delay` (from [`Backoff::next_delay`]); returns `false` at once when
    /// `stop` is cancelled first (the caller gives up).
    pub async fn wait(delay: Duration, stop: &Shutdown) -> bool {
        tokio::select! {
            () = stop.cancelled() => false,
            () = tokio::time::sleep(delay) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_five_seconds() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..9)
            .map(|_| backoff.next_delay().as_millis() as u64)
            .collect();
        assert_eq!(delays, [50, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_stop_ends_the_wait() {
        let stop = Shutdown::new();
        assert!(Backoff::wait(Duration::from_millis(10), &stop).await);
        stop.cancel();
        assert!(!Backoff::wait(Duration::from_secs(60), &stop).await);
    }
}
