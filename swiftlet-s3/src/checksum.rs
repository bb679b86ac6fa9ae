//! S3's additional checksums (`x-amz-checksum-crc32`, `-crc32c`, `-crc64nvme`, `-sha1`,
//! `-sha256`): which one a write declares, in a header or as a trailer to come; computing
//! one as the body streams; and where an object keeps it (system metadata the Swift API
//! never shows). Values travel as the base64 of the big-endian digest.

use crate::error::{Result, S3Error};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::headers::get;
use http::HeaderMap;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// One of the checksum algorithms S3 offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    pub(crate) const ALL: [Algorithm; 5] =
        [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme, Algorithm::Sha1, Algorithm::Sha256];

    /// The name in `x-amz-sdk-checksum-algorithm` and error messages (`CRC32`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The header (and trailer) that carries its value.
    pub(crate) fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// Where an object keeps its value.
    pub(crate) fn sysmeta(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-object-sysmeta-s3api-checksum-crc32",
            Algorithm::Crc32c => "x-object-sysmeta-s3api-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-object-sysmeta-s3api-checksum-crc64nvme",
            Algorithm::Sha1 => "x-object-sysmeta-s3api-checksum-sha1",
            Algorithm::Sha256 => "x-object-sysmeta-s3api-checksum-sha256",
        }
    }

    fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    fn from_header(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.header().eq_ignore_ascii_case(name.trim()))
    }

    /// Decodes a header or trailer value: base64 of exactly this algorithm's digest.
    pub(crate) fn decode(self, value: &str) -> Result<Vec<u8>> {
        STANDARD
            .decode(value.trim())
            .ok()
            .filter(|raw| raw.len() == self.digest_len())
            .ok_or_else(|| S3Error::InvalidRequest(format!("Value for {} header is invalid.", self.header())))
    }
}

/// A checksum being computed over a body.
pub(crate) enum Hasher {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Crc64Nvme(crc64fast_nvme::Digest),
    Sha1(Sha1),
    Sha256(Sha256),
}

impl Hasher {
    pub(crate) fn new(alg: Algorithm) -> Hasher {
        match alg {
            Algorithm::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
            Algorithm::Crc32c => Hasher::Crc32c(0),
            Algorithm::Crc64Nvme => Hasher::Crc64Nvme(crc64fast_nvme::Digest::new()),
            Algorithm::Sha1 => Hasher::Sha1(Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc32(h) => h.update(data),
            Hasher::Crc32c(crc) => *crc = crc32c::crc32c_append(*crc, data),
            Hasher::Crc64Nvme(h) => h.write(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    /// The digest, big-endian.
    pub(crate) fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Crc32c(crc) => crc.to_be_bytes().to_vec(),
            Hasher::Crc64Nvme(h) => h.sum64().to_be_bytes().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// The checksum a write declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Declared {
    /// Its value came in a header (decoded).
    Header(Algorithm, Vec<u8>),
    /// Its value comes in the aws-chunked body's trailer (`x-amz-trailer`).
    Trailer(Algorithm),
}

impl Declared {
    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            Declared::Header(a, _) | Declared::Trailer(a) => *a,
        }
    }
}

/// The checksum a write's headers declare, if any: at most one `x-amz-checksum-*` value or
/// one checksum trailer, agreeing with `x-amz-sdk-checksum-algorithm` when that is sent.
pub(crate) fn declared(h: &HeaderMap) -> Result<Option<Declared>> {
    let invalid = |why: &str| S3Error::InvalidRequest(why.to_string());
    const MULTIPLE: &str = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.";
    // In S3's order: how many are declared, then which algorithm, then the value.
    let sent: Vec<_> = h
        .iter()
        .filter(|(n, _)| {
            n.as_str().strip_prefix("x-amz-checksum-").is_some_and(|k| !matches!(k, "mode" | "type" | "algorithm"))
        })
        .collect();
    let trailers: Vec<&str> = get(h, "x-amz-trailer")
        .map(|t| t.split(',').map(str::trim).filter(|t| !t.is_empty()).collect())
        .unwrap_or_default();
    if sent.len() > 1 || trailers.len() > 1 {
        return Err(invalid(MULTIPLE));
    }
    if !sent.is_empty() && !trailers.is_empty() {
        return Err(invalid("Expecting a single x-amz-checksum- header"));
    }
    let found = match (sent.first(), trailers.first()) {
        (Some((name, value)), _) => {
            let alg = Algorithm::from_header(name.as_str())
                .ok_or_else(|| invalid("The algorithm type you specified in x-amz-checksum- header is invalid."))?;
            let value = value.to_str().map_err(|_| invalid(&format!("Value for {name} header is invalid.")))?;
            Some(Declared::Header(alg, alg.decode(value)?))
        }
        (None, Some(trailer)) => Some(Declared::Trailer(
            Algorithm::from_header(trailer)
                .ok_or_else(|| invalid("The value specified in the x-amz-trailer header is not supported"))?,
        )),
        (None, None) => None,
    };
    if let Some(sdk) = get(h, "x-amz-sdk-checksum-algorithm") {
        let alg = Algorithm::from_name(sdk);
        match (&found, alg) {
            (_, None) => return Err(invalid("Value for x-amz-sdk-checksum-algorithm header is invalid.")),
            (None, Some(_)) => {
                return Err(invalid(
                    "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
                ))
            }
            (Some(d), Some(a)) if d.algorithm() != a => {
                return Err(invalid("Value for x-amz-sdk-checksum-algorithm header is invalid."))
            }
            _ => {}
        }
    }
    Ok(found)
}

/// Keeps a write's `declared` checksum with the object (`swift`, the Swift headers of its
/// PUT): one sent in a header goes as system metadata; a trailer's, known only once the
/// body is read, is announced as a footer the body ends with (`signature::streaming`).
pub(crate) fn keep(declared: &Option<Declared>, swift: &mut HeaderMap) {
    match declared {
        Some(Declared::Header(alg, digest)) => common::headers::set(swift, alg.sysmeta(), &encode(digest)),
        Some(Declared::Trailer(alg)) => common::headers::set(swift, common::http::FOOTERS_HEADER, alg.sysmeta()),
        None => {}
    }
}

/// A checksum sent in a header, as the header the write's answer echoes.
pub(crate) fn echoed(declared: &Option<Declared>) -> Option<(&'static str, String)> {
    match declared {
        Some(Declared::Header(alg, digest)) => Some((alg.header(), encode(digest))),
        _ => None,
    }
}

/// The stored checksum of an object, from its Swift headers: the header to answer with
/// and its value.
pub(crate) fn stored(swift: &HeaderMap) -> Option<(&'static str, String)> {
    Algorithm::ALL.into_iter().find_map(|a| get(swift, a.sysmeta()).map(|v| (a.header(), v.to_string())))
}

/// The base64 text of a digest, as S3 sends it.
pub(crate) fn encode(digest: &[u8]) -> String {
    STANDARD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(alg: Algorithm, data: &[u8]) -> String {
        let mut h = Hasher::new(alg);
        let (a, b) = data.split_at(data.len() / 2);
        h.update(a);
        h.update(b);
        encode(&h.finish())
    }

    #[test]
    fn digests_match_what_the_sdks_send() {
        // The values the AWS SDKs (botocore with awscrt) give for "hello world".
        assert_eq!(digest(Algorithm::Crc32, b"hello world"), "DUoRhQ==");
        assert_eq!(digest(Algorithm::Crc32c, b"hello world"), "yZRlqg==");
        assert_eq!(digest(Algorithm::Crc64Nvme, b"hello world"), "jSnVw/bqjr4=");
        assert_eq!(digest(Algorithm::Sha1, b"hello world"), "Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
        assert_eq!(digest(Algorithm::Sha256, b"hello world"), "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn a_write_declares_one_checksum_in_a_header_or_a_trailer() {
        let crc = ("x-amz-checksum-crc32", "DUoRhQ==");
        assert_eq!(declared(&headers(&[])).unwrap(), None);
        assert_eq!(declared(&headers(&[("x-amz-checksum-mode", "ENABLED")])).unwrap(), None);
        let d = declared(&headers(&[crc, ("x-amz-sdk-checksum-algorithm", "crc32")])).unwrap();
        assert_eq!(d, Some(Declared::Header(Algorithm::Crc32, vec![0x0d, 0x4a, 0x11, 0x85])));
        let t = declared(&headers(&[("x-amz-trailer", "x-amz-checksum-crc64nvme")])).unwrap();
        assert_eq!(t, Some(Declared::Trailer(Algorithm::Crc64Nvme)));
    }

    #[test]
    fn bad_declarations_are_refused() {
        let refused = |pairs: &[(&str, &str)]| matches!(declared(&headers(pairs)), Err(S3Error::InvalidRequest(_)));
        // Wrong length, not base64, an unknown algorithm.
        assert!(refused(&[("x-amz-checksum-crc32", "AAAA")]));
        assert!(refused(&[("x-amz-checksum-sha256", "not base64!")]));
        assert!(refused(&[("x-amz-checksum-md5", "AAAAAA==")]));
        // Two checksums, a header and a trailer, an algorithm naming another or nothing.
        assert!(refused(&[("x-amz-checksum-crc32", "DUoRhQ=="), ("x-amz-checksum-crc32c", "yZRlqg==")]));
        assert!(refused(&[("x-amz-checksum-crc32", "DUoRhQ=="), ("x-amz-trailer", "x-amz-checksum-crc32")]));
        assert!(refused(&[("x-amz-checksum-crc32", "DUoRhQ=="), ("x-amz-sdk-checksum-algorithm", "SHA1")]));
        assert!(refused(&[("x-amz-sdk-checksum-algorithm", "CRC32")]));
        assert!(refused(&[("x-amz-trailer", "x-amz-meta-foo")]));
    }
}
