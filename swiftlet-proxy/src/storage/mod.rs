//! Talking to the storage nodes: requests and connections, placement (which nodes, in
//! what order, with stand-ins), reads with failover, fanned-out and streamed writes, and
//! the quorum rule that settles them.

pub mod backend;
pub mod placement;
pub mod quorum;
pub mod read;
pub mod upload;
pub mod write;
