//! Every object verb and header against a real server on a temp dir.

mod support;

use bytes::Bytes;
use common::http::stream_body;
use std::time::Duration;
use support::{object_files, raw, raw_status, Clock, Server};

const OBJ: &str = "/sda/1/AUTH_t/c/o";

#[tokio::test]
async fn put_get_head_with_all_headers() {
    let s = Server::start().await;
    let c = Clock::new();
    let t1 = c.at(1);
    let r = s
        .req(
            "PUT",
            OBJ,
            &[
                ("x-timestamp", &t1),
                ("content-type", "text/plain"),
                ("x-object-meta-color", "blue"),
                ("x-object-sysmeta-slo", "sys"),
                ("x-object-transient-sysmeta-crypt", "tr"),
                ("content-disposition", "attachment"),
                ("content-encoding", "gzip"),
                ("x-unknown-header", "dropped"),
                ("etag", "\"5d41402abc4b2a76b9719d911017c592\""),
            ],
            "hello",
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.header("etag"), Some("\"5d41402abc4b2a76b9719d911017c592\""));

    let g = s.req("GET", OBJ, &[], "").await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body, "hello");
    assert_eq!(g.header("content-type"), Some("text/plain"));
    assert_eq!(g.header("content-length"), Some("5"));
    assert_eq!(g.header("etag"), Some("\"5d41402abc4b2a76b9719d911017c592\""));
    assert_eq!(g.header("x-object-meta-color"), Some("blue"));
    assert_eq!(g.header("x-object-sysmeta-slo"), Some("sys"));
    assert_eq!(g.header("x-object-transient-sysmeta-crypt"), Some("tr"));
    assert_eq!(g.header("content-disposition"), Some("attachment"));
    assert_eq!(g.header("content-encoding"), Some("gzip"));
    assert_eq!(g.header("x-unknown-header"), None);
    let ts: common::Timestamp = t1.parse().unwrap();
    assert_eq!(g.header("x-timestamp"), Some(ts.normal().as_str()));
    assert_eq!(g.header("x-backend-timestamp"), Some(t1.as_str()));
    assert_eq!(g.header("x-backend-data-timestamp"), Some(t1.as_str()));
    let lm = httpdate::parse_http_date(g.header("last-modified").unwrap()).unwrap();
    let lm_secs = lm.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(lm_secs, ts.ticks().div_ceil(100_000));

    let h = s.req("HEAD", OBJ, &[], "").await;
    assert_eq!(h.status, 200);
    assert!(h.body.is_empty());
    assert_eq!(h.header("content-length"), Some("5"));
    assert_eq!(h.header("x-object-meta-color"), Some("blue"));

    assert_eq!(s.req("GET", "/healthcheck", &[], "").await.status, 200);
    assert_eq!(s.req("PATCH", OBJ, &[], "").await.status, 405);
    assert_eq!(s.req("GET", "/sdz/1/AUTH_t/c/o", &[], "").await.status, 507);
}

#[tokio::test]
async fn put_checks_etag_length_and_required_headers() {
    let s = Server::start().await;
    let c = Clock::new();
    let bad = s.req("PUT", OBJ, &[("x-timestamp", &c.at(1)), ("content-type", "a/b"), ("etag", "0000")], "hello").await;
    assert_eq!(bad.status, 422);
    assert!(object_files(&s.device_path("sda")).is_empty());
    assert_eq!(s.req("GET", OBJ, &[], "").await.status, 404);
    assert!(std::fs::read_dir(s.device_path("sda/tmp")).unwrap().next().is_none(), "temp file left behind");

    assert_eq!(s.req("PUT", OBJ, &[("content-type", "a/b")], "x").await.status, 400);
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", "yesterday"), ("content-type", "a/b")], "x").await.status, 400);
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", &c.at(2))], "x").await.status, 400);

    // Chunked upload (no Content-Length).
    let chunks = futures::stream::iter((0..4).map(|i| Ok::<_, std::io::Error>(Bytes::from(vec![b'a' + i; 1000]))));
    let r = s.send("PUT", OBJ, &[("x-timestamp", &c.at(3)), ("content-type", "a/b")], stream_body(chunks)).await;
    assert_eq!(r.status, 201);
    assert_eq!(s.req("HEAD", OBJ, &[], "").await.header("content-length"), Some("4000"));

    // Neither Content-Length nor chunked: 411; an unknown transfer coding: 501.
    let no_len = format!("PUT {OBJ} HTTP/1.1\r\nHost: x\r\nX-Timestamp: {}\r\nContent-Type: a/b\r\n\r\n", c.at(4));
    assert_eq!(raw_status(&raw(s.addr, no_len.as_bytes()).await), 411);
    let gzip = format!(
        "PUT {OBJ} HTTP/1.1\r\nHost: x\r\nX-Timestamp: {}\r\nContent-Type: a/b\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        c.at(5)
    );
    assert_eq!(raw_status(&raw(s.addr, gzip.as_bytes()).await), 501);
}

#[tokio::test]
async fn older_writes_conflict_and_newest_wins_in_any_order() {
    let s = Server::start().await;
    let c = Clock::new();
    let ct = ("content-type", "a/b");
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", &c.at(5)), ct], "new").await.status, 201);
    let old = s.req("PUT", OBJ, &[("x-timestamp", &c.at(4)), ct], "old").await;
    assert_eq!(old.status, 409);
    assert_eq!(old.header("x-backend-timestamp"), Some(c.at(5).as_str()));
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", &c.at(5)), ct], "same").await.status, 409);
    assert_eq!(s.req("GET", OBJ, &[], "").await.body, "new");

    // Three writes in every order: the newest one decides, and older ones answer 409.
    type Op = (&'static str, u64, &'static str);
    let scenarios: [[Op; 3]; 2] = [
        [("PUT", 10, "first"), ("PUT", 20, "second"), ("DELETE", 30, "")],
        [("PUT", 10, "first"), ("DELETE", 20, ""), ("PUT", 30, "third")],
    ];
    let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for (si, ops) in scenarios.iter().enumerate() {
        for (oi, order) in orders.iter().enumerate() {
            let path = format!("/sda/2/AUTH_t/c/order-{si}-{oi}");
            let mut newest = 0;
            for &i in order {
                let (verb, t, body) = ops[i];
                let ts = c.at(t);
                let r = s.req(verb, &path, &[("x-timestamp", &ts), ct], body).await;
                let expect_ok = t > newest;
                let ok = matches!(r.status, 201 | 204) || (verb == "DELETE" && r.status == 404 && expect_ok);
                assert_eq!(ok, expect_ok, "{verb} @{t} after {newest} -> {}", r.status);
                newest = newest.max(t);
            }
            let (verb, t, body) = ops[2];
            let g = s.req("GET", &path, &[], "").await;
            if verb == "DELETE" {
                assert_eq!(g.status, 404);
                assert_eq!(g.header("x-backend-timestamp"), Some(c.at(t).as_str()));
            } else {
                assert_eq!((g.status, g.body.clone()), (200, Bytes::from(body)));
            }
            let names: Vec<_> = object_files(&s.device_path("sda"))
                .into_iter()
                .filter(|p| p.to_string_lossy().contains("/objects/2/"))
                .filter(|p| std::fs::read_dir(p.parent().unwrap()).unwrap().count() > 1)
                .collect();
            assert!(names.is_empty(), "superseded files left: {names:?}");
        }
    }
}

#[tokio::test]
async fn if_none_match_on_put_and_conditionals_on_get() {
    let s = Server::start().await;
    let c = Clock::new();
    let ct = ("content-type", "a/b");
    let star = ("if-none-match", "*");
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", &c.at(1)), ct, star], "hello").await.status, 201);
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", &c.at(2)), ct, star], "again").await.status, 412);
    let etag_match = ("if-none-match", "\"5d41402abc4b2a76b9719d911017c592\"");
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", &c.at(3)), ct, etag_match], "again").await.status, 412);

    let etag = "\"5d41402abc4b2a76b9719d911017c592\"";
    assert_eq!(s.req("GET", OBJ, &[("if-match", etag)], "").await.status, 200);
    assert_eq!(s.req("GET", OBJ, &[("if-match", "\"nope\"")], "").await.status, 412);
    assert_eq!(s.req("HEAD", OBJ, &[("if-match", "\"nope\"")], "").await.status, 412);
    let nm = s.req("GET", OBJ, &[("if-none-match", etag)], "").await;
    assert_eq!(nm.status, 304);
    assert_eq!(nm.header("etag"), Some(etag));
    assert_eq!(s.req("GET", OBJ, &[("if-none-match", "\"other\"")], "").await.status, 200);
    let future = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3600));
    let past = "Mon, 01 Jan 2001 00:00:00 GMT";
    assert_eq!(s.req("GET", OBJ, &[("if-modified-since", &future)], "").await.status, 304);
    assert_eq!(s.req("GET", OBJ, &[("if-modified-since", past)], "").await.status, 200);
    assert_eq!(s.req("GET", OBJ, &[("if-unmodified-since", past)], "").await.status, 412);
    assert_eq!(s.req("GET", OBJ, &[("if-unmodified-since", &future)], "").await.status, 200);
    assert_eq!(s.req("GET", "/sda/1/AUTH_t/c/missing", &[("if-match", "*")], "").await.status, 412);
    assert_eq!(s.req("GET", "/sda/1/AUTH_t/c/missing", &[("if-match", "\"x\"")], "").await.status, 404);
}

#[tokio::test]
async fn ranges_single_multiple_and_unsatisfiable() {
    let s = Server::start().await;
    let c = Clock::new();
    // One small object (read in one job) and one large (streamed): both behave the same.
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for (path, body) in [(OBJ.to_string(), b"0123456789".to_vec()), ("/sda/1/AUTH_t/c/big".to_string(), big)] {
        let len = body.len();
        let put = s.req("PUT", &path, &[("x-timestamp", &c.at(1)), ("content-type", "text/plain")], body.clone()).await;
        assert_eq!(put.status, 201);
        let r = s.req("GET", &path, &[("range", "bytes=2-4")], "").await;
        assert_eq!(r.status, 206);
        assert_eq!(&r.body[..], &body[2..5]);
        assert_eq!(r.header("content-range"), Some(format!("bytes 2-4/{len}").as_str()));
        let r = s.req("GET", &path, &[("range", "bytes=-3")], "").await;
        assert_eq!(&r.body[..], &body[len - 3..]);
        let r = s.req("GET", &path, &[("range", "bytes=1-2,5-6")], "").await;
        assert_eq!(r.status, 206);
        let ctype = r.header("content-type").unwrap().to_string();
        let boundary = ctype.strip_prefix("multipart/byteranges;boundary=").unwrap();
        assert_eq!(r.header("content-length").unwrap().parse::<usize>().unwrap(), r.body.len());
        let text = String::from_utf8_lossy(&r.body).into_owned();
        assert!(text.starts_with(&format!(
            "--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 1-2/{len}\r\n\r\n"
        )));
        assert!(text.ends_with(&format!("\r\n--{boundary}--")));
        assert!(r.body.windows(2).any(|w| w == &body[5..7]));
        let r = s.req("GET", &path, &[("range", &format!("bytes={len}-"))], "").await;
        assert_eq!(r.status, 416);
        assert_eq!(r.header("content-range"), Some(format!("bytes */{len}").as_str()));
        // Swift's 416 still names the object: its ETag and that ranges are accepted.
        assert_eq!(r.header("etag"), put.header("etag"));
        assert_eq!(r.header("accept-ranges"), Some("bytes"));
        // A syntactically bad Range is ignored.
        let r = s.req("GET", &path, &[("range", "bytes=9-3")], "").await;
        assert_eq!((r.status, r.body.len()), (200, len));
    }
}

#[tokio::test]
async fn huge_ranges_on_small_objects_are_answered_not_panicked_on() {
    let s = Server::start().await;
    let put = s.req("PUT", OBJ, &[("x-timestamp", &Clock::new().at(1)), ("content-type", "a/b")], "0123456789").await;
    assert_eq!(put.status, 201);
    let r = s.req("GET", OBJ, &[("range", "bytes=1-18446744073709551615")], "").await;
    assert_eq!((r.status, &r.body[..], r.header("content-range")), (206, &b"123456789"[..], Some("bytes 1-9/10")));
    let r = s.req("GET", OBJ, &[("range", "bytes=-18446744073709551616")], "").await;
    assert_eq!((r.status, r.body.len()), (206, 10));
    let r = s.req("GET", OBJ, &[("range", "bytes=18446744073709551616-")], "").await;
    assert_eq!(r.status, 416);
    let many = vec!["0-18446744073709551615"; 1000].join(",");
    let r = s.req("GET", OBJ, &[("range", &format!("bytes={many}"))], "").await;
    assert_eq!(r.status, 416);
    // The server is still there.
    assert_eq!(s.req("GET", OBJ, &[], "").await.status, 200);
}

#[tokio::test]
async fn post_replaces_metadata_and_content_type() {
    let s = Server::start().await;
    let c = Clock::new();
    let put_h = [("x-timestamp", c.at(1)), ("content-type", "text/plain".into()), ("x-object-meta-a", "1".into())];
    let put_h: Vec<(&str, &str)> = put_h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(s.req("PUT", OBJ, &put_h, "hello").await.status, 201);
    let p = s
        .req("POST", OBJ, &[("x-timestamp", &c.at(2)), ("x-object-meta-b", "2"), ("content-type", "image/png")], "")
        .await;
    assert_eq!(p.status, 202);
    assert_eq!(p.header("x-backend-content-type"), Some("image/png"));
    let g = s.req("GET", OBJ, &[], "").await;
    assert_eq!(g.body, "hello");
    assert_eq!(g.header("x-object-meta-a"), None);
    assert_eq!(g.header("x-object-meta-b"), Some("2"));
    assert_eq!(g.header("content-type"), Some("image/png"));
    assert_eq!(g.header("etag"), Some("\"5d41402abc4b2a76b9719d911017c592\""));
    assert_eq!(g.header("x-backend-timestamp"), Some(c.at(2).as_str()));
    assert_eq!(g.header("x-backend-data-timestamp"), Some(c.at(1).as_str()));
    // Older or equal POSTs conflict; a POST without Content-Type keeps the POSTed one.
    assert_eq!(s.req("POST", OBJ, &[("x-timestamp", &c.at(2))], "").await.status, 409);
    assert_eq!(s.req("POST", OBJ, &[("x-timestamp", &c.at(3)), ("x-object-meta-c", "3")], "").await.status, 202);
    let g = s.req("HEAD", OBJ, &[], "").await;
    assert_eq!((g.header("content-type"), g.header("x-object-meta-b")), (Some("image/png"), None));
    assert_eq!(g.header("x-object-meta-c"), Some("3"));
    assert_eq!(s.req("POST", "/sda/1/AUTH_t/c/none", &[("x-timestamp", &c.at(4))], "").await.status, 404);
    assert_eq!(s.req("POST", OBJ, &[], "").await.status, 400);
    assert_eq!(s.req("POST", OBJ, &[("x-timestamp", &c.at(5)), ("x-delete-at", "1000")], "").await.status, 400);
    // A newer PUT replaces the .meta too.
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", &c.at(6)), ("content-type", "a/b")], "v2").await.status, 201);
    let g = s.req("GET", OBJ, &[], "").await;
    assert_eq!((g.header("content-type"), g.header("x-object-meta-c")), (Some("a/b"), None));
}

#[tokio::test]
async fn delete_writes_tombstones_with_backend_timestamps() {
    let s = Server::start().await;
    let c = Clock::new();
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", &c.at(2)), ("content-type", "a/b")], "x").await.status, 201);
    let old = s.req("DELETE", OBJ, &[("x-timestamp", &c.at(1))], "").await;
    assert_eq!(old.status, 409);
    assert_eq!(old.header("x-backend-timestamp"), Some(c.at(2).as_str()));
    let d = s.req("DELETE", OBJ, &[("x-timestamp", &c.at(3))], "").await;
    assert_eq!(d.status, 204);
    assert_eq!(d.header("x-backend-timestamp"), Some(c.at(3).as_str()));
    assert_eq!(d.header("x-backend-content-type"), Some("a/b"));
    let g = s.req("GET", OBJ, &[], "").await;
    assert_eq!(g.status, 404);
    assert_eq!(g.header("x-backend-timestamp"), Some(c.at(3).as_str()));
    assert_eq!(s.req("HEAD", OBJ, &[], "").await.header("x-backend-timestamp"), Some(c.at(3).as_str()));
    // Deleting again (newer) is a 404 but still records the newer tombstone.
    let again = s.req("DELETE", OBJ, &[("x-timestamp", &c.at(4))], "").await;
    assert_eq!((again.status, again.header("x-backend-timestamp")), (404, Some(c.at(4).as_str())));
    let files = object_files(&s.device_path("sda"));
    assert_eq!(files.len(), 1);
    assert!(files[0].to_string_lossy().ends_with(&format!("{}.ts", c.at(4))));
    // Never-existing objects get a tombstone too.
    assert_eq!(s.req("DELETE", "/sda/1/AUTH_t/c/never", &[("x-timestamp", &c.at(5))], "").await.status, 404);
    assert_eq!(s.req("DELETE", OBJ, &[], "").await.status, 400);
}

#[tokio::test]
async fn x_delete_at_expires_objects() {
    let s = Server::start().await;
    let c = Clock::new();
    let now = common::Timestamp::now().secs();
    let at = (now + 100).to_string();
    let put = s.req("PUT", OBJ, &[("x-timestamp", &c.at(1)), ("content-type", "a/b"), ("x-delete-at", &at)], "x").await;
    assert_eq!(put.status, 201);
    assert_eq!(s.req("HEAD", OBJ, &[], "").await.header("x-delete-at"), Some(at.as_str()));
    // As seen from after the deadline (X-Timestamp is the request's notion of now).
    let later = format!("{}.00000", now + 200);
    let g = s.req("GET", OBJ, &[("x-timestamp", &later)], "").await;
    assert_eq!(g.status, 404);
    assert_eq!(g.header("x-backend-timestamp"), Some(c.at(1).as_str()));
    let repl = s.req("GET", OBJ, &[("x-timestamp", &later), ("x-backend-replication", "true")], "").await;
    assert_eq!(repl.status, 200);
    let past = (now - 10).to_string();
    let r = s.req("PUT", OBJ, &[("x-timestamp", &c.at(2)), ("content-type", "a/b"), ("x-delete-at", &past)], "x").await;
    assert_eq!(r.status, 400);
    let r =
        s.req("PUT", OBJ, &[("x-timestamp", &c.at(2)), ("content-type", "a/b"), ("x-delete-at", "soon")], "x").await;
    assert_eq!(r.status, 400);
    // The expirer's conditional DELETE.
    let wrong = s.req("DELETE", OBJ, &[("x-timestamp", &c.at(3)), ("x-if-delete-at", "12345")], "").await;
    assert_eq!(wrong.status, 412);
    let right = s.req("DELETE", OBJ, &[("x-timestamp", &c.at(3)), ("x-if-delete-at", &at)], "").await;
    assert_eq!(right.status, 204);
}

#[tokio::test]
async fn full_user_metadata_is_stored_on_ext4() {
    let s = Server::start().await;
    let c = Clock::new();
    // 16 x (128-byte name + 128-byte value) = 4096 bytes: Swift's limit; too big for ext4's xattr block.
    let items: Vec<(String, String)> =
        (0..16).map(|i| (format!("x-object-meta-{}{i:02}", "n".repeat(126)), "v".repeat(128))).collect();
    let ts = c.at(1);
    let mut h: Vec<(&str, &str)> = items.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    h.extend([("x-timestamp", ts.as_str()), ("content-type", "a/b")]);
    assert_eq!(s.req("PUT", OBJ, &h, "body").await.status, 201);
    let g = s.req("GET", OBJ, &[], "").await;
    assert_eq!(g.body, "body");
    for (k, v) in &items {
        assert_eq!(g.header(k), Some(v.as_str()), "{k}");
    }
    let data = object_files(&s.device_path("sda")).pop().unwrap();
    let spilled = xattr::get(&data, "user.swiftlet.spill").unwrap().is_some();
    let size = std::fs::metadata(&data).unwrap().len();
    assert_eq!(spilled, size > 4, "spill pointer and file layout agree");
    if support::is_ext4(&data) {
        assert!(spilled, "ext4 cannot hold this in xattrs, so it must have spilled");
    }
    // The same limits as Swift: one byte more is refused.
    let mut too_big = items.clone();
    too_big[0].1.push('v');
    let mut h: Vec<(&str, &str)> = too_big.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let t2 = c.at(2);
    h.extend([("x-timestamp", t2.as_str()), ("content-type", "a/b")]);
    assert_eq!(s.req("PUT", OBJ, &h, "body").await.status, 400);
    // POST with the full amount works too (.meta files spill into their own body).
    let t3 = c.at(3);
    let mut h: Vec<(&str, &str)> = items.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    h.push(("x-timestamp", t3.as_str()));
    assert_eq!(s.req("POST", OBJ, &h, "").await.status, 202);
    assert_eq!(s.req("HEAD", OBJ, &[], "").await.header(&items[15].0), Some(items[15].1.as_str()));
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    let s = Server::start().await;
    let c = Clock::new();
    let ts = c.at(1);
    let put = |path: &str| {
        format!(
            "PUT {path} HTTP/1.1\r\nHost: x\r\nX-Timestamp: {ts}\r\nContent-Type: a/b\r\nContent-Length: 1\r\n\r\nx"
        )
    };
    for (path, status) in [
        ("/../../etc/passwd/a/c", 400),
        ("/sda/../../etc/c/o", 400),
        ("/%2e%2e/1/a/c/o", 400),
        ("/sda/1/../c/o", 400),
        ("/sda/1/a/%2E%2E/o", 400),
        ("//etc/1/a/c/o", 400),
        ("/sda/-1/a/c/o", 400),
        ("/sda/1/a/c/o%00x", 412),
        ("/sda/1/a/c", 400),
    ] {
        let resp = raw(s.addr, put(path).as_bytes()).await;
        assert_eq!(raw_status(&resp), status, "{path}: {resp}");
    }
    let long = format!("/sda/1/a/c/{}", "o".repeat(1025));
    assert_eq!(raw_status(&raw(s.addr, put(&long).as_bytes()).await), 400);
    let ok_long = format!("/sda/1/a/c/{}", "o".repeat(1024));
    assert_eq!(raw_status(&raw(s.addr, put(&ok_long).as_bytes()).await), 201);
    std::fs::remove_dir_all(s.device_path("sda/objects")).unwrap();

    let many: Vec<(String, String)> = (0..91).map(|i| (format!("x-object-meta-m{i}"), "v".into())).collect();
    let mut h: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    h.extend([("x-timestamp", ts.as_str()), ("content-type", "a/b")]);
    assert_eq!(s.req("PUT", OBJ, &h, "x").await.status, 400);
    let long_value = "v".repeat(257);
    let r = s
        .req("PUT", OBJ, &[("x-timestamp", &ts), ("content-type", "a/b"), ("x-object-meta-k", &long_value)], "x")
        .await;
    assert_eq!(r.status, 400);
    let r = s.req("PUT", OBJ, &[("x-timestamp", &ts), ("content-type", "a/b"), ("x-object-meta-", "v")], "x").await;
    assert_eq!(r.status, 400);
    assert_eq!(s.req("GET", OBJ, &[("range", "bytes=0-1")], "").await.status, 404);
    assert!(object_files(&s.device_path("sda")).is_empty());
    assert!(!s.dir.path().join("etc").exists());
    assert!(!s.dir.path().parent().unwrap().join("etc/passwd").exists());
}

#[tokio::test]
async fn client_disconnect_and_timeout_write_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::start_with(|c| c.client_timeout = 0.3).await;
    let c = Clock::new();
    let head = |ts: &str| {
        format!("PUT {OBJ} HTTP/1.1\r\nHost: x\r\nX-Timestamp: {ts}\r\nContent-Type: a/b\r\nContent-Length: 100\r\n\r\n0123456789")
    };
    // The client goes away after 10 of 100 bytes: 499.
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    sock.write_all(&support::signed(head(&c.at(1)).as_bytes())).await.unwrap();
    sock.shutdown().await.unwrap();
    let mut resp = String::new();
    sock.read_to_string(&mut resp).await.unwrap();
    assert_eq!(raw_status(&resp), 499, "{resp}");
    // The client stalls: 408 after client_timeout.
    let mut sock = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    sock.write_all(&support::signed(head(&c.at(2)).as_bytes())).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf)).await.unwrap().unwrap();
    assert_eq!(raw_status(&String::from_utf8_lossy(&buf[..n])), 408);
    assert!(object_files(&s.device_path("sda")).is_empty());
    // The abandoned temp files are removed on the device pool, right after the response.
    let tmp = s.device_path("sda/tmp");
    assert!(support::eventually(Duration::from_secs(5), || support::files_under(&tmp).is_empty()).await);
}

#[tokio::test]
async fn etag_in_a_trailer_is_stored_and_checked() {
    let s = Server::start().await;
    let c = Clock::new();
    let put = |ts: String, extra: &str, trailer: &str| {
        format!(
            "PUT {OBJ} HTTP/1.1\r\nHost: x\r\nX-Timestamp: {ts}\r\nContent-Type: a/b\r\n{extra}\
             Trailer: x-backend-obj-etag\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n{trailer}\r\n"
        )
    };
    let hello_md5 = "5d41402abc4b2a76b9719d911017c592";
    // The trailer's ETag is stored as the object's ETag (the node does not hash with MD5).
    let ok = put(c.at(1), "", &format!("x-backend-obj-etag: {hello_md5}\r\n"));
    assert_eq!(raw_status(&raw(s.addr, ok.as_bytes()).await), 201);
    let head = s.req("HEAD", OBJ, &[], "").await;
    assert_eq!(head.header("etag"), Some(format!("\"{hello_md5}\"").as_str()));
    // A missing or malformed trailer: 400 and nothing new committed.
    for trailer in ["", "x-backend-obj-etag: nothex\r\n"] {
        let bad = put(c.at(2), "", trailer);
        assert_eq!(raw_status(&raw(s.addr, bad.as_bytes()).await), 400, "trailer {trailer:?}");
    }
    // A client ETag that disagrees with the trailer: 422.
    let mismatch =
        put(c.at(3), "ETag: 00000000000000000000000000000000\r\n", &format!("x-backend-obj-etag: {hello_md5}\r\n"));
    assert_eq!(raw_status(&raw(s.addr, mismatch.as_bytes()).await), 422);
    let files = object_files(&s.device_path("sda"));
    assert_eq!(files.len(), 1, "only the first version is on disk: {files:?}");
}
