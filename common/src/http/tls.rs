//! TLS for a listener (the proxy's front door): a certificate chain and key read from PEM
//! files, offered with ALPN for HTTP/2 and HTTP/1.1, and read again on [`Tls::reload`]
//! (the binaries call it on SIGHUP) so a renewed certificate is served without a restart;
//! connections already open keep the one they started with. Also makes the self-signed
//! certificate `saio --tls` serves.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The `[tls]` table of a config: both files, or neither (plain HTTP).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain, PEM, leaf first.
    pub cert_file: Option<PathBuf>,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("[tls] needs both cert_file and key_file (only {0} is set)")]
    HalfConfigured(&'static str),
    #[error("reading the TLS certificate {path}: {why}")]
    Cert { path: String, why: String },
    #[error("reading the TLS key {path}: {why}")]
    Key { path: String, why: String },
    #[error("the TLS key {0} is readable by other users: chmod 600 it")]
    KeyExposed(String),
    #[error("the TLS certificate and key do not go together: {0}")]
    Mismatch(rustls::Error),
    #[error("making a self-signed certificate: {0}")]
    SelfSigned(String),
    #[error("writing {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// A listener's TLS settings, reloadable.
#[derive(Debug)]
pub struct Tls {
    cert_file: PathBuf,
    key_file: PathBuf,
    current: RwLock<Arc<rustls::ServerConfig>>,
}

impl Tls {
    /// TLS from a config's `[tls]` table: `None` when it names no files.
    pub fn from_files(files: &TlsFiles) -> Result<Option<Arc<Tls>>, TlsError> {
        match (&files.cert_file, &files.key_file) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(TlsError::HalfConfigured("cert_file")),
            (None, Some(_)) => Err(TlsError::HalfConfigured("key_file")),
            (Some(cert), Some(key)) => Tls::load(cert, key).map(|t| Some(Arc::new(t))),
        }
    }

    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Tls, TlsError> {
        let config = server_config(cert_file, key_file)?;
        Ok(Tls { cert_file: cert_file.into(), key_file: key_file.into(), current: RwLock::new(config) })
    }

    /// Reads the files again; on an error the certificate being served stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = server_config(&self.cert_file, &self.key_file)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = config;
        Ok(())
    }

    /// What a new connection is offered.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.current.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

fn server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let cert_err = |why: String| TlsError::Cert { path: cert_file.display().to_string(), why };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| cert_err(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_err(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_err("no certificate in the file".into()));
    }
    check_private(key_file)?;
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| TlsError::Key { path: key_file.display().to_string(), why: e.to_string() })?;
    // ring, not aws-lc-rs: it builds without cmake on a fresh machine (its lack of
    // post-quantum key exchange is what the deprecation is about).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Mismatch)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(TlsError::Mismatch)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A key others may read is refused, as a secret should be.
fn check_private(key_file: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(key_file)
        .map_err(|e| TlsError::Key { path: key_file.display().to_string(), why: e.to_string() })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(TlsError::KeyExposed(key_file.display().to_string()));
    }
    Ok(())
}

/// Reloads `tls` on every SIGHUP until `shutdown`, logging the outcome.
pub fn reload_on_sighup(tls: Arc<Tls>, shutdown: tokio_util::sync::CancellationToken) -> std::io::Result<()> {
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                got = hangups.recv() => if got.is_none() { return },
            }
            match tls.reload() {
                Ok(()) => tracing::info!(cert = %tls.cert_file.display(), "TLS certificate reloaded"),
                Err(e) => tracing::error!(error = %e, "TLS reload failed; still serving the previous certificate"),
            }
        }
    });
    Ok(())
}

/// Writes a new self-signed certificate for `names` (DNS names or IP addresses) and its
/// key (mode 0600) into `dir` as `cert.pem` and `key.pem`; the files, to load or to trust.
pub fn write_self_signed(dir: &Path, names: &[&str]) -> Result<TlsFiles, TlsError> {
    let made = rcgen::generate_simple_self_signed(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        .map_err(|e| TlsError::SelfSigned(e.to_string()))?;
    let write_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| TlsError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(write_err(dir))?;
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, made.cert.pem()).map_err(write_err(&cert))?;
    write_private(&key, made.key_pair.serialize_pem().as_bytes()).map_err(write_err(&key))?;
    Ok(TlsFiles { cert_file: Some(cert), key_file: Some(key) })
}

/// Writes a file only its owner can read, from its creation on.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::fs::PermissionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    // An older file keeps its mode through open: narrow it before writing the secret.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{serve, text, ServerOptions};
    use http::StatusCode;
    use std::os::unix::fs::PermissionsExt;
    use tokio::net::TcpListener;
    use tokio_util::sync::CancellationToken;

    fn client_trusting(cert_file: &Path, http1_only: bool) -> reqwest::Client {
        let pem = std::fs::read(cert_file).unwrap();
        let mut b = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .timeout(std::time::Duration::from_secs(10));
        if http1_only {
            b = b.http1_only();
        }
        b.build().unwrap()
    }

    #[tokio::test]
    async fn serves_http2_and_http1_over_tls_and_reloads_its_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_self_signed(&dir.path().join("a"), &["localhost"]).unwrap();
        let (cert, key) = (first.cert_file.clone().unwrap(), first.key_file.clone().unwrap());
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        let tls = Tls::from_files(&first).unwrap().expect("both files set");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cancel = CancellationToken::new();
        let opts = ServerOptions { tls: Some(tls.clone()), ..ServerOptions::default() };
        let handler = |req: http::Request<hyper::body::Incoming>| async move {
            text(StatusCode::OK, format!("{:?}", req.version()))
        };
        let server = tokio::spawn(serve(listener, handler, opts, cancel.clone()));
        let url = format!("https://localhost:{port}/");

        let h2 = client_trusting(&cert, false).get(&url).send().await.unwrap();
        assert_eq!(h2.version(), http::Version::HTTP_2, "ALPN picks HTTP/2");
        assert_eq!(h2.text().await.unwrap(), "HTTP/2.0");
        let h1 = client_trusting(&cert, true).get(&url).send().await.unwrap();
        assert_eq!(h1.text().await.unwrap(), "HTTP/1.1");
        // Plain HTTP on the TLS port gets no answer.
        let plain = reqwest::Client::new().get(format!("http://localhost:{port}/")).send().await;
        assert!(plain.is_err(), "{plain:?}");

        // A renewed certificate in the same files is served after reload, to new connections.
        let first_pem = dir.path().join("first.pem");
        std::fs::copy(&cert, &first_pem).unwrap();
        let second = write_self_signed(&dir.path().join("b"), &["localhost"]).unwrap();
        let second_pem = second.cert_file.clone().unwrap();
        std::fs::copy(&second_pem, &cert).unwrap();
        std::fs::copy(second.key_file.as_ref().unwrap(), &key).unwrap();
        tls.reload().unwrap();
        let renewed = client_trusting(&second_pem, false).get(&url).send().await.unwrap();
        assert_eq!(renewed.status(), StatusCode::OK);
        let stale = client_trusting(&first_pem, false).get(&url).send().await;
        assert!(stale.is_err(), "the replaced certificate is no longer served: {stale:?}");

        // A broken renewal keeps the certificate being served.
        std::fs::write(&cert, "not a certificate").unwrap();
        assert!(matches!(tls.reload(), Err(TlsError::Cert { .. })));
        let still = client_trusting(&second_pem, false).get(&url).send().await.unwrap();
        assert_eq!(still.status(), StatusCode::OK);
        cancel.cancel();
        server.await.unwrap().unwrap();
    }

    #[test]
    fn half_configs_and_exposed_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_self_signed(dir.path(), &["localhost"]).unwrap();
        let half = TlsFiles { cert_file: files.cert_file.clone(), key_file: None };
        assert!(matches!(Tls::from_files(&half), Err(TlsError::HalfConfigured("cert_file"))));
        assert!(Tls::from_files(&TlsFiles::default()).unwrap().is_none());
        let key = files.key_file.clone().unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(Tls::from_files(&files), Err(TlsError::KeyExposed(_))));
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let other = write_self_signed(&dir.path().join("other"), &["localhost"]).unwrap();
        let mixed = TlsFiles { cert_file: files.cert_file, key_file: other.key_file };
        assert!(matches!(Tls::from_files(&mixed), Err(TlsError::Mismatch(_))));
    }
}
