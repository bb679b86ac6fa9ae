//! object-server (being built)
