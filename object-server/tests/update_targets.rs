//! Container updates go only where the container ring says: every `X-Container-Host` /
//! `-Device` (and the expirer's `X-Delete-At-Host` / `-Device`) must be a primary of the
//! named partition in `<swift_dir>/container.ring`. A request naming anything else is
//! refused with 400 before anything is written or sent.

mod support;

use std::time::Duration;
use support::{
    delete_at_headers, object_files, ring_device, update_headers, write_container_ring, Clock, Recorder, Server,
    CONTAINER_PART_POWER,
};

const OBJ: &str = "/sda/1/AUTH_t/c/o";

fn pendings(s: &Server) -> usize {
    s.devices.get_blocking("sda").unwrap().db().async_pendings(None, 100).unwrap().len()
}

#[tokio::test]
async fn updates_go_only_to_container_ring_devices() {
    let s = Server::start().await;
    let (known, stranger) = (Recorder::start(201, Duration::ZERO).await, Recorder::start(201, Duration::ZERO).await);
    let (good, evil) = (known.addr.to_string(), stranger.addr.to_string());
    s.add_container_devices(&[(&good, "cd")]);
    let c = Clock::new();
    let both = format!("{good},{evil}");
    for (i, (host, device, part)) in [
        (evil.as_str(), "cd", "5"),
        (good.as_str(), "sdx", "5"),
        (both.as_str(), "cd,cd", "5"),
        (good.as_str(), "cd", "five"),
        (good.as_str(), "cd", "256"),
        (good.as_str(), "cd", "-1"),
    ]
    .into_iter()
    .enumerate()
    {
        let ts = c.at(i as u64 + 1);
        let r = s.req("PUT", OBJ, &update_headers(host, device, part, &ts), "data").await;
        assert_eq!(r.status, 400, "{host} {device} {part}");
    }
    assert!(object_files(&s.device_path("sda")).is_empty(), "nothing was written");
    assert_eq!((known.requests().len(), stranger.requests().len(), pendings(&s)), (0, 0, 0), "nothing sent or queued");

    // The ring's device for the partition is fine.
    let ts = c.at(10);
    assert_eq!(s.req("PUT", OBJ, &update_headers(&good, "cd", "5", &ts), "data").await.status, 201);
    assert_eq!(known.requests().len(), 1);
    let files = object_files(&s.device_path("sda"));

    // POST and DELETE are checked the same way: no .meta, no tombstone.
    let ts = c.at(11);
    let mut h = update_headers(&evil, "cd", "5", &ts);
    h.retain(|(k, _)| *k != "content-type");
    assert_eq!(s.req("POST", OBJ, &h, "").await.status, 400);
    assert_eq!(s.req("DELETE", OBJ, &h, "").await.status, 400);
    // The expirer's targets too.
    let at = (common::Timestamp::now().secs() + 1000).to_string();
    let ts = c.at(12);
    let expiring = delete_at_headers(&ts, &at, &evil, "cd");
    assert_eq!(s.req("PUT", OBJ, &expiring, "new").await.status, 400);
    assert_eq!(object_files(&s.device_path("sda")), files, "still only the first PUT's file");
    assert_eq!(&s.req("GET", OBJ, &[], "").await.body[..], b"data");
    assert_eq!((known.requests().len(), stranger.requests().len(), pendings(&s)), (1, 0, 0));
}

#[tokio::test]
async fn a_partition_names_only_its_own_primaries() {
    let s = Server::start().await;
    let (even, odd) = (Recorder::start(201, Duration::ZERO).await, Recorder::start(201, Duration::ZERO).await);
    let (even_host, odd_host) = (even.addr.to_string(), odd.addr.to_string());
    // One replica: even partitions on one server, odd ones on the other.
    let devs = vec![Some(ring_device(0, &even_host, "cd")), Some(ring_device(1, &odd_host, "cd"))];
    let row = (0..1u32 << CONTAINER_PART_POWER).map(|p| (p % 2) as u16).collect();
    let ring = swiftlet_ring::Ring::new(CONTAINER_PART_POWER, 2, devs, vec![row]).unwrap();
    ring.save(&s.swift_dir.path().join("container.ring")).unwrap();
    let c = Clock::new();
    let (t1, t2, t3) = (c.at(1), c.at(2), c.at(3));
    assert_eq!(s.req("PUT", OBJ, &update_headers(&even_host, "cd", "3", &t1), "x").await.status, 400);
    assert_eq!(s.req("PUT", OBJ, &update_headers(&even_host, "cd", "4", &t2), "x").await.status, 201);
    assert_eq!(s.req("PUT", OBJ, &update_headers(&odd_host, "cd", "3", &t3), "x").await.status, 201);
    assert_eq!((even.requests().len(), odd.requests().len()), (1, 1));
}

#[tokio::test]
async fn a_new_container_ring_is_used_at_once_and_the_one_it_replaced_still_counts() {
    let s = Server::start().await;
    let recs = [
        Recorder::start(201, Duration::ZERO).await,
        Recorder::start(201, Duration::ZERO).await,
        Recorder::start(201, Duration::ZERO).await,
    ];
    let hosts: Vec<String> = recs.iter().map(|r| r.addr.to_string()).collect();
    let etc = s.swift_dir.path();
    let c = Clock::new();
    let mut n = 0;
    let mut put = |host: &str| {
        n += 1;
        let ts = c.at(n);
        let h: Vec<(String, String)> =
            update_headers(host, "cd", "7", &ts).into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let s = &s;
        async move {
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            s.req("PUT", OBJ, &h, "x").await.status
        }
    };
    write_container_ring(etc, &[(hosts[0].clone(), "cd".into())]);
    assert_eq!(put(&hosts[0]).await, 201);
    // The ring moves the container to another server: a proxy that has not reloaded yet
    // still names the old one, and both are accepted.
    write_container_ring(etc, &[(hosts[1].clone(), "cd".into())]);
    assert_eq!(put(&hosts[1]).await, 201);
    assert_eq!(put(&hosts[0]).await, 201);
    // Two rings later, the first server is no longer a target.
    write_container_ring(etc, &[(hosts[2].clone(), "cd".into())]);
    assert_eq!(put(&hosts[2]).await, 201);
    assert_eq!(put(&hosts[0]).await, 400);
    let seen: Vec<usize> = recs.iter().map(|r| r.requests().len()).collect();
    assert_eq!(seen, [2, 1, 1]);
}
