//! Talking to the storage nodes: requests and connections, placement (which nodes, in
//! what order, with stand-ins), reads with failover, fanned-out and streamed writes, and
//! the quorum rule that settles them.

pub(crate) mod backend;
pub(crate) mod placement;
pub(crate) mod quorum;
pub(crate) mod read;
pub(crate) mod upload;
pub(crate) mod write;
