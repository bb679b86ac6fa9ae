//! The container server reporting to a real account server: on container PUT/DELETE, on
//! stats changes from object rows, and retried from the durable queue after failures.

mod support;

use http::StatusCode;
use support::*;

const A: &str = "/sda/7/AUTH_test";

fn account_headers(acct: &Node, t: u64) -> Vec<(String, String)> {
    vec![
        ("x-timestamp".into(), ts(t)),
        ("x-account-host".into(), acct.addr.to_string()),
        ("x-account-device".into(), "sda".into()),
        ("x-account-partition".into(), "7".into()),
        ("x-trans-id".into(), "tx-test".into()),
    ]
}

fn refs(h: &[(String, String)]) -> Vec<(&str, &str)> {
    h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn account_listing(acct: &Node) -> serde_json::Value {
    let r = req(acct.addr, "GET", &format!("{A}?format=json"), &[], vec![]).await;
    if r.status == StatusCode::NO_CONTENT {
        return serde_json::json!([]);
    }
    r.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_reports_reach_the_account_server() {
    let dir = tempfile::tempdir().unwrap();
    let devices = devices_dir(dir.path());
    let acct = account_server(&devices, 0).await;
    let cont = container_server(&devices, 0, |c| c.account_update_interval = 0.1).await;
    assert_eq!(req(acct.addr, "PUT", A, &[("x-timestamp", &ts(1))], vec![]).await.status, StatusCode::CREATED);

    let h = account_headers(&acct, 2);
    let r = req(cont.addr, "PUT", "/sda/3/AUTH_test/c1", &refs(&h), vec![]).await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Sent synchronously: the account knows the container when the PUT returns.
    let listed = account_listing(&acct).await;
    assert_eq!(listed[0]["name"], "c1");
    assert_eq!(listed[0]["count"], 0);
    assert_eq!(listed[0]["last_modified"], "2023-11-14T22:13:22.000000");

    // Object rows change the stats; the queued report follows without any request.
    for i in 0..5 {
        put_row(cont.addr, &format!("/sda/3/AUTH_test/c1/o{i}"), 3, 100).await;
    }
    let reported = eventually(10, || async {
        let head = req(acct.addr, "HEAD", A, &[], vec![]).await;
        head.header("x-account-object-count") == Some("5") && head.header("x-account-bytes-used") == Some("500")
    })
    .await;
    assert!(reported, "stats reached the account server");
    assert_eq!(req(acct.addr, "HEAD", A, &[], vec![]).await.header("x-account-container-count"), Some("1"));

    // Emptied and deleted: the account drops it.
    for i in 0..5 {
        delete_row(cont.addr, &format!("/sda/3/AUTH_test/c1/o{i}"), 4).await;
    }
    let h = account_headers(&acct, 5);
    let r = req(cont.addr, "DELETE", "/sda/3/AUTH_test/c1", &refs(&h), vec![]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(account_listing(&acct).await, serde_json::json!([]));
    let head = req(acct.addr, "HEAD", A, &[], vec![]).await;
    assert_eq!(head.header("x-account-container-count"), Some("0"));
    assert_eq!(head.header("x-account-object-count"), Some("0"));

    // An account that does not exist anywhere: the container PUT answers 404.
    let mut h = account_headers(&acct, 6);
    h.push(("x-account-override-deleted".into(), "no".into()));
    let r = req(cont.addr, "PUT", "/sda/3/AUTH_nobody/c", &refs(&h), vec![]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_reports_are_queued_and_retried() {
    let dir = tempfile::tempdir().unwrap();
    let devices = devices_dir(dir.path());
    // Reserve a port for the account server, then leave it closed.
    let port = bind(0).await.local_addr().unwrap().port();
    let cont = container_server(&devices, 0, |_| {}).await;
    let fake = format!("127.0.0.1:{port}");
    let h = vec![
        ("x-timestamp".to_string(), ts(2)),
        ("x-account-host".to_string(), fake.clone()),
        ("x-account-device".to_string(), "sda".to_string()),
        ("x-account-partition".to_string(), "7".to_string()),
    ];
    // The container is created even though its account server is down (Swift does the same).
    let r = req(cont.addr, "PUT", "/sda/3/AUTH_test/c2", &refs(&h), vec![]).await;
    assert_eq!(r.status, StatusCode::CREATED);
    put_row(cont.addr, "/sda/3/AUTH_test/c2/o", 3, 42).await;
    let queue = devices.join("sda/account_updates.db");
    assert!(queue.is_file(), "the failure is on disk");
    let app = cont.app.clone().unwrap();
    let report = app.updater.run_pending_updates().await.unwrap();
    assert_eq!((report.succeeded, report.failed), (0, 0), "retry is not due yet: {report:?}");

    // The account server comes up; once the retry is due, the report gets through.
    let acct = account_server(&devices, port).await;
    req(acct.addr, "PUT", A, &[("x-timestamp", &ts(1))], vec![]).await;
    let delivered = eventually(10, || {
        let app = app.clone();
        let acct_addr = acct.addr;
        async move {
            app.updater.run_pending_updates().await.unwrap();
            let head = req(acct_addr, "HEAD", A, &[], vec![]).await;
            head.header("x-account-object-count") == Some("1") && head.header("x-account-bytes-used") == Some("42")
        }
    })
    .await;
    assert!(delivered, "the queued update was retried");
    let report = app.updater.run_pending_updates().await.unwrap();
    assert_eq!(report.attempted, 0, "delivered entries leave the queue");

    // The queue survives a restart: a queued entry is still sent by a new server.
    acct.stop().await;
    put_row(cont.addr, "/sda/3/AUTH_test/c2/p", 4, 8).await;
    drop(app);
    cont.stop().await;
    let cont = container_server(&devices, 0, |_| {}).await;
    let acct = account_server(&devices, port).await;
    let app = cont.app.clone().unwrap();
    let report = app.updater.run_pending_updates().await.unwrap();
    assert_eq!(report.succeeded, 1, "{report:?}");
    let head = req(acct.addr, "HEAD", A, &[], vec![]).await;
    assert_eq!(head.header("x-account-bytes-used"), Some("50"));
}
