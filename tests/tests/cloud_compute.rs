//! The compute service (Nova subset) of a whole cluster with the `process` driver, which
//! runs on any machine: openstacksdk boots a server from an image in the store and drives
//! it (ACTIVE, console, stop, start, reboot, delete); the scheduler and the image checks
//! put servers in ERROR with a fault.

mod cloud_support;

use cloud_support::*;
use serde_json::{json, Value};

const OPENSTACKSDK: &str = r#"
import json, os, openstack
conn = openstack.connect(auth_url=os.environ["OS_AUTH_URL"], username="demo", password="demo",
                         project_name="demo", user_domain_id="default", project_domain_id="default")
out = {"flavors": sorted(f.name for f in conn.compute.flavors())}
flavor = conn.compute.find_flavor("m1.tiny")
server = conn.compute.create_server(name="box", image_id=os.environ["IMAGE"], flavor_id=flavor.id, networks="none")
server = conn.compute.wait_for_server(server, status="ACTIVE", wait=30, interval=0.2)
out["active"] = server.status
out["console"] = conn.compute.get_server_console_output(server)["output"]
conn.compute.stop_server(server)
out["stopped"] = conn.compute.wait_for_server(server, status="SHUTOFF", wait=30, interval=0.2).status
conn.compute.start_server(server)
out["started"] = conn.compute.wait_for_server(server, status="ACTIVE", wait=30, interval=0.2).status
conn.compute.reboot_server(server, "HARD")
out["rebooted"] = conn.compute.wait_for_server(server, status="ACTIVE", wait=30, interval=0.2).status
out["console_after"] = conn.compute.get_server_console_output(server, length=2)["output"]
out["listed"] = [s.name for s in conn.compute.servers()]
out["id"] = server.id
conn.compute.delete_server(server)
conn.compute.wait_for_delete(server, wait=30, interval=0.2)
out["after_delete"] = [s.name for s in conn.compute.servers()]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstacksdk_boots_and_drives_a_server() {
    let t = Env::start().await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let data = pattern(200_000, 9);
    let props = json!({"name": "disk", "disk_format": "raw", "container_format": "bare", "hypervisor_type": "process"});
    let image = upload_image(&t, &demo, props, data.clone()).await;
    let env = [("OS_AUTH_URL", identity_url(&t)), ("IMAGE", image.clone())];
    let out = tokio::task::block_in_place(|| python_json(OPENSTACKSDK, &env));
    assert!(out["flavors"].as_array().unwrap().contains(&json!("m1.tiny")), "{out}");
    for key in ["active", "started", "rebooted"] {
        assert_eq!(out[key], "ACTIVE", "{key}: {out}");
    }
    assert_eq!(out["stopped"], "SHUTOFF");
    let console = out["console"].as_str().unwrap();
    assert!(
        console.contains(&format!("image {image}: {} bytes, md5 {} verified", data.len(), md5_hex(&data))),
        "{console}"
    );
    // The reboot started the process again; the last two lines are its banner's end.
    let after = out["console_after"].as_str().unwrap();
    assert_eq!(after.lines().count(), 2, "{after}");
    assert!(after.ends_with("box login:"), "{after}");
    assert_eq!(console.matches("booting server").count(), 1);
    assert_eq!(out["listed"], json!(["box"]));
    assert_eq!(out["after_delete"], json!([]));

    // The host cached the image it fetched through the image service; the server's
    // directory went with it.
    let host = t.dir.path().join("cloud/compute/proc1");
    assert_eq!(md5_hex(&std::fs::read(host.join("images").join(&image)).unwrap()), md5_hex(&data));
    assert!(!host.join("instances").join(out["id"].as_str().unwrap()).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduling_and_image_failures_end_in_error() {
    let t = Env::start().await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let servers = format!("{}/servers", t.compute_url());
    let boot = |body: Value, version: &str| {
        t.http
            .post(&servers)
            .header("x-auth-token", &demo.id)
            .header("openstack-api-version", format!("compute {version}"))
            .json(&body)
            .send()
    };
    let props = json!({"name": "img", "disk_format": "raw", "container_format": "bare", "hypervisor_type": "process"});
    let image = upload_image(&t, &demo, props, pattern(50_000, 5)).await;
    let server = |name: &str, flavor: &str, image: &str| json!({"server": {"name": name, "imageRef": image, "flavorRef": flavor, "networks": "none"}});

    // Refused at the API: unknown image or flavor, missing networks from 2.37, bad versions.
    assert_eq!(boot(server("a", "1", "no-such-image"), "2.37").await.unwrap().status(), 400);
    assert_eq!(boot(server("a", "99", &image), "2.37").await.unwrap().status(), 400);
    let no_net = json!({"server": {"name": "a", "imageRef": image, "flavorRef": "1"}});
    assert_eq!(boot(no_net.clone(), "2.37").await.unwrap().status(), 400);
    assert_eq!(boot(no_net, "2.36").await.unwrap().status(), 202, "before 2.37 networks are optional");
    let r = boot(server("a", "1", &image), "2.99").await.unwrap();
    assert_eq!(r.status(), 406);
    assert_eq!(r.json::<Value>().await.unwrap()["notAcceptable"]["code"], 406);

    // No host has 16 GiB free: ERROR with Nova's fault.
    let r = boot(server("huge", "5", &image), "2.37").await.unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["server"]["id"].as_str().unwrap().to_string();
    let s = wait_server(&t, &demo, &id, 10, |s| s["status"] != "BUILD").await;
    assert_eq!(s["status"], "ERROR");
    assert!(s["fault"]["message"].as_str().unwrap().starts_with("No valid host was found"), "{s}");

    // Image bytes changed behind the image service's back: the host's checksum check fails
    // (on an image no host has cached yet).
    let props = json!({"name": "img2", "disk_format": "raw", "container_format": "bare", "hypervisor_type": "process"});
    let image = upload_image(&t, &demo, props, pattern(50_000, 7)).await;
    let (reseller, service) = reseller_view(&t).await;
    let url = format!("{}/v1/AUTH_{service}/glance/{image}", t.cluster.proxy_url());
    let r = t.http.put(url).header("x-auth-token", &reseller.id).body(pattern(50_000, 6)).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let r = boot(server("tampered", "1", &image), "2.37").await.unwrap();
    let id = r.json::<Value>().await.unwrap()["server"]["id"].as_str().unwrap().to_string();
    let s = wait_server(&t, &demo, &id, 10, |s| s["status"] != "BUILD").await;
    assert_eq!(s["status"], "ERROR");
    assert!(s["fault"]["message"].as_str().unwrap().contains("failed verification"), "{s}");

    // Actions that do not fit the state are conflicts; other projects see nothing.
    let action = |id: &str, body: Value| {
        t.http.post(format!("{servers}/{id}/action")).header("x-auth-token", &demo.id).json(&body).send()
    };
    assert_eq!(action(&id, json!({"os-start": null})).await.unwrap().status(), 409);
    assert_eq!(action(&id, json!({"explode": null})).await.unwrap().status(), 400);
    let admin = login(&t, "admin", "admin", "admin").await;
    let mine: Value =
        t.http.get(&servers).header("x-auth-token", &admin.id).send().await.unwrap().json().await.unwrap();
    assert_eq!(mine["servers"], json!([]));
    let all: Value = t
        .http
        .get(format!("{servers}/detail?all_tenants=1"))
        .header("x-auth-token", &admin.id)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["servers"].as_array().unwrap().len(), 3);
    assert!(all["servers"].as_array().unwrap().iter().all(|s| s.get("OS-EXT-SRV-ATTR:host").is_some()));
    let r = t.http.delete(format!("{servers}/{id}")).header("x-auth-token", &demo.id).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = t.http.get(format!("{servers}/{id}")).header("x-auth-token", &demo.id).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["itemNotFound"]["message"].is_string());
}
