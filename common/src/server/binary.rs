//! The one `main` of every server binary: the command line every server takes, its TOML
//! config with those overrides, logging, the runtime, the listener, shutdown on
//! SIGINT/SIGTERM, and an exit code with the error's context when start-up or serving fails.

use crate::backend_auth::BackendConfig;
use crate::hash::HashPathSecret;
use crate::secrets::{SecretError, Secrets};
use clap::{CommandFactory, FromArgMatches};
use serde::de::DeserializeOwned;
use std::fmt::Display;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What every server binary takes on its command line.
#[derive(Debug, Default, clap::Parser)]
pub struct ServerArgs {
    /// TOML config file (every key has a default).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Address to listen on, `IP:PORT` (overrides the config's address).
    #[arg(long, conflicts_with_all = ["bind_ip", "bind_port"])]
    pub bind: Option<String>,
    /// IP address to listen on (overrides the config's).
    #[arg(long)]
    pub bind_ip: Option<String>,
    /// Port to listen on (overrides the config's).
    #[arg(long)]
    pub bind_port: Option<u16>,
    /// Devices directory (overrides the config's `devices`).
    #[arg(long)]
    pub devices: Option<PathBuf>,
    /// Turns off mount checks (devices are plain directories).
    #[arg(long)]
    pub no_mount_check: bool,
    /// Directory holding the rings (overrides the config's `swift_dir`).
    #[arg(long)]
    pub swift_dir: Option<PathBuf>,
}

/// What the one `main` needs of a server's config.
pub trait ServerConfig: DeserializeOwned + Default {
    /// The address to listen on, as `(ip, port)`.
    fn bind_addr(&self) -> (String, u16);
    fn set_bind_addr(&mut self, ip: String, port: u16);
    /// `--devices`; a server without devices (the proxy) refuses it rather than ignore it.
    fn set_devices(&mut self, _devices: PathBuf) -> Result<(), StartError> {
        Err(StartError::NotApplicable("--devices"))
    }
    /// `--no-mount-check`; refused, like `--devices`, by a server without devices.
    fn set_mount_check(&mut self, _on: bool) -> Result<(), StartError> {
        Err(StartError::NotApplicable("--no-mount-check"))
    }
    /// `--swift-dir`; refused by a server that reads no ring.
    fn set_swift_dir(&mut self, _dir: PathBuf) -> Result<(), StartError> {
        Err(StartError::NotApplicable("--swift-dir"))
    }
    /// The placement secret from the config, before environment overrides.
    fn hash_path(&self) -> &HashPathSecret;
    /// Where the backend key is.
    fn backend(&self) -> &BackendConfig;
}

/// Implements [`ServerConfig`] for a config struct with the usual fields: `bind_ip`,
/// `bind_port`, `devices`, `mount_check`, `hash_path` and `backend`.
#[macro_export]
macro_rules! impl_server_config {
    ($config:ty) => {
        impl $crate::server::ServerConfig for $config {
            fn bind_addr(&self) -> (String, u16) {
                (self.bind_ip.clone(), self.bind_port)
            }
            fn set_bind_addr(&mut self, ip: String, port: u16) {
                (self.bind_ip, self.bind_port) = (ip, port);
            }
            fn set_devices(&mut self, devices: std::path::PathBuf) -> Result<(), $crate::server::StartError> {
                self.devices = devices;
                Ok(())
            }
            fn set_mount_check(&mut self, on: bool) -> Result<(), $crate::server::StartError> {
                self.mount_check = on;
                Ok(())
            }
            fn hash_path(&self) -> &$crate::HashPathSecret {
                &self.hash_path
            }
            fn backend(&self) -> &$crate::backend_auth::BackendConfig {
                &self.backend
            }
        }
    };
}

/// Why a server binary could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("--bind {0:?} is not IP:PORT")]
    BadBind(String),
    #[error("{0} does not apply to this server")]
    NotApplicable(&'static str),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
}

impl ServerArgs {
    /// Loads the config file (or the defaults) and applies this command line over it.
    pub fn load<C: ServerConfig>(&self) -> Result<C, StartError> {
        let mut cfg: C = crate::config::load(self.config.as_deref())?;
        let (mut ip, mut port) = cfg.bind_addr();
        if let Some(bind) = &self.bind {
            (ip, port) = split_bind(bind).ok_or_else(|| StartError::BadBind(bind.clone()))?;
        }
        ip = self.bind_ip.clone().unwrap_or(ip);
        port = self.bind_port.unwrap_or(port);
        cfg.set_bind_addr(ip, port);
        if let Some(d) = &self.devices {
            cfg.set_devices(d.clone())?;
        }
        if self.no_mount_check {
            cfg.set_mount_check(false)?;
        }
        if let Some(d) = &self.swift_dir {
            cfg.set_swift_dir(d.clone())?;
        }
        Ok(cfg)
    }
}

/// `IP:PORT` split, the IP without brackets (`[::1]:80` is `::1` and 80).
pub fn split_bind(bind: &str) -> Option<(String, u16)> {
    let (ip, port) = bind.rsplit_once(':')?;
    Some((ip.trim_start_matches('[').trim_end_matches(']').to_string(), port.parse().ok()?))
}

/// A `bind` key as `(ip, port)`: a config file's was checked when read (by
/// [`deserialize_bind`]); one set in code without a port is an address with port 0.
pub fn bind_pair(bind: &str) -> (String, u16) {
    split_bind(bind).unwrap_or_else(|| (bind.to_string(), 0))
}

/// `IP:PORT` with brackets around an IPv6 address, as `bind` keys hold it.
pub fn join_bind(ip: &str, port: u16) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// Serde `deserialize_with` for a `bind = "IP:PORT"` key: checked when the config is read,
/// so a bad one never becomes a random port.
pub fn deserialize_bind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let bind = <String as serde::Deserialize>::deserialize(d)?;
    match split_bind(&bind) {
        Some(_) => Ok(bind),
        None => Err(serde::de::Error::custom(format!("bind {bind:?} is not IP:PORT"))),
    }
}

/// Binds `(ip, port)` and prints `<name> listening on <addr>` on stdout: tests and scripts
/// read that line to learn the port when binding port 0.
pub async fn listen(name: &str, (ip, port): (String, u16)) -> Result<TcpListener, StartError> {
    let listener = TcpListener::bind((ip.as_str(), port))
        .await
        .map_err(|source| StartError::Listen { addr: format!("{ip}:{port}"), source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen { addr: format!("{ip}:{port}"), source })?;
    println!("{name} listening on {addr}");
    tracing::info!(%addr, "{name} listening");
    Ok(listener)
}

/// The whole `main` of a server binary named `name`: parses [`ServerArgs`], loads the
/// config `C` and its [`Secrets`] (refusing to start without them), binds its address, and
/// runs `serve(config, secrets, listener, shutdown)` until SIGINT/SIGTERM. Exit code 0 after a clean shutdown; 1 with the reason on stderr when
/// anything fails; 2 for a bad command line (clap's).
pub fn main<C, F, Fut, E>(name: &'static str, about: &'static str, serve: F) -> ExitCode
where
    C: ServerConfig,
    F: FnOnce(C, Secrets, TcpListener, CancellationToken) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let matches = ServerArgs::command().name(name).about(about).get_matches();
    let args = match ServerArgs::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    crate::logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(name, e),
    };
    runtime.block_on(async move {
        let cfg: C = match args.load() {
            Ok(c) => c,
            Err(e) => return fail(name, e),
        };
        let secrets = match Secrets::load(cfg.hash_path(), cfg.backend()) {
            Ok(s) => s,
            Err(e) => return fail(name, StartError::from(e)),
        };
        let listener = match listen(name, cfg.bind_addr()).await {
            Ok(l) => l,
            Err(e) => return fail(name, e),
        };
        let shutdown = crate::signal::shutdown_on_signal();
        match serve(cfg, secrets, listener, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(name, e),
        }
    })
}

fn fail(name: &str, e: impl Display) -> ExitCode {
    eprintln!("{name}: {e}");
    tracing::error!(error = %e, "{name} stopped");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(default)]
    struct Cfg {
        bind_ip: String,
        bind_port: u16,
        devices: PathBuf,
        mount_check: bool,
        hash_path: HashPathSecret,
        backend: BackendConfig,
    }

    crate::impl_server_config!(Cfg);

    #[test]
    fn overrides_apply_over_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "bind_ip = '10.0.0.1'\nbind_port = 6201\nmount_check = true\n").unwrap();
        let f = file.to_str().unwrap();
        let cfg: Cfg = ServerArgs::parse_from(["s", "-c", f, "--bind-port", "7000"]).load().unwrap();
        assert_eq!(cfg.bind_addr(), ("10.0.0.1".to_string(), 7000));
        assert!(cfg.mount_check);
        let args = ServerArgs::parse_from(["s", "-c", f, "--bind", "[::1]:0", "--devices", "/d", "--no-mount-check"]);
        let cfg: Cfg = args.load().unwrap();
        assert_eq!((cfg.bind_addr(), cfg.devices, cfg.mount_check), (("::1".into(), 0), "/d".into(), false));
        let err = ServerArgs::parse_from(["s", "--bind", "nowhere"]).load::<Cfg>().unwrap_err();
        assert!(err.to_string().contains("not IP:PORT"), "{err}");
        assert!(ServerArgs::try_parse_from(["s", "--bind", "1.2.3.4:5", "--bind-port", "6"]).is_err());
    }
}
