//! A body whose SHA-256 was signed: hashed as it streams, and its last frame held back
//! until the hash is checked, so storage never receives a complete body that does not
//! match (a mismatch ends the body with an error instead, and nothing is committed).

use super::{BodyFailure, S3Error};
use bytes::Bytes;
use common::http::{Body, BodyError};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

struct State {
    body: Body,
    hasher: Sha256,
    expected: [u8; 32],
    held: Option<Bytes>,
    done: bool,
    failure: BodyFailure,
}

pub fn sha256_checked(body: Body, expected: [u8; 32], failure: BodyFailure) -> Body {
    let state = State { body, hasher: Sha256::new(), expected, held: None, done: false, failure };
    common::http::stream_body(futures::stream::unfold(state, step))
}

/// One step of the body: the next frame to release, or the end.
async fn step(mut st: State) -> Option<(Result<Bytes, BodyError>, State)> {
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
                st.hasher.update(&data);
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
                if st.hasher.finalize_reset().as_slice() == st.expected {
                    return st.held.take().map(|last| (Ok(last), st));
                }
                st.failure.set(S3Error::XAmzContentSHA256Mismatch);
                let e: BodyError = "x-amz-content-sha256 does not match the body".into();
                return Some((Err(e), st));
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
        assert!(matches!(f.take(), Some(S3Error::XAmzContentSHA256Mismatch)));
    }
}
