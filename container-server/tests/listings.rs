//! Container listings over HTTP: every format (by `format=` and by `Accept`), parameter
//! combinations, and pagination that loses and repeats nothing.

mod support;

use http::StatusCode;
use std::collections::BTreeSet;
use support::*;

const C: &str = "/sda/3/AUTH_test/c";

async fn setup(names: &[&str]) -> (tempfile::TempDir, Node) {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    put_container(node.addr, C, 1).await;
    for (i, n) in names.iter().enumerate() {
        let path = format!("{C}/{}", percent_encoding::utf8_percent_encode(n, percent_encoding::NON_ALPHANUMERIC));
        assert_eq!(put_row(node.addr, &path, 2, i as u64).await.status, StatusCode::CREATED);
    }
    (dir, node)
}

async fn list(node: &Node, query: &str) -> Vec<String> {
    let r = req(node.addr, "GET", &format!("{C}?format=json&{query}"), &[], vec![]).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
    names(&r.json())
}

#[tokio::test]
async fn every_format_by_parameter_and_by_accept() {
    let (_dir, node) = setup(&["a&b", "d/e", "é"]).await;
    let a = node.addr;
    // JSON
    let json = req(a, "GET", &format!("{C}?format=json"), &[], vec![]).await;
    assert_eq!(json.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(json.header("x-container-object-count"), Some("3"));
    assert_eq!(json.header("x-backend-record-type"), Some("object"));
    let v = json.json();
    assert_eq!(v[0]["name"], "a&b");
    assert_eq!(v[0]["bytes"], 0);
    assert_eq!(v[0]["hash"], "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(v[0]["content_type"], "text/plain");
    assert_eq!(v[0]["last_modified"], "2023-11-14T22:13:22.000000");
    let by_accept = req(a, "GET", C, &[("accept", "application/json")], vec![]).await;
    assert_eq!(by_accept.body, json.body);
    // XML, both XML types
    let xml = req(a, "GET", &format!("{C}?format=xml"), &[], vec![]).await;
    assert_eq!(xml.header("content-type"), Some("application/xml; charset=utf-8"));
    let text = xml.text();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"c\">"), "{text}");
    assert!(text.contains("<object><name>a&amp;b</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes>"));
    assert!(text.contains("<name>é</name>") && text.ends_with("</container>"));
    let text_xml = req(a, "GET", C, &[("accept", "text/xml")], vec![]).await;
    assert_eq!(text_xml.header("content-type"), Some("text/xml; charset=utf-8"));
    assert_eq!(text_xml.body, xml.body);
    // Plain (default, */*, format=plain overriding Accept)
    let plain = req(a, "GET", C, &[], vec![]).await;
    assert_eq!(plain.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(plain.text(), "a&b\nd/e\né\n");
    assert_eq!(req(a, "GET", C, &[("accept", "*/*")], vec![]).await.body, plain.body);
    let forced = req(a, "GET", &format!("{C}?format=plain"), &[("accept", "application/json")], vec![]).await;
    assert_eq!(forced.body, plain.body);
    // Subdirs in each format.
    let d = req(a, "GET", &format!("{C}?format=json&delimiter=/"), &[], vec![]).await.json();
    assert_eq!(d[1], serde_json::json!({"subdir": "d/"}));
    let dx = req(a, "GET", &format!("{C}?format=xml&delimiter=/"), &[], vec![]).await.text();
    assert!(dx.contains("<subdir name=\"d/\"><name>d/</name></subdir>"), "{dx}");
    // HEAD tells the format it would use.
    let head = req(a, "HEAD", &format!("{C}?format=xml"), &[], vec![]).await;
    assert_eq!(
        (head.status, head.header("content-type")),
        (StatusCode::NO_CONTENT, Some("application/xml; charset=utf-8"))
    );
    // Empty listings: plain is 204, JSON is "[]".
    let empty = req(a, "GET", &format!("{C}?prefix=zzz"), &[], vec![]).await;
    assert_eq!((empty.status, empty.body.len()), (StatusCode::NO_CONTENT, 0));
    let empty_json = req(a, "GET", &format!("{C}?prefix=zzz&format=json"), &[], vec![]).await;
    assert_eq!((empty_json.status, empty_json.text().as_str()), (StatusCode::OK, "[]"));
}

#[tokio::test]
async fn parameter_combinations() {
    let all = ["a", "a/1", "a/2", "a/b/c", "b", "b-1", "b/x", "c"];
    let (_dir, node) = setup(&all).await;
    assert_eq!(list(&node, "").await, all);
    assert_eq!(list(&node, "prefix=a/").await, ["a/1", "a/2", "a/b/c"]);
    assert_eq!(list(&node, "delimiter=/").await, ["a", "a/", "b", "b-1", "b/", "c"]);
    assert_eq!(list(&node, "prefix=a/&delimiter=/").await, ["a/1", "a/2", "a/b/"]);
    assert_eq!(list(&node, "delimiter=-").await, ["a", "a/1", "a/2", "a/b/c", "b", "b-", "b/x", "c"]);
    assert_eq!(list(&node, "marker=a/2&end_marker=b/x").await, ["a/b/c", "b", "b-1"]);
    assert_eq!(list(&node, "reverse=true").await, all.iter().rev().copied().collect::<Vec<_>>());
    assert_eq!(list(&node, "reverse=on&marker=b&end_marker=a/1").await, ["a/b/c", "a/2"]);
    assert_eq!(list(&node, "reverse=yes&delimiter=/").await, ["c", "b/", "b-1", "b", "a/", "a"]);
    assert_eq!(list(&node, "reverse=1&prefix=a/&delimiter=/&marker=a/b/").await, ["a/2", "a/1"]);
    assert_eq!(list(&node, "path=a").await, ["a/1", "a/2"]);
    assert_eq!(list(&node, "limit=3&prefix=a").await, ["a", "a/1", "a/2"]);
    assert_eq!(list(&node, "limit=0").await, Vec::<String>::new());
    assert_eq!(list(&node, "prefix=a/&end_marker=a/2").await, ["a/1"]);
}

#[tokio::test]
async fn pagination_loses_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    put_container(node.addr, C, 1).await;
    let mut expected = BTreeSet::new();
    for i in 0..250 {
        let name = format!("d{}/o{i:03}", i % 7);
        put_row(node.addr, &format!("{C}/{name}"), 2, i).await;
        expected.insert(name);
    }
    for reverse in [false, true] {
        let mut seen: Vec<String> = Vec::new();
        let mut marker = String::new();
        loop {
            let page = list(&node, &format!("limit=37&reverse={reverse}&marker={marker}")).await;
            let Some(last) = page.last() else { break };
            marker = percent_encoding::utf8_percent_encode(last, percent_encoding::NON_ALPHANUMERIC).to_string();
            seen.extend(page);
        }
        let mut want: Vec<String> = expected.iter().cloned().collect();
        if reverse {
            want.reverse();
        }
        assert_eq!(seen, want, "reverse={reverse}");
    }
    // Paging through subdirs: one entry per directory, each once.
    let mut dirs = Vec::new();
    let mut marker = String::new();
    loop {
        let page = list(&node, &format!("limit=2&delimiter=/&marker={marker}")).await;
        let Some(last) = page.last() else { break };
        marker = last.clone();
        dirs.extend(page);
    }
    assert_eq!(dirs, (0..7).map(|i| format!("d{i}/")).collect::<Vec<_>>());
}

#[tokio::test]
async fn manifest_sizes_come_from_swift_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    put_container(node.addr, C, 1).await;
    let h = [
        ("x-timestamp", ts(2)),
        ("x-size", "0".into()),
        ("x-content-type", "video/mp4;swift_bytes=1048576".into()),
        ("x-etag", "e".into()),
    ];
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    req(node.addr, "PUT", &format!("{C}/manifest"), &h, vec![]).await;
    let v = req(node.addr, "GET", &format!("{C}?format=json"), &[], vec![]).await.json();
    assert_eq!((v[0]["bytes"].as_u64(), v[0]["content_type"].as_str()), (Some(1_048_576), Some("video/mp4")));
}
