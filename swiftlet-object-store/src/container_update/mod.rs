//! Container updates: the one record that tells a container server about an object's
//! listing row, as Swift's object server sends it (`PUT|DELETE /<cdev>/<cpart>/<a>/<c>/<o>`
//! with `X-Timestamp`, `X-Size`, `X-Content-Type`, `X-Etag`, `X-Trans-Id`...).
//!
//! The object server sends a [`ContainerUpdate`] after every committed write and queues it
//! in the device DB as an async pending when a container server cannot take it; the
//! updater daemon later sends the queued record with the same [`UpdateSender`]. Records of
//! `X-Delete-At` changes go the same way into the `.expiring_objects` account
//! ([`expiring`]).

pub mod expiring;
mod sender;

pub use sender::{queue, UpdateSender, UpdateTargets};

use common::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an update does to the listing row (a POST updates it with a PUT, as in Swift).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpdateOp {
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "DELETE")]
    Delete,
}

impl UpdateOp {
    /// The request method that carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateOp::Put => "PUT",
            UpdateOp::Delete => "DELETE",
        }
    }
}

/// One update of one object's listing row; queued as `[1] + JSON` (see `devicedb`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerUpdate {
    pub op: UpdateOp,
    pub account: String,
    pub container: String,
    pub obj: String,
    /// The headers of the update request (`x-timestamp`, `x-size`, `x-etag`, ...).
    pub headers: BTreeMap<String, String>,
    /// `account/container` to update instead of `account/container` (sharding redirects).
    #[serde(default)]
    pub container_path: Option<String>,
}

impl ContainerUpdate {
    /// The account and container whose listing the update goes to.
    pub fn target_container(&self) -> (&str, &str) {
        match self.container_path.as_deref().and_then(|cp| cp.split_once('/')) {
            Some(target) => target,
            None => (&self.account, &self.container),
        }
    }

    /// The time the update is queued under: its `x-meta-timestamp`, else its
    /// `x-timestamp`, else now.
    pub fn queue_timestamp(&self) -> Timestamp {
        let text = self.headers.get("x-meta-timestamp").or_else(|| self.headers.get("x-timestamp"));
        text.and_then(|t| t.parse().ok()).unwrap_or_else(Timestamp::now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_json_keeps_its_shape() {
        let mut u = ContainerUpdate {
            op: UpdateOp::Delete,
            account: "a".into(),
            container: "c".into(),
            obj: "o".into(),
            headers: BTreeMap::from([("x-timestamp".to_string(), "1700000000.00000".to_string())]),
            container_path: None,
        };
        let json = serde_json::to_string(&u).unwrap();
        assert!(json.contains("\"op\":\"DELETE\""), "{json}");
        let old = r#"{"op":"PUT","account":"a","container":"c","obj":"o","headers":{}}"#;
        assert_eq!(serde_json::from_str::<ContainerUpdate>(old).unwrap().op, UpdateOp::Put);
        assert_eq!(u.target_container(), ("a", "c"));
        assert_eq!(u.queue_timestamp().internal(), "1700000000.00000");
        u.container_path = Some(".shards_a/c-1".into());
        assert_eq!(u.target_container(), (".shards_a", "c-1"));
    }
}
