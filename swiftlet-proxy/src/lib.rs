//! The proxy library: the Swift API v1 in front of the storage nodes, in floors, each
//! importing only the floors below it:
//!
//! - base: [`error`], [`config`], [`route`] (a path parsed once), [`context`] and
//!   [`request`] (the typed request that travels), `auth` (identities, tokens, ACLs),
//!   path quoting and header helpers;
//! - `state`: the [`Cluster`] every request shares (config, rings, secret, backend client,
//!   error limiter, info caches);
//! - `storage`: talking to storage nodes (placement with stand-ins, reads with failover,
//!   fanned-out and streamed writes, quorum);
//! - `lookups`: account and container info;
//! - `controllers`: account, container and object verbs;
//! - the pipeline: `pipeline` (steps, sub-requests, frontends) and `middleware` (every
//!   step, and the one ordered list of them);
//! - the [`FrontDoor`]: serves a listener.
//!
//! Frontends of other APIs (the S3 API, crate `swiftlet-s3`) plug in through
//! [`Frontend`] and run Swift requests through the [`SwiftApi`] facade.

#![warn(unreachable_pub)]

pub(crate) mod auth;
pub(crate) mod body;
pub mod config;
pub mod context;
pub(crate) mod controllers;
pub mod error;
pub(crate) mod front_door;
pub(crate) mod headers;
pub(crate) mod lookups;
pub(crate) mod middleware;
pub(crate) mod pipeline;
pub(crate) mod quote;
pub mod request;
pub mod route;
pub(crate) mod state;
pub(crate) mod storage;

/// Entry points for the fuzz targets in `fuzz/`; not an API.
#[doc(hidden)]
pub mod fuzzing {
    use crate::middleware::slo::input::{parse_input, InputError, InputSegment};

    /// What a manifest PUT makes of a client's manifest (limit `max_segments`):
    /// `(object-backed segments, all segments)`, or the 400/413 body.
    pub fn slo_manifest(body: &[u8], max_segments: usize) -> Result<(usize, usize), String> {
        match parse_input(body, ("container", "manifest"), max_segments) {
            Ok(segs) => Ok((segs.iter().filter(|s| matches!(s, InputSegment::Object { .. })).count(), segs.len())),
            Err(InputError::Invalid(why) | InputError::TooMany(why)) => Err(why),
        }
    }

    /// Reads a stored manifest as a GET does; the number of segments.
    pub fn stored_slo_manifest(body: &[u8]) -> Result<usize, String> {
        crate::middleware::slo::manifest::parse_stored(body).map(|s| s.len())
    }

    /// Resolves a `Range` header against an object of `length` bytes as SLO and DLO
    /// GETs do; `None` for the whole object, an empty list for 416.
    pub fn large_object_ranges(header: &str, length: u64) -> Option<Vec<(u64, u64)>> {
        use crate::middleware::large_object::ranges::{parse_ranges, Ranges};
        match parse_ranges(Some(header), length) {
            Ranges::Whole => None,
            Ranges::Unsatisfiable => Some(Vec::new()),
            Ranges::Some(r) => Some(r),
        }
    }
}

pub use auth::identity::{Identity, TempUrlScope};
pub use auth::tempauth::constant_time_eq;
pub use config::{KnownCredential, ProxyConfig, UserConfig};
pub use error::ProxyError;
pub use front_door::FrontDoor;
pub use middleware::versioning::archive::DELETE_MARKER;
pub use pipeline::frontend::{Frontend, SwiftApi};
pub use quote::{quote, swift_path};
pub use state::cluster::{Cluster, Rings};
pub use state::info::ContainerInfo;
