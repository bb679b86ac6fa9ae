//! What happens to a server after the API answers: build (schedule, fetch and verify the
//! images, give a qemu server its checked private disk, start it), stop, start, reboot,
//! destroy, and reading its console.

use super::disk::{self, DiskPolicy};
use super::driver::{self, BootSpec};
use super::scheduler::{self, HostState};
use super::store::{self, Server};
use super::{fetch, flavors, runtime, ComputeService, Host};
use crate::config::DriverKind;
use crate::error::{Result, ShimError};
use crate::web;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The most of a console log an API call reads (from its end).
const CONSOLE_TAIL: u64 = 1 << 20;

/// Where a server's files live on its host.
fn instance_dir(host: &Host, id: &str) -> PathBuf {
    host.dir.join("instances").join(id)
}

impl ComputeService {
    fn lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(id.to_string()).or_default().clone()
    }

    fn host(&self, name: Option<&str>) -> Option<&Host> {
        name.and_then(|n| self.hosts.iter().find(|h| h.cfg.name == n))
    }

    async fn set_state(&self, id: &str, status: &'static str, task: Option<&'static str>, power: i64) -> Result<bool> {
        let id = id.to_string();
        self.db.call(move |c| store::set_state(c, &id, status, task, power, web::now_secs())).await
    }

    pub(super) fn start_build(self: &Arc<Self>, id: String, token: String, image: Value) {
        let svc = self.clone();
        tokio::spawn(async move {
            if let Err(e) = svc.build(&id, &token, &image).await {
                tracing::warn!(server = %id, error = %e, "build failed");
                let (key, msg) = (id.clone(), e.to_string());
                let _ = svc.db.call(move |c| store::set_error(c, &key, &msg, web::now_secs())).await;
            }
        });
    }

    async fn build(&self, id: &str, token: &str, image: &Value) -> Result<()> {
        let key = id.to_string();
        let Some(server) = self.db.call(move |c| store::get(c, &key)).await? else { return Ok(()) };
        let flavor = flavors::find(&server.flavor_id)
            .ok_or_else(|| ShimError::Internal(format!("Flavor {} is gone.", server.flavor_id)))?;
        let host = {
            let _claim = self.scheduling.lock().await;
            let states = self.host_states().await?;
            let wanted = image["hypervisor_type"].as_str();
            let pick = scheduler::pick(&states, flavor.ram_mb, wanted)
                .ok_or_else(|| ShimError::Internal(scheduler::NO_VALID_HOST.into()))?
                .name
                .clone();
            let (key, name) = (id.to_string(), pick.clone());
            if !self.db.call(move |c| store::set_host(c, &key, &name)).await? {
                return Ok(());
            }
            pick
        };
        let host = self.host(Some(&host)).ok_or_else(|| ShimError::Internal(format!("host {host} vanished")))?;
        self.set_state(id, "BUILD", Some("spawning"), store::NOSTATE).await?;
        let limit = Duration::from_secs_f64(self.cfg.image_timeout);
        let spec = tokio::time::timeout(limit, self.prepare(&server, host, token, image, flavor))
            .await
            .map_err(|_| ShimError::Internal("Timed out fetching the server's images.".into()))??;
        let lock = self.lock(id);
        let _guard = lock.lock().await;
        let key = id.to_string();
        if self.db.call(move |c| store::get(c, &key)).await?.is_none() {
            return Ok(()); // deleted while its images were fetched
        }
        self.power_on(host, &spec).await?;
        self.set_state(id, "ACTIVE", None, store::RUNNING).await?;
        tracing::info!(server = %id, host = %host.cfg.name, "server active");
        Ok(())
    }

    /// Free RAM per registered host, from the servers placed on it.
    async fn host_states(&self) -> Result<Vec<HostState>> {
        let servers = self.db.call(|c| store::list(c, None)).await?;
        Ok(self
            .hosts
            .iter()
            .map(|h| HostState {
                name: h.cfg.name.clone(),
                driver: h.cfg.driver,
                ram_mb: h.cfg.ram_mb,
                used_mb: servers
                    .iter()
                    .filter(|s| s.host.as_deref() == Some(h.cfg.name.as_str()) && s.status != "ERROR")
                    .filter_map(|s| flavors::find(&s.flavor_id))
                    .map(|f| f.ram_mb)
                    .sum(),
            })
            .collect())
    }

    /// Fetches and verifies the image (and its kernel and ramdisk), lays out the server's
    /// directory with its own copy of the disk, and writes the boot spec it restarts from.
    async fn prepare(
        &self,
        server: &Server,
        host: &Host,
        token: &str,
        image: &Value,
        flavor: &flavors::Flavor,
    ) -> Result<BootSpec> {
        let cache = host.dir.join("images");
        let image_url = &self.endpoints.image;
        let part = |key: &str| image[key].as_str().map(str::to_owned);
        let kernel = self.fetch_ref(part("kernel_id"), token, &cache).await?;
        let ramdisk = self.fetch_ref(part("ramdisk_id"), token, &cache).await?;
        let base = fetch::cached(&self.client, image_url, token, image, &cache).await?;
        let dir = instance_dir(host, &server.id);
        tokio::fs::create_dir_all(&dir).await?;
        let disk_format = image["disk_format"].as_str().unwrap_or("raw");
        let size = image["size"].as_u64().unwrap_or(0);
        let disk = if size == 0 || matches!(disk_format, "aki" | "ari") {
            None
        } else {
            Some(self.private_disk(host, &server.image_id, &base, disk_format, dir.join("disk")).await?)
        };
        let cmdline =
            image["os_command_line"].as_str().unwrap_or("root=/dev/vda console=tty0 console=ttyS0").to_string();
        let spec = BootSpec {
            server_id: server.id.clone(),
            name: server.name.clone(),
            console: dir.join("console.log"),
            disk,
            kernel,
            ramdisk,
            cmdline,
            ram_mb: flavor.ram_mb,
            vcpus: flavor.vcpus,
            network: server.network == "auto",
            image_id: server.image_id.clone(),
            image_size: size,
            image_md5: image["checksum"].as_str().unwrap_or_default().to_string(),
        };
        let text = serde_json::to_vec_pretty(&spec).map_err(|e| ShimError::Internal(e.to_string()))?;
        tokio::fs::write(dir.join("boot.json"), text).await?;
        Ok(spec)
    }

    /// The server's own disk and its format. qemu gets a converted copy of an image that
    /// passed inspection ([`disk`]); the process driver never reads it, so a plain copy.
    async fn private_disk(
        &self,
        host: &Host,
        image_id: &str,
        base: &Path,
        disk_format: &str,
        path: PathBuf,
    ) -> Result<(PathBuf, String)> {
        if host.cfg.driver == DriverKind::Process {
            if !tokio::fs::try_exists(&path).await? {
                tokio::fs::copy(base, &path).await?;
            }
            return Ok((path, disk::qemu_format(disk_format).unwrap_or("raw").to_string()));
        }
        if !tokio::fs::try_exists(&path).await? {
            let policy = DiskPolicy {
                qemu_img: self.cfg.qemu_img_binary.clone(),
                max_virtual_size: self.cfg.max_disk_virtual_size,
            };
            policy.make_private_disk(image_id, base, disk_format, &path).await.map_err(|e| {
                tracing::warn!(image = %image_id, error = %e, "disk image refused");
                ShimError::Internal(e.to_string())
            })?;
        }
        Ok((path, disk::PRIVATE_FORMAT.to_string()))
    }

    /// The cached file of a referenced image (a kernel or ramdisk), if there is a reference.
    async fn fetch_ref(&self, id: Option<String>, token: &str, cache: &std::path::Path) -> Result<Option<PathBuf>> {
        let Some(id) = id else { return Ok(None) };
        let meta = fetch::image_meta(&self.client, &self.endpoints.image, token, &id).await?;
        Ok(Some(fetch::cached(&self.client, &self.endpoints.image, token, &meta, cache).await?))
    }

    /// Starts the server's process with its host's driver.
    async fn power_on(&self, host: &Host, spec: &BootSpec) -> Result<()> {
        let cmd = driver::command(host.cfg.driver, &self.cfg, spec);
        let dir = instance_dir(host, &spec.server_id);
        let running = runtime::spawn(
            cmd,
            &spec.console,
            host.cfg.driver == DriverKind::Process,
            &dir.join("driver.log"),
            self.db.clone(),
            spec.server_id.clone(),
        )
        .await
        .map_err(|e| {
            ShimError::Internal(format!("Starting the server with the {} driver failed: {e}", host.cfg.driver.name()))
        })?;
        let old = self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(spec.server_id.clone(), running);
        if let Some(old) = old {
            old.stop().await;
        }
        Ok(())
    }

    async fn power_off(&self, id: &str) {
        let r = self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        if let Some(r) = r {
            r.stop().await;
        }
    }

    /// Starts a stopped server again from its boot spec (no image service needed).
    async fn restart(&self, s: &Server) -> Result<()> {
        let host = self.host(s.host.as_deref()).ok_or_else(|| ShimError::Internal("the server has no host".into()))?;
        let text = tokio::fs::read(instance_dir(host, &s.id).join("boot.json")).await?;
        let spec: BootSpec =
            serde_json::from_slice(&text).map_err(|e| ShimError::Internal(format!("boot.json: {e}")))?;
        self.power_on(host, &spec).await
    }

    /// `os-stop` / `os-start`: the task state now, the work after the 202.
    pub(super) async fn start_power(self: &Arc<Self>, s: &Server, on: bool) -> Result<()> {
        let task = if on { "powering-on" } else { "powering-off" };
        self.set_state(&s.id, if on { "SHUTOFF" } else { "ACTIVE" }, Some(task), s.power_state).await?;
        let (svc, s) = (self.clone(), s.clone());
        tokio::spawn(async move {
            let lock = svc.lock(&s.id);
            let _guard = lock.lock().await;
            let result = if on {
                svc.restart(&s).await
            } else {
                svc.power_off(&s.id).await;
                Ok(())
            };
            let done = match result {
                Ok(()) if on => svc.set_state(&s.id, "ACTIVE", None, store::RUNNING).await,
                Ok(()) => svc.set_state(&s.id, "SHUTOFF", None, store::SHUTDOWN).await,
                Err(e) => {
                    let (key, msg) = (s.id.clone(), e.to_string());
                    svc.db.call(move |c| store::set_error(c, &key, &msg, web::now_secs())).await
                }
            };
            if let Err(e) = done {
                tracing::error!(server = %s.id, error = %e, "recording a power change failed");
            }
        });
        Ok(())
    }

    /// `reboot`: SOFT and HARD both restart the process (there is no guest agent to ask).
    pub(super) async fn start_reboot(self: &Arc<Self>, s: &Server, hard: bool) -> Result<()> {
        let (status, task) = if hard { ("HARD_REBOOT", "rebooting_hard") } else { ("REBOOT", "rebooting") };
        self.set_state(&s.id, status, Some(task), s.power_state).await?;
        let (svc, s) = (self.clone(), s.clone());
        tokio::spawn(async move {
            let lock = svc.lock(&s.id);
            let _guard = lock.lock().await;
            svc.power_off(&s.id).await;
            let result = match svc.restart(&s).await {
                Ok(()) => svc.set_state(&s.id, "ACTIVE", None, store::RUNNING).await,
                Err(e) => {
                    let (key, msg) = (s.id.clone(), e.to_string());
                    svc.db.call(move |c| store::set_error(c, &key, &msg, web::now_secs())).await
                }
            };
            if let Err(e) = result {
                tracing::error!(server = %s.id, error = %e, "recording a reboot failed");
            }
        });
        Ok(())
    }

    /// Stops the server, removes its files and its record.
    pub(super) async fn destroy(&self, s: &Server) -> Result<()> {
        let lock = self.lock(&s.id);
        let _guard = lock.lock().await;
        self.power_off(&s.id).await;
        if let Some(host) = self.host(s.host.as_deref()) {
            let dir = instance_dir(host, &s.id);
            if tokio::fs::try_exists(&dir).await? {
                tokio::fs::remove_dir_all(&dir).await?;
            }
        }
        let key = s.id.clone();
        self.db.call(move |c| store::delete(c, &key)).await?;
        self.locks.lock().unwrap_or_else(|p| p.into_inner()).remove(&s.id);
        Ok(())
    }

    /// The last `lines` lines of the console (all of its last MiB when `None`).
    pub(super) async fn console_output(&self, s: &Server, lines: Option<usize>) -> Result<String> {
        let Some(host) = self.host(s.host.as_deref()) else { return Ok(String::new()) };
        let path = instance_dir(host, &s.id).join("console.log");
        let bytes = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            };
            let len = f.metadata()?.len();
            f.seek(SeekFrom::Start(len.saturating_sub(CONSOLE_TAIL)))?;
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)?;
            Ok(buf)
        })
        .await
        .map_err(|e| ShimError::Internal(e.to_string()))??;
        let text = String::from_utf8_lossy(&bytes).replace('\r', "");
        Ok(match lines {
            None => text,
            Some(n) => {
                let all: Vec<&str> = text.lines().collect();
                all[all.len().saturating_sub(n)..].join("\n")
            }
        })
    }
}
