//! The bottom floor: what every request shares (`Cluster`), and the records it caches.

pub mod cluster;
pub mod info;
pub mod info_cache;
pub mod node;
