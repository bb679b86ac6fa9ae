//! On-disk formats. Both files share one framing ([`container`]): a magic string, a format
//! version, a zstd-compressed body and an xxh3 checksum over everything, written atomically.
//! A file that is truncated, corrupt or of an unknown version is refused whole.

pub(crate) mod builder_file;
pub(crate) mod codec;
pub(crate) mod container;
pub(crate) mod ring_file;
