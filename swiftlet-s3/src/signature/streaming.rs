//! `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: an aws-chunked body, each chunk
//! `<hex size>;chunk-signature=<sig>\r\n<data>\r\n`, ending with a zero-sized chunk. Each
//! chunk's signature chains from the previous one (the seed is the request's signature).
//! Chunks are verified one at a time as they stream (memory is bounded by one chunk), and
//! each verified chunk is held back until the next one checks out, so a bad or missing
//! final chunk leaves storage with an incomplete body it will not commit.

use super::failure::BodyFailure;
use super::v4::hmac;
use crate::error::S3Error;
use bytes::{Buf, Bytes, BytesMut};
use common::http::{Body, BodyError};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

/// The largest chunk accepted (SDKs send 64 KiB to 8 MiB).
pub const MAX_CHUNK: usize = 16 << 20;
const MAX_HEADER_LINE: usize = 4096;
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Signs chunks with the request's signing key and scope.
#[derive(Debug, Clone)]
pub struct ChunkSigner {
    key: [u8; 32],
    amz_date: String,
    scope: String,
    seed: String,
}

impl ChunkSigner {
    pub fn new(key: [u8; 32], amz_date: String, scope: String, seed: String) -> Self {
        ChunkSigner { key, amz_date, scope, seed }
    }

    pub fn sign(&self, previous: &str, data: &[u8]) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{previous}\n{EMPTY_SHA256}\n{}",
            self.amz_date,
            self.scope,
            hex::encode(Sha256::digest(data))
        );
        hex::encode(hmac(&self.key, sts.as_bytes()))
    }
}

/// One parsed chunk: its data and signature; `last` for the zero-sized one.
struct Chunk {
    data: Bytes,
    signature: Option<String>,
    last: bool,
}

/// Takes one whole chunk off the front of `buf`, or `None` if more bytes are needed.
fn next_chunk(buf: &mut BytesMut) -> Result<Option<Chunk>, S3Error> {
    let bad = |why: &str| S3Error::InvalidRequest(format!("malformed aws-chunked body: {why}"));
    let window = &buf[..buf.len().min(MAX_HEADER_LINE)];
    let Some(eol) = window.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= MAX_HEADER_LINE { Err(bad("chunk header too long")) } else { Ok(None) };
    };
    let line = std::str::from_utf8(&buf[..eol]).map_err(|_| bad("chunk header is not text"))?;
    let mut fields = line.split(';');
    let size_hex = fields.next().unwrap_or("").trim();
    if size_hex.is_empty() || size_hex.len() > 8 {
        return Err(bad("chunk size"));
    }
    let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad("chunk size"))?;
    if size > MAX_CHUNK {
        return Err(bad("chunk too large"));
    }
    let signature = fields.find_map(|f| f.trim().strip_prefix("chunk-signature=")).map(str::to_ascii_lowercase);
    if size == 0 {
        buf.advance(eol + 2);
        return Ok(Some(Chunk { data: Bytes::new(), signature, last: true }));
    }
    let need = eol + 2 + size + 2;
    if buf.len() < need {
        return Ok(None);
    }
    if &buf[need - 2..need] != b"\r\n" {
        return Err(bad("chunk data is not followed by CRLF"));
    }
    let mut whole = buf.split_to(need);
    whole.advance(eol + 2);
    whole.truncate(size);
    Ok(Some(Chunk { data: whole.freeze(), signature, last: false }))
}

struct State {
    body: Body,
    buf: BytesMut,
    signer: Option<ChunkSigner>,
    previous: String,
    held: Option<Bytes>,
    total: u64,
    expected: u64,
    done: bool,
    failure: BodyFailure,
}

impl State {
    fn fail(mut self, e: S3Error) -> Option<(Result<Bytes, BodyError>, State)> {
        self.done = true;
        let msg: BodyError = e.to_string().into();
        self.failure.set(e);
        Some((Err(msg), self))
    }
}

/// Decodes (and, with a signer, verifies) an aws-chunked body of `decoded_length` bytes.
pub fn decode(body: Body, signer: Option<ChunkSigner>, decoded_length: u64, failure: BodyFailure) -> Body {
    let previous = signer.as_ref().map(|s| s.seed.clone()).unwrap_or_default();
    let state = State {
        body,
        buf: BytesMut::new(),
        signer,
        previous,
        held: None,
        total: 0,
        expected: decoded_length,
        done: false,
        failure,
    };
    common::http::stream_body(futures::stream::unfold(state, step))
}

/// One step of the body: the next frame to release, or the end.
async fn step(mut st: State) -> Option<(Result<Bytes, BodyError>, State)> {
    if st.done {
        return None;
    }
    loop {
        let chunk = match next_chunk(&mut st.buf) {
            Err(e) => return st.fail(e),
            Ok(Some(c)) => c,
            Ok(None) => match st.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        st.buf.extend_from_slice(&data);
                    }
                    continue;
                }
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
                None => return st.fail(S3Error::IncompleteBody("the aws-chunked body ended early".into())),
            },
        };
        if let Some(signer) = &st.signer {
            let Some(given) = chunk.signature.as_deref() else {
                return st.fail(S3Error::SignatureDoesNotMatch);
            };
            let expected = signer.sign(&st.previous, &chunk.data);
            if !swiftlet_proxy::constant_time_eq(expected.as_bytes(), given.as_bytes()) {
                return st.fail(S3Error::SignatureDoesNotMatch);
            }
            st.previous = expected;
        }
        if chunk.last {
            if st.total != st.expected {
                let why = format!("{} bytes decoded, x-amz-decoded-content-length is {}", st.total, st.expected);
                return st.fail(S3Error::IncompleteBody(why));
            }
            st.done = true;
            return st.held.take().map(|last| (Ok(last), st));
        }
        st.total += chunk.data.len() as u64;
        if st.total > st.expected {
            return st.fail(S3Error::InvalidRequest("the body is longer than x-amz-decoded-content-length".into()));
        }
        if let Some(prev) = st.held.replace(chunk.data) {
            return Some((Ok(prev), st));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> ChunkSigner {
        let key = crate::signature::v4::signing_key("secret", "20130524/us-east-1/s3/aws4_request");
        ChunkSigner::new(key, "20130524T000000Z".into(), "20130524/us-east-1/s3/aws4_request".into(), "ab".repeat(32))
    }

    /// Encodes `parts` as an aws-chunked body signed by `s`.
    fn encode(s: &ChunkSigner, parts: &[&[u8]]) -> Vec<u8> {
        let mut prev = s.seed.clone();
        let mut out = Vec::new();
        for p in parts.iter().copied().chain([&b""[..]]) {
            let sig = s.sign(&prev, p);
            out.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", p.len()).as_bytes());
            out.extend_from_slice(p);
            out.extend_from_slice(b"\r\n");
            prev = sig;
        }
        out
    }

    /// Feeds `raw` in small frames, as a network would.
    fn body(raw: Vec<u8>) -> Body {
        let frames: Vec<Result<Bytes, BodyError>> = raw.chunks(7).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        common::http::stream_body(futures::stream::iter(frames))
    }

    async fn run(raw: Vec<u8>, len: u64) -> (Vec<u8>, Option<S3Error>) {
        let f = BodyFailure::default();
        let mut b = decode(body(raw), Some(signer()), len, f.clone());
        let mut out = Vec::new();
        while let Some(fr) = b.frame().await {
            match fr {
                Ok(fr) => out.extend_from_slice(&fr.into_data().unwrap()),
                Err(_) => break,
            }
        }
        (out, f.take())
    }

    #[tokio::test]
    async fn decodes_and_verifies_chunks() {
        let raw = encode(&signer(), &[b"hello ", b"chunked ", b"world"]);
        let (out, err) = run(raw, 19).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, b"hello chunked world");
    }

    #[tokio::test]
    async fn a_tampered_chunk_stops_the_body_before_it_is_released() {
        let mut raw = encode(&signer(), &[b"hello ", b"chunked ", b"world"]);
        let pos = raw.windows(7).position(|w| w == b"chunked").unwrap();
        raw[pos] = b'C';
        let (out, err) = run(raw, 19).await;
        assert!(matches!(err, Some(S3Error::SignatureDoesNotMatch)));
        assert!(out.len() < 19);
    }

    #[tokio::test]
    async fn truncation_and_bad_lengths_fail() {
        let raw = encode(&signer(), &[b"hello ", b"world"]);
        let cut = raw[..raw.len() - 90].to_vec();
        let (out, err) = run(cut, 11).await;
        assert!(matches!(err, Some(S3Error::IncompleteBody(_))), "{err:?}");
        assert!(out.len() < 11, "the last chunk is held back");
        let (_, err) = run(raw.clone(), 12).await;
        assert!(matches!(err, Some(S3Error::IncompleteBody(_))));
        let (_, err) = run(raw, 5).await;
        assert!(matches!(err, Some(S3Error::InvalidRequest(_))));
        let (_, err) = run(b"zz;chunk-signature=00\r\n".to_vec(), 5).await;
        assert!(matches!(err, Some(S3Error::InvalidRequest(_))));
    }
}
