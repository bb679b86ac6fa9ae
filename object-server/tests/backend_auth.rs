//! Only the cluster may talk to an object server: every request but the health check must
//! carry a backend signature made with the cluster's key, and what the server sends (its
//! container updates) is signed too.

mod support;

use common::backend_auth::{BackendKey, Signer, SIGNATURE_HEADER};
use common::http::{empty, full, HttpClient};
use std::time::Duration;
use support::{object_files, send, update_headers, Clock, Recorder, Server};

const OBJ: &str = "/sda/1/AUTH_t/c/o";

#[tokio::test]
async fn a_stranger_cannot_write_or_pin_an_object_with_a_far_future_timestamp() {
    let s = Server::start().await;
    let unsigned = HttpClient::default();
    let stranger = HttpClient::default().with_signer(Signer::new(&BackendKey::generate()));
    let forged = "v1 1700000000 0123456789abcdef0123456789abcdef 00";
    let far_future = [("x-timestamp", "9999999999.99999"), ("content-type", "a/b")];
    for (client, method, path, sig) in [
        (&unsigned, "PUT", OBJ, None),
        (&unsigned, "PUT", OBJ, Some(forged)),
        (&stranger, "PUT", OBJ, None),
        (&unsigned, "POST", OBJ, None),
        (&unsigned, "DELETE", OBJ, None),
        (&unsigned, "GET", OBJ, None),
        (&unsigned, "REPLICATE", "/sda/1", None),
        (&stranger, "REPLICATE", "/sda/1", None),
        (&unsigned, "SSYNC", "/sda/1", None),
        (&stranger, "SSYNC", "/sda/1", None),
    ] {
        let mut h = far_future.to_vec();
        h.extend(sig.map(|sig| (SIGNATURE_HEADER, sig)));
        h.push(("x-swiftlet-ssync-phase", "updates"));
        let body = if method == "PUT" { full("pinned") } else { empty() };
        let r = send(client, s.addr, method, path, &h, body).await;
        assert_eq!(r.status, 401, "{method} {path}");
    }
    assert!(object_files(&s.device_path("sda")).is_empty(), "nothing was written");
    // A load balancer's health check needs no key.
    assert_eq!(send(&unsigned, s.addr, "GET", "/healthcheck", &[], empty()).await.status, 200);
    // The cluster still writes the object at its own, current time.
    let ts = Clock::new().at(1);
    assert_eq!(s.req("PUT", OBJ, &[("x-timestamp", &ts), ("content-type", "a/b")], "real").await.status, 201);
    assert_eq!(&s.req("GET", OBJ, &[], "").await.body[..], b"real");
}

#[tokio::test]
async fn container_updates_carry_the_cluster_signature() {
    let s = Server::start().await;
    let rec = Recorder::start(201, Duration::ZERO).await;
    let host = rec.addr.to_string();
    s.add_container_devices(&[(&host, "cd")]);
    let ts = Clock::new().at(1);
    let h = update_headers(&host, "cd", "5", &ts);
    assert_eq!(s.req("PUT", OBJ, &h, "x").await.status, 201);
    let update = rec.requests().pop().expect("an update was sent");
    let method = http::Method::from_bytes(update.method.as_bytes()).unwrap();
    let verifier = support::secrets().backend.verifier;
    assert_eq!(verifier.verify(&method, &update.path, &update.headers), Ok(()));
}
