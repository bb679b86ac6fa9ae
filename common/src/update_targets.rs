//! The one codec for the servers a backend write must tell about itself, as Swift's proxy
//! names them in headers: `X-Container-Host`/`-Device`/`-Partition` (the listing row),
//! `X-Delete-At-Host`/`-Device`/`-Partition` (the expirer queue) on object writes, and
//! `X-Account-Host`/`-Device`/`-Partition` (the account's stats) on container writes.
//! Hosts and devices are comma-separated lists of the same length.
//!
//! The writers (proxy, expirer) and the readers (object and container servers) share the
//! header names and the list format here; each reader decides what a malformed set means.

use http::{HeaderMap, HeaderName, HeaderValue};

/// Which servers the targets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Container,
    DeleteAt,
    Account,
}

impl TargetKind {
    fn names(self) -> [&'static str; 3] {
        match self {
            TargetKind::Container => ["x-container-host", "x-container-device", "x-container-partition"],
            TargetKind::DeleteAt => ["x-delete-at-host", "x-delete-at-device", "x-delete-at-partition"],
            TargetKind::Account => ["x-account-host", "x-account-device", "x-account-partition"],
        }
    }

    /// The `-Host` header's name.
    pub fn host_header(self) -> &'static str {
        self.names()[0]
    }
}

/// Whether `name` (lowercase) is one of the target headers: only the proxy and the
/// cluster's daemons may send them, never a client.
pub fn is_target_header(name: &str) -> bool {
    [TargetKind::Container, TargetKind::DeleteAt, TargetKind::Account].iter().any(|k| k.names().contains(&name))
}

/// Why a request's targets cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("{0} is not valid UTF-8")]
    NotText(&'static str),
    #[error("different numbers of hosts and devices ({hosts} and {devices})")]
    Mismatched { hosts: usize, devices: usize },
}

/// The targets as a request names them, not yet checked against any ring.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamedTargets {
    /// `(ip:port, device)` pairs, in the order named (blank entries kept).
    pub nodes: Vec<(String, String)>,
    /// The partition as written; `None` when absent or empty.
    pub partition: Option<String>,
}

/// Reads the `kind` targets of `headers`; absent headers read as no targets.
pub fn read(headers: &HeaderMap, kind: TargetKind) -> Result<NamedTargets, TargetError> {
    let [host, device, partition] = kind.names();
    let text = |name: &'static str| match headers.get(name) {
        None => Ok(""),
        Some(v) => std::str::from_utf8(v.as_bytes()).map_err(|_| TargetError::NotText(name)),
    };
    let split = |v: &str| -> Vec<String> { v.split(',').map(|s| s.trim().to_string()).collect() };
    let (hosts, devices) = (split(text(host)?), split(text(device)?));
    if hosts.len() != devices.len() {
        return Err(TargetError::Mismatched { hosts: hosts.len(), devices: devices.len() });
    }
    let partition = Some(text(partition)?.trim()).filter(|p| !p.is_empty()).map(str::to_string);
    Ok(NamedTargets { nodes: hosts.into_iter().zip(devices).collect(), partition })
}

/// Names one target server of `kind` in `headers` (the proxy sends each replica its own).
pub fn write(headers: &mut HeaderMap, kind: TargetKind, host: &str, device: &str, partition: u32) {
    let values = [host.to_string(), device.to_string(), partition.to_string()];
    for (name, value) in kind.names().into_iter().zip(values) {
        // Ring hosts and device names are validated when the ring is built; skip one that is not a header.
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_written_reads_back() {
        let mut h = HeaderMap::new();
        write(&mut h, TargetKind::Account, "10.0.0.1:6202", "sdb1", 17);
        assert_eq!(h["x-account-host"], "10.0.0.1:6202");
        let named = read(&h, TargetKind::Account).unwrap();
        assert_eq!(named.nodes, [("10.0.0.1:6202".to_string(), "sdb1".to_string())]);
        assert_eq!(named.partition.as_deref(), Some("17"));
        assert_eq!(read(&h, TargetKind::Container).unwrap().partition, None);
    }

    #[test]
    fn knows_its_headers() {
        assert!(is_target_header("x-delete-at-partition") && is_target_header("x-account-host"));
        assert!(!is_target_header("x-delete-at") && !is_target_header("x-container-meta-a"));
    }

    #[test]
    fn lists_mismatches_and_bytes() {
        let mut h = HeaderMap::new();
        h.insert("x-delete-at-host", "10.0.0.1:6201, 10.0.0.2:6201".parse().unwrap());
        h.insert("x-delete-at-device", "sdb1,sdb2".parse().unwrap());
        h.insert("x-delete-at-partition", " 3 ".parse().unwrap());
        let named = read(&h, TargetKind::DeleteAt).unwrap();
        assert_eq!(named.nodes.len(), 2);
        assert_eq!(named.nodes[1], ("10.0.0.2:6201".to_string(), "sdb2".to_string()));
        assert_eq!(named.partition.as_deref(), Some("3"));
        h.insert("x-delete-at-device", "sdb1".parse().unwrap());
        assert_eq!(read(&h, TargetKind::DeleteAt), Err(TargetError::Mismatched { hosts: 2, devices: 1 }));
        h.insert("x-delete-at-device", HeaderValue::from_bytes(b"sd\xffb").unwrap());
        assert_eq!(read(&h, TargetKind::DeleteAt), Err(TargetError::NotText("x-delete-at-device")));
    }
}
