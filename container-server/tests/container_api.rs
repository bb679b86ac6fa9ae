//! Container verbs against a real server on real SQLite files: lifecycle, metadata,
//! timestamp conflicts, 409 on non-empty delete, and the bad-input list (4xx, nothing
//! changed).

mod support;

use http::StatusCode;
use support::*;

/// method, path, headers, expected status
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, StatusCode);
const C: &str = "/sda/3/AUTH_test/c";

#[tokio::test]
async fn lifecycle_put_head_post_delete() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    let a = node.addr;
    assert_eq!(put_container(a, C, 1).await.status, StatusCode::CREATED);
    let again = put_container(a, C, 2).await;
    assert_eq!(again.status, StatusCode::ACCEPTED);
    assert_eq!(again.header("x-backend-storage-policy-index"), Some("0"));

    let head = req(a, "HEAD", C, &[], vec![]).await;
    assert_eq!(head.status, StatusCode::NO_CONTENT);
    assert_eq!(head.header("x-container-object-count"), Some("0"));
    assert_eq!(head.header("x-container-bytes-used"), Some("0"));
    assert_eq!(head.header("x-put-timestamp"), Some(ts(2).as_str()));
    assert_eq!(head.header("x-backend-put-timestamp"), Some(ts(2).as_str()));
    assert_eq!(head.header("x-backend-delete-timestamp"), Some("0000000000.00000"));
    assert_eq!(head.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(head.header("last-modified"), Some("Tue, 14 Nov 2023 22:13:22 GMT"));
    assert!(head.header("x-timestamp").is_some() && head.header("x-trans-id").is_some());

    // POST: metadata and ACLs, newest timestamp per key; an empty value removes.
    let post = req(
        a,
        "POST",
        C,
        &[("x-timestamp", &ts(3)), ("x-container-meta-color", "blue"), ("x-container-read", ".r:*")],
        vec![],
    )
    .await;
    assert_eq!(post.status, StatusCode::NO_CONTENT);
    let stale = [("x-timestamp", ts(2)), ("x-container-meta-color", "red".to_string())];
    let stale: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(req(a, "POST", C, &stale, vec![]).await.status, StatusCode::NO_CONTENT);
    let head = req(a, "HEAD", C, &[], vec![]).await;
    assert_eq!(head.header("x-container-meta-color"), Some("blue"));
    assert_eq!(head.header("x-container-read"), Some(".r:*"));
    assert_eq!(head.header("x-put-timestamp"), Some(ts(3).as_str()));
    req(a, "POST", C, &[("x-timestamp", &ts(4)), ("x-container-meta-color", "")], vec![]).await;
    assert_eq!(req(a, "HEAD", C, &[], vec![]).await.header("x-container-meta-color"), None);
    // X-Backend-No-Timestamp-Update keeps the put timestamp.
    req(a, "POST", C, &[("x-timestamp", &ts(9)), ("x-backend-no-timestamp-update", "true")], vec![]).await;
    assert_eq!(req(a, "HEAD", C, &[], vec![]).await.header("x-put-timestamp"), Some(ts(4).as_str()));

    // DELETE, then it is gone (404 with the backend timestamps the proxy compares).
    assert_eq!(req(a, "DELETE", C, &[("x-timestamp", &ts(5))], vec![]).await.status, StatusCode::NO_CONTENT);
    let head = req(a, "HEAD", C, &[], vec![]).await;
    assert_eq!(head.status, StatusCode::NOT_FOUND);
    assert_eq!(head.header("x-backend-delete-timestamp"), Some(ts(5).as_str()));
    assert_eq!(head.header("x-container-object-count"), None);
    assert_eq!(req(a, "GET", C, &[], vec![]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(req(a, "POST", C, &[("x-timestamp", &ts(6))], vec![]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(req(a, "DELETE", C, &[("x-timestamp", &ts(6))], vec![]).await.status, StatusCode::NOT_FOUND);
    // A PUT older than the delete cannot revive it; a newer one recreates (201).
    assert_eq!(put_container(a, C, 4).await.status, StatusCode::CONFLICT);
    assert_eq!(put_container(a, C, 7).await.status, StatusCode::CREATED);
    assert_eq!(req(a, "HEAD", C, &[], vec![]).await.status, StatusCode::NO_CONTENT);
    // Never-created containers.
    assert_eq!(req(a, "HEAD", "/sda/3/AUTH_test/nope", &[], vec![]).await.status, StatusCode::NOT_FOUND);
    let del = req(a, "DELETE", "/sda/3/AUTH_test/nope", &[("x-timestamp", &ts(1))], vec![]).await;
    assert_eq!(del.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_of_a_non_empty_container_is_409() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    let a = node.addr;
    put_container(a, C, 1).await;
    assert_eq!(put_row(a, &format!("{C}/o"), 2, 10).await.status, StatusCode::CREATED);
    assert_eq!(req(a, "DELETE", C, &[("x-timestamp", &ts(3))], vec![]).await.status, StatusCode::CONFLICT);
    assert_eq!(req(a, "HEAD", C, &[], vec![]).await.header("x-container-object-count"), Some("1"));
    assert_eq!(delete_row(a, &format!("{C}/o"), 4).await.status, StatusCode::NO_CONTENT);
    assert_eq!(req(a, "DELETE", C, &[("x-timestamp", &ts(5))], vec![]).await.status, StatusCode::NO_CONTENT);
    // Rows for unknown containers are refused; a late row for a deleted one revives it
    // (the object exists, so the container is not empty), as Swift does.
    assert_eq!(put_row(a, "/sda/3/AUTH_test/none/o", 2, 1).await.status, StatusCode::NOT_FOUND);
    assert_eq!(put_row(a, &format!("{C}/late"), 6, 1).await.status, StatusCode::CREATED);
    assert_eq!(req(a, "HEAD", C, &[], vec![]).await.header("x-container-object-count"), Some("1"));
}

#[tokio::test]
async fn storage_policy_conflict_and_recreate_in_another_policy() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    let a = node.addr;
    let p1 = [("x-timestamp", ts(1)), ("x-backend-storage-policy-index", "1".to_string())];
    let p1: Vec<(&str, &str)> = p1.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(req(a, "PUT", C, &p1, vec![]).await.status, StatusCode::CREATED);
    let p0 = [("x-timestamp", ts(2)), ("x-backend-storage-policy-index", "0".to_string())];
    let p0: Vec<(&str, &str)> = p0.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let conflict = req(a, "PUT", C, &p0, vec![]).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.header("x-backend-storage-policy-index"), Some("1"));
    req(a, "DELETE", C, &[("x-timestamp", &ts(3))], vec![]).await;
    let p0 = [("x-timestamp", ts(4)), ("x-backend-storage-policy-index", "0".to_string())];
    let p0: Vec<(&str, &str)> = p0.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(req(a, "PUT", C, &p0, vec![]).await.status, StatusCode::CREATED);
    assert_eq!(req(a, "HEAD", C, &[], vec![]).await.header("x-backend-storage-policy-index"), Some("0"));
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let devices = devices_dir(dir.path());
    let node = container_server(&devices, 0, |_| {}).await;
    let a = node.addr;
    put_container(a, C, 1).await;
    req(a, "POST", C, &[("x-timestamp", &ts(2)), ("x-container-meta-keep", "yes")], vec![]).await;
    put_row(a, &format!("{C}/o"), 2, 5).await;
    let before = req(a, "GET", &format!("{C}?format=json"), &[], vec![]).await;

    let long_meta = "v".repeat(257);
    let long_name = format!("x-container-meta-{}", "n".repeat(129));
    let container_257 = format!("/sda/3/AUTH_test/{}", "c".repeat(257));
    let object_1025 = format!("{C}/{}", "o".repeat(1025));
    let t = ts(10);
    let cases: Vec<Case> = vec![
        ("PUT", C.into(), vec![], StatusCode::BAD_REQUEST),
        ("PUT", C.into(), vec![("x-timestamp", "yesterday")], StatusCode::BAD_REQUEST),
        ("POST", C.into(), vec![], StatusCode::BAD_REQUEST),
        ("DELETE", C.into(), vec![("x-timestamp", "-1")], StatusCode::BAD_REQUEST),
        ("POST", C.into(), vec![("x-timestamp", &t), ("x-container-meta-big", &long_meta)], StatusCode::BAD_REQUEST),
        ("POST", C.into(), vec![("x-timestamp", &t), (long_name.as_str(), "v")], StatusCode::BAD_REQUEST),
        ("PUT", C.into(), vec![("x-timestamp", &t), ("x-backend-storage-policy-index", "7")], StatusCode::BAD_REQUEST),
        (
            "PUT",
            C.into(),
            vec![
                ("x-timestamp", &t),
                ("x-account-host", "h:1,h:2"),
                ("x-account-device", "sda"),
                ("x-account-partition", "1"),
            ],
            StatusCode::BAD_REQUEST,
        ),
        ("PUT", format!("{C}/o"), vec![("x-timestamp", &t)], StatusCode::BAD_REQUEST),
        (
            "PUT",
            format!("{C}/o"),
            vec![("x-timestamp", &t), ("x-size", "-1"), ("x-content-type", "a/b"), ("x-etag", "e")],
            StatusCode::BAD_REQUEST,
        ),
        ("PUT", format!("{C}/o"), vec![("x-timestamp", &t), ("x-size", "1"), ("x-etag", "e")], StatusCode::BAD_REQUEST),
        ("DELETE", format!("{C}/o"), vec![], StatusCode::BAD_REQUEST),
        ("PUT", container_257, vec![("x-timestamp", &t)], StatusCode::BAD_REQUEST),
        (
            "PUT",
            object_1025,
            vec![("x-timestamp", &t), ("x-size", "1"), ("x-content-type", "a/b"), ("x-etag", "e")],
            StatusCode::BAD_REQUEST,
        ),
        ("PUT", "/sda/3/AUTH_test/c%FF".into(), vec![("x-timestamp", &t)], StatusCode::PRECONDITION_FAILED),
        ("PUT", "/sda/3/AUTH_test/c%00".into(), vec![("x-timestamp", &t)], StatusCode::PRECONDITION_FAILED),
        ("PUT", "/..%2F/3/AUTH_test/c".into(), vec![("x-timestamp", &t)], StatusCode::BAD_REQUEST),
        ("PUT", "/sda/x/AUTH_test/c".into(), vec![("x-timestamp", &t)], StatusCode::BAD_REQUEST),
        ("PUT", "/sda/3/AUTH_test".into(), vec![("x-timestamp", &t)], StatusCode::BAD_REQUEST),
        ("GET", format!("{C}?limit=10001"), vec![], StatusCode::PRECONDITION_FAILED),
        ("GET", format!("{C}?format=yaml"), vec![], StatusCode::BAD_REQUEST),
        ("GET", format!("{C}?marker=%FF"), vec![], StatusCode::BAD_REQUEST),
        ("GET", format!("{C}?prefix=a%ff"), vec![], StatusCode::BAD_REQUEST),
        // NUL is a valid character in a query value (Swift checks only UTF-8).
        ("GET", format!("{C}?marker=a%00"), vec![], StatusCode::OK),
        ("GET", C.into(), vec![("accept", "image/png")], StatusCode::NOT_ACCEPTABLE),
        ("GET", format!("{C}/o"), vec![], StatusCode::BAD_REQUEST),
        ("PATCH", C.into(), vec![], StatusCode::METHOD_NOT_ALLOWED),
        ("REPLICATE", "/sda/3/nothex".into(), vec![], StatusCode::BAD_REQUEST),
        ("REPLICATE", format!("/sda/3/{}", "a".repeat(32)), vec![], StatusCode::BAD_REQUEST),
        ("PUT", "/sdz/3/AUTH_test/c".into(), vec![("x-timestamp", &t)], StatusCode::INSUFFICIENT_STORAGE),
        ("GET", "/sdz/3/AUTH_test/c".into(), vec![], StatusCode::INSUFFICIENT_STORAGE),
    ];
    for (method, path, headers, want) in &cases {
        let r = req(a, method, path, headers, vec![]).await;
        assert_eq!(r.status, *want, "{method} {} {headers:?}: {}", &path[..path.len().min(60)], r.text());
    }
    // Total metadata size over 4096 bytes, each request within limits: 15 items of 259
    // bytes fit, the 16th does not.
    let value = "v".repeat(256);
    for i in 0..15 {
        let name = format!("x-container-meta-k{i:02}");
        let h = [("x-timestamp", t.as_str()), (name.as_str(), value.as_str())];
        assert_eq!(req(a, "POST", C, &h, vec![]).await.status, StatusCode::NO_CONTENT);
    }
    let over = req(a, "POST", C, &[("x-timestamp", &t), ("x-container-meta-one-more", &value)], vec![]).await;
    assert_eq!(over.status, StatusCode::BAD_REQUEST, "{}", over.text());
    let head = req(a, "HEAD", C, &[], vec![]).await;
    assert_eq!(head.header("x-container-meta-one-more"), None);
    assert_eq!(head.header("x-container-meta-keep"), Some("yes"));
    assert_eq!(head.header("x-put-timestamp"), Some(ts(10).as_str()), "only the accepted POSTs moved it");
    let after = req(a, "GET", &format!("{C}?format=json"), &[], vec![]).await;
    assert_eq!(after.body, before.body, "rows unchanged");
    // Nothing was created for refused paths.
    assert!(!devices.join("sdz").exists());
    let hash = secret().hash_hex("AUTH_test", Some(&"c".repeat(257)), None);
    assert!(!devices.join("sda/containers/3").join(&hash[29..]).exists());
}

#[tokio::test]
async fn mount_check_refuses_plain_directories() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |c| c.mount_check = true).await;
    let r = put_container(node.addr, C, 1).await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE);
    assert!(!dir.path().join("srv/sda/containers").exists());
}

#[tokio::test]
async fn auto_created_containers_for_internal_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    let path = "/sda/1/.expiring_objects/1700000000/1700000000-AUTH_test/c/o";
    let h = [
        ("x-timestamp", ts(1)),
        ("x-size", "0".into()),
        ("x-content-type", "text/plain".into()),
        ("x-etag", "e".into()),
    ];
    let mut hv: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Auto-create needs the policy index.
    assert_eq!(req(node.addr, "PUT", path, &hv, vec![]).await.status, StatusCode::BAD_REQUEST);
    hv.push(("x-backend-storage-policy-index", "0"));
    assert_eq!(req(node.addr, "PUT", path, &hv, vec![]).await.status, StatusCode::CREATED);
    let listing = req(node.addr, "GET", "/sda/1/.expiring_objects/1700000000?format=json", &[], vec![]).await;
    assert_eq!(names(&listing.json()), ["1700000000-AUTH_test/c/o"]);
}

#[tokio::test]
async fn a_stranger_cannot_write_rows_or_pin_them_with_a_far_future_timestamp() {
    use common::http::{full, HttpClient};
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    let a = node.addr;
    assert_eq!(put_container(a, C, 1).await.status, StatusCode::CREATED);
    let unsigned = HttpClient::default();
    let forged = "v1 1700000000 0123456789abcdef0123456789abcdef 00";
    for (method, path, sig) in [
        ("PUT", format!("{C}/o"), None),
        ("PUT", format!("{C}/o"), Some(forged)),
        ("DELETE", C.to_string(), None),
        ("POST", C.to_string(), None),
        ("REPLICATE", "/sda/3/abc".to_string(), None),
    ] {
        let mut b = http::Request::builder()
            .method(method)
            .uri(format!("http://{a}{path}"))
            .header("x-timestamp", "9999999999.99999")
            .header("x-size", "1")
            .header("x-content-type", "text/plain")
            .header("x-etag", "d41d8cd98f00b204e9800998ecf8427e");
        if let Some(sig) = sig {
            b = b.header(common::backend_auth::SIGNATURE_HEADER, sig);
        }
        let resp = unsigned.send(b.body(full(Vec::new())).unwrap(), std::time::Duration::from_secs(10)).await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let head = req(a, "HEAD", C, &[], vec![]).await;
    assert_eq!((head.status, head.header("x-container-object-count")), (StatusCode::NO_CONTENT, Some("0")));
    assert_eq!(head.header("x-put-timestamp"), Some(ts(1).as_str()));
}
