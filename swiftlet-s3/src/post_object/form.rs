//! Reading a browser upload's `multipart/form-data` body as it streams (multer parses
//! the parts): every field before the file is capped, and so are their count and total
//! size, all within the same deadlines as the XML bodies; the file part is never
//! buffered, it streams to storage counted against its allowed size. Fields after the
//! file are ignored, as S3 ignores them.

use crate::error::{Result, S3Error};
use crate::request_body::Deadlines;
use crate::signature::BodyFailure;
use bytes::Bytes;
use common::http::{Body, BodyError};
use futures::StreamExt;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The largest form field (a policy document of S3's 20 KiB cap, base64, fits).
pub(crate) const MAX_FIELD_BYTES: usize = 32 * 1024;
/// All fields before the file together, names included.
pub(crate) const MAX_PRE_DATA: usize = 64 * 1024;
/// Fields before the file.
pub(crate) const MAX_FIELDS: usize = 64;

/// The fields (names lower-case, in order) and the file part, still unread.
pub(crate) struct Form {
    pub fields: Vec<(String, String)>,
    pub file: FilePart,
    /// Bytes of the fields read before the file.
    pub pre_data: usize,
}

pub(crate) struct FilePart {
    pub filename: String,
    pub content_type: Option<String>,
    field: multer::Field<'static>,
}

fn malformed(e: multer::Error) -> S3Error {
    match e {
        multer::Error::StreamReadFailed(e) => S3Error::IncompleteBody(e.to_string()),
        e => S3Error::MalformedPOSTRequest(format!(
            "The body of your POST request is not well-formed multipart/form-data: {e}"
        )),
    }
}

/// Waits for `fut`, at most the idle wait and never past `end`.
async fn within<T>(end: Instant, idle: Duration, fut: impl Future<Output = T>) -> Result<T> {
    tokio::time::timeout_at((Instant::now() + idle).min(end), fut).await.map_err(|_| S3Error::RequestTimeout)
}

/// Reads the fields up to the file part.
pub(crate) async fn read(body: Body, boundary: String, deadlines: Deadlines) -> Result<Form> {
    let stream = http_body_util::BodyStream::new(body).filter_map(|frame| async move {
        match frame {
            Ok(frame) => frame.into_data().ok().map(Ok::<Bytes, BodyError>),
            Err(e) => Some(Err(e)),
        }
    });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let end = Instant::now() + deadlines.total;
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut pre_data = 0usize;
    loop {
        let next = within(end, deadlines.idle, multipart.next_field()).await?.map_err(malformed)?;
        let Some(mut field) = next else { return Err(S3Error::IncorrectNumberOfFilesInPostRequest) };
        let name = field.name().unwrap_or("").to_ascii_lowercase();
        if name == "file" {
            let filename = field.file_name().unwrap_or("").to_string();
            let content_type = field.content_type().map(|m| m.to_string());
            return Ok(Form { fields, file: FilePart { filename, content_type, field }, pre_data });
        }
        if fields.len() >= MAX_FIELDS {
            return Err(S3Error::MaxPostPreDataLengthExceeded);
        }
        pre_data += name.len();
        let mut value = Vec::new();
        while let Some(chunk) = within(end, deadlines.idle, field.chunk()).await?.map_err(malformed)? {
            if value.len() + chunk.len() > MAX_FIELD_BYTES || pre_data + value.len() + chunk.len() > MAX_PRE_DATA {
                return Err(S3Error::MaxPostPreDataLengthExceeded);
            }
            value.extend_from_slice(&chunk);
        }
        pre_data += value.len();
        let value = String::from_utf8(value)
            .map_err(|_| S3Error::InvalidArgument(format!("The form field {name} is not UTF-8 text")))?;
        if name.is_empty() || fields.iter().any(|(n, _)| *n == name) {
            return Err(S3Error::InvalidArgument(format!("The form field '{name}' is empty-named or repeated")));
        }
        fields.push((name, value));
    }
}

struct Streaming {
    field: multer::Field<'static>,
    seen: u64,
    min: u64,
    max: u64,
    idle: Duration,
    failure: BodyFailure,
    done: bool,
}

impl FilePart {
    /// The file's bytes as a body: past `max` bytes it ends with EntityTooLarge, short of
    /// `min` with EntityTooSmall (left in `failure`), instead of ending cleanly, so storage
    /// commits nothing out of range. A client silent for `idle` is given up on.
    pub(crate) fn into_body(self, min: u64, max: u64, idle: Duration, failure: BodyFailure) -> Body {
        let st = Streaming { field: self.field, seen: 0, min, max, idle, failure, done: false };
        common::http::stream_body(futures::stream::unfold(st, step))
    }
}

async fn step(mut st: Streaming) -> Option<(std::result::Result<Bytes, BodyError>, Streaming)> {
    if st.done {
        return None;
    }
    let fail = |st: &mut Streaming, e: S3Error| {
        st.done = true;
        let text: BodyError = e.to_string().into();
        st.failure.set(e);
        Err(text)
    };
    let next = match tokio::time::timeout(st.idle, st.field.chunk()).await {
        Err(_) => return Some((fail(&mut st, S3Error::RequestTimeout), st)),
        Ok(Err(e)) => return Some((fail(&mut st, malformed(e)), st)),
        Ok(Ok(next)) => next,
    };
    match next {
        Some(chunk) => {
            st.seen += chunk.len() as u64;
            if st.seen > st.max {
                return Some((fail(&mut st, S3Error::EntityTooLarge), st));
            }
            Some((Ok(chunk), st))
        }
        None if st.seen < st.min => Some((fail(&mut st, S3Error::EntityTooSmall), st)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    const QUICK: Deadlines = Deadlines { idle: Duration::from_millis(200), total: Duration::from_secs(2) };

    fn form(parts: &[(&str, &str)], file: &[u8]) -> Body {
        let mut out = Vec::new();
        for (name, value) in parts {
            out.extend_from_slice(
                format!("--XB\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        out.extend_from_slice(b"--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n");
        out.extend_from_slice(b"Content-Type: text/plain\r\n\r\n");
        out.extend_from_slice(file);
        out.extend_from_slice(
            b"\r\n--XB\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nignored\r\n--XB--\r\n",
        );
        common::http::full(Bytes::from(out))
    }

    #[tokio::test]
    async fn reads_fields_then_streams_the_file() {
        let f =
            read(form(&[("Key", "k/${filename}"), ("acl", "private")], b"hello"), "XB".into(), QUICK).await.unwrap();
        assert_eq!(f.fields, [("key".to_string(), "k/${filename}".to_string()), ("acl".into(), "private".into())]);
        assert_eq!((f.file.filename.as_str(), f.file.content_type.as_deref()), ("a.txt", Some("text/plain")));
        let failure = BodyFailure::default();
        let body = f.file.into_body(0, 100, QUICK.idle, failure.clone()).collect().await.unwrap().to_bytes();
        assert_eq!(body, "hello");
        assert!(failure.take().is_none());
    }

    #[tokio::test]
    async fn refuses_files_out_of_range_and_oversized_fields() {
        for (min, max, want) in [(0u64, 4u64, "EntityTooLarge"), (6, 100, "EntityTooSmall")] {
            let f = read(form(&[], b"hello"), "XB".into(), QUICK).await.unwrap();
            let failure = BodyFailure::default();
            assert!(f.file.into_body(min, max, QUICK.idle, failure.clone()).collect().await.is_err());
            assert_eq!(failure.take().map(|e| e.code()), Some(want));
        }
        let big = "x".repeat(MAX_FIELD_BYTES + 1);
        let got = read(form(&[("key", &big)], b""), "XB".into(), QUICK).await;
        assert!(matches!(got, Err(S3Error::MaxPostPreDataLengthExceeded)));
        let many: Vec<(String, String)> = (0..=MAX_FIELDS).map(|i| (format!("x-ignore-{i}"), "v".into())).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert!(matches!(read(form(&many, b""), "XB".into(), QUICK).await, Err(S3Error::MaxPostPreDataLengthExceeded)));
        let twice = read(form(&[("key", "a"), ("KEY", "b")], b""), "XB".into(), QUICK).await;
        assert!(matches!(twice, Err(S3Error::InvalidArgument(_))));
        let no_file = common::http::full(Bytes::from_static(
            b"--XB\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--XB--\r\n",
        ));
        assert!(matches!(read(no_file, "XB".into(), QUICK).await, Err(S3Error::IncorrectNumberOfFilesInPostRequest)));
        let garbage = common::http::full(Bytes::from_static(b"not a form at all"));
        assert!(read(garbage, "XB".into(), QUICK).await.is_err());
    }

    #[tokio::test]
    async fn gives_up_on_a_client_that_stalls_in_the_fields() {
        let head = Bytes::from_static(b"--XB\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk");
        let stalls = futures::stream::iter([Ok::<_, BodyError>(head)]).chain(futures::stream::pending());
        let got =
            tokio::time::timeout(Duration::from_secs(3), read(common::http::stream_body(stalls), "XB".into(), QUICK));
        assert!(matches!(got.await.expect("must give up on its own"), Err(S3Error::RequestTimeout)));
    }
}
