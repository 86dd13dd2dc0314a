//! The one retry loop of the engine: segments, probes and the manifest all go through
//! [`Retries::run`], so they share the same attempts, backoff, `Retry-After` and cancellation.

use std::pin::Pin;
use std::time::Duration;

use super::Cancel;
use super::http::Failure;

/// Why an attempt did not succeed.
#[derive(Debug)]
pub(crate) enum Stop {
    /// A failure, retryable or not.
    Failure(Failure),
    /// The run was cancelled.
    Interrupted,
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Stop {
        Stop::Failure(f)
    }
}

/// One attempt in flight: a boxed future borrowing the state given to [`Retries::run`] (boxed
/// once per attempt, so that the loop stays one function for every kind of request and its
/// future stays `Send`).
pub(crate) type Attempt<'a, T> = Pin<Box<dyn Future<Output = Result<T, Stop>> + Send + 'a>>;

/// How often and how patiently to try again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retries<'a> {
    /// Attempts after the first.
    pub retries: u32,
    /// First retry delay (doubled on each retry, capped, with jitter).
    pub backoff_base: Duration,
    /// Stops the waiting (and the loop) when raised.
    pub cancel: &'a Cancel,
}

impl<'a> Retries<'a> {
    /// The run's settings (`--retries`, the backoff), stopped by `cancel`.
    pub(crate) fn of(options: &super::FetchOptions, cancel: &'a Cancel) -> Retries<'a> {
        Retries {
            retries: options.retries,
            backoff_base: options.backoff_base,
            cancel,
        }
    }
}

impl Retries<'_> {
    /// Runs `attempt` on `state` until it succeeds, fails for good (not retryable, or out of
    /// retries) or the run is cancelled. Before each retry `on_retry(next attempt number, delay,
    /// reason)` is called and the delay (the server's `Retry-After`, else the backoff) is waited
    /// out. A retryable failure given up on says how many attempts were made.
    pub async fn run<S, T>(
        &self,
        state: &mut S,
        mut on_retry: impl FnMut(u32, Duration, &str),
        mut attempt: impl FnMut(&mut S) -> Attempt<'_, T>,
    ) -> Result<T, Stop> {
        let mut attempts: u32 = 1;
        loop {
            let mut failure = match attempt(state).await {
                Ok(value) => return Ok(value),
                Err(Stop::Interrupted) => return Err(Stop::Interrupted),
                Err(Stop::Failure(f)) => f,
            };
            if !failure.retryable || attempts > self.retries {
                if failure.retryable && attempts > 1 {
                    failure.reason = format!("{} (after {attempts} attempts)", failure.reason);
                }
                return Err(Stop::Failure(failure));
            }
            attempts += 1;
            let delay = failure
                .retry_after
                .unwrap_or_else(|| backoff_delay(self.backoff_base, attempts - 1));
            on_retry(attempts, delay, &failure.reason);
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.cancel.cancelled() => return Err(Stop::Interrupted),
            }
        }
    }
}

/// The delay before retry `n` (1 = first retry): `base · 2^(n-1)`, capped at 30 s, with jitter
/// (a uniformly random point in its upper half) so that parallel requests do not retry in step.
pub(crate) fn backoff_delay(base: Duration, retry: u32) -> Duration {
    let doubled = base.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
    let capped = doubled.min(Duration::from_secs(30));
    let half = capped / 2;
    half + half.mul_f64(fastrand::f64())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        for retry in 1..40 {
            let d = backoff_delay(base, retry);
            let full = base
                .saturating_mul(1 << (retry - 1).min(16))
                .min(Duration::from_secs(30));
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn retries_until_success_then_gives_up_with_the_count() {
        let cancel = Cancel::new();
        let retries = Retries {
            retries: 2,
            backoff_base: Duration::ZERO,
            cancel: &cancel,
        };
        let rt = runtime();
        // Fails twice, then succeeds: two retries announced.
        let mut calls = 0;
        let mut announced = Vec::new();
        let got = rt.block_on(retries.run(
            &mut calls,
            |n, _, reason| announced.push((n, reason.to_string())),
            |calls| {
                *calls += 1;
                let n = *calls;
                Box::pin(async move {
                    if n < 3 {
                        Err(Stop::Failure(Failure::retry(format!("try {n}"))))
                    } else {
                        Ok(n)
                    }
                })
            },
        ));
        assert!(matches!(got, Ok(3)));
        assert_eq!(announced, vec![(2, "try 1".into()), (3, "try 2".into())]);
        // Always failing: three attempts, then the reason says so.
        let got: Result<(), Stop> = rt.block_on(retries.run(
            &mut (),
            |_, _, _| {},
            |_| Box::pin(async { Err(Stop::Failure(Failure::retry("HTTP 503"))) }),
        ));
        match got {
            Err(Stop::Failure(f)) => assert_eq!(f.reason, "HTTP 503 (after 3 attempts)"),
            other => panic!("{other:?}"),
        }
        // Not retryable: one attempt, the reason unchanged.
        let mut calls = 0;
        let got: Result<(), Stop> = rt.block_on(retries.run(
            &mut calls,
            |_, _, _| {},
            |calls| {
                *calls += 1;
                Box::pin(async { Err(Stop::Failure(Failure::fatal("HTTP 404 Not Found"))) })
            },
        ));
        assert_eq!(calls, 1);
        assert!(matches!(got, Err(Stop::Failure(f)) if f.reason == "HTTP 404 Not Found"));
    }

    #[test]
    fn cancellation_stops_the_wait() {
        let cancel = Cancel::new();
        cancel.cancel();
        let retries = Retries {
            retries: 5,
            backoff_base: Duration::from_secs(3600),
            cancel: &cancel,
        };
        let got: Result<(), Stop> = runtime().block_on(retries.run(
            &mut (),
            |_, _, _| {},
            |_| Box::pin(async { Err(Stop::Failure(Failure::retry("reset"))) }),
        ));
        assert!(matches!(got, Err(Stop::Interrupted)));
    }
}
