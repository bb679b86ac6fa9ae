//! container-server (being built)
