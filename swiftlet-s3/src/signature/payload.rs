//! A body checked as it streams against a digest its request promised (the signed
//! SHA-256, an `x-amz-checksum-*` value): every byte is hashed, and the last frame is held
//! back until the digest matches, so storage never receives a complete body that does not
//! match (a mismatch ends the body with an error instead, and nothing is committed).

use super::{BodyFailure, S3Error};
use crate::checksum::{Algorithm, Hasher};
use bytes::Bytes;
use common::http::{Body, BodyError};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

/// What a checked body is held to: it sees every byte, then gives its verdict.
pub(crate) trait Expectation: Send + 'static {
    fn update(&mut self, data: &[u8]);
    /// `Ok` when the body matched, else the error to answer with.
    fn verdict(&mut self) -> Result<(), S3Error>;
}

struct SignedSha256 {
    hasher: Sha256,
    expected: [u8; 32],
}

impl Expectation for SignedSha256 {
    fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }
    fn verdict(&mut self) -> Result<(), S3Error> {
        let computed = self.hasher.finalize_reset();
        if computed.as_slice() == self.expected {
            return Ok(());
        }
        Err(S3Error::XAmzContentSHA256Mismatch { client: hex::encode(self.expected), computed: hex::encode(computed) })
    }
}

/// An `x-amz-checksum-*` value sent in a header.
struct DeclaredChecksum {
    algorithm: Algorithm,
    hasher: Option<Hasher>,
    expected: Vec<u8>,
}

impl Expectation for DeclaredChecksum {
    fn update(&mut self, data: &[u8]) {
        if let Some(h) = self.hasher.as_mut() {
            h.update(data);
        }
    }
    fn verdict(&mut self) -> Result<(), S3Error> {
        let got = self.hasher.take().map(Hasher::finish);
        (got.as_deref() == Some(&self.expected[..])).then_some(()).ok_or(S3Error::BadChecksum(self.algorithm.name()))
    }
}

struct State<E> {
    body: Body,
    expectation: E,
    held: Option<Bytes>,
    done: bool,
    failure: BodyFailure,
}

/// `body`, held to the signed SHA-256 `expected`.
pub fn sha256_checked(body: Body, expected: [u8; 32], failure: BodyFailure) -> Body {
    checked(body, SignedSha256 { hasher: Sha256::new(), expected }, failure)
}

/// `body`, held to the checksum `expected` (decoded) of `algorithm`.
pub(crate) fn checksum_checked(body: Body, algorithm: Algorithm, expected: Vec<u8>, failure: BodyFailure) -> Body {
    checked(body, DeclaredChecksum { algorithm, hasher: Some(Hasher::new(algorithm)), expected }, failure)
}

fn checked<E: Expectation>(body: Body, expectation: E, failure: BodyFailure) -> Body {
    let state = State { body, expectation, held: None, done: false, failure };
    common::http::stream_body(futures::stream::unfold(state, step))
}

/// One step of the body: the next frame to release, or the end.
async fn step<E: Expectation>(mut st: State<E>) -> Option<(Result<Bytes, BodyError>, State<E>)> {
    if st.done {
        return None;
    }
    loop {
        match st.body.frame().await {
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else { continue };
                if data.is_empty() {
                    continue;
                }
                st.expectation.update(&data);
                if let Some(prev) = st.held.replace(data) {
                    return Some((Ok(prev), st));
                }
            }
            Some(Err(e)) => {
                st.done = true;
                return Some((Err(e), st));
            }
            None => {
                st.done = true;
                match st.expectation.verdict() {
                    Ok(()) => return st.held.take().map(|last| (Ok(last), st)),
                    Err(why) => {
                        let e: BodyError = why.to_string().into();
                        st.failure.set(why);
                        return Some((Err(e), st));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> Body {
        let frames: Vec<Result<Bytes, BodyError>> = parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        let s = futures::stream::iter(frames);
        common::http::stream_body(s)
    }

    #[tokio::test]
    async fn passes_a_matching_body_and_fails_a_wrong_one_at_the_end() {
        let good: [u8; 32] = Sha256::digest(b"hello world").into();
        let f = BodyFailure::default();
        let out = sha256_checked(chunks(&[b"hello", b" ", b"world"]), good, f.clone()).collect().await.unwrap();
        assert_eq!(out.to_bytes(), "hello world");
        assert!(f.take().is_none());

        let mut body = sha256_checked(chunks(&[b"hello", b" ", b"WORLD"]), good, f.clone());
        let mut seen = Vec::new();
        let mut failed = false;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(fr) => seen.extend_from_slice(&fr.into_data().unwrap()),
                Err(_) => failed = true,
            }
        }
        assert!(failed);
        assert_eq!(seen, b"hello ", "the last frame is never released");
        assert!(matches!(f.take(), Some(S3Error::XAmzContentSHA256Mismatch { .. })));
    }

    #[tokio::test]
    async fn a_declared_checksum_is_held_to_the_body() {
        let crc = vec![0x0d, 0x4a, 0x11, 0x85]; // CRC32 of "hello world"
        let f = BodyFailure::default();
        let good = checksum_checked(chunks(&[b"hello", b" world"]), Algorithm::Crc32, crc.clone(), f.clone());
        assert_eq!(good.collect().await.unwrap().to_bytes(), "hello world");
        assert!(f.take().is_none());
        let bad = checksum_checked(chunks(&[b"hello", b" there"]), Algorithm::Crc32, crc, f.clone());
        assert!(bad.collect().await.is_err(), "a body that does not match never ends well");
        assert!(matches!(f.take(), Some(S3Error::BadChecksum("CRC32"))));
    }
}
