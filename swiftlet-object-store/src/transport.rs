//! The store's HTTP client calls, in one place: REPLICATE and the two SSYNC phases to peer
//! object servers, and container updates to container servers. The crate depends on the
//! `http` crate only here, to build those requests (sent with `common`'s pooled client);
//! everything else in the crate is disk and protocol logic that knows no HTTP.

use bytes::Bytes;
use common::http::{Body, HttpClient};
use http_body_util::BodyExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use std::time::Duration;

/// Characters escaped in request paths ('/' stays).
const PATH: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}');

/// Percent-encodes a path for a request line.
pub fn quote_path(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// A peer's answer.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The request URI, for messages.
    pub uri: String,
    pub status: http::StatusCode,
    /// The whole body, or why it could not be read in time.
    pub body: Result<Bytes, String>,
}

impl Answer {
    /// The body of a 2xx answer; any other status, or an unreadable body, is the error.
    pub fn into_success_body(self) -> Result<Bytes, String> {
        let body = self.body.map_err(|e| format!("{}: {e}", self.uri))?;
        if !self.status.is_success() {
            return Err(format!("{}: {} {}", self.uri, self.status, String::from_utf8_lossy(&body)));
        }
        Ok(body)
    }
}

/// Sends `method http://<addr><path>` (the path percent-encoded here) with `headers` and
/// `body`. `timeout` bounds the wait for the answer's head, then for its body. `Err` means
/// there was no answer.
pub(crate) async fn call<'a>(
    client: &HttpClient,
    method: &str,
    addr: &str,
    path: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: Body,
    timeout: Duration,
) -> Result<Answer, String> {
    let uri = format!("http://{addr}{}", quote_path(path));
    let mut builder = http::Request::builder().method(method).uri(&uri);
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let req = builder.body(body).map_err(|e| format!("bad request {method} {uri}: {e}"))?;
    let resp = client.send(req, timeout).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    // Reading the body to its end also lets the connection be reused.
    let body = match tokio::time::timeout(timeout, resp.into_body().collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("response timed out".to_string()),
    };
    Ok(Answer { uri, status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_a_request_line_cannot_carry() {
        assert_eq!(quote_path("/a/c/o w?#%"), "/a/c/o%20w%3F%23%25");
        assert_eq!(quote_path("/sda/1/abc-def"), "/sda/1/abc-def");
    }
}
