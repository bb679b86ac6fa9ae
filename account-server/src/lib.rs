//! account-server (being built)
