//! The identity service (Keystone v3 subset) of a whole cluster: tokens, catalog,
//! validation, revocation, administration, durability across a restart, and the proxy
//! accepting its tokens (members operate, readers read) — with reqwest, keystoneauth1 and
//! python-swiftclient on a keystoneauth1 session.

mod cloud_support;

use cloud_support::*;
use reqwest::Method;
use serde_json::{json, Value};

const KEYSTONEAUTH: &str = r#"
import json, os
from keystoneauth1 import session
from keystoneauth1.identity import v3
auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"], username="admin", password="admin",
                   project_name="admin", user_domain_id="default", project_domain_id="default")
s = session.Session(auth=auth)
out = {
    "token": s.get_token(),
    "project_id": s.get_project_id(),
    "object_store": s.get_endpoint(service_type="object-store", interface="public"),
    "image": s.get_endpoint(service_type="image", interface="public"),
    "compute": s.get_endpoint(service_type="compute", interface="public"),
}
users = s.get("/users", endpoint_filter={"service_type": "identity", "interface": "public"}).json()
out["users"] = sorted(u["name"] for u in users["users"])
print(json.dumps(out))
"#;

const SWIFTCLIENT: &str = r#"
import json, os, swiftclient
from keystoneauth1 import session
from keystoneauth1.identity import v3
auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"], username="demo", password="demo",
                   project_name="demo", user_domain_name="Default", project_domain_name="Default")
conn = swiftclient.Connection(session=session.Session(auth=auth))
headers, objects = conn.get_container("box")
url, _ = conn.get_auth()
print(json.dumps({"account": url.rsplit("/", 1)[1], "objects": [o["name"] for o in objects]}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_catalog_validation_and_revocation() {
    let t = Env::start().await;
    let base = identity_url(&t);
    let root = t.http.get(base.trim_end_matches("/v3")).send().await.unwrap();
    assert_eq!(root.status(), 300);
    let v: Value = root.json().await.unwrap();
    assert_eq!(v["versions"]["values"][0]["id"], "v3.14");
    let v: Value = t.http.get(&base).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["version"]["status"], "stable");

    let demo = login(&t, "demo", "demo", "demo").await;
    let tok = &demo.body["token"];
    assert_eq!(tok["user"]["name"], "demo");
    assert_eq!(tok["project"]["name"], "demo");
    assert_eq!(tok["roles"].as_array().unwrap().iter().map(|r| r["name"].clone()).collect::<Vec<_>>(), ["member"]);
    let kinds: Vec<&str> = tok["catalog"].as_array().unwrap().iter().map(|s| s["type"].as_str().unwrap()).collect();
    for kind in ["identity", "object-store", "image", "compute"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert_eq!(demo.endpoint("object-store"), format!("{}/v1/AUTH_{}", t.cluster.proxy_url(), demo.project_id()));
    assert!(tok["expires_at"].as_str().unwrap().ends_with('Z'));

    // Wrong password, unknown user, and a project the user has no role on: 401.
    assert_eq!(try_login(&t, &password_auth("demo", "nope", "demo")).await.0, 401);
    assert_eq!(try_login(&t, &password_auth("nobody", "demo", "demo")).await.0, 401);
    assert_eq!(try_login(&t, &password_auth("demo", "demo", "admin")).await.0, 401);

    // The token method rescopes without a password, never outliving the original.
    let body = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": demo.id}},
                               "scope": {"project": {"id": demo.project_id()}}}});
    let (status, again) = try_login(&t, &body).await;
    assert_eq!(status, 201);
    let again = again.unwrap();
    assert!(again.body["token"]["expires_at"].as_str() <= tok["expires_at"].as_str());
    let unscoped = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": demo.id}}, "scope": "unscoped"}});
    let (_, unscoped) = try_login(&t, &unscoped).await;
    assert!(unscoped.unwrap().body["token"].get("catalog").is_none());

    // Validation: GET and HEAD with the subject token; a forged one is a 404.
    let validate = |subject: &str, method: Method| {
        t.http
            .request(method, format!("{base}/auth/tokens"))
            .header("x-auth-token", &demo.id)
            .header("x-subject-token", subject)
    };
    let r = validate(&again.id, Method::GET).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["token"]["user"]["name"], "demo");
    assert_eq!(validate(&again.id, Method::HEAD).send().await.unwrap().status(), 200);
    let forged = format!("{}x", &again.id[..again.id.len() - 1]);
    assert_eq!(validate(&forged, Method::GET).send().await.unwrap().status(), 404);

    // Revocation: the identity, image and compute services stop accepting the token.
    assert_eq!(validate(&again.id, Method::DELETE).send().await.unwrap().status(), 204);
    assert_eq!(validate(&again.id, Method::GET).send().await.unwrap().status(), 404);
    let images = format!("{}/v2/images", t.image_url());
    assert_eq!(t.http.get(&images).header("x-auth-token", &again.id).send().await.unwrap().status(), 401);
    assert_eq!(t.http.get(&images).header("x-auth-token", &demo.id).send().await.unwrap().status(), 200);
    let flavors = format!("{}/flavors", t.compute_url());
    assert_eq!(t.http.get(&flavors).header("x-auth-token", &again.id).send().await.unwrap().status(), 401);

    // The real keystoneauth1: a session, its token, endpoints from the catalog, an admin call.
    let env = [("OS_AUTH_URL", base.clone())];
    let out = tokio::task::block_in_place(|| python_json(KEYSTONEAUTH, &env));
    assert!(out["token"].as_str().unwrap().starts_with("KS1"));
    let admin_pid = out["project_id"].as_str().unwrap();
    assert_eq!(out["object_store"], format!("{}/v1/AUTH_{admin_pid}", t.cluster.proxy_url()));
    assert_eq!(out["image"], t.image_url());
    assert_eq!(out["compute"], t.compute_url());
    assert_eq!(out["users"], json!(["admin", "demo", "glance"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administration_survives_a_restart_and_the_proxy_maps_roles() {
    let t = Env::start().await;
    let base = identity_url(&t);
    let admin = login(&t, "admin", "admin", "admin").await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let api =
        |m: Method, path: &str, token: &str| t.http.request(m, format!("{base}{path}")).header("x-auth-token", token);

    // Only admins administer.
    assert_eq!(api(Method::GET, "/users", &demo.id).send().await.unwrap().status(), 403);
    let me = format!("/users/{}", demo.body["token"]["user"]["id"].as_str().unwrap());
    assert_eq!(api(Method::GET, &me, &demo.id).send().await.unwrap().status(), 200, "but users read themselves");
    let r = api(Method::POST, "/projects", &admin.id).json(&json!({"project": {"name": "ops"}})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let ops: Value = r.json().await.unwrap();
    let ops_id = ops["project"]["id"].as_str().unwrap().to_string();
    let dup =
        api(Method::POST, "/projects", &admin.id).json(&json!({"project": {"name": "ops"}})).send().await.unwrap();
    assert_eq!(dup.status(), 409);
    let r = api(Method::POST, "/users", &admin.id)
        .json(&json!({"user": {"name": "viewer", "password": "v1ewer", "default_project_id": demo.project_id()}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let viewer_id = r.json::<Value>().await.unwrap()["user"]["id"].as_str().unwrap().to_string();
    let roles: Value = api(Method::GET, "/roles?name=reader", &admin.id).send().await.unwrap().json().await.unwrap();
    let reader = roles["roles"][0]["id"].as_str().unwrap().to_string();
    let grant = format!("/projects/{}/users/{viewer_id}/roles/{reader}", demo.project_id());
    assert_eq!(api(Method::HEAD, &grant, &admin.id).send().await.unwrap().status(), 404);
    assert_eq!(api(Method::PUT, &grant, &admin.id).send().await.unwrap().status(), 204);
    assert_eq!(api(Method::HEAD, &grant, &admin.id).send().await.unwrap().status(), 204);
    let r = api(Method::PATCH, &format!("/projects/{ops_id}"), &admin.id)
        .json(&json!({"project": {"description": "operations"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["project"]["description"], "operations");
    assert_eq!(api(Method::DELETE, &format!("/projects/{ops_id}"), &admin.id).send().await.unwrap().status(), 204);
    assert_eq!(api(Method::GET, &format!("/projects/{ops_id}"), &admin.id).send().await.unwrap().status(), 404);
    // No scope: the user's default project.
    let (status, viewer) = try_login(
        &t,
        &json!({"auth": {"identity": {"methods": ["password"],
        "password": {"user": {"id": viewer_id, "password": "v1ewer"}}}}}),
    )
    .await;
    assert_eq!(status, 201);
    let viewer = viewer.unwrap();
    assert_eq!(viewer.project_id(), demo.project_id());

    // The proxy: members own AUTH_<project>, readers read it, other projects are not theirs.
    let account = format!("{}/v1/AUTH_{}", t.cluster.proxy_url(), demo.project_id());
    let swift = |m: Method, path: &str, token: &str| {
        t.http.request(m, format!("{account}{path}")).header("x-auth-token", token)
    };
    assert_eq!(swift(Method::PUT, "/box", &demo.id).send().await.unwrap().status(), 201);
    assert_eq!(swift(Method::PUT, "/box/hello", &demo.id).body("hi").send().await.unwrap().status(), 201);
    assert_eq!(swift(Method::GET, "/box/hello", &viewer.id).send().await.unwrap().text().await.unwrap(), "hi");
    assert_eq!(swift(Method::GET, "", &viewer.id).send().await.unwrap().status(), 200);
    assert_eq!(swift(Method::PUT, "/box/nope", &viewer.id).body("x").send().await.unwrap().status(), 403);
    assert_eq!(swift(Method::DELETE, "/box/hello", &viewer.id).send().await.unwrap().status(), 403);
    let other = format!("{}/v1/AUTH_{}/box", t.cluster.proxy_url(), admin.project_id());
    assert_eq!(t.http.put(&other).header("x-auth-token", &demo.id).send().await.unwrap().status(), 403);
    let forged = format!("{}A", demo.id);
    assert_eq!(swift(Method::GET, "", &forged).send().await.unwrap().status(), 401);

    // python-swiftclient on a keystoneauth1 session: the catalog gives it AUTH_<project>.
    let env = [("OS_AUTH_URL", base.clone())];
    let out = tokio::task::block_in_place(|| python_json(SWIFTCLIENT, &env));
    assert_eq!(out["account"], format!("AUTH_{}", demo.project_id()));
    assert_eq!(out["objects"], json!(["hello"]));

    // Revoke a token, restart the whole cluster: users, grants and the revocation remain.
    let r = api(Method::DELETE, "/auth/tokens", &admin.id).header("x-subject-token", &demo.id).send().await.unwrap();
    assert_eq!(r.status(), 204);
    // The proxy hears of it from the identity service's revocation feed within a poll (1 s in saio).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status = swift(Method::GET, "", &demo.id).send().await.unwrap().status();
        if status == 401 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the proxy still takes a revoked token: {status}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(swift(Method::GET, "", &viewer.id).send().await.unwrap().status(), 200, "other tokens still work");
    let t = t.restart().await;
    let base = identity_url(&t);
    let viewer = login(&t, "viewer", "v1ewer", "demo").await;
    assert_eq!(viewer.body["token"]["roles"][0]["name"], "reader");
    let admin = login(&t, "admin", "admin", "admin").await;
    let validate = |caller: &str, subject: &str| {
        t.http
            .get(format!("{base}/auth/tokens"))
            .header("x-auth-token", caller)
            .header("x-subject-token", subject)
            .send()
    };
    assert_eq!(
        validate(&viewer.id, &admin.id).await.unwrap().status(),
        403,
        "non-admins validate only their own tokens"
    );
    let check = validate(&admin.id, &demo.id).await.unwrap();
    assert_eq!(check.status(), 404, "revoked before the restart");
}
