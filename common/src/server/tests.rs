use super::*;
use crate::backend_auth::{BackendAuth, BackendKey, DEFAULT_WINDOW};
use crate::http::{empty, text, Body, HttpClient, HttpError};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("no such thing")]
struct NotFound;

impl HttpError for NotFound {
    fn status(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }
}

struct Hello(BackendAuth);

struct Greet;

impl Endpoint for Greet {
    fn name(&self) -> &'static str {
        "hello.greet"
    }
}

impl Service for Hello {
    type Endpoint = Greet;
    type Error = NotFound;
    fn name(&self) -> &'static str {
        "hello"
    }
    fn access(&self) -> Access<'_> {
        Access::Cluster(&self.0.verifier)
    }
    fn parse(&self, req: &Request<Incoming>) -> Result<Greet, NotFound> {
        matches!(req.uri().path(), "/greet" | "/healthcheck").then_some(Greet).ok_or(NotFound)
    }
    async fn call(
        self: Arc<Self>,
        _: Greet,
        _req: Request<Incoming>,
        trans_id: &str,
    ) -> Result<Response<Body>, NotFound> {
        Ok(text(StatusCode::OK, format!("hello {trans_id}")))
    }
}

async fn get(client: &HttpClient, addr: std::net::SocketAddr, path: &str) -> (StatusCode, String, String) {
    let req = Request::get(format!("http://{addr}{path}")).header("x-trans-id", "tx1").body(empty()).unwrap();
    let resp = client.send(req, Duration::from_secs(5)).await.unwrap();
    let trans = resp.headers().get("x-trans-id").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let status = resp.status();
    let body = String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    (status, trans, body)
}

#[tokio::test]
async fn only_signed_requests_reach_a_cluster_service() {
    let key = BackendKey::generate();
    let auth = BackendAuth::new(&key, DEFAULT_WINDOW);
    let service = Arc::new(Hello(auth.clone()));
    let stats = Arc::new(EndpointStats::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cancel = CancellationToken::new();
    let observer: Arc<dyn Observer> = stats.clone();
    let server = tokio::spawn(serve(listener, service, observer, ServerOptions::default(), cancel.clone()));

    let signed = HttpClient::default().with_signer(auth.signer.clone());
    assert_eq!(get(&signed, addr, "/greet").await, (StatusCode::OK, "tx1".into(), "hello tx1".into()));
    assert_eq!(get(&signed, addr, "/nothing").await.0, StatusCode::NOT_FOUND);

    let (status, trans, body) = get(&HttpClient::default(), addr, "/greet").await;
    assert_eq!((status, trans.as_str()), (StatusCode::UNAUTHORIZED, "tx1"));
    assert!(body.contains("not signed"), "{body}");
    let stranger = HttpClient::default().with_signer(crate::backend_auth::Signer::new(&BackendKey::generate()));
    assert_eq!(get(&stranger, addr, "/greet").await.0, StatusCode::UNAUTHORIZED);
    // A load balancer's health check needs no key.
    assert_eq!(get(&HttpClient::default(), addr, "/healthcheck").await.0, StatusCode::OK);

    assert_eq!(stats.get("hello.greet").class(2), 2);
    assert_eq!(stats.get(UNPARSED).class(4), 1);
    assert_eq!(stats.get(UNAUTHENTICATED).class(4), 2);
    cancel.cancel();
    server.await.unwrap().unwrap();
}
