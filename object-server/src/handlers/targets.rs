//! Where a write's updates go, read once from its headers and checked before anything is
//! written: the container servers of the listing row (`X-Container-Host`/`-Device`,
//! comma-separated, and `X-Container-Partition`) and of the expirer queue
//! (`X-Delete-At-Host`/`-Device`/`-Partition`), as Swift's proxy names them. Every named
//! device must be a primary of the named partition in the container ring
//! ([`crate::container_ring`]); a request naming any other is a 400, so it can neither
//! write nor make this server call a host of its choosing.

use super::AppState;
use crate::container_ring::Target;
use crate::error::{Error, Result};
use common::headers::get;
use http::HeaderMap;
use swiftlet_object_store::UpdateTargets;

/// The checked targets of one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteTargets {
    /// The listing row's container servers; `None` when the request names no partition.
    pub container: Option<UpdateTargets>,
    pub expirer: ExpirerTargets,
}

/// Where an `X-Delete-At` change is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpirerTargets {
    /// No `X-Delete-At-Host`: another replica's server records it (deletions of old
    /// entries are queued anyway).
    NotNamed,
    /// Named, but without a usable partition and devices: queued for the expirer.
    Queue,
    Send(UpdateTargets),
}

/// `(host, device)` pairs from the `<prefix>-Host`/`-Device` headers plus the partition;
/// empty when the request names no (valid) targets.
fn named(h: &HeaderMap, prefix: &str) -> (Vec<(String, String)>, Option<String>) {
    let split = |v: &str| -> Vec<String> { v.split(',').map(|s| s.trim().to_string()).collect() };
    let hosts = split(get(h, &format!("{prefix}-host")).unwrap_or(""));
    let devices = split(get(h, &format!("{prefix}-device")).unwrap_or(""));
    let partition = get(h, &format!("{prefix}-partition")).filter(|p| !p.is_empty()).map(str::to_string);
    if hosts.len() != devices.len() {
        tracing::error!(?hosts, ?devices, "container update failed: different numbers of hosts and devices");
        return (vec![], None);
    }
    let pairs = hosts.into_iter().zip(devices).filter(|(h, d)| !h.is_empty() && !d.is_empty()).collect();
    (pairs, partition)
}

/// The request's targets under `prefix` as ring targets (an unparsable partition is a 400).
fn ring_targets(nodes: &[(String, String)], partition: &str, header: &str) -> Result<(u32, Vec<Target>)> {
    let part: u32 = partition.parse().map_err(|_| Error::BadRequest(format!("Invalid {header}: {partition:?}")))?;
    let targets =
        nodes.iter().map(|(host, device)| Target { host: host.clone(), device: device.clone(), partition: part });
    Ok((part, targets.collect()))
}

/// Reads the write's targets from `h` and checks them against the container ring.
pub async fn checked(state: &AppState, h: &HeaderMap) -> Result<WriteTargets> {
    let mut to_check = Vec::new();
    let container = match named(h, "x-container") {
        (nodes, Some(partition)) if !nodes.is_empty() => {
            let (part, targets) = ring_targets(&nodes, &partition, "X-Container-Partition")?;
            to_check.extend(targets);
            Some(UpdateTargets { nodes, partition: part.to_string() })
        }
        (nodes, Some(partition)) => Some(UpdateTargets { nodes, partition }),
        (_, None) => None,
    };
    let expirer = match named(h, "x-delete-at") {
        _ if get(h, "x-delete-at-host").is_none() => ExpirerTargets::NotNamed,
        (nodes, Some(partition)) if !nodes.is_empty() => {
            let (part, targets) = ring_targets(&nodes, &partition, "X-Delete-At-Partition")?;
            to_check.extend(targets);
            ExpirerTargets::Send(UpdateTargets { nodes, partition: part.to_string() })
        }
        _ => ExpirerTargets::Queue,
    };
    if !to_check.is_empty() {
        state.container_ring.allows_all(&to_check).await.map_err(Error::BadRequest)?;
    }
    Ok(WriteTargets { container, expirer })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets_like_swift() {
        let mut h = HeaderMap::new();
        h.insert("x-container-host", "10.0.0.1:6201, 10.0.0.2:6201".parse().unwrap());
        h.insert("x-container-device", "sda,sdb".parse().unwrap());
        h.insert("x-container-partition", "7".parse().unwrap());
        let (pairs, part) = named(&h, "x-container");
        assert_eq!(pairs, vec![("10.0.0.1:6201".into(), "sda".into()), ("10.0.0.2:6201".into(), "sdb".into())]);
        assert_eq!(part.as_deref(), Some("7"));
        h.insert("x-container-device", "sda".parse().unwrap());
        assert!(named(&h, "x-container").0.is_empty());
        assert!(common::headers::is_true("True") && !common::headers::is_true("no"));
    }

    #[test]
    fn partitions_are_numbers() {
        let nodes = vec![("10.0.0.1:6201".to_string(), "sda".to_string())];
        let (part, targets) = ring_targets(&nodes, "0077", "X-Container-Partition").unwrap();
        assert_eq!((part, targets[0].partition, targets[0].device.as_str()), (77, 77, "sda"));
        for bad in ["x", "-1", "4294967296", ""] {
            assert!(matches!(ring_targets(&nodes, bad, "X-Container-Partition"), Err(Error::BadRequest(_))), "{bad}");
        }
    }
}
