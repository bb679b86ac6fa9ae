//! SSYNC: how the replicator pushes a partition's objects to another node.
//!
//! Two requests to `SSYNC /<dev>/<part>` on the receiver, told apart by the header
//! `X-Swiftlet-Ssync-Phase`:
//!
//! 1. `check`: the body is a JSON array of [`Offer`]s (one per object hash the sender has:
//!    its newest data-or-tombstone timestamp and its `.meta` timestamp); the answer is a JSON
//!    array of [`Want`]s naming what the receiver lacks. Nothing is sent twice.
//! 2. `updates`: the body is a stream of frames, each
//!    `u32 big-endian header length | header JSON (`[`FrameHeader`]`) | <length> body bytes`,
//!    with op `PUT` (a `.data` file: metadata + body), `DELETE` (a tombstone) or `POST` (a
//!    `.meta` file). The receiver applies each frame only if it is newer than what it has
//!    (verifying the body's MD5 and checksum against the metadata), and answers a JSON
//!    [`ReceiveSummary`].
//!
//! [`send`] is the sending side; [`missing_check`] and [`receive_updates`] the receiving
//! side, which the object server's SSYNC handler feeds from its request body through
//! [`ByteSource`].

mod receiver;
mod sender;

pub use receiver::{missing_check, receive_updates};
pub use sender::{fetch_remote_hashes, send, SsyncReport, SsyncTarget};

use crate::error::{Result, StoreError};
use bytes::{Bytes, BytesMut};
use common::metadata::Metadata;
use common::Timestamp;
use serde::{Deserialize, Serialize};
use std::future::Future;

pub const PHASE_HEADER: &str = "x-swiftlet-ssync-phase";
pub const PHASE_CHECK: &str = "check";
pub const PHASE_UPDATES: &str = "updates";
/// Frame headers larger than this are refused (metadata is at most a few KiB).
pub const MAX_FRAME_HEADER: usize = 1 << 20;

/// What the sender has for one object hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub hash: String,
    /// Timestamp of the newest `.data` or `.ts`.
    pub timestamp: Timestamp,
    /// True when that newest file is a tombstone.
    pub deleted: bool,
    /// Timestamp of a `.meta` newer than the data, if any.
    pub meta: Option<Timestamp>,
}

/// What the receiver asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Want {
    pub hash: String,
    /// The data (or tombstone).
    pub data: bool,
    /// The `.meta`.
    pub meta: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameOp {
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "DELETE")]
    Delete,
    #[serde(rename = "POST")]
    Post,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameHeader {
    pub op: FrameOp,
    pub hash: String,
    pub timestamp: Timestamp,
    /// The file's full metadata (as stored by the sender).
    pub metadata: Metadata,
    /// Body bytes following the header (PUT only).
    pub length: u64,
}

/// The receiver's answer to an `updates` request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiveSummary {
    pub applied: u64,
    /// Frames older than (or equal to) what the receiver has.
    pub skipped: u64,
    /// Frames refused (bad checksum, bad metadata), with the reason.
    pub failed: Vec<String>,
}

/// Bytes arriving from a peer in pieces: the receiving server's request body. Its own
/// failures (a stalled or broken connection) stay in its error type, which a store error
/// converts into.
pub trait ByteSource: Send {
    type Error: From<StoreError> + Send;

    /// The next piece (at most `max` bytes), or `None` at the end.
    fn next(&mut self, max: usize) -> impl Future<Output = Result<Option<Bytes>, Self::Error>> + Send;

    /// Appends to `buf` until it holds `want` bytes; false if the bytes ended first.
    fn fill(&mut self, buf: &mut BytesMut, want: usize) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        async move {
            while buf.len() < want {
                match self.next(want - buf.len()).await? {
                    Some(b) => buf.extend_from_slice(&b),
                    None => return Ok(false),
                }
            }
            Ok(true)
        }
    }
}

/// Encodes a frame header with its length prefix.
pub fn encode_header(h: &FrameHeader) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(h).map_err(|e| StoreError::Internal(format!("frame header: {e}")))?;
    let mut out = Vec::with_capacity(4 + json.len());
    out.extend_from_slice(&(json.len() as u32).to_be_bytes());
    out.extend_from_slice(&json);
    Ok(out)
}

/// Decodes a frame header's JSON.
pub fn decode_header(json: &[u8]) -> Result<FrameHeader> {
    serde_json::from_slice(json).map_err(|e| StoreError::BadFrame(format!("bad SSYNC frame header: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_header_round_trip() {
        let h = FrameHeader {
            op: FrameOp::Put,
            hash: "ab".into(),
            timestamp: "1700000000.00000".parse().unwrap(),
            metadata: Metadata::from([("name".to_string(), "/a/c/o".to_string())]),
            length: 5,
        };
        let bytes = encode_header(&h).unwrap();
        let len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        assert_eq!(len, bytes.len() - 4);
        assert_eq!(decode_header(&bytes[4..]).unwrap(), h);
        assert!(String::from_utf8_lossy(&bytes).contains("\"op\":\"PUT\""));
        assert!(decode_header(b"{").is_err());
    }
}
