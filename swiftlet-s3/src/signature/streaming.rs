//! aws-chunked bodies: `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (each chunk
//! `<hex size>;chunk-signature=<sig>\r\n<data>\r\n`, ending with a zero-sized chunk; each
//! chunk's signature chains from the previous one, the seed being the request's
//! signature), and the `-TRAILER` forms, signed or `STREAMING-UNSIGNED-PAYLOAD-TRAILER`,
//! whose zero-sized chunk is followed by trailer lines carrying the body's checksum (and,
//! signed, `x-amz-trailer-signature`). Chunks are verified one at a time as they stream
//! (memory is bounded by one chunk), and each verified chunk is held back until the next
//! one checks out and, with a trailer, until the checksum matches, so a bad or missing
//! final chunk or trailer leaves storage with an incomplete body it will not commit.

use super::failure::BodyFailure;
use super::v4::hmac;
use crate::checksum::{Algorithm, Hasher};
use crate::error::S3Error;
use bytes::{Buf, Bytes, BytesMut};
use common::http::{Body, BodyError};
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::Frame;
use sha2::{Digest, Sha256};

/// The largest chunk accepted (SDKs send 64 KiB to 8 MiB).
pub const MAX_CHUNK: usize = 16 << 20;
const MAX_HEADER_LINE: usize = 4096;
/// The most trailer bytes accepted (a checksum and a signature need ~150).
const MAX_TRAILER: usize = 4096;
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

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

    /// The trailer's signature: over its lines (`name:value\n` each), chained from the
    /// last chunk's.
    pub fn sign_trailer(&self, previous: &str, canonical: &str) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{previous}\n{}",
            self.amz_date,
            self.scope,
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        hex::encode(hmac(&self.key, sts.as_bytes()))
    }
}

/// How an aws-chunked body is framed and what it must prove.
#[derive(Debug, Clone)]
pub struct Framing {
    /// Chunk (and trailer) signatures to check; `None` for an unsigned body.
    pub signer: Option<ChunkSigner>,
    /// `x-amz-decoded-content-length`.
    pub decoded_length: u64,
    /// The checksum its trailer carries (`x-amz-trailer`), if it has one.
    pub trailer: Option<Algorithm>,
}

/// One parsed chunk: its data and signature; `last` for the zero-sized one.
struct Chunk {
    data: Bytes,
    signature: Option<String>,
    last: bool,
}

/// Bad framing is, to S3, a body that ended where it should not have.
fn malformed(why: &str) -> S3Error {
    S3Error::IncompleteBody(format!("malformed aws-chunked body: {why}"))
}

/// Takes one whole chunk off the front of `buf`, or `None` if more bytes are needed.
fn next_chunk(buf: &mut BytesMut) -> Result<Option<Chunk>, S3Error> {
    let window = &buf[..buf.len().min(MAX_HEADER_LINE)];
    let Some(eol) = window.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= MAX_HEADER_LINE { Err(malformed("chunk header too long")) } else { Ok(None) };
    };
    let line = std::str::from_utf8(&buf[..eol]).map_err(|_| malformed("chunk header is not text"))?;
    let mut fields = line.split(';');
    let size_hex = fields.next().unwrap_or("").trim();
    if size_hex.is_empty() || size_hex.len() > 8 {
        return Err(malformed("chunk size"));
    }
    let size = usize::from_str_radix(size_hex, 16).map_err(|_| malformed("chunk size"))?;
    if size > MAX_CHUNK {
        return Err(malformed("chunk too large"));
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
        return Err(malformed("chunk data is not followed by CRLF"));
    }
    let mut whole = buf.split_to(need);
    whole.advance(eol + 2);
    whole.truncate(size);
    Ok(Some(Chunk { data: whole.freeze(), signature, last: false }))
}

/// Takes the trailer lines off `buf` once the empty line that ends them is there (or, at
/// the end of the body, whatever lines there are): `name:value` pairs, names lowercased.
fn next_trailers(buf: &mut BytesMut, at_end: bool) -> Result<Option<Vec<(String, String)>>, S3Error> {
    // The trailer ends at an empty line (what follows is ignored), or with the body.
    let end =
        if buf.starts_with(b"\r\n") { Some(2) } else { buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4) };
    let end = match end {
        Some(e) => e,
        None if buf.len() > MAX_TRAILER => return Err(S3Error::MalformedTrailer),
        None if at_end => buf.len(),
        None => return Ok(None),
    };
    let raw = buf.split_to(end);
    let text = std::str::from_utf8(&raw).map_err(|_| S3Error::MalformedTrailer)?;
    let mut lines = Vec::new();
    for line in text.split("\r\n").map(str::trim).filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(S3Error::MalformedTrailer)?;
        lines.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(Some(lines))
}

struct State {
    body: Body,
    buf: BytesMut,
    signer: Option<ChunkSigner>,
    previous: String,
    /// The trailer's checksum and its running value, while one is expected.
    trailer: Option<(Algorithm, Hasher)>,
    /// Past the zero-sized chunk, reading the trailer.
    in_trailer: bool,
    /// The checked trailer, as the stored object's system metadata, to end the body with.
    footers: Option<HeaderMap>,
    held: Option<Bytes>,
    total: u64,
    expected: u64,
    done: bool,
    failure: BodyFailure,
}

impl State {
    fn fail(mut self, e: S3Error) -> Option<(Result<Frame<Bytes>, BodyError>, State)> {
        self.done = true;
        let msg: BodyError = e.to_string().into();
        self.failure.set(e);
        Some((Err(msg), self))
    }

    /// Checks the trailer: its signature (for a signed body), then the checksum, which it
    /// returns as the object's system metadata.
    fn check_trailer(&mut self, lines: &[(String, String)]) -> Result<HeaderMap, S3Error> {
        if let Some(signer) = &self.signer {
            let given = lines.iter().find(|(n, _)| n == TRAILER_SIGNATURE).map(|(_, v)| v.to_ascii_lowercase());
            let canonical: String =
                lines.iter().filter(|(n, _)| n != TRAILER_SIGNATURE).map(|(n, v)| format!("{n}:{v}\n")).collect();
            let expected = signer.sign_trailer(&self.previous, &canonical);
            let ok = given.is_some_and(|g| swiftlet_proxy::constant_time_eq(expected.as_bytes(), g.as_bytes()));
            if !ok {
                return Err(S3Error::SignatureDoesNotMatch);
            }
        }
        let mut footers = HeaderMap::new();
        let Some((alg, hasher)) = self.trailer.take() else { return Ok(footers) };
        // Only the declared checksum (its last value, as S3 takes it) and the signature.
        if lines.iter().any(|(n, _)| n != alg.header() && n != TRAILER_SIGNATURE) {
            return Err(S3Error::MalformedTrailer);
        }
        let value = lines.iter().rev().find(|(n, _)| n == alg.header()).map(|(_, v)| v.as_str());
        let value = value.ok_or(S3Error::MalformedTrailer)?;
        let digest = hasher.finish();
        if alg.decode(value)? != digest {
            return Err(S3Error::BadChecksum(alg.name()));
        }
        let stored = http::HeaderValue::from_str(&crate::checksum::encode(&digest))
            .map_err(|e| S3Error::InternalError(e.to_string()))?;
        footers.insert(alg.sysmeta(), stored);
        Ok(footers)
    }
}

/// Decodes (and, with a signer, verifies) an aws-chunked body framed as `framing` says.
pub fn decode(body: Body, framing: Framing, failure: BodyFailure) -> Body {
    let Framing { signer, decoded_length, trailer } = framing;
    let previous = signer.as_ref().map(|s| s.seed.clone()).unwrap_or_default();
    let state = State {
        body,
        buf: BytesMut::new(),
        signer,
        previous,
        trailer: trailer.map(|alg| (alg, Hasher::new(alg))),
        in_trailer: false,
        footers: None,
        held: None,
        total: 0,
        expected: decoded_length,
        done: false,
        failure,
    };
    common::http::frame_body(futures::stream::unfold(state, step))
}

/// One step of the body: the next frame to release, or the end.
async fn step(mut st: State) -> Option<(Result<Frame<Bytes>, BodyError>, State)> {
    if st.done {
        // A checked trailer goes on, for storage to keep (the proxy's footers).
        return st.footers.take().map(|f| (Ok(Frame::trailers(f)), st));
    }
    let mut at_end = false;
    loop {
        if st.in_trailer {
            match next_trailers(&mut st.buf, at_end) {
                Err(e) => return st.fail(e),
                Ok(Some(lines)) => {
                    match st.check_trailer(&lines) {
                        Ok(footers) => st.footers = Some(footers),
                        Err(e) => return st.fail(e),
                    }
                    st.done = true;
                    return match st.held.take() {
                        Some(last) => Some((Ok(Frame::data(last)), st)),
                        None => st.footers.take().map(|f| (Ok(Frame::trailers(f)), st)),
                    };
                }
                Ok(None) => {}
            }
        } else {
            let chunk = match next_chunk(&mut st.buf) {
                Err(e) => return st.fail(e),
                Ok(c) => c,
            };
            if let Some(chunk) = chunk {
                match take_chunk(&mut st, chunk) {
                    Err(e) => return st.fail(e),
                    Ok(Taken::Release(prev)) => return Some((Ok(Frame::data(prev)), st)),
                    Ok(Taken::More) => continue,
                    Ok(Taken::End) if st.trailer.is_some() => {
                        st.in_trailer = true;
                        continue;
                    }
                    Ok(Taken::End) => {
                        st.done = true;
                        return st.held.take().map(|last| (Ok(Frame::data(last)), st));
                    }
                }
            }
        }
        match st.body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    st.buf.extend_from_slice(&data);
                }
            }
            Some(Err(e)) => {
                st.done = true;
                return Some((Err(e), st));
            }
            None if st.in_trailer && !at_end => at_end = true,
            None => return st.fail(S3Error::IncompleteBody("the aws-chunked body ended early".into())),
        }
    }
}

/// What taking one chunk led to.
enum Taken {
    /// The chunk before it may go to storage.
    Release(Bytes),
    /// Nothing to release yet.
    More,
    /// The zero-sized chunk: the data is complete.
    End,
}

/// Verifies one chunk and counts it.
fn take_chunk(st: &mut State, chunk: Chunk) -> Result<Taken, S3Error> {
    if let Some(signer) = &st.signer {
        let given = chunk.signature.as_deref().ok_or(S3Error::SignatureDoesNotMatch)?;
        let expected = signer.sign(&st.previous, &chunk.data);
        if !swiftlet_proxy::constant_time_eq(expected.as_bytes(), given.as_bytes()) {
            return Err(S3Error::SignatureDoesNotMatch);
        }
        st.previous = expected;
    }
    if chunk.last {
        if st.total != st.expected {
            let why = format!("{} bytes decoded, x-amz-decoded-content-length is {}", st.total, st.expected);
            return Err(S3Error::IncompleteBody(why));
        }
        return Ok(Taken::End);
    }
    st.total += chunk.data.len() as u64;
    if st.total > st.expected {
        return Err(S3Error::IncompleteBody("the body is longer than x-amz-decoded-content-length".into()));
    }
    if let Some((_, hasher)) = st.trailer.as_mut() {
        hasher.update(&chunk.data);
    }
    Ok(st.held.replace(chunk.data).map_or(Taken::More, Taken::Release))
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
        run_framed(raw, Framing { signer: Some(signer()), decoded_length: len, trailer: None }).await
    }

    async fn run_framed(raw: Vec<u8>, framing: Framing) -> (Vec<u8>, Option<S3Error>) {
        let f = BodyFailure::default();
        let mut b = decode(body(raw), framing, f.clone());
        let mut out = Vec::new();
        while let Some(fr) = b.frame().await {
            match fr {
                Ok(fr) => out.extend_from_slice(&fr.into_data().unwrap_or_default()),
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
        assert!(matches!(err, Some(S3Error::IncompleteBody(_))));
        let (_, err) = run(b"zz;chunk-signature=00\r\n".to_vec(), 5).await;
        assert!(matches!(err, Some(S3Error::IncompleteBody(_))));
    }

    /// `parts` unsigned, with the trailer `lines` after the zero-sized chunk.
    fn unsigned_with_trailer(parts: &[&[u8]], lines: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            out.extend_from_slice(format!("{:x}\r\n", p.len()).as_bytes());
            out.extend_from_slice(p);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("0\r\n{lines}\r\n").as_bytes());
        out
    }

    fn crc32_trailer(len: u64, signer: Option<ChunkSigner>) -> Framing {
        Framing { signer, decoded_length: len, trailer: Some(Algorithm::Crc32) }
    }

    #[tokio::test]
    async fn an_unsigned_body_is_held_to_its_trailing_checksum() {
        // CRC32 of "hello world" is DUoRhQ==.
        let good = unsigned_with_trailer(&[b"hello ", b"world"], "x-amz-checksum-crc32:DUoRhQ==\r\n");
        let (out, err) = run_framed(good.clone(), crc32_trailer(11, None)).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, b"hello world");
        // The checked value ends the body as a trailer, for storage to keep.
        let whole = decode(body(good), crc32_trailer(11, None), BodyFailure::default()).collect().await.unwrap();
        let kept = whole.trailers().and_then(|t| t.get("x-object-sysmeta-s3api-checksum-crc32")).cloned();
        assert_eq!(kept.as_ref().map(|v| v.to_str().unwrap()), Some("DUoRhQ=="));

        let wrong = unsigned_with_trailer(&[b"hello ", b"world"], "x-amz-checksum-crc32:AAAAAA==\r\n");
        let (out, err) = run_framed(wrong, crc32_trailer(11, None)).await;
        assert!(matches!(err, Some(S3Error::BadChecksum("CRC32"))), "{err:?}");
        assert!(out.len() < 11, "the last chunk is held back until the checksum matches");

        let missing = unsigned_with_trailer(&[b"hello ", b"world"], "");
        let (_, err) = run_framed(missing, crc32_trailer(11, None)).await;
        assert!(matches!(err, Some(S3Error::MalformedTrailer)), "{err:?}");

        let endless = unsigned_with_trailer(&[b"hi"], &"x".repeat(2 * MAX_TRAILER));
        let (_, err) = run_framed(endless, crc32_trailer(2, None)).await;
        assert!(matches!(err, Some(S3Error::MalformedTrailer)), "{err:?}");

        // Another trailer is refused; of two values of the checksum the last counts.
        let extra = unsigned_with_trailer(&[b"hello world"], "x-amz-checksum-crc32:DUoRhQ==\r\nbonus: 1\r\n");
        let (_, err) = run_framed(extra, crc32_trailer(11, None)).await;
        assert!(matches!(err, Some(S3Error::MalformedTrailer)), "{err:?}");
        let twice = unsigned_with_trailer(
            &[b"hello world"],
            "x-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:DUoRhQ==\r\n",
        );
        let (out, err) = run_framed(twice, crc32_trailer(11, None)).await;
        assert!(err.is_none() && out == b"hello world", "{err:?}");
    }

    #[tokio::test]
    async fn a_signed_trailer_must_carry_its_signature() {
        let s = signer();
        let mut raw = encode(&s, &[b"hello ", b"world"]);
        // The trailer follows the zero-sized chunk's header line directly.
        raw.truncate(raw.len() - 2);
        // The zero-sized chunk's signature seeds the trailer's.
        let last = std::str::from_utf8(&raw).unwrap().rsplit("chunk-signature=").next().unwrap()[..64].to_string();
        let canonical = "x-amz-checksum-crc32:DUoRhQ==\n";
        let sig = s.sign_trailer(&last, canonical);
        let mut good = raw.clone();
        good.extend_from_slice(
            format!("x-amz-checksum-crc32:DUoRhQ==\r\nx-amz-trailer-signature:{sig}\r\n\r\n").as_bytes(),
        );
        let (out, err) = run_framed(good, crc32_trailer(11, Some(signer()))).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, b"hello world");

        raw.extend_from_slice(
            format!("x-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:{sig}\r\n\r\n").as_bytes(),
        );
        let (_, err) = run_framed(raw, crc32_trailer(11, Some(signer()))).await;
        assert!(matches!(err, Some(S3Error::SignatureDoesNotMatch)), "a changed trailer fails its signature: {err:?}");
    }
}
