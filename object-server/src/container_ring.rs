//! The container ring as the object server checks update targets against it: a request may
//! only send its container updates to devices the ring makes primaries of the partition it
//! names (so a write cannot make this server call an arbitrary host).
//!
//! The file is reloaded when it changes (the watcher of [`SharedRing`], and at once when a
//! target is not found, so a ring pushed to this node is used by its next write). A target
//! is also accepted from the ring this server had before the current one: proxies reload
//! on their own schedule and cache container info, so right after a rebalance they may
//! still name the container's previous primaries.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use swiftlet_ring::device::normalize_ip;
use swiftlet_ring::{Ring, RingError, SharedRing};

pub const CONTAINER_RING_FILE: &str = "container.ring";

pub struct ContainerRing {
    shared: SharedRing,
    seen: Mutex<Seen>,
}

/// The last ring a check saw and the one before it.
struct Seen {
    current: Arc<Ring>,
    previous: Option<Arc<Ring>>,
}

/// One container server device as an update names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `ip:port` (`[ip]:port` for IPv6 also works).
    pub host: String,
    pub device: String,
    pub partition: u32,
}

impl ContainerRing {
    /// Loads `<swift_dir>/container.ring` (failing if it cannot) and watches it every `interval`.
    pub fn open(swift_dir: &std::path::Path, interval: Duration) -> Result<ContainerRing, RingError> {
        let shared = SharedRing::open(&swift_dir.join(CONTAINER_RING_FILE), interval)?;
        let seen = Mutex::new(Seen { current: shared.current(), previous: None });
        Ok(ContainerRing { shared, seen })
    }

    /// Whether every target is a primary of its partition in the current ring or the one
    /// it replaced; on a miss the file is checked for a newer ring first (blocking: see
    /// [`ContainerRing::allows_all`]).
    fn allows_blocking(&self, targets: &[Target]) -> Result<(), String> {
        if self.first_miss(targets).is_none() {
            return Ok(());
        }
        if let Err(e) = self.shared.reload_if_changed() {
            tracing::warn!(error = %e, "container ring not reloaded; keeping the old one");
        }
        match self.first_miss(targets) {
            None => Ok(()),
            Some(miss) => Err(format!(
                "{}/{} is not a container ring device of partition {}",
                miss.host, miss.device, miss.partition
            )),
        }
    }

    /// Checks every target (see `allows_blocking`), without blocking the runtime when the
    /// ring has to be re-read. `Err` names the first target that is not allowed.
    pub async fn allows_all(self: &Arc<Self>, targets: &[Target]) -> Result<(), String> {
        if self.first_miss(targets).is_none() {
            return Ok(());
        }
        let (me, targets) = (self.clone(), targets.to_vec());
        tokio::task::spawn_blocking(move || me.allows_blocking(&targets))
            .await
            .unwrap_or_else(|e| Err(format!("container ring check failed: {e}")))
    }

    fn first_miss<'t>(&self, targets: &'t [Target]) -> Option<&'t Target> {
        let (current, previous) = self.rings();
        let known = |t: &Target| is_primary(&current, t) || previous.as_ref().is_some_and(|p| is_primary(p, t));
        targets.iter().find(|t| !known(t))
    }

    /// The loaded ring and the one before it, noting a swap the watcher made.
    fn rings(&self) -> (Arc<Ring>, Option<Arc<Ring>>) {
        let now = self.shared.current();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if !Arc::ptr_eq(&seen.current, &now) {
            seen.previous = Some(std::mem::replace(&mut seen.current, now.clone()));
        }
        (now, seen.previous.clone())
    }
}

/// Whether the ring makes `t`'s device a primary of `t.partition`.
fn is_primary(ring: &Ring, t: &Target) -> bool {
    let Some((ip, port)) = t.host.rsplit_once(':') else { return false };
    let Ok(port) = port.parse::<u16>() else { return false };
    let ip = normalize_ip(ip);
    ring.get_part_nodes(t.partition).iter().any(|d| d.port == port && d.device == t.device && normalize_ip(&d.ip) == ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use swiftlet_ring::Device;

    fn dev(id: u32, ip: &str, port: u16, name: &str) -> Option<Device> {
        Some(Device {
            id,
            region: 1,
            zone: 1,
            ip: ip.into(),
            port,
            replication_ip: ip.into(),
            replication_port: port,
            device: name.into(),
            weight: 1.0,
            meta: String::new(),
        })
    }

    #[test]
    fn primaries_match_by_address_port_device_and_partition() {
        let devs = vec![dev(0, "10.0.0.1", 6201, "sda"), dev(1, "::1", 6201, "sdb")];
        let ring = Ring::new(1, 1, devs, vec![vec![0, 1]]).unwrap();
        let t = |host: &str, device: &str, partition| Target { host: host.into(), device: device.into(), partition };
        assert!(is_primary(&ring, &t("10.0.0.1:6201", "sda", 0)));
        assert!(is_primary(&ring, &t("[::1]:6201", "sdb", 1)));
        assert!(is_primary(&ring, &t("::1:6201", "sdb", 1)), "the proxy writes IPv6 hosts unbracketed");
        for wrong in [
            t("10.0.0.1:6201", "sda", 1),
            t("10.0.0.1:6202", "sda", 0),
            t("10.0.0.2:6201", "sda", 0),
            t("10.0.0.1:6201", "sdb", 0),
            t("10.0.0.1:6201", "sda", 2),
            t("10.0.0.1", "sda", 0),
            t("10.0.0.1:x", "sda", 0),
        ] {
            assert!(!is_primary(&ring, &wrong), "{wrong:?}");
        }
    }
}
