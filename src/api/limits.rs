//! Per-request limits of the HTTP layer: the rate limit per client IP (`--rate-limit`,
//! answered with 429 and `Retry-After`) and the time limit of non-streaming requests
//! (`--request-timeout-secs`, answered with 408).
//!
//! Routes that stream their answer for as long as a job runs are exempt from the time
//! limit: [`STREAMING_ROUTES`] names them.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};
use serde_json::json;

use super::error::ApiError;

/// Routes (without the `/api/v1` prefix) whose answers are streams that last as long as a
/// job runs: the request timeout does not apply to them. They keep their connection busy
/// with their own heartbeats instead.
pub const STREAMING_ROUTES: &[&str] = &["/requester/logs"];

/// Routes that are never rate limited: probes and scrapes must keep answering.
pub const UNLIMITED_ROUTES: &[&str] = &["/livez", "/readyz", "/healthz", "/metrics"];

/// After this many checks the limiter forgets clients that are back to a full burst, so
/// its memory follows the number of recently active clients.
const SWEEP_EVERY: u64 = 4096;

/// Whether `route` streams its answer (and so has no request timeout).
pub fn is_streaming(route: &str) -> bool {
    STREAMING_ROUTES.contains(&route)
}

/// A GCRA rate limiter keyed by client IP: `per_second` requests per second with bursts
/// of as many.
#[derive(Debug)]
pub struct RateLimiter {
    /// Per-IP state (a concurrent map inside governor).
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// Checks since the last sweep of idle clients.
    checks: AtomicU64,
}

impl RateLimiter {
    /// A limiter, or None when `per_second` is 0 (no limit).
    pub fn new(per_second: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_second)?;
        Some(Self {
            limiter: DefaultKeyedRateLimiter::dashmap(Quota::per_second(rate)),
            checks: AtomicU64::new(0),
        })
    }

    /// Ok when `ip` may make a request now, else how long until it may.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&ip.to_canonical())
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Checks the request's peer address (requests without one, e.g. from in-process
    /// callers, are not limited).
    pub fn check_request<B>(&self, req: &Request<B>) -> Result<(), ApiError> {
        let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() else {
            return Ok(());
        };
        self.check(peer.ip()).map_err(rate_limited)
    }
}

/// 429 with `Retry-After` in whole seconds (at least 1).
pub fn rate_limited(wait: Duration) -> ApiError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limited",
        format!("too many requests from this address; retry in {secs} s"),
    )
    .with_details(json!({ "retry_after_seconds": secs }))
    .with_retry_after(secs)
}

/// 408 for a request that did not finish within the limit.
pub fn timed_out(limit: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request-timeout",
        format!(
            "the request did not complete within {} s",
            limit.as_secs_f64()
        ),
    )
    .with_details(json!({ "limit_seconds": limit.as_secs_f64() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_next_request_must_wait() {
        let l = RateLimiter::new(3).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check(ip).is_ok());
        }
        let wait = l.check(ip).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(334),
            "{wait:?}"
        );
        assert!(
            l.check("192.0.2.2".parse().unwrap()).is_ok(),
            "other IPs have their own budget"
        );
    }

    #[test]
    fn zero_means_no_limiter_and_retry_after_rounds_up() {
        assert!(RateLimiter::new(0).is_none());
        assert_eq!(rate_limited(Duration::from_millis(1)).retry_after, Some(1));
        assert_eq!(
            rate_limited(Duration::from_millis(1500)).retry_after,
            Some(2)
        );
        assert_eq!(rate_limited(Duration::ZERO).retry_after, Some(1));
    }

    #[test]
    fn ipv4_mapped_addresses_share_the_ipv4_budget() {
        let l = RateLimiter::new(1).unwrap();
        assert!(l.check("192.0.2.7".parse().unwrap()).is_ok());
        assert!(l.check("::ffff:192.0.2.7".parse().unwrap()).is_err());
    }

    #[test]
    fn the_logs_stream_is_exempt_from_the_request_timeout() {
        assert!(is_streaming("/requester/logs"));
        assert!(!is_streaming("/requester/states"));
    }
}
