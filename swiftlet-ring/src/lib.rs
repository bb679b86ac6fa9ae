//! The Swiftlet ring: where every account, container and object lives.
//!
//! - [`Ring`] is what servers load: `get_nodes` maps a path to its partition and primary
//!   devices, `get_more_nodes` yields handoffs. [`SharedRing`] reloads it when the file
//!   changes.
//! - [`RingBuilder`] is what operators edit (through the `ring-builder` CLI): devices,
//!   weights, and `rebalance`, which assigns partitions to devices spreading replicas
//!   across regions, zones, hosts and devices, balancing by weight, and moving as little
//!   as possible.
//!
//! Files: the ring file and the builder file are versioned, zstd-compressed and
//! checksummed; see [`format`](crate::format).

pub mod builder;
pub mod device;
mod error;
mod format;
mod placer;
mod plan;
pub mod rebalance;
pub mod ring;
mod shared;
pub mod stats;
mod tiers;

/// The file decoders after their checksummed container, for the fuzz targets (`fuzz/`): an
/// operator's or a peer's file must fail with an error, never panic or run away.
#[doc(hidden)]
pub mod fuzzing {
    /// Decodes a ring file's body; true if it held a ring.
    pub fn ring_body(body: &[u8]) -> bool {
        crate::format::ring_file::decode_body(body).is_ok()
    }

    /// Decodes a builder file's body; true if it held a builder.
    pub fn builder_body(body: &[u8]) -> bool {
        crate::format::builder_file::decode(body).is_ok()
    }
}

pub use builder::RingBuilder;
pub use device::{Device, DeviceFilter, DeviceInfo, NewDevice};
pub use error::RingError;
pub use format::ring_file::RING_FORMAT_VERSION;
pub use rebalance::{Progress, RebalanceReport};
pub use ring::Ring;
pub use shared::SharedRing;
pub use stats::{DispersionReport, TierDispersion};
