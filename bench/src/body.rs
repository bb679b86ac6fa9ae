//! The synthetic object bodies of the load: `size` bytes of one repeating pattern, sent as
//! slices of one shared buffer of at most 1 MiB, so no object is ever allocated whole.

use bytes::Bytes;
use common::http::{full, stream_body, Body};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

const CHUNK: u64 = 1 << 20;

#[derive(Debug)]
pub struct ObjectBody {
    chunk: Bytes,
    size: u64,
    /// Computed on first use: only S3 signed payloads need it, and once per run is enough
    /// (every object is the same bytes), as an SDK hashing a file before sending it.
    sha256: OnceLock<String>,
}

impl ObjectBody {
    pub fn new(size: u64) -> Self {
        let chunk = Bytes::from((0..CHUNK.min(size.max(1))).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
        ObjectBody { chunk, size, sha256: OnceLock::new() }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// A fresh body to send: one buffer when it fits, else a stream of slices.
    pub fn body(&self) -> Body {
        if self.size <= self.chunk.len() as u64 {
            return full(self.chunk.slice(..self.size as usize));
        }
        let chunk = self.chunk.clone();
        let stream = futures::stream::unfold(self.size, move |left| {
            let chunk = chunk.clone();
            async move {
                (left > 0).then(|| {
                    let n = left.min(chunk.len() as u64);
                    (Ok::<_, std::io::Error>(chunk.slice(..n as usize)), left - n)
                })
            }
        });
        stream_body(stream)
    }

    /// Hex SHA-256 of what [`ObjectBody::body`] sends.
    pub fn sha256(&self) -> &str {
        self.sha256.get_or_init(|| {
            let mut h = Sha256::new();
            let mut left = self.size;
            while left > 0 {
                let n = left.min(self.chunk.len() as u64);
                h.update(&self.chunk[..n as usize]);
                left -= n;
            }
            hex::encode(h.finalize())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn streams_size_bytes_matching_the_hash() {
        for size in [0, 10, CHUNK, 3 * CHUNK + 7] {
            let b = ObjectBody::new(size);
            let bytes = b.body().collect().await.unwrap().to_bytes();
            assert_eq!(bytes.len() as u64, size);
            assert_eq!(b.sha256(), hex::encode(Sha256::digest(&bytes)));
        }
    }
}
