//! The one response/request body type: a boxed stream of `Bytes`, so handlers can answer
//! with a small buffer or a file stream alike without holding whole objects in memory.

use bytes::Bytes;
use futures::Stream;
use http::{Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full, StreamBody};
use hyper::body::Frame;

pub type BodyError = Box<dyn std::error::Error + Send + Sync>;
pub type Body = UnsyncBoxBody<Bytes, BodyError>;

pub fn empty() -> Body {
    Empty::<Bytes>::new().map_err(|never| match never {}).boxed_unsync()
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// A body from a stream of chunks (e.g. a file read in blocks).
pub fn stream_body<S, E>(stream: S) -> Body
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BodyError> + 'static,
{
    use futures::TryStreamExt;
    StreamBody::new(stream.map_ok(Frame::data).map_err(Into::into)).boxed_unsync()
}

/// A body from a stream of frames (data, then perhaps trailers).
pub fn frame_body<S, E>(stream: S) -> Body
where
    S: Stream<Item = Result<Frame<Bytes>, E>> + Send + 'static,
    E: Into<BodyError> + 'static,
{
    use futures::TryStreamExt;
    StreamBody::new(stream.map_err(Into::into)).boxed_unsync()
}

/// A plain-text response, the form Swift uses for error bodies.
pub fn text(status: StatusCode, msg: impl Into<String>) -> Response<Body> {
    let msg = msg.into();
    let mut resp = Response::new(full(msg.clone()));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(msg.len()));
    resp
}
