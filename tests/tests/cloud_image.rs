//! The image service (Glance v2 subset) of a whole cluster: python-glanceclient and
//! openstacksdk upload and download with checksums; the bytes live only in the object
//! store (the service account's `glance` container), segmented above the threshold; a
//! wiped device loses nothing; statuses, failed uploads, ranges, filters and patches.

mod cloud_support;

use cloud_support::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const GLANCECLIENT: &str = r#"
import hashlib, json, os
from keystoneauth1 import session
from keystoneauth1.identity import v3
from glanceclient import Client
auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"], username="demo", password="demo",
                   project_name="demo", user_domain_id="default", project_domain_id="default")
glance = Client("2", session=session.Session(auth=auth))
img = glance.images.create(name="big", disk_format="raw", container_format="bare", tags=["t1"], os_distro="none")
assert img.status == "queued", img.status
with open(os.environ["BIG"], "rb") as f:
    glance.images.upload(img.id, f)
img = glance.images.get(img.id)
# data() checks the body against the image's checksum and os_hash_value.
data = b"".join(glance.images.data(img.id))
print(json.dumps({"id": img.id, "status": img.status, "size": img.size, "checksum": img.checksum,
                  "os_hash_algo": img.os_hash_algo, "os_hash_value": img.os_hash_value,
                  "os_distro": img.os_distro, "md5": hashlib.md5(data).hexdigest(),
                  "sha512": hashlib.sha512(data).hexdigest(),
                  "names": sorted(i.name for i in glance.images.list())}))
"#;

const OPENSTACKSDK: &str = r#"
import hashlib, json, os, openstack
conn = openstack.connect(auth_url=os.environ["OS_AUTH_URL"], username="demo", password="demo",
                         project_name="demo", user_domain_id="default", project_domain_id="default")
img = conn.image.create_image(name="small", filename=os.environ["SMALL"], disk_format="qcow2",
                              container_format="bare", wait=True, validate_checksum=True)
got = conn.image.download_image(img)
data = got if isinstance(got, bytes) else got.content
img = conn.image.get_image(img.id)
print(json.dumps({"id": img.id, "status": img.status, "size": img.size, "checksum": img.checksum,
                  "md5": hashlib.md5(data).hexdigest()}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_clients_round_trip_through_the_store_and_survive_a_wiped_device() {
    let mut t = Env::start().await;
    let work = tempfile::tempdir().unwrap();
    let big = pattern(3_500_000, 1);
    let small = pattern(300_000, 2);
    std::fs::write(work.path().join("big"), &big).unwrap();
    std::fs::write(work.path().join("small"), &small).unwrap();
    let env = [
        ("OS_AUTH_URL", identity_url(&t)),
        ("BIG", work.path().join("big").display().to_string()),
        ("SMALL", work.path().join("small").display().to_string()),
    ];
    let (g, s) = tokio::task::block_in_place(|| (python_json(GLANCECLIENT, &env), python_json(OPENSTACKSDK, &env)));
    assert_eq!((g["status"].as_str(), g["size"].as_u64()), (Some("active"), Some(big.len() as u64)));
    assert_eq!(g["checksum"], md5_hex(&big));
    assert_eq!(g["md5"], md5_hex(&big));
    assert_eq!(g["os_hash_algo"], "sha512");
    assert_eq!(g["os_hash_value"], g["sha512"]);
    assert_eq!(g["os_distro"], "none");
    assert_eq!(g["names"], json!(["big"]));
    assert_eq!((s["status"].as_str(), s["size"].as_u64()), (Some("active"), Some(small.len() as u64)));
    assert_eq!(s["checksum"], md5_hex(&small));
    assert_eq!(s["md5"], md5_hex(&small));

    // The bytes are in the store: the big image as 1 MiB segments under a manifest
    // (glanceclient streams chunked, so the size was unknown), the small one whole.
    let (reseller, service) = reseller_view(&t).await;
    let objects = glance_objects(&t, &reseller, &service).await;
    let (big_id, small_id) = (g["id"].as_str().unwrap(), s["id"].as_str().unwrap());
    let segments: Vec<&(String, u64)> = objects.iter().filter(|(n, _)| n.starts_with(&format!("{big_id}-"))).collect();
    assert_eq!(segments.len(), 4, "{objects:?}");
    assert_eq!(segments.iter().map(|(_, b)| b).sum::<u64>(), big.len() as u64);
    assert!(objects.contains(&(big_id.to_string(), 0)), "the manifest: {objects:?}");
    assert!(objects.contains(&(small_id.to_string(), small.len() as u64)), "{objects:?}");
    assert_eq!(objects.len(), 6, "nothing else: {objects:?}");
    // The manifest is a dynamic large object: through the proxy it reads as the image.
    let manifest = format!("{}/v1/AUTH_{service}/glance/{big_id}", t.cluster.proxy_url());
    let r = t.http.get(manifest).header("x-auth-token", &reseller.id).send().await.unwrap();
    assert_eq!(md5_hex(&r.bytes().await.unwrap()), md5_hex(&big));

    // Wipe one device: every image still downloads whole, and one replication pass puts
    // the lost replicas back.
    t.cluster.stop_node(0).await;
    let dev = t.cluster.device_dir(0);
    std::fs::remove_dir_all(&dev).unwrap();
    std::fs::create_dir_all(&dev).unwrap();
    t.cluster.start_node(0).await.unwrap();
    let demo = login(&t, "demo", "demo", "demo").await;
    let (http, image_url) = (t.http.clone(), t.image_url());
    let download =
        |id: &str| http.get(format!("{image_url}/v2/images/{id}/file")).header("x-auth-token", &demo.id).send();
    for (id, data) in [(big_id, &big), (small_id, &small)] {
        let r = download(id).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-md5"], md5_hex(data).as_str());
        assert_eq!(md5_hex(&r.bytes().await.unwrap()), md5_hex(data), "image {id} after the wipe");
    }
    let pass = t.cluster.run_replicators_once().await.unwrap();
    assert_eq!(pass.failures(), 0, "{pass:?}");
    let pushed: usize = pass.objects.iter().map(|r| r.objects_pushed).sum();
    assert!(pushed >= 1, "the wiped device held replicas of image objects: {pass:?}");
    // With two other nodes down, what survives is the healed device and one more.
    t.cluster.stop_node(1).await;
    t.cluster.stop_node(2).await;
    let r = download(big_id).await.unwrap();
    assert_eq!(md5_hex(&r.bytes().await.unwrap()), md5_hex(&big));

    // Deleting the image deletes its objects.
    t.cluster.start_node(1).await.unwrap();
    t.cluster.start_node(2).await.unwrap();
    let r =
        t.http.delete(format!("{}/v2/images/{big_id}", t.image_url())).header("x-auth-token", &demo.id).send().await;
    assert_eq!(r.unwrap().status(), 204);
    let left = glance_objects(&t, &reseller, &service).await;
    assert_eq!(left, vec![(small_id.to_string(), small.len() as u64)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_failed_uploads_ranges_filters_and_patches() {
    let t = Env::start().await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let admin = login(&t, "admin", "admin", "admin").await;
    let images = format!("{}/v2/images", t.image_url());
    let req = |m: Method, path: &str, tok: &Token| {
        t.http.request(m, format!("{images}{path}")).header("x-auth-token", &tok.id)
    };
    let create = |name: &str, extra: Value, tok: &Token| {
        let mut body = json!({"name": name, "disk_format": "raw", "container_format": "bare"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        req(Method::POST, "", tok).json(&body).send()
    };
    let show = |id: &str, tok: &Token| {
        let r = req(Method::GET, &format!("/{id}"), tok).send();
        async move { r.await.unwrap().json::<Value>().await.unwrap() }
    };

    // queued -> active; a second upload is refused; data only once active.
    let r = create("one", json!({"min_ram": 64, "arch": "x86_64"}), &demo).await.unwrap();
    assert_eq!(r.status(), 201);
    let one: Value = r.json().await.unwrap();
    let id = one["id"].as_str().unwrap().to_string();
    assert_eq!(
        (one["status"].as_str(), one["visibility"].as_str(), one["arch"].as_str()),
        (Some("queued"), Some("shared"), Some("x86_64"))
    );
    assert_eq!(req(Method::GET, &format!("/{id}/file"), &demo).send().await.unwrap().status(), 204);
    let data = pattern(2_500_000, 3);
    let put = |id: &str, body: Vec<u8>| {
        req(Method::PUT, &format!("/{id}/file"), &demo)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
    };
    assert_eq!(put(&id, data.clone()).await.unwrap().status(), 204);
    let shown = show(&id, &demo).await;
    assert_eq!((shown["status"].as_str(), shown["size"].as_u64()), (Some("active"), Some(data.len() as u64)));
    assert_eq!(shown["checksum"], md5_hex(&data));
    assert_eq!(put(&id, b"again".to_vec()).await.unwrap().status(), 409);

    // Ranges, also across the 1 MiB segment boundary (2.5 MB > the 2 MiB threshold).
    for (a, b) in [(0u64, 99u64), (1_048_000, 1_049_000), (2_499_990, 2_499_999)] {
        let r = req(Method::GET, &format!("/{id}/file"), &demo)
            .header("range", format!("bytes={a}-{b}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 206);
        assert_eq!(r.headers()["content-range"], format!("bytes {a}-{b}/{}", data.len()).as_str());
        assert_eq!(&r.bytes().await.unwrap()[..], &data[a as usize..=b as usize]);
    }
    let r = req(Method::GET, &format!("/{id}/file"), &demo).header("range", "bytes=9999999-").send().await.unwrap();
    assert_eq!(r.status(), 416);

    // A client that goes away mid-upload leaves the image queued and nothing in the store.
    let two: Value = create("two", json!({}), &demo).await.unwrap().json().await.unwrap();
    let two_id = two["id"].as_str().unwrap().to_string();
    let mut conn = tokio::net::TcpStream::connect(t.cluster.cloud().unwrap().image_addr).await.unwrap();
    let head = format!(
        "PUT /v2/images/{two_id}/file HTTP/1.1\r\nhost: x\r\nx-auth-token: {}\r\ncontent-type: application/octet-stream\r\ncontent-length: 3000000\r\n\r\n",
        demo.id
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&pattern(1_500_000, 4)).await.unwrap();
    let mut saw_saving = false;
    for _ in 0..100 {
        saw_saving |= show(&two_id, &demo).await["status"] == "saving";
        if saw_saving {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(saw_saving);
    drop(conn);
    let mut status = String::new();
    for _ in 0..250 {
        status = show(&two_id, &demo).await["status"].as_str().unwrap().to_string();
        if status == "queued" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, "queued");
    let (reseller, service) = reseller_view(&t).await;
    let leftovers: Vec<_> =
        glance_objects(&t, &reseller, &service).await.into_iter().filter(|(n, _)| n.starts_with(&two_id)).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(put(&two_id, b"fine now".to_vec()).await.unwrap().status(), 204, "queued images take uploads again");

    // JSON patch: add, replace, remove; read-only and reserved properties refused.
    let patch = |id: &str, ops: Value, tok: &Token| {
        req(Method::PATCH, &format!("/{id}"), tok)
            .header("content-type", "application/openstack-images-v2.1-json-patch")
            .json(&ops)
            .send()
    };
    let r = patch(
        &id,
        json!([{"op": "replace", "path": "/name", "value": "uno"},
                              {"op": "add", "path": "/kernel_id", "value": two_id},
                              {"op": "remove", "path": "/arch"}]),
        &demo,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let patched: Value = r.json().await.unwrap();
    assert_eq!((patched["name"].as_str(), patched["kernel_id"].as_str()), (Some("uno"), Some(two_id.as_str())));
    assert!(patched.get("arch").is_none());
    assert_eq!(patch(&id, json!([{"op": "replace", "path": "/size", "value": 1}]), &demo).await.unwrap().status(), 403);
    assert_eq!(
        patch(&id, json!([{"op": "replace", "path": "/visibility", "value": "public"}]), &demo).await.unwrap().status(),
        403
    );

    // Visibility: private images stay in their project; public ones are everyone's.
    let secret: Value = create("secret", json!({"visibility": "private"}), &admin).await.unwrap().json().await.unwrap();
    let secret_id = secret["id"].as_str().unwrap();
    assert_eq!(req(Method::GET, &format!("/{secret_id}"), &demo).send().await.unwrap().status(), 404);
    assert_eq!(
        patch(secret_id, json!([{"op": "replace", "path": "/visibility", "value": "public"}]), &admin)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(req(Method::GET, &format!("/{secret_id}"), &demo).send().await.unwrap().status(), 200);

    // Filters, sorting and marker pagination.
    let list = |q: &str| {
        let r = req(Method::GET, q, &demo).send();
        async move { r.await.unwrap().json::<Value>().await.unwrap() }
    };
    let names = |v: &Value| {
        v["images"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(names(&list("?sort=name:asc").await), ["secret", "two", "uno"]);
    assert_eq!(names(&list("?name=two").await), ["two"]);
    assert_eq!(names(&list("?status=active&sort_key=name&sort_dir=desc").await), ["uno", "two"], "secret has no data");
    assert_eq!(names(&list("?visibility=public").await), ["secret"]);
    let page1 = list("?sort=name:asc&limit=2").await;
    assert_eq!(names(&page1), ["secret", "two"]);
    let next = page1["next"].as_str().unwrap().trim_start_matches("/v2/images").to_string();
    let page2 = list(&next).await;
    assert_eq!(names(&page2), ["uno"]);
    assert!(page2.get("next").is_none());

    // Protected images cannot be deleted until unprotected.
    patch(&id, json!([{"op": "replace", "path": "/protected", "value": true}]), &demo).await.unwrap();
    assert_eq!(req(Method::DELETE, &format!("/{id}"), &demo).send().await.unwrap().status(), 403);
    patch(&id, json!([{"op": "replace", "path": "/protected", "value": false}]), &demo).await.unwrap();
    assert_eq!(req(Method::DELETE, &format!("/{id}"), &demo).send().await.unwrap().status(), 204);
    assert_eq!(req(Method::GET, &format!("/{id}"), &demo).send().await.unwrap().status(), 404);
    assert_eq!(
        req(Method::GET, "", &Token { id: "KS1nope.x".into(), body: Value::Null }).send().await.unwrap().status(),
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_records_survive_a_restart() {
    let t = Env::start().await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let data = pattern(2_200_000, 8);
    let props = json!({"name": "keep", "disk_format": "raw", "container_format": "bare", "os_version": "1"});
    let id = upload_image(&t, &demo, props, data.clone()).await;
    let t = t.restart().await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let url = format!("{}/v2/images/{id}", t.image_url());
    let shown: Value = t.http.get(&url).header("x-auth-token", &demo.id).send().await.unwrap().json().await.unwrap();
    assert_eq!((shown["status"].as_str(), shown["os_version"].as_str()), (Some("active"), Some("1")));
    assert_eq!(shown["checksum"], md5_hex(&data));
    let r = t.http.get(format!("{url}/file")).header("x-auth-token", &demo.id).send().await.unwrap();
    assert_eq!(md5_hex(&r.bytes().await.unwrap()), md5_hex(&data));
}
