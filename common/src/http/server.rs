//! The accept loop: takes a bound listener (so tests bind port 0), serves each connection
//! with hyper, caps concurrent connections (in all and per client address), bounds how long
//! headers may take, how long a connection may sit with nothing moving, and how long a
//! request may take to be answered, and drains gracefully on cancellation.

use super::body::{text, Body};
use super::idle::IdleTimeout;
use super::per_ip::PerIp;
use super::tls::Tls;
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

/// The TCP peer of the connection a request came on, in the request's extensions (S3
/// bucket policies match `aws:SourceIp` against it, never against a header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Connections served at once; further accepts wait (backpressure).
    pub max_connections: usize,
    /// Connections one client address may hold open at once; more are closed at accept.
    pub max_connections_per_ip: usize,
    /// How long to wait for a client's request headers.
    pub header_read_timeout: Duration,
    /// How long a connection may go without a byte read or written (a stalled body, an
    /// unread response, an idle keep-alive) before it is closed.
    pub idle_timeout: Duration,
    /// How long a request may take until its response starts (reading a PUT's body
    /// included); a slower one is answered 408.
    pub request_timeout: Duration,
    /// How long open connections may take to finish after shutdown is asked.
    pub drain_timeout: Duration,
    /// Serve TLS (HTTP/2 or HTTP/1.1, by ALPN) instead of plain HTTP/1.1.
    pub tls: Option<Arc<Tls>>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_connections: 1024,
            max_connections_per_ip: usize::MAX,
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(3600),
            drain_timeout: Duration::from_secs(10),
            tls: None,
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
    let per_ip = Arc::new(PerIp::default());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            p = limit.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
        };
        let (stream, peer) = tokio::select! {
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
        let Some(slot) = per_ip.admit(peer.ip(), opts.max_connections_per_ip) else {
            tracing::debug!(%peer, "too many connections from this address; closed");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let request_timeout = opts.request_timeout;
        let svc = service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(PeerAddr(peer));
            host_from_authority(&mut req);
            let handler = handler.clone();
            let may_send_body_late = expects_continue(&req);
            async move {
                let mut resp = match tokio::time::timeout(request_timeout, handler(req)).await {
                    Ok(resp) => resp,
                    Err(_) => timed_out(request_timeout),
                };
                // A client that asked `Expect: 100-continue` may send its body after a
                // timeout even though we refused it; the bytes would then be read as the
                // next request on this connection. Close instead of reusing it.
                if may_send_body_late && !resp.status().is_success() {
                    resp.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(resp)
            }
        });
        let io = IdleTimeout::new(stream, opts.idle_timeout);
        let watcher = graceful.watcher();
        let tls = opts.tls.as_ref().map(|t| t.acceptor());
        let header_read_timeout = opts.header_read_timeout;
        tokio::spawn(async move {
            let served = match tls {
                None => watcher.watch(http1(header_read_timeout).serve_connection(TokioIo::new(io), svc)).await,
                Some(acceptor) => {
                    // The handshake is bounded like the request headers that follow it.
                    let tls = match tokio::time::timeout(header_read_timeout, acceptor.accept(io)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => return tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => return tracing::debug!(%peer, "TLS handshake timed out"),
                    };
                    if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                        watcher.watch(http2().serve_connection(TokioIo::new(tls), svc)).await
                    } else {
                        watcher.watch(http1(header_read_timeout).serve_connection(TokioIo::new(tls), svc)).await
                    }
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended with error");
            }
            drop((permit, slot));
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(opts.drain_timeout) => tracing::warn!("connections still open after drain timeout"),
    }
    Ok(())
}

/// How HTTP/1.1 connections are served.
fn http1(header_read_timeout: Duration) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Room for Swift's 90 metadata headers plus the usual ones (hyper's default is 100).
    // Names stay lowercase on the wire: S3 clients (botocore) keep the case of
    // `x-amz-meta-*` names as sent, and S3 sends them lowercase.
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true)
        .max_headers(crate::constraints::MAX_HEADER_COUNT)
        .max_buf_size(crate::constraints::MAX_REQUEST_BUFFER);
    builder
}

/// How HTTP/2 connections (over TLS) are served: header lists bounded as HTTP/1.1's
/// buffer is, and few streams at once per connection, each one a request.
fn http2() -> hyper::server::conn::http2::Builder<hyper_util::rt::TokioExecutor> {
    let mut builder = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_H2_STREAMS)
        .max_header_list_size(crate::constraints::MAX_REQUEST_BUFFER as u32);
    builder
}

/// Requests one HTTP/2 connection may have in flight at once.
const MAX_H2_STREAMS: u32 = 128;

/// The answer to a request that was not answered within `limit`.
fn timed_out(limit: Duration) -> Response<Body> {
    let mut resp = text(http::StatusCode::REQUEST_TIMEOUT, format!("Request took longer than {} s\n", limit.as_secs()));
    resp.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
    resp
}

/// Whether the client waits for `100 Continue` before sending a body.
fn expects_continue<B>(req: &Request<B>) -> bool {
    req.headers().get(http::header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// HTTP/2 carries the host in the `:authority` pseudo-header, which hyper keeps in the URI,
/// not in a `Host` header as HTTP/1.1 does (Go's client, e.g. restic and rclone over TLS,
/// sends no `Host` at all). The handlers read `Host` (an S3 signature signs it, virtual-host
/// addressing names the bucket with it), so it is made from the authority, as RFC 9113
/// section 8.3.1 asks of anything passing an HTTP/2 request on as HTTP/1.1.
fn host_from_authority<B>(req: &mut Request<B>) {
    if req.headers().contains_key(http::header::HOST) {
        return;
    }
    let Some(host) = req.uri().authority().and_then(|a| http::HeaderValue::from_str(a.as_str()).ok()) else {
        return;
    };
    req.headers_mut().insert(http::header::HOST, host);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http2_authority_becomes_the_host_header() {
        let mut req = Request::builder()
            .version(http::Version::HTTP_2)
            .uri("https://127.0.0.1:8443/bucket/key")
            .body(())
            .unwrap();
        host_from_authority(&mut req);
        assert_eq!(req.headers()[http::header::HOST], "127.0.0.1:8443");
        // A Host header that came with the request is kept, and a request without either
        // gets none.
        let mut req = Request::builder().uri("https://a.example/").header("host", "b.example").body(()).unwrap();
        host_from_authority(&mut req);
        assert_eq!(req.headers()[http::header::HOST], "b.example");
        let mut req = Request::builder().uri("/bucket").body(()).unwrap();
        host_from_authority(&mut req);
        assert!(!req.headers().contains_key(http::header::HOST));
    }
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

    async fn raw(addr: std::net::SocketAddr, from: &str) -> tokio::net::TcpStream {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind(format!("{from}:0").parse().unwrap()).unwrap();
        sock.connect(addr).await.unwrap()
    }

    /// Reads until the server closes; what it sent, or an error if it is still open after `within`.
    async fn closed_within(sock: &mut tokio::net::TcpStream, within: Duration) -> Result<String, String> {
        use tokio::io::AsyncReadExt;
        let mut out = Vec::new();
        match tokio::time::timeout(within, sock.read_to_end(&mut out)).await {
            Ok(_) => Ok(String::from_utf8_lossy(&out).into_owned()),
            Err(_) => Err(format!("still open after {within:?}")),
        }
    }

    async fn start(opts: ServerOptions) -> (std::net::SocketAddr, CancellationToken) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cancel = CancellationToken::new();
        let handler = |req: Request<Incoming>| async move {
            if req.uri().path() == "/slow" {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            match req.into_body().collect().await {
                Ok(b) => text(StatusCode::OK, format!("{} bytes", b.to_bytes().len())),
                Err(e) => text(StatusCode::BAD_REQUEST, e.to_string()),
            }
        };
        tokio::spawn(serve(listener, handler, opts, cancel.clone()));
        (addr, cancel)
    }

    #[tokio::test]
    async fn a_stalled_body_is_cut_off_after_the_idle_timeout() {
        use tokio::io::AsyncWriteExt;
        let opts = ServerOptions { idle_timeout: Duration::from_millis(300), ..ServerOptions::default() };
        let (addr, cancel) = start(opts).await;
        let mut sock = raw(addr, "127.0.0.1").await;
        sock.write_all(b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc").await.unwrap();
        let started = std::time::Instant::now();
        closed_within(&mut sock, Duration::from_secs(5)).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        // An idle keep-alive connection goes the same way.
        let mut sock = raw(addr, "127.0.0.1").await;
        sock.write_all(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let out = closed_within(&mut sock, Duration::from_secs(5)).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        cancel.cancel();
    }

    #[tokio::test]
    async fn one_address_cannot_take_every_connection() {
        use tokio::io::AsyncWriteExt;
        let (addr, cancel) = start(ServerOptions { max_connections_per_ip: 3, ..ServerOptions::default() }).await;
        let mut hogs = Vec::new();
        for _ in 0..3 {
            hogs.push(raw(addr, "127.0.0.1").await);
        }
        let mut refused = raw(addr, "127.0.0.1").await;
        assert_eq!(closed_within(&mut refused, Duration::from_secs(5)).await.unwrap(), "");
        let mut other = raw(addr, "127.0.0.2").await;
        other.write_all(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let out = closed_within(&mut other, Duration::from_secs(5)).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        // A closed connection frees its slot.
        drop(hogs.pop());
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut again = raw(addr, "127.0.0.1").await;
        again.write_all(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let out = closed_within(&mut again, Duration::from_secs(5)).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        cancel.cancel();
    }

    #[tokio::test]
    async fn a_request_not_answered_in_time_gets_408() {
        use tokio::io::AsyncWriteExt;
        let (addr, cancel) =
            start(ServerOptions { request_timeout: Duration::from_millis(200), ..ServerOptions::default() }).await;
        let mut sock = raw(addr, "127.0.0.1").await;
        sock.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let out = closed_within(&mut sock, Duration::from_secs(3)).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 408"), "{out}");
        cancel.cancel();
    }
}
