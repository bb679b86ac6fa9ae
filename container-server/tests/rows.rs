//! Object rows from object servers: stats after PUT/DELETE storms, concurrent writers
//! into one container (batched, every 2xx committed), and conflict resolution by
//! timestamp whatever the arrival order.

mod support;

use http::StatusCode;
use std::collections::BTreeMap;
use support::*;

const C: &str = "/sda/3/AUTH_test/c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_after_put_delete_storm_from_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    let a = node.addr;
    put_container(a, C, 1).await;
    // 16 writers x 40 objects; every third object is deleted again by its writer.
    let mut tasks = Vec::new();
    for w in 0..16u64 {
        tasks.push(tokio::spawn(async move {
            for i in 0..40u64 {
                let path = format!("{C}/w{w:02}/o{i:02}");
                assert_eq!(put_row(a, &path, 10, w * 100 + i).await.status, StatusCode::CREATED);
                if i % 3 == 0 {
                    assert_eq!(delete_row(a, &path, 11).await.status, StatusCode::NO_CONTENT);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (mut count, mut bytes) = (0u64, 0u64);
    for w in 0..16u64 {
        for i in (0..40u64).filter(|i| i % 3 != 0) {
            count += 1;
            bytes += w * 100 + i;
        }
    }
    let head = req(a, "HEAD", C, &[], vec![]).await;
    assert_eq!(head.header("x-container-object-count"), Some(count.to_string().as_str()));
    assert_eq!(head.header("x-container-bytes-used"), Some(bytes.to_string().as_str()));
    let listed = req(a, "GET", &format!("{C}?format=json"), &[], vec![]).await.json();
    assert_eq!(listed.as_array().unwrap().len() as u64, count);
    let sum: u64 = listed.as_array().unwrap().iter().map(|o| o["bytes"].as_u64().unwrap()).sum();
    assert_eq!(sum, bytes);
    // Concurrent rows were group-committed, not one transaction each.
    let stats = node.app.as_ref().unwrap().store.batch_stats();
    assert_eq!(stats.rows, 16 * 40 + 16 * 14);
    assert!(stats.batches < stats.rows, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newest_timestamp_wins_whatever_the_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    let a = node.addr;
    put_container(a, C, 1).await;
    // For each name, 6 versions (t = 10..16) sent concurrently in scrambled order;
    // even names end with a DELETE at the newest time, odd names with a PUT.
    let mut tasks = Vec::new();
    for n in 0..20u64 {
        for v in [3u64, 0, 5, 1, 4, 2] {
            tasks.push(tokio::spawn(async move {
                let path = format!("{C}/n{n:02}");
                let t = 10 + v;
                if v == 5 && n % 2 == 0 {
                    delete_row(a, &path, t).await.status
                } else {
                    put_row(a, &path, t, 1000 * v + n).await.status
                }
            }));
        }
    }
    for t in tasks {
        assert!(t.await.unwrap().is_success());
    }
    let listed = req(a, "GET", &format!("{C}?format=json"), &[], vec![]).await.json();
    let got: BTreeMap<String, u64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap().to_string(), o["bytes"].as_u64().unwrap()))
        .collect();
    let want: BTreeMap<String, u64> =
        (0..20u64).filter(|n| n % 2 == 1).map(|n| (format!("n{n:02}"), 5000 + n)).collect();
    assert_eq!(got, want);
    // A late, older PUT after the delete does not resurrect; a same-time retry is a no-op.
    put_row(a, &format!("{C}/n00"), 12, 7).await;
    put_row(a, &format!("{C}/n01"), 15, 1).await;
    let again = req(a, "GET", &format!("{C}?format=json"), &[], vec![]).await.json();
    assert_eq!(again, listed);
    let head = req(a, "HEAD", C, &[], vec![]).await;
    assert_eq!(head.header("x-container-object-count"), Some("10"));
}

#[tokio::test]
async fn content_type_and_metadata_timestamps_merge_separately() {
    let dir = tempfile::tempdir().unwrap();
    let node = container_server(&devices_dir(dir.path()), 0, |_| {}).await;
    let a = node.addr;
    put_container(a, C, 1).await;
    put_row(a, &format!("{C}/o"), 10, 42).await;
    // A POST update (fast-post): same data timestamp, newer content type and metadata.
    let h = [
        ("x-timestamp", ts(10)),
        ("x-size", "42".to_string()),
        ("x-content-type", "image/png".to_string()),
        ("x-etag", "d41d8cd98f00b204e9800998ecf8427e".to_string()),
        ("x-content-type-timestamp", ts(12)),
        ("x-meta-timestamp", ts(13)),
    ];
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(req(a, "PUT", &format!("{C}/o"), &h, vec![]).await.status, StatusCode::CREATED);
    let v = req(a, "GET", &format!("{C}?format=json"), &[], vec![]).await.json();
    assert_eq!(v[0]["content_type"], "image/png");
    assert_eq!(v[0]["bytes"], 42);
    assert_eq!(v[0]["last_modified"], "2023-11-14T22:13:33.000000");
}
