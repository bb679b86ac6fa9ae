//! The accept loop: takes a bound listener (so tests bind port 0), serves each connection
//! with hyper, caps concurrent connections, and drains gracefully on cancellation.

use super::body::Body;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Connections served at once; further accepts wait (backpressure).
    pub max_connections: usize,
    /// How long to wait for a client's request headers.
    pub header_read_timeout: Duration,
    /// How long open connections may take to finish after shutdown is asked.
    pub drain_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves `handler` on `listener` until `shutdown` is cancelled, then drains.
pub async fn serve<H, F>(
    listener: TcpListener,
    handler: H,
    opts: ServerOptions,
    shutdown: CancellationToken,
) -> std::io::Result<()>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let limit = Arc::new(Semaphore::new(opts.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            p = limit.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
        };
        let (stream, _peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let svc = service_fn(move |req: Request<Incoming>| {
            let handler = handler.clone();
            let may_send_body_late = expects_continue(&req);
            async move {
                let mut resp = handler(req).await;
                // A client that asked `Expect: 100-continue` may send its body after a
                // timeout even though we refused it; the bytes would then be read as the
                // next request on this connection. Close instead of reusing it.
                if may_send_body_late && !resp.status().is_success() {
                    resp.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(resp)
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        // Room for Swift's 90 metadata headers plus the usual ones (hyper's default is 100).
        // Names stay lowercase on the wire: S3 clients (botocore) keep the case of
        // `x-amz-meta-*` names as sent, and S3 sends them lowercase.
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(opts.header_read_timeout)
            .keep_alive(true)
            .max_headers(crate::constraints::MAX_HEADER_COUNT);
        let conn = builder.serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(opts.drain_timeout) => tracing::warn!("connections still open after drain timeout"),
    }
    Ok(())
}

/// Whether the client waits for `100 Continue` before sending a body.
fn expects_continue<B>(req: &Request<B>) -> bool {
    req.headers().get(http::header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{empty, text, HttpClient};
    use http::StatusCode;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn serves_then_drains_on_cancel() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cancel = CancellationToken::new();
        let handler = |req: Request<Incoming>| async move { text(StatusCode::OK, format!("hi {}", req.uri().path())) };
        let server = tokio::spawn(serve(listener, handler, ServerOptions::default(), cancel.clone()));
        let client = HttpClient::default();
        let req = Request::get(format!("http://{addr}/x")).body(empty()).unwrap();
        let resp = client.send(req, Duration::from_secs(5)).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "hi /x");
        cancel.cancel();
        server.await.unwrap().unwrap();
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }

    #[tokio::test]
    async fn a_refused_100_continue_request_closes_its_connection() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cancel = CancellationToken::new();
        let handler = |_req: Request<Incoming>| async move { text(StatusCode::NOT_FOUND, "no") };
        let server = tokio::spawn(serve(listener, handler, ServerOptions::default(), cancel.clone()));
        let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        // The client gives up waiting for 100 Continue and sends its body anyway, then the
        // next request: the server must not read the body as that request.
        let req = "PUT /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx";
        sock.write_all(req.as_bytes()).await.unwrap();
        sock.write_all(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(5), sock.read_to_string(&mut out)).await.unwrap().unwrap();
        assert!(out.starts_with("HTTP/1.1 404"), "{out}");
        assert!(out.to_ascii_lowercase().contains("connection: close"), "{out}");
        assert_eq!(out.matches("HTTP/1.1").count(), 1, "one response, then the connection closed: {out}");
        cancel.cancel();
        server.await.unwrap().unwrap();
    }
}
