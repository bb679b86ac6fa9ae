//! Logins are unauthenticated and each one runs argon2 (~19 MiB, tens of milliseconds): a
//! flood of bogus logins is turned away quickly (503 with Retry-After, before any hashing)
//! instead of queueing without bound on the blocking pool, while an honest login still
//! gets through in bounded time.

mod support;

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

/// One password login: its status, its Retry-After and how long it took.
async fn login_timed(shim: &Shim, user: &str, password: &str) -> (u16, Option<String>, Duration) {
    let body = json!({"auth": {
        "identity": {"methods": ["password"],
                     "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}});
    let started = Instant::now();
    let resp = shim.http.post(format!("{}/v3/auth/tokens", shim.identity())).json(&body).send().await.unwrap();
    let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (resp.status().as_u16(), retry_after, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bad_logins_is_turned_away_while_a_good_login_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = test_config(dir.path());
    cfg.identity.password_hash_concurrency = 2;
    cfg.identity.password_hash_queue = 2;
    let shim = Arc::new(Shim::start_with(cfg, dir).await);

    // Half unknown users, half wrong passwords of a real one: both cost a hash.
    let flood: Vec<_> = (0..32)
        .map(|i| {
            let shim = shim.clone();
            let user = if i % 2 == 0 { format!("nobody{i}") } else { "admin".to_string() };
            tokio::spawn(async move { login_timed(&shim, &user, "wrong").await })
        })
        .collect();

    // An honest client honours Retry-After (shortened here) and gets in.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    let good = loop {
        let (status, retry_after, _) = login_timed(&shim, "admin", ADMIN_PASSWORD).await;
        if status != 503 || started.elapsed() > Duration::from_secs(30) {
            break (status, retry_after);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(good.0, 201, "the good login within 30 s: {good:?}");

    let mut turned_away = Vec::new();
    for f in flood {
        let (status, retry_after, took) = f.await.unwrap();
        match status {
            401 => {}
            503 => {
                assert!(retry_after.is_some_and(|r| r.parse::<u64>().is_ok_and(|s| s >= 1)), "Retry-After");
                turned_away.push(took);
            }
            other => panic!("a bad login answered {other}"),
        }
    }
    // 2 hashing and 2 waiting at most: most of the 32 cannot get in at once.
    assert!(turned_away.len() >= 16, "only {} of 32 bad logins were turned away", turned_away.len());
    turned_away.sort();
    let median = turned_away[turned_away.len() / 2];
    assert!(median < Duration::from_secs(1), "turned away without hashing, quickly: median {median:?}");

    let gate = shim.cloud.identity.password_gate();
    assert!(gate.peak() <= 2, "at most 2 hashes at once, saw {}", gate.peak());
    assert!(gate.peak() >= 1);
}
