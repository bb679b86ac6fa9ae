//! S3's `<Error>` document: how every error answers (the status is chosen in `error.rs`).

use crate::error::S3Error;
use crate::xml::XmlWriter;
use common::http::{Body, HttpError};
use http::{HeaderValue, Response};

impl S3Error {
    /// The `<Error>` document (no body for HEAD), with the request id headers.
    pub fn to_s3_response(&self, request_id: &str, resource: &str, head: bool) -> Response<Body> {
        let status = self.status();
        let message = if status.is_server_error() && !matches!(self, S3Error::NotImplemented(_)) {
            tracing::error!(error = %self, code = self.code(), "S3 request failed");
            "We encountered an internal error. Please try again.".to_string()
        } else {
            tracing::debug!(error = %self, code = self.code(), "S3 request refused");
            self.to_string()
        };
        let mut xml = XmlWriter::new();
        xml.open("Error");
        xml.elem("Code", self.code());
        xml.elem("Message", &message);
        match self {
            S3Error::HeadersNotSigned(names) => xml.elem("HeadersNotSigned", names),
            S3Error::XAmzContentSHA256Mismatch { client, computed } => {
                xml.elem("ClientComputedContentSHA256", client);
                xml.elem("S3ComputedContentSHA256", computed);
            }
            S3Error::InvalidContentSha256(value) => {
                xml.elem("ArgumentName", "x-amz-content-sha256");
                xml.elem("ArgumentValue", value);
            }
            _ => {}
        }
        xml.elem("Resource", resource);
        xml.elem("RequestId", request_id);
        xml.close("Error");
        let body = xml.finish();
        let len = body.len();
        let mut resp = Response::new(if head { common::http::empty() } else { common::http::full(body) });
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
        if !head {
            h.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
        }
        resp
    }
}
