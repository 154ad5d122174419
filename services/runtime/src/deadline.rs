//! The caller's deadline, read from the `grpc-timeout` header and honoured by the service.
//!
//! tonic drops a call whose `grpc-timeout` has passed and answers `CANCELLED` with no detail.
//! A service that knows what it was waiting for does better: [`CallDeadline::bound`] stops
//! the wait a little before the caller's deadline and answers `DEADLINE_EXCEEDED` saying what
//! had been done, while the caller is still listening.

use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;
use tonic::metadata::MetadataMap;

/// Most headroom kept before the caller's deadline to send the answer back.
const MAX_HEADROOM: Duration = Duration::from_millis(200);

/// When a call must be answered by, as the caller set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallDeadline {
    timeout: Duration,
    answer_by: Instant,
}

impl CallDeadline {
    /// The deadline of a call whose request carries `metadata`, counted from now; `None`
    /// when the caller set none (or sent a `grpc-timeout` the spec does not allow, which
    /// tonic ignores as well).
    pub fn from_metadata(metadata: &MetadataMap) -> Option<Self> {
        let value = metadata.get("grpc-timeout")?.to_str().ok()?;
        let timeout = parse_grpc_timeout(value)?;
        Some(Self::after(timeout))
    }

    /// A deadline `timeout` from now; the answer is due one tenth of it (at most 200 ms)
    /// earlier, so that it reaches the caller in time.
    pub fn after(timeout: Duration) -> Self {
        let headroom = (timeout / 10).min(MAX_HEADROOM);
        Self {
            timeout,
            answer_by: Instant::now() + (timeout - headroom),
        }
    }

    /// The timeout the caller set.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `work` until it finishes or the answer is due; `Err(DeadlinePassed)` in the
    /// second case (the work is dropped).
    pub async fn bound<F: Future>(&self, work: F) -> Result<F::Output, DeadlinePassed> {
        tokio::time::timeout_at(self.answer_by, work)
            .await
            .map_err(|_| DeadlinePassed {
                timeout: self.timeout,
            })
    }
}

/// Runs `work` within `deadline` when there is one, else to its end.
pub async fn within<F: Future>(
    deadline: Option<CallDeadline>,
    work: F,
) -> Result<F::Output, DeadlinePassed> {
    match deadline {
        Some(deadline) => deadline.bound(work).await,
        None => Ok(work.await),
    }
}

/// The caller's deadline came before the work was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the caller's deadline of {} ms passed", timeout.as_millis())]
pub struct DeadlinePassed {
    /// The timeout the caller had set.
    pub timeout: Duration,
}

impl DeadlinePassed {
    /// `DEADLINE_EXCEEDED` saying what was left undone: "the caller's deadline of N ms
    /// passed {while}".
    pub fn to_status(self, while_doing: &str) -> tonic::Status {
        tonic::Status::deadline_exceeded(format!("{self} {while_doing}"))
    }
}

/// Parses a `grpc-timeout` value: at most 8 digits and a unit (`H`, `M`, `S`, `m`, `u`, `n`).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_of_grpc_timeout_is_read() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(
            parse_grpc_timeout("99999999u"),
            Some(Duration::from_micros(99_999_999))
        );
        assert_eq!(parse_grpc_timeout("7n"), Some(Duration::from_nanos(7)));
    }

    #[test]
    fn malformed_grpc_timeouts_are_no_deadline() {
        for bad in ["", "S", "5", "5s", "-5S", "123456789S", "5 S", "five"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_deadline_comes_from_the_request_metadata() {
        let mut metadata = MetadataMap::new();
        assert_eq!(CallDeadline::from_metadata(&metadata), None);
        metadata.insert("grpc-timeout", "1500m".parse().unwrap());
        let deadline = CallDeadline::from_metadata(&metadata).expect("a deadline");
        assert_eq!(deadline.timeout(), Duration::from_millis(1500));
    }

    #[tokio::test(start_paused = true)]
    async fn work_past_the_deadline_is_stopped_before_the_caller_gives_up() {
        let deadline = CallDeadline::after(Duration::from_secs(1));
        let started = Instant::now();
        let outcome = deadline.bound(std::future::pending::<()>()).await;
        assert_eq!(
            outcome,
            Err(DeadlinePassed {
                timeout: Duration::from_secs(1)
            })
        );
        // 100 ms of headroom: answered at 900 ms, before the caller's 1 s.
        assert_eq!(started.elapsed(), Duration::from_millis(900));
        let status = outcome.unwrap_err().to_status("with 3 records unconfirmed");
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
        assert_eq!(
            status.message(),
            "the caller's deadline of 1000 ms passed with 3 records unconfirmed"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn work_inside_the_deadline_or_without_one_runs_to_its_end() {
        let deadline = CallDeadline::after(Duration::from_secs(10));
        assert_eq!(deadline.bound(async { 7 }).await, Ok(7));
        assert_eq!(within(None, async { 8 }).await, Ok(8));
    }
}
