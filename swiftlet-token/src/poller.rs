//! A client of the identity service's revocation feed for services that validate tokens
//! locally (the proxy). Every `interval` it fetches the whole event list, signed with the
//! [`FeedKey`] derived from the token key, and replaces its [`Revocations`] with it. A
//! failed poll (identity down, bad answer, a list over the limits) keeps the last good
//! list, so a flapping identity service never un-revokes a token.

use crate::feed::{EventList, FeedKey, EVENTS_PATH, FEED_AUTH_HEADER};
use crate::revocation::{RevocationError, Revocations};
use crate::KeystoneTokens;
use common::http::{empty, HttpClient, HttpClientError};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// The identity service's base URL (`http://host:5000`, without `/v3`).
    pub identity_url: String,
    pub interval: Duration,
    /// Bounds one poll, connect to last byte.
    pub timeout: Duration,
    /// Lists with more events than this are refused (the last good list stays).
    pub max_events: usize,
}

impl PollerConfig {
    pub fn new(identity_url: impl Into<String>) -> Self {
        PollerConfig {
            identity_url: identity_url.into(),
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_events: 100_000,
        }
    }

    /// The most body bytes a list of `max_events` events can need (ids, three times).
    fn max_body(&self) -> usize {
        self.max_events.saturating_mul(EVENT_BYTES).saturating_add(1024)
    }
}

/// A generous size of one serialized event: three 64-byte ids and three times.
const EVENT_BYTES: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Http(#[from] HttpClientError),
    #[error("the identity service answered {0}")]
    Status(StatusCode),
    #[error("reading the event list: {0}")]
    Body(String),
    #[error("the event list is malformed: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error(transparent)]
    TooMany(#[from] RevocationError),
    #[error("the poll took longer than {0:?}")]
    Timeout(Duration),
}

pub struct RevocationPoller {
    cfg: PollerConfig,
    client: HttpClient,
    key: FeedKey,
    revocations: Revocations,
    /// Unix seconds of the last poll that replaced the list; 0 before the first.
    last_success: AtomicU64,
}

impl RevocationPoller {
    pub fn new(cfg: PollerConfig, tokens: &KeystoneTokens) -> Self {
        RevocationPoller {
            revocations: Revocations::with_limit(cfg.max_events),
            client: HttpClient::new(cfg.timeout),
            key: FeedKey::new(tokens),
            last_success: AtomicU64::new(0),
            cfg,
        }
    }

    /// A poller that keeps `revocations` (a handle its owner already checks) current.
    pub fn feeding(cfg: PollerConfig, tokens: &KeystoneTokens, revocations: Revocations) -> Self {
        RevocationPoller { revocations, ..RevocationPoller::new(cfg, tokens) }
    }

    /// The list the poller keeps current: check tokens with `is_revoked`.
    pub fn revocations(&self) -> Revocations {
        self.revocations.clone()
    }

    /// When a poll last succeeded (unix seconds), if one has.
    pub fn last_success(&self) -> Option<u64> {
        Some(self.last_success.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }

    /// Fetches the list once and, if it is good, makes it the current one. Returns the
    /// number of events kept.
    pub async fn poll_once(&self) -> Result<usize, PollError> {
        let limit = self.cfg.timeout;
        tokio::time::timeout(limit, self.fetch_and_replace()).await.map_err(|_| PollError::Timeout(limit))?
    }

    async fn fetch_and_replace(&self) -> Result<usize, PollError> {
        let now = now_secs();
        let url = format!("{}{EVENTS_PATH}", self.cfg.identity_url.trim_end_matches('/'));
        let req = Request::get(url)
            .header(FEED_AUTH_HEADER, self.key.sign(now))
            .body(empty())
            .map_err(|e| PollError::Body(e.to_string()))?;
        let resp = self.client.send(req, self.cfg.timeout).await?;
        if resp.status() != StatusCode::OK {
            return Err(PollError::Status(resp.status()));
        }
        let body = Limited::new(resp.into_body(), self.cfg.max_body())
            .collect()
            .await
            .map_err(|e| PollError::Body(e.to_string()))?
            .to_bytes();
        let list: EventList = serde_json::from_slice(&body)?;
        let kept = self.revocations.replace(list.events, now_secs())?;
        self.last_success.store(now, Ordering::Relaxed);
        Ok(kept)
    }

    /// Polls every `interval` until `cancel`; failures are logged and the list kept.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            match self.poll_once().await {
                Ok(n) => tracing::debug!(events = n, "revocation list updated"),
                Err(e) => tracing::warn!(error = %e, last_success = ?self.last_success(),
                    "revocation poll failed; keeping the last good list"),
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(self.cfg.interval) => {}
            }
        }
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
