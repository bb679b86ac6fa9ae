//! `GET /info`: the cluster's capabilities and limits, as Swift clients discover them.

use crate::pipeline::step::Pipeline;
use common::constraints as c;
use common::http::Body;
use http::{header, HeaderValue, Response};

pub(crate) fn response(pipeline: &Pipeline) -> Response<Body> {
    let config = &pipeline.cluster.config;
    let mut info = serde_json::json!({
        "swift": {
            "version": concat!("swiftlet-", env!("CARGO_PKG_VERSION")),
            "max_file_size": c::MAX_FILE_SIZE,
            "max_meta_name_length": c::MAX_META_NAME_LENGTH,
            "max_meta_value_length": c::MAX_META_VALUE_LENGTH,
            "max_meta_count": c::MAX_META_COUNT,
            "max_meta_overall_size": c::MAX_META_OVERALL_SIZE,
            "max_header_size": c::MAX_HEADER_SIZE,
            "extra_header_count": 0,
            "max_object_name_length": c::MAX_OBJECT_NAME_LENGTH,
            "max_container_name_length": c::MAX_CONTAINER_NAME_LENGTH,
            "max_account_name_length": c::MAX_ACCOUNT_NAME_LENGTH,
            "container_listing_limit": c::CONTAINER_LISTING_LIMIT,
            "account_listing_limit": c::ACCOUNT_LISTING_LIMIT,
            "valid_api_versions": ["v1", "v1.0"],
            "allow_account_management": false,
            "account_autocreate": config.account_autocreate,
            "strict_cors_mode": config.features.strict_cors_mode,
            "policies": [{"name": "Policy-0", "aliases": "Policy-0", "default": true}],
        },
        "tempauth": {"account_acls": false},
    });
    // Each feature advertises itself the way Swift's does; clients (and Swift's own
    // functional tests) use only the features listed here.
    if let Some(map) = info.as_object_mut() {
        for m in pipeline.steps() {
            if let Some(v) = m.info() {
                map.insert(m.name().to_string(), v);
            }
            for (name, v) in m.more_info() {
                map.insert(name.to_string(), v);
            }
        }
    }
    let body = info.to_string();
    let mut resp = Response::new(common::http::full(body));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}
