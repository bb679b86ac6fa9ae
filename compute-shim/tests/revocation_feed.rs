//! The identity service's revocation feed and the poller a proxy runs, together: a token
//! revoked, a user disabled, a role assignment removed, a project disabled — each is on
//! the poller's list after one poll, and the image service (same process) refuses such
//! tokens at once. The feed wants the feed signature or an admin token; a failed poll
//! keeps the last good list.

mod support;

use reqwest::Method;
use serde_json::json;
use support::*;
use swiftlet_token::{KeystoneTokens, PollerConfig, RevocationPoller, TokenClaims};

fn claims(tokens: &KeystoneTokens, token: &str) -> TokenClaims {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    tokens.verify(token, now).expect("a genuine, unexpired token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_sees_revocations_disabled_users_removed_roles_and_disabled_projects() {
    let shim = Shim::start().await;
    let tokens = KeystoneTokens::new(&shim.cfg.token.load_key().unwrap());
    let poller = RevocationPoller::new(PollerConfig::new(shim.identity()), &tokens);
    let list = poller.revocations();
    let admin = shim.login("admin", ADMIN_PASSWORD, "admin").await;
    let revoked = |token: &str| list.is_revoked(&claims(&tokens, token));
    let images = format!("{}/v2/images", shim.cloud.endpoints.image);
    let image_status = |token: String| {
        let r = shim.http.get(&images).header("x-auth-token", token).send();
        async move { r.await.unwrap().status().as_u16() }
    };

    // A revoked token.
    let first = shim.login("demo", DEMO_PASSWORD, "demo").await;
    let other = shim.login("demo", DEMO_PASSWORD, "demo").await;
    assert_eq!(poller.poll_once().await.unwrap(), 0);
    assert!(!revoked(&first));
    let r = shim.api(Method::DELETE, "/auth/tokens", &admin).header("x-subject-token", &first).send().await.unwrap();
    assert_eq!(r.status(), 204);
    poller.poll_once().await.unwrap();
    assert!(revoked(&first), "the revoked token");
    assert!(!revoked(&other), "the user's other token");
    assert!(poller.last_success().is_some());

    // A disabled user: every token they hold, here and in the image service.
    let demo_id = shim.id_of(&admin, "users", "demo").await;
    assert_eq!(image_status(other.clone()).await, 200);
    let r = shim
        .api(Method::PATCH, &format!("/users/{demo_id}"), &admin)
        .json(&json!({"user": {"enabled": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    poller.poll_once().await.unwrap();
    assert!(revoked(&other), "a disabled user's token");
    assert!(!revoked(&admin));
    assert_eq!(image_status(other.clone()).await, 401, "the image service, at once");

    // A removed role assignment: the user's tokens on that project only.
    let demo_project = shim.id_of(&admin, "projects", "demo").await;
    let admin_id = shim.id_of(&admin, "users", "admin").await;
    let member = shim.id_of(&admin, "roles", "member").await;
    let grant = format!("/projects/{demo_project}/users/{admin_id}/roles/{member}");
    assert_eq!(shim.api(Method::PUT, &grant, &admin).send().await.unwrap().status(), 204);
    let on_demo = shim.login("admin", ADMIN_PASSWORD, "demo").await;
    poller.poll_once().await.unwrap();
    assert!(!revoked(&on_demo));
    assert_eq!(shim.api(Method::DELETE, &grant, &admin).send().await.unwrap().status(), 204);
    poller.poll_once().await.unwrap();
    assert!(revoked(&on_demo), "the token on the project the role was removed from");
    assert!(!revoked(&admin), "the same user's token on another project");

    // A disabled project: everyone's tokens on it.
    let r = shim.api(Method::POST, "/projects", &admin).json(&json!({"project": {"name": "ops"}})).send();
    let ops =
        r.await.unwrap().json::<serde_json::Value>().await.unwrap()["project"]["id"].as_str().unwrap().to_string();
    let grant = format!("/projects/{ops}/users/{admin_id}/roles/{member}");
    assert_eq!(shim.api(Method::PUT, &grant, &admin).send().await.unwrap().status(), 204);
    let on_ops = shim.login("admin", ADMIN_PASSWORD, "ops").await;
    let r = shim
        .api(Method::PATCH, &format!("/projects/{ops}"), &admin)
        .json(&json!({"project": {"enabled": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    poller.poll_once().await.unwrap();
    assert!(revoked(&on_ops), "a token on a disabled project");
    assert!(!revoked(&admin));

    // The feed itself: the signature or an admin token; not anonymous, not a member.
    let feed = format!("{}/v3/OS-REVOKE/events", shim.identity());
    assert_eq!(shim.http.get(&feed).send().await.unwrap().status(), 401);
    let stale = swiftlet_token::FeedKey::new(&tokens).sign(1_000_000);
    let r = shim.http.get(&feed).header(swiftlet_token::feed::FEED_AUTH_HEADER, stale).send().await.unwrap();
    assert_eq!(r.status(), 401, "an old signature");
    let r = shim.http.get(&feed).header("x-auth-token", &admin).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let events: serde_json::Value = r.json().await.unwrap();
    assert_eq!(events["events"].as_array().unwrap().len(), 4, "{events}");

    // The identity service goes away: the poll fails and the list stays.
    let kept = list.len();
    shim.cloud.shutdown().await;
    assert!(poller.poll_once().await.is_err());
    assert_eq!(list.len(), kept);
    assert!(list.is_revoked(&claims(&tokens, &first)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_may_not_read_the_feed_and_revocations_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = test_config(dir.path());
    let shim = Shim::start_with(cfg.clone(), dir).await;
    let demo = shim.login("demo", DEMO_PASSWORD, "demo").await;
    let feed = format!("{}/v3/OS-REVOKE/events", shim.identity());
    assert_eq!(shim.http.get(&feed).header("x-auth-token", &demo).send().await.unwrap().status(), 403);
    let admin = shim.login("admin", ADMIN_PASSWORD, "admin").await;
    let demo_id = shim.id_of(&admin, "users", "demo").await;
    let r = shim.api(Method::DELETE, &format!("/users/{demo_id}"), &admin).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let Shim { cloud, dir, .. } = shim;
    cloud.shutdown().await;

    let shim = Shim::start_with(cfg, dir).await;
    let tokens = KeystoneTokens::new(&shim.cfg.token.load_key().unwrap());
    let poller = RevocationPoller::new(PollerConfig::new(shim.identity()), &tokens);
    poller.poll_once().await.unwrap();
    assert!(poller.revocations().is_revoked(&claims(&tokens, &demo)), "a deleted user's token, after a restart");
}
