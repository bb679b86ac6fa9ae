//! The failure-domain tree: root > region > zone > host (ip) > device.
//!
//! Every present device gets a leaf (so replicas on draining devices still count against
//! their zone), but only devices with weight that are not marked for removal can receive
//! partitions; they are the "weighted" ones.

use std::collections::HashMap;

use crate::device::{bracket, Device};

pub(crate) const ROOT: u32 = 0;
/// Depth of a device leaf: region 1, zone 2, host 3, device 4.
pub(crate) const DEVICE_LEVEL: u8 = 4;
pub(crate) const NO_NODE: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub(crate) struct TierNode {
    pub level: u8,
    pub parent: u32,
    pub children: Vec<u32>,
    /// For a leaf, the device id.
    pub dev: u32,
    /// Sum of the weights of weighted devices below.
    pub weight: f64,
    /// Number of weighted devices below.
    pub weighted_devs: u32,
    /// Swift-style tier name: `r1`, `r1z2`, `r1z2-10.0.0.1`, `r1z2-10.0.0.1/sdb1`.
    pub name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct TierTree {
    /// Parents always come before their children.
    pub nodes: Vec<TierNode>,
    /// Per device slot: its path `[region, zone, host, device]`, or `None` for holes.
    pub paths: Vec<Option<[u32; 4]>>,
}

impl TierTree {
    /// Builds the tree; `weighted(dev)` says whether a device may receive partitions.
    pub fn build(devs: &[Option<Device>], weighted: impl Fn(&Device) -> bool) -> TierTree {
        let root = TierNode {
            level: 0,
            parent: NO_NODE,
            children: Vec::new(),
            dev: NO_NODE,
            weight: 0.0,
            weighted_devs: 0,
            name: String::new(),
        };
        let mut tree = TierTree { nodes: vec![root], paths: vec![None; devs.len()] };
        let mut index: HashMap<(u32, String), u32> = HashMap::new();
        for dev in devs.iter().flatten() {
            let names = [
                format!("r{}", dev.region),
                format!("r{}z{}", dev.region, dev.zone),
                format!("r{}z{}-{}", dev.region, dev.zone, bracket(&dev.ip)),
                format!("r{}z{}-{}/{}", dev.region, dev.zone, bracket(&dev.ip), dev.device),
            ];
            let mut path = [NO_NODE; 4];
            let mut parent = ROOT;
            for (i, name) in names.into_iter().enumerate() {
                let level = i as u8 + 1;
                let existing = if level == DEVICE_LEVEL { None } else { index.get(&(parent, name.clone())).copied() };
                let node = existing.unwrap_or_else(|| {
                    let id = tree.nodes.len() as u32;
                    tree.nodes.push(TierNode {
                        level,
                        parent,
                        children: Vec::new(),
                        dev: if level == DEVICE_LEVEL { dev.id } else { NO_NODE },
                        weight: 0.0,
                        weighted_devs: 0,
                        name,
                    });
                    tree.nodes[parent as usize].children.push(id);
                    if level != DEVICE_LEVEL {
                        index.insert((parent, tree.nodes[id as usize].name.clone()), id);
                    }
                    id
                });
                path[i] = node;
                parent = node;
            }
            if weighted(dev) {
                tree.nodes[ROOT as usize].weight += dev.weight;
                tree.nodes[ROOT as usize].weighted_devs += 1;
                for &n in &path {
                    tree.nodes[n as usize].weight += dev.weight;
                    tree.nodes[n as usize].weighted_devs += 1;
                }
            }
            tree.paths[dev.id as usize] = Some(path);
        }
        tree
    }

    pub fn node(&self, n: u32) -> &TierNode {
        &self.nodes[n as usize]
    }

    pub fn is_weighted(&self, n: u32) -> bool {
        self.nodes[n as usize].weighted_devs > 0
    }

    /// The weighted children of a node.
    pub fn weighted_children(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        self.nodes[n as usize].children.iter().copied().filter(|&c| self.is_weighted(c))
    }

    pub fn path(&self, dev: u16) -> Option<&[u32; 4]> {
        self.paths.get(dev as usize).and_then(Option::as_ref)
    }

    /// The most replicas of one partition each tier may hold if spread as evenly as the
    /// topology allows: the root holds `replicas`, each weighted child an equal share of
    /// its parent's (rounded up when `ceil`), a device at most one.
    pub fn topology_max(&self, replicas: f64, ceil: bool) -> Vec<f64> {
        let mut max = vec![0.0; self.nodes.len()];
        max[ROOT as usize] = replicas;
        for n in 0..self.nodes.len() as u32 {
            let kids: Vec<u32> = self.weighted_children(n).collect();
            if kids.is_empty() {
                continue;
            }
            let mut share = max[n as usize] / kids.len() as f64;
            if ceil {
                share = share.ceil();
            }
            for c in kids {
                let leaf = self.node(c).level == DEVICE_LEVEL;
                max[c as usize] = if leaf { share.min(1.0) } else { share };
            }
        }
        max
    }
}

/// Counts how many replicas of one partition sit in each tier: a dense array indexed by
/// node plus the list of touched nodes, so clearing costs only what was set.
#[derive(Debug, Default, Clone)]
pub(crate) struct TierCounts {
    count: Vec<u32>,
    touched: Vec<u32>,
}

impl TierCounts {
    pub fn new(nodes: usize) -> Self {
        TierCounts { count: vec![0; nodes], touched: Vec::with_capacity(32) }
    }

    pub fn clear(&mut self) {
        for &n in &self.touched {
            self.count[n as usize] = 0;
        }
        self.touched.clear();
    }

    pub fn get(&self, node: u32) -> u32 {
        self.count.get(node as usize).copied().unwrap_or(0)
    }

    pub fn add_path(&mut self, path: &[u32; 4]) {
        for &n in path {
            let n = n as usize;
            if n >= self.count.len() {
                self.count.resize(n + 1, 0);
            }
            if self.count[n] == 0 {
                self.touched.push(n as u32);
            }
            self.count[n] += 1;
        }
    }

    pub fn remove_path(&mut self, path: &[u32; 4]) {
        for &n in path {
            if let Some(c) = self.count.get_mut(n as usize) {
                *c = c.saturating_sub(1);
            }
        }
    }

    /// Nodes with a replica, and how many.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.touched.iter().map(|&n| (n, self.count[n as usize])).filter(|e| e.1 > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(id: u32, region: u32, zone: u32, ip: &str, weight: f64) -> Option<Device> {
        Some(Device::new(id, (region, zone), (ip, 6200), format!("sd{id}"), weight))
    }

    #[test]
    fn builds_shared_tiers_and_weights() {
        let devs = vec![dev(0, 1, 1, "a", 1.0), None, dev(2, 1, 1, "a", 2.0), dev(3, 1, 2, "b", 0.0)];
        let tree = TierTree::build(&devs, |d| d.weight > 0.0);
        let p0 = tree.paths[0].unwrap();
        let p2 = tree.paths[2].unwrap();
        let p3 = tree.paths[3].unwrap();
        assert_eq!(p0[..3], p2[..3], "same region, zone and host");
        assert_ne!(p0[3], p2[3]);
        assert_eq!(p0[0], p3[0]);
        assert_ne!(p0[1], p3[1]);
        assert_eq!(tree.node(p0[2]).weight, 3.0);
        assert!(!tree.is_weighted(p3[1]), "zone 2 only has a zero-weight device");
        assert_eq!(tree.node(p2[3]).name, "r1z1-a/sd2");
        let max = tree.topology_max(3.0, true);
        assert_eq!(max[p0[1] as usize], 3.0, "one weighted zone takes everything");
        assert_eq!(max[p0[3] as usize], 1.0);
        assert_eq!(max[p3[1] as usize], 0.0);
    }

    #[test]
    fn counts_track_paths() {
        let mut c = TierCounts::default();
        c.add_path(&[1, 2, 3, 4]);
        c.add_path(&[1, 2, 5, 6]);
        assert_eq!((c.get(1), c.get(2), c.get(3), c.get(6), c.get(9)), (2, 2, 1, 1, 0));
        c.remove_path(&[1, 2, 3, 4]);
        assert_eq!((c.get(1), c.get(3)), (1, 0));
    }
}
