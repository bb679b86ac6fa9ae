//! A user's disk image is untrusted input to qemu: a qcow2 may name a backing file or an
//! external data file and a vmdk may list extents, and qemu would open those host paths
//! (another tenant's disk, `/etc/shadow`) for the guest. So before a VM sees a disk, the
//! image is inspected with `qemu-img info` (under resource limits) and refused unless it is
//! one self-contained file of its declared format and of a bounded size; what passes is
//! converted into a private qcow2 the VM opens instead, so the guest never reads the
//! user's file at all.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// `qemu-img info` parses an untrusted header: a crafted image must not make it eat the
/// host's memory or CPU (the limits Nova uses).
const INFO_ADDRESS_SPACE: u64 = 1 << 30;
const INFO_CPU_SECONDS: u64 = 30;
const INFO_TIMEOUT: Duration = Duration::from_secs(60);
/// The format of the private copy the VM opens.
pub const PRIVATE_FORMAT: &str = "qcow2";

/// Why an image may not become a VM's disk. The text is the server's fault message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DiskRefusal {
    #[error("its disk_format {0:?} is not one qemu boots from")]
    UnsupportedFormat(String),
    #[error("it is declared {declared} but its data is {found}")]
    FormatMismatch { declared: String, found: String },
    #[error("it names a backing file ({0})")]
    BackingFile(String),
    #[error("it names an external data file ({0})")]
    DataFile(String),
    #[error("it is a {0:?} vmdk: only monolithicSparse and streamOptimized (one self-contained file) are accepted")]
    VmdkCreateType(String),
    #[error("its vmdk extents live outside the image ({0})")]
    VmdkExtents(String),
    #[error("its virtual size {size} bytes is over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    #[error("qemu-img could not read it: {0}")]
    Unreadable(String),
}

/// Why a disk could not be made, refused or not.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("Image {image} was refused: {refusal}.")]
    Refused { image: String, refusal: DiskRefusal },
    #[error("{0}")]
    Tool(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// How a compute host checks and converts disks.
#[derive(Debug, Clone)]
pub struct DiskPolicy {
    pub qemu_img: String,
    pub max_virtual_size: u64,
}

/// qemu's name for a Glance `disk_format` (the format `qemu-img info` must find), or
/// `None` for formats qemu does not boot from.
pub fn qemu_format(disk_format: &str) -> Option<&'static str> {
    Some(match disk_format {
        "raw" | "ami" | "iso" => "raw",
        "qcow2" => "qcow2",
        "vmdk" => "vmdk",
        "vdi" => "vdi",
        "vhd" => "vpc",
        "vhdx" => "vhdx",
        _ => return None,
    })
}

/// What `qemu-img info --output=json` says of an image, judged against its declared
/// format: `Ok` only for one self-contained file of that format within `max_virtual_size`.
pub fn judge(info: &Value, declared: &str, max_virtual_size: u64) -> Result<(), DiskRefusal> {
    let want = qemu_format(declared).ok_or_else(|| DiskRefusal::UnsupportedFormat(declared.to_string()))?;
    let found = info["format"].as_str().unwrap_or("unknown");
    if found != want {
        return Err(DiskRefusal::FormatMismatch { declared: declared.to_string(), found: found.to_string() });
    }
    for key in ["backing-filename", "full-backing-filename"] {
        if let Some(b) = info.get(key) {
            return Err(DiskRefusal::BackingFile(b.as_str().unwrap_or("?").to_string()));
        }
    }
    let specific = &info["format-specific"]["data"];
    if let Some(d) = specific.get("data-file") {
        return Err(DiskRefusal::DataFile(d.as_str().unwrap_or("?").to_string()));
    }
    if found == "vmdk" {
        let kind = specific["create-type"].as_str().unwrap_or_default();
        if !matches!(kind, "monolithicSparse" | "streamOptimized") {
            return Err(DiskRefusal::VmdkCreateType(kind.to_string()));
        }
        // A self-contained vmdk has one extent: the image file itself.
        let own = info["filename"].as_str().unwrap_or_default();
        let extents: Vec<&str> = specific["extents"]
            .as_array()
            .map(|e| e.iter().map(|x| x["filename"].as_str().unwrap_or("?")).collect())
            .unwrap_or_default();
        if extents.len() != 1 || extents[0] != own {
            return Err(DiskRefusal::VmdkExtents(extents.join(", ")));
        }
    }
    let size = info["virtual-size"].as_u64().ok_or_else(|| DiskRefusal::Unreadable("no virtual size".into()))?;
    if size > max_virtual_size {
        return Err(DiskRefusal::TooLarge { size, limit: max_virtual_size });
    }
    Ok(())
}

impl DiskPolicy {
    /// `qemu-img info` of `path`, the format probed (never taken from the caller), run with
    /// bounded memory, CPU and time.
    pub async fn info(&self, path: &Path) -> Result<Value, DiskError> {
        let path = plain_file_name(path)?;
        let mut cmd = Command::new(&self.qemu_img);
        cmd.args(["info", "--output=json", "--force-share"]).arg(&path);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        limit_resources(&mut cmd);
        let out = tokio::time::timeout(INFO_TIMEOUT, cmd.output())
            .await
            .map_err(|_| DiskError::Tool("qemu-img info timed out".into()))?
            .map_err(|e| DiskError::Tool(format!("running {}: {e}", self.qemu_img)))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(DiskError::Tool(why));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| DiskError::Tool(format!("qemu-img info output: {e}")))
    }

    /// Inspects the user's image `src` and, if it passes, writes the private disk `dst`
    /// (qcow2, no backing file). Nothing is left at `dst` when it fails.
    pub async fn make_private_disk(
        &self,
        image_id: &str,
        src: &Path,
        disk_format: &str,
        dst: &Path,
    ) -> Result<(), DiskError> {
        let refused = |refusal| DiskError::Refused { image: image_id.to_string(), refusal };
        let info = match self.info(src).await {
            Ok(info) => info,
            Err(DiskError::Tool(why)) => return Err(refused(DiskRefusal::Unreadable(why))),
            Err(e) => return Err(e),
        };
        judge(&info, disk_format, self.max_virtual_size).map_err(refused)?;
        let format = qemu_format(disk_format).unwrap_or("raw");
        let tmp = dst.with_extension("converting");
        let (src, tmp_name) = (plain_file_name(src)?, plain_file_name(&tmp)?);
        let out = Command::new(&self.qemu_img)
            .args(["convert", "-q", "-f", format, "-O", PRIVATE_FORMAT])
            .arg(&src)
            .arg(&tmp_name)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output()
            .await;
        let converted = match out {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(DiskError::Tool(format!(
                "converting image {image_id}: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ))),
            Err(e) => Err(DiskError::Tool(format!("running {}: {e}", self.qemu_img))),
        };
        match converted {
            Ok(()) => Ok(tokio::fs::rename(&tmp, dst).await?),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }
}

/// An absolute path, so qemu never reads `json:{...}` or `nbd:...` out of a file name.
fn plain_file_name(p: &Path) -> std::io::Result<PathBuf> {
    std::path::absolute(p)
}

fn limit_resources(cmd: &mut Command) {
    let limit = |resource, value: u64| {
        let r = libc::rlimit { rlim_cur: value as libc::rlim_t, rlim_max: value as libc::rlim_t };
        // SAFETY: setrlimit(2) only reads the struct it is given and is async-signal-safe,
        // so it may run in the forked child before exec.
        if unsafe { libc::setrlimit(resource, &r) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    };
    // SAFETY: the closure calls only setrlimit (async-signal-safe) and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            limit(libc::RLIMIT_AS, INFO_ADDRESS_SPACE)?;
            limit(libc::RLIMIT_CPU, INFO_CPU_SECONDS)
        });
    }
}

#[cfg(test)]
mod tests;
