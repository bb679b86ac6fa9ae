//! `proxy-server`: Swiftlet's proxy as a standalone process: the Swift API and the S3 API
//! on one listener (assembled by `swiftlet_s3::front_door`). `--help` for flags; it refuses
//! to start without the cluster's secrets and a token key of its own.

use common::secrets::Secrets;
use std::process::ExitCode;
use std::sync::Arc;
use swiftlet_proxy::{ProxyConfig, Rings};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Why the proxy stopped or could not start, after the common start-up succeeded.
#[derive(Debug, thiserror::Error)]
enum ProxyError {
    #[error("cannot open rings in {dir}: {source}")]
    Rings { dir: String, source: swiftlet_ring::RingError },
    #[error(transparent)]
    TokenKey(#[from] swiftlet_token::TokenKeyError),
    #[error(transparent)]
    KnownCredential(#[from] swiftlet_proxy::KnownCredential),
    #[error(transparent)]
    Tls(#[from] common::http::TlsError),
    #[error("serving: {0}")]
    Serve(#[from] std::io::Error),
}

fn main() -> ExitCode {
    common::server::main("proxy-server", "Swiftlet proxy: the Swift API v1 and the S3 API", serve)
}

async fn serve(
    config: ProxyConfig,
    secrets: Secrets,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ProxyError> {
    let rings = Rings::open(&config.swift_dir)
        .map_err(|source| ProxyError::Rings { dir: config.swift_dir.display().to_string(), source })?;
    // Tokens are signed with the cluster's token key, never with what storage nodes know.
    config.token.load_key()?;
    config.tempauth.known_credential()?;
    let tls = common::http::Tls::from_files(&config.tls)?;
    if let Some(tls) = &tls {
        common::http::reload_on_sighup(tls.clone(), shutdown.clone())?;
    }
    let door = Arc::new(swiftlet_s3::front_door(config, rings, &secrets).with_tls(tls));
    Ok(door.serve(listener, shutdown).await?)
}
