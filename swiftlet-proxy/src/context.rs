//! What a request carries through the pipeline and into its sub-requests: who asks, and
//! on whose behalf.

use crate::auth::identity::{Identity, TempUrlScope};

#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub trans_id: String,
    pub identity: Option<Identity>,
    /// Set by TempURL for a valid signature: the request and its sub-requests are
    /// authorized by that scope instead of the identity and ACLs.
    pub temp_url: Option<TempUrlScope>,
    /// Which step made this sub-request (`None` for the client's own request).
    pub source: Option<&'static str>,
    /// The client's `Referer`, for referrer ACLs (sub-requests keep it, as in Swift).
    pub referer: Option<String>,
}

impl Ctx {
    pub fn new(trans_id: &str, identity: Option<Identity>) -> Ctx {
        Ctx { trans_id: trans_id.to_string(), identity, temp_url: None, source: None, referer: None }
    }

    /// The same client, for a sub-request made by `source`.
    pub fn sub(&self, source: &'static str) -> Ctx {
        Ctx { source: Some(source), ..self.clone() }
    }
}
