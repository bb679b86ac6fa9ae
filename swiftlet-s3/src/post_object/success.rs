//! The answer to a stored browser upload: a 303 to `success_action_redirect` (with
//! bucket, key and etag in its query), else `success_action_status` 200, 201 (with a
//! `PostResponse` document) or 204 (the default, also for any other value).

use super::auth::{field, Fields};
use crate::buckets::{empty_response, xml_response};
use crate::error::Result;
use crate::xml::XmlWriter;
use common::headers::set;
use common::http::Body;
use http::{Response, StatusCode};

pub(crate) fn answer(fields: &Fields, bucket: &str, key: &str, etag: &str) -> Result<Response<Body>> {
    let redirect = field(fields, "success_action_redirect").or_else(|| field(fields, "redirect"));
    if let Some(url) = redirect.filter(|u| u.starts_with("http://") || u.starts_with("https://")) {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("bucket", bucket).append_pair("key", key).append_pair("etag", etag);
        let sep = if url.contains('?') { '&' } else { '?' };
        let mut resp = empty_response(StatusCode::SEE_OTHER);
        set(resp.headers_mut(), "location", &format!("{url}{sep}{}", q.finish()));
        return Ok(resp);
    }
    Ok(match field(fields, "success_action_status") {
        Some("200") => empty_response(StatusCode::OK),
        Some("201") => {
            let location = format!("/{bucket}/{}", swiftlet_proxy::quote(key));
            let mut x = XmlWriter::new();
            x.open("PostResponse");
            x.elem("Location", &location);
            x.elem("Bucket", bucket);
            x.elem("Key", key);
            x.elem("ETag", etag);
            x.close("PostResponse");
            let mut resp = xml_response(StatusCode::CREATED, x.finish());
            set(resp.headers_mut(), "location", &location);
            resp
        }
        _ => empty_response(StatusCode::NO_CONTENT),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn statuses_and_redirects() {
        let status = |pairs: &[(&str, &str)]| answer(&f(pairs), "b", "a b", "\"e\"").unwrap().status().as_u16();
        assert_eq!(status(&[]), 204);
        assert_eq!(status(&[("success_action_status", "200")]), 200);
        assert_eq!(status(&[("success_action_status", "201")]), 201);
        assert_eq!(status(&[("success_action_status", "500")]), 204);
        let r =
            answer(&f(&[("success_action_redirect", "https://app.example/done?x=1")]), "b", "a b", "\"e\"").unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "https://app.example/done?x=1&bucket=b&key=a+b&etag=%22e%22");
        assert_eq!(status(&[("success_action_redirect", "javascript:alert(1)")]), 204);
    }
}
