//! ring-builder (being built)
