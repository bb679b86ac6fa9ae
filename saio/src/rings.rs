//! The saio rings: one device per node, each node its own zone, built once and then
//! read back on every start so ports and placement never change under existing data.

use anyhow::{bail, Context, Result};
use std::path::Path;
use swiftlet_ring::{Device, Ring, RingBuilder};

/// The ports of one storage node's three servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodePorts {
    pub object: u16,
    pub container: u16,
    pub account: u16,
}

const KINDS: [&str; 3] = ["object", "container", "account"];

pub fn exist(etc: &Path) -> bool {
    KINDS.iter().all(|k| etc.join(format!("{k}.ring")).exists())
}

/// Builds `<kind>.builder` and `<kind>.ring` for the three kinds.
pub fn build(etc: &Path, host: &str, nodes: &[NodePorts], replicas: f64, part_power: u8) -> Result<()> {
    for kind in KINDS {
        let mut builder = RingBuilder::new(part_power, replicas, 1)?;
        for (i, ports) in nodes.iter().enumerate() {
            let port = match kind {
                "object" => ports.object,
                "container" => ports.container,
                _ => ports.account,
            };
            builder.add_dev(Device::new(
                i as u32,
                (1, i as u32 + 1),
                (host, port),
                crate::layout::Layout::device_name(i),
                1.0,
            ))?;
        }
        builder.rebalance(Some(1)).with_context(|| format!("rebalancing the {kind} ring"))?;
        builder.save(&etc.join(format!("{kind}.builder")))?;
        builder.get_ring().save(&etc.join(format!("{kind}.ring")))?;
    }
    Ok(())
}

/// Reads each node's ports back from the rings (device `sdb<N>` is node N).
pub fn node_ports(etc: &Path) -> Result<Vec<NodePorts>> {
    let load =
        |kind: &str| Ring::load(&etc.join(format!("{kind}.ring"))).with_context(|| format!("loading {kind}.ring"));
    let (object, container, account) = (load("object")?, load("container")?, load("account")?);
    let mut nodes = Vec::new();
    for dev in object.devices() {
        let Some(n) = dev.device.strip_prefix("sdb").and_then(|n| n.parse::<usize>().ok()).filter(|n| *n >= 1) else {
            bail!("unexpected device {} in object.ring", dev.device);
        };
        let port_in = |ring: &Ring| ring.devices().find(|d| d.device == dev.device).map(|d| d.port);
        let (Some(c), Some(a)) = (port_in(&container), port_in(&account)) else {
            bail!("device {} is missing from the container or account ring", dev.device);
        };
        if nodes.len() < n {
            nodes.resize(n, None);
        }
        nodes[n - 1] = Some(NodePorts { object: dev.port, container: c, account: a });
    }
    nodes.into_iter().enumerate().map(|(i, p)| p.with_context(|| format!("node {} has no device", i + 1))).collect()
}
