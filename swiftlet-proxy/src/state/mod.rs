//! The bottom floor: what every request shares (`Cluster`), and the records it caches.

pub(crate) mod cluster;
pub(crate) mod info;
pub(crate) mod info_cache;
pub(crate) mod node;
