//! Container updates as Swift sends them, and the async-pending queue when they fail.

mod support;

use std::time::{Duration, Instant};
use support::{closed_port, delete_at_headers, eventually, update_headers, Clock, Recorder, Server};

const OBJ: &str = "/sda/1/AUTH_t/c/o%20x";

fn pendings(s: &Server) -> Vec<swiftlet_object_store::ContainerUpdate> {
    let dev = s.devices.get_blocking("sda").unwrap();
    dev.db().async_pendings(None, 100).unwrap().into_iter().map(|(_, p)| p.unwrap()).collect()
}

#[tokio::test]
async fn put_post_delete_update_every_container_replica() {
    let s = Server::start().await;
    let (c1, c2) = (Recorder::start(201, Duration::ZERO).await, Recorder::start(201, Duration::ZERO).await);
    let hosts = format!("{}, {}", c1.addr, c2.addr);
    s.add_container_devices(&[(&c1.addr.to_string(), "cd1"), (&c2.addr.to_string(), "cd2")]);
    let target = [
        ("x-container-host", hosts.as_str()),
        ("x-container-device", "cd1,cd2"),
        ("x-container-partition", "77"),
        ("x-trans-id", "tx-test-1"),
    ];
    let c = Clock::new();
    let t1 = c.at(1);
    let mut h = target.to_vec();
    h.extend([("x-timestamp", t1.as_str()), ("content-type", "text/plain")]);
    assert_eq!(s.req("PUT", OBJ, &h, "hello").await.status, 201);
    // The PUT waited for the updates (they were fast).
    let (r1, r2) = (c1.requests(), c2.requests());
    assert_eq!((r1.len(), r2.len()), (1, 1));
    let u = &r1[0];
    assert_eq!((u.method.as_str(), u.path.as_str()), ("PUT", "/cd1/77/AUTH_t/c/o%20x"));
    assert_eq!(r2[0].path, "/cd2/77/AUTH_t/c/o%20x");
    assert_eq!(u.header("x-timestamp"), t1);
    assert_eq!(u.header("x-size"), "5");
    assert_eq!(u.header("x-content-type"), "text/plain");
    assert_eq!(u.header("x-etag"), "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(u.header("x-trans-id"), "tx-test-1");
    assert_eq!(u.header("x-backend-storage-policy-index"), "0");

    let t2 = c.at(2);
    let mut h = target.to_vec();
    h.extend([("x-timestamp", t2.as_str()), ("content-type", "image/png")]);
    assert_eq!(s.req("POST", OBJ, &h, "").await.status, 202);
    let u = c1.requests().pop().unwrap();
    assert_eq!(u.method, "PUT");
    assert_eq!((u.header("x-timestamp"), u.header("x-meta-timestamp")), (t1.as_str(), t2.as_str()));
    assert_eq!((u.header("x-content-type"), u.header("x-content-type-timestamp")), ("image/png", t2.as_str()));
    assert_eq!(u.header("x-size"), "5");

    let t3 = c.at(3);
    let mut h = target.to_vec();
    h.push(("x-timestamp", t3.as_str()));
    assert_eq!(s.req("DELETE", OBJ, &h, "").await.status, 204);
    let u = c2.requests().pop().unwrap();
    assert_eq!((u.method.as_str(), u.header("x-timestamp")), ("DELETE", t3.as_str()));
    assert!(pendings(&s).is_empty());

    // A rejected (older) write sends nothing.
    let before = c1.requests().len();
    let mut h = target.to_vec();
    h.extend([("x-timestamp", t1.as_str()), ("content-type", "a/b")]);
    assert_eq!(s.req("PUT", OBJ, &h, "x").await.status, 409);
    assert_eq!(c1.requests().len(), before);
}

#[tokio::test]
async fn unreachable_or_failing_container_servers_queue_async_pendings() {
    let s = Server::start().await;
    let c = Clock::new();
    let closed = closed_port().await.to_string();
    let failing = Recorder::start(503, Duration::ZERO).await;
    let fail_addr = failing.addr.to_string();
    s.add_container_devices(&[(&closed, "cd"), (&fail_addr, "cd")]);
    for (i, host) in [closed.as_str(), fail_addr.as_str()].iter().enumerate() {
        let ts = c.at(i as u64 + 1);
        let path = format!("/sda/1/AUTH_t/c/obj{i}");
        let h = [
            ("x-container-host", *host),
            ("x-container-device", "cd"),
            ("x-container-partition", "5"),
            ("x-timestamp", ts.as_str()),
            ("content-type", "a/b"),
        ];
        assert_eq!(s.req("PUT", &path, &h, "data").await.status, 201, "the write itself succeeds");
    }
    let queued = pendings(&s);
    assert_eq!(queued.len(), 2, "{queued:?}");
    let mut objs: Vec<_> = queued.iter().map(|p| p.obj.as_str()).collect();
    objs.sort();
    assert_eq!(objs, ["obj0", "obj1"]);
    let p = &queued[0];
    assert_eq!((p.op.as_str(), p.account.as_str(), p.container.as_str()), ("PUT", "AUTH_t", "c"));
    assert_eq!(p.headers.get("x-size").map(String::as_str), Some("4"));
    assert!(p.headers.contains_key("x-timestamp") && p.headers.contains_key("x-etag"));

    // The updater drains the queue through the shared device DB.
    let dev = s.devices.get_blocking("sda").unwrap();
    for (key, _) in dev.db().async_pendings(None, 10).unwrap() {
        dev.db().remove_async_pending(&key).unwrap();
    }
    assert!(pendings(&s).is_empty());
}

/// A server that waits 0.2 s for container updates and `node_timeout` s for the one
/// container server, which answers 201 after `delay`; and a PUT timestamp.
async fn slow_container_server(node_timeout: f64, delay: Duration) -> (Server, Recorder, String) {
    let s = Server::start_with(|c| {
        c.container_update_timeout = 0.2;
        c.node_timeout = node_timeout;
    })
    .await;
    let slow = Recorder::start(201, delay).await;
    s.add_container_devices(&[(&slow.addr.to_string(), "cd")]);
    (s, slow, Clock::new().at(1))
}

#[tokio::test]
async fn slow_container_server_does_not_hold_the_client() {
    let (s, slow, ts) = slow_container_server(1.0, Duration::from_secs(5)).await;
    let host = slow.addr.to_string();
    let h = update_headers(&host, "cd", "5", &ts);
    let started = Instant::now();
    assert_eq!(s.req("PUT", OBJ, &h, "x").await.status, 201);
    let took = started.elapsed();
    assert!(took < Duration::from_millis(900), "client waited {took:?}");
    assert_eq!(slow.requests().len(), 1);
    // The update keeps going in the background; after node_timeout it is queued.
    assert!(eventually(Duration::from_secs(5), || pendings(&s).len() == 1).await);
}

#[tokio::test]
async fn an_acknowledged_write_has_its_update_delivered_or_queued() {
    // Still working on the update when the PUT is answered; it will succeed later.
    let (s, slow, ts) = slow_container_server(10.0, Duration::from_secs(2)).await;
    let host = slow.addr.to_string();
    let h = update_headers(&host, "cd", "5", &ts);
    assert_eq!(s.req("PUT", OBJ, &h, "x").await.status, 201);
    // A crash now must not lose the listing row: the update is already in the queue.
    let queued = pendings(&s);
    assert_eq!(queued.len(), 1, "the 2xx came before its container update was delivered or queued");
    assert_eq!((queued[0].obj.as_str(), queued[0].headers["x-timestamp"].as_str()), ("o x", ts.as_str()));
    // Once the slow server takes it, the queued copy is dropped again.
    assert!(eventually(Duration::from_secs(10), || slow.requests().len() == 1 && pendings(&s).is_empty()).await);
}

#[tokio::test]
async fn delete_at_changes_reach_the_expirer_queue() {
    let s = Server::start().await;
    let rec = Recorder::start(201, Duration::ZERO).await;
    let host = rec.addr.to_string();
    s.add_container_devices(&[(&host, "ed")]);
    let c = Clock::new();
    let at = (common::Timestamp::now().secs() + 1000).to_string();
    let t1 = c.at(1);
    let h = delete_at_headers(&t1, &at, &host, "ed");
    assert_eq!(s.req("PUT", OBJ, &h, "12345").await.status, 201);
    let u = rec.requests().pop().unwrap();
    assert_eq!(u.method, "PUT");
    assert_eq!(u.path, format!("/ed/3/.expiring_objects/0001700000/{at}-AUTH_t/c/o%20x"));
    assert_eq!(u.header("x-content-type"), "text/plain;swift_expirer_bytes=5");
    assert_eq!(u.header("x-size"), "0");
    // Replacing the object without X-Delete-At removes the old task (queued for the expirer).
    let t2 = c.at(2);
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", &t2), ("content-type", "a/b")], "x").await.status, 201);
    let queued = pendings(&s);
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].op.as_str(), queued[0].account.as_str()), ("DELETE", ".expiring_objects"));
    assert_eq!(queued[0].obj, format!("{at}-AUTH_t/c/o x"));
}
