//! A pooled HTTP/1 client for server-to-server calls (proxy -> storage, object -> container),
//! with a connect timeout and a whole-request timeout. A client made [`with_signer`]
//! signs every request with the cluster's backend key (`crate::backend_auth`).
//!
//! [`with_signer`]: HttpClient::with_signer

use super::body::Body;
use crate::backend_auth::Signer;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    #[error("request to {0} timed out")]
    Timeout(String),
    #[error("invalid request URI {0:?}")]
    InvalidUri(String),
    #[error("request to {uri} failed: {source}")]
    Request { uri: String, source: hyper_util::client::legacy::Error },
}

#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpConnector, Body>,
    signer: Option<Signer>,
}

impl HttpClient {
    pub fn new(connect_timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        let inner = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            // Responses carry as many metadata headers as requests may (hyper's default is 100).
            .http1_max_headers(crate::constraints::MAX_HEADER_COUNT)
            .build(connector);
        HttpClient { inner, signer: None }
    }

    /// The same client, signing every request it sends with `signer`.
    pub fn with_signer(mut self, signer: Signer) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The signer of this client's requests, for connections it does not open itself.
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }

    /// Sends `req`; `timeout` bounds the time until response headers arrive.
    pub async fn send(&self, mut req: Request<Body>, timeout: Duration) -> Result<Response<Incoming>, HttpClientError> {
        if let Some(signer) = &self.signer {
            // Both are cheap clones (a standard method; a shared buffer), freeing `req` for the headers.
            let (method, pq) = (req.method().clone(), req.uri().path_and_query().cloned());
            signer.sign(&method, pq.as_ref().map_or("/", |p| p.as_str()), req.headers_mut());
        }
        let uri = req.uri().to_string();
        match tokio::time::timeout(timeout, self.inner.request(req)).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(source)) => Err(HttpClientError::Request { uri, source }),
            Err(_) => Err(HttpClientError::Timeout(uri)),
        }
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new(Duration::from_secs(1))
    }
}
