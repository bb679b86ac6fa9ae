//! The immutable ring servers load: path -> partition -> primary devices, plus handoffs.

use std::path::Path;

use common::HashPathSecret;

use crate::device::Device;
use crate::format;
use crate::RingError;

/// Marks an unassigned slot in `replica2part2dev`.
pub const NONE_DEV: u16 = u16::MAX;

/// The largest partition power a ring may have.
pub const MAX_PART_POWER: u8 = 23;

/// How many partitions a handoff walk visits before falling back to the device list.
const HANDOFF_WALK_PARTS: u32 = 1 << 16;

/// A built ring: device table and `replica2part2dev` assignment table. Immutable.
#[derive(Debug, Clone, PartialEq)]
pub struct Ring {
    part_power: u8,
    version: u64,
    devs: Vec<Option<Device>>,
    replica2part2dev: Vec<Vec<u16>>,
    topo: Topology,
}

/// Interned failure domains of every device, for handoff selection.
#[derive(Debug, Clone, PartialEq, Default)]
struct Topology {
    /// Per device id: (region, zone, host) indices; `u32::MAX` for holes.
    tiers: Vec<[u32; 3]>,
    /// Per device id: may receive handoffs (present and weighted).
    eligible: Vec<bool>,
    /// Per tier level: how many distinct values hold at least one eligible device.
    eligible_tiers: [usize; 3],
    /// Per tier level: whether each interned value holds an eligible device.
    has_eligible: [Vec<bool>; 3],
    eligible_devs: usize,
}

impl Topology {
    fn build(devs: &[Option<Device>]) -> Topology {
        let mut keys: [Vec<(u32, u32, &str)>; 3] = Default::default();
        let mut topo = Topology {
            tiers: vec![[u32::MAX; 3]; devs.len()],
            eligible: vec![false; devs.len()],
            ..Default::default()
        };
        for (id, dev) in devs.iter().enumerate() {
            let Some(d) = dev else { continue };
            let wanted = [(d.region, 0, ""), (d.region, d.zone, ""), (d.region, d.zone, d.ip.as_str())];
            let eligible = d.weight > 0.0;
            for (level, key) in wanted.into_iter().enumerate() {
                let idx = match keys[level].iter().position(|k| *k == key) {
                    Some(i) => i,
                    None => {
                        keys[level].push(key);
                        topo.has_eligible[level].push(false);
                        keys[level].len() - 1
                    }
                };
                topo.tiers[id][level] = idx as u32;
                topo.has_eligible[level][idx] |= eligible;
            }
            topo.eligible[id] = eligible;
            topo.eligible_devs += usize::from(eligible);
        }
        for level in 0..3 {
            topo.eligible_tiers[level] = topo.has_eligible[level].iter().filter(|e| **e).count();
        }
        topo
    }
}

impl Ring {
    /// Builds a ring from its parts, checking every assignment names a present device.
    pub fn new(
        part_power: u8,
        version: u64,
        devs: Vec<Option<Device>>,
        replica2part2dev: Vec<Vec<u16>>,
    ) -> Result<Ring, RingError> {
        let bad = |why: String| Err(RingError::Validation(why));
        if part_power > MAX_PART_POWER {
            return bad(format!("partition power {part_power} is above {MAX_PART_POWER}"));
        }
        let parts = 1usize << part_power;
        for (i, dev) in devs.iter().enumerate() {
            if let Some(d) = dev {
                if d.id as usize != i {
                    return bad(format!("device at index {i} has id {}", d.id));
                }
            }
        }
        for (r, row) in replica2part2dev.iter().enumerate() {
            let full = row.len() == parts;
            if !full && (row.len() > parts || r + 1 != replica2part2dev.len()) {
                return bad(format!("replica row {r} has {} partitions, expected {parts}", row.len()));
            }
            if let Some(unknown) = row.iter().find(|&&id| devs.get(id as usize).is_none_or(|d| d.is_none())) {
                return bad(format!("replica row {r} assigns a partition to unknown device {unknown}"));
            }
        }
        let topo = Topology::build(&devs);
        Ok(Ring { part_power, version, devs, replica2part2dev, topo })
    }

    /// A ring from a builder's table, which the builder keeps consistent.
    pub(crate) fn from_builder(part_power: u8, version: u64, devs: Vec<Option<Device>>, rows: Vec<Vec<u16>>) -> Ring {
        let topo = Topology::build(&devs);
        Ring { part_power, version, devs, replica2part2dev: rows, topo }
    }

    /// Loads a ring file, refusing truncated, corrupt or unknown-version files.
    pub fn load(path: &Path) -> Result<Ring, RingError> {
        format::ring_file::load(path)
    }

    /// Writes the ring file atomically (temp file, fsync, rename, fsync of the directory).
    pub fn save(&self, path: &Path) -> Result<(), RingError> {
        format::ring_file::save(self, path)
    }

    pub fn part_power(&self) -> u8 {
        self.part_power
    }

    pub fn partition_count(&self) -> u32 {
        1 << self.part_power
    }

    /// The number of replica rows (the ceiling of a fractional replica count).
    pub fn replica_count(&self) -> usize {
        self.replica2part2dev.len()
    }

    /// The builder's version counter when this ring was made.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// All present devices, in id order.
    pub fn devices(&self) -> impl Iterator<Item = &Device> {
        self.devs.iter().flatten()
    }

    pub fn device(&self, id: u32) -> Option<&Device> {
        self.devs.get(id as usize).and_then(Option::as_ref)
    }

    /// The device table with holes where devices were removed.
    pub fn device_slots(&self) -> &[Option<Device>] {
        &self.devs
    }

    /// The raw assignment table: `replica2part2dev()[replica][partition]` is a device id.
    pub fn replica2part2dev(&self) -> &[Vec<u16>] {
        &self.replica2part2dev
    }

    /// The partition of an account, container or object path.
    pub fn get_part(
        &self,
        secret: &HashPathSecret,
        account: &str,
        container: Option<&str>,
        object: Option<&str>,
    ) -> u32 {
        common::hash::partition_of(secret.hash(account, container, object), self.part_power)
    }

    /// The partition and its primary devices.
    pub fn get_nodes(
        &self,
        secret: &HashPathSecret,
        account: &str,
        container: Option<&str>,
        object: Option<&str>,
    ) -> (u32, Vec<&Device>) {
        let part = self.get_part(secret, account, container, object);
        (part, self.get_part_nodes(part))
    }

    /// The primary devices of a partition: distinct, in replica order.
    pub fn get_part_nodes(&self, part: u32) -> Vec<&Device> {
        let mut nodes: Vec<&Device> = Vec::with_capacity(self.replica2part2dev.len());
        for row in &self.replica2part2dev {
            let Some(&id) = row.get(part as usize) else { continue };
            if let Some(dev) = self.device(u32::from(id)) {
                if !nodes.iter().any(|n| n.id == dev.id) {
                    nodes.push(dev);
                }
            }
        }
        nodes
    }

    /// Handoff devices for a partition, deterministic, most distant failure domains first
    /// (new regions, then new zones, then new hosts, then any other device); never a primary
    /// and never a zero-weight device.
    pub fn get_more_nodes(&self, part: u32) -> impl Iterator<Item = &Device> + '_ {
        Handoffs::new(self, part)
    }
}

/// The handoff walk. Each stage looks for devices in a failure domain not used yet, first
/// at the devices of a fixed pseudo-random sequence of other partitions (so handoffs follow
/// the weights and stay stable across small ring changes), then through the device list.
struct Handoffs<'a> {
    ring: &'a Ring,
    used: Vec<bool>,
    seen: [Vec<bool>; 3],
    /// Per tier level: eligible domains not seen yet.
    unseen: [usize; 3],
    unused_devs: usize,
    stage: usize,
    cursor: u64,
    start: u32,
    stride: u32,
    walk_len: u64,
}

impl<'a> Handoffs<'a> {
    fn new(ring: &'a Ring, part: u32) -> Self {
        let topo = &ring.topo;
        let h = xxhash_rust::xxh3::xxh3_64(&part.to_le_bytes());
        let parts = ring.partition_count();
        let mut it = Handoffs {
            ring,
            used: vec![false; ring.devs.len()],
            seen: [
                vec![false; topo.has_eligible[0].len()],
                vec![false; topo.has_eligible[1].len()],
                vec![false; topo.has_eligible[2].len()],
            ],
            unseen: topo.eligible_tiers,
            unused_devs: topo.eligible_devs,
            stage: 0,
            cursor: 0,
            start: (h as u32) & (parts - 1),
            // An odd stride visits every partition of a power-of-two ring exactly once.
            stride: (((h >> 32) as u32) | 1) & (parts - 1) | 1,
            walk_len: u64::from(parts.min(HANDOFF_WALK_PARTS)) * ring.replica2part2dev.len() as u64,
        };
        for dev in ring.get_part_nodes(part) {
            it.mark(dev.id as usize);
        }
        it
    }

    fn mark(&mut self, id: usize) {
        if !self.used[id] {
            self.used[id] = true;
            if self.ring.topo.eligible[id] {
                self.unused_devs -= 1;
            }
        }
        let tiers = self.ring.topo.tiers[id];
        for (level, &t) in tiers.iter().enumerate() {
            let t = t as usize;
            if !self.seen[level][t] {
                self.seen[level][t] = true;
                if self.ring.topo.has_eligible[level][t] {
                    self.unseen[level] -= 1;
                }
            }
        }
    }

    /// The device at position `cursor` of this stage's candidate sequence.
    fn candidate(&self, cursor: u64) -> Option<u32> {
        let rows = &self.ring.replica2part2dev;
        if cursor < self.walk_len {
            let k = (cursor / rows.len() as u64) as u32;
            let row = &rows[(cursor % rows.len() as u64) as usize];
            let p = self.start.wrapping_add(k.wrapping_mul(self.stride)) & (self.ring.partition_count() - 1);
            return row.get(p as usize).map(|&id| u32::from(id));
        }
        let n = self.ring.devs.len() as u64;
        let i = cursor - self.walk_len;
        (i < n).then(|| ((u64::from(self.start) + i) % n) as u32)
    }

    fn stage_done(&self) -> bool {
        match self.stage {
            0..=2 => self.unseen[self.stage] == 0,
            _ => self.unused_devs == 0,
        }
    }
}

impl<'a> Iterator for Handoffs<'a> {
    type Item = &'a Device;

    fn next(&mut self) -> Option<&'a Device> {
        let end = self.walk_len + self.ring.devs.len() as u64;
        while self.stage < 4 {
            while !self.stage_done() && self.cursor < end {
                let cursor = self.cursor;
                self.cursor += 1;
                let Some(id) = self.candidate(cursor) else { continue };
                let idx = id as usize;
                if self.used.get(idx).copied().unwrap_or(true) || !self.ring.topo.eligible[idx] {
                    continue;
                }
                let fresh = self.stage == 3 || !self.seen[self.stage][self.ring.topo.tiers[idx][self.stage] as usize];
                if fresh {
                    self.mark(idx);
                    return self.ring.device(id);
                }
            }
            self.stage += 1;
            self.cursor = 0;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(id: u32, region: u32, zone: u32, ip: &str) -> Device {
        Device::new(id, (region, zone), (ip, 6200), format!("sd{id}"), 1.0)
    }

    /// Four zones (two hosts each, two devices per host) in two regions, hand-assigned.
    fn small_ring() -> Ring {
        let mut devs = Vec::new();
        for id in 0..16u32 {
            let zone = id / 4;
            devs.push(Some(dev(id, zone / 2 + 1, zone + 1, &format!("10.0.{zone}.{}", (id / 2) % 2))));
        }
        let parts = 16usize;
        let rows = (0..3u16).map(|r| (0..parts as u16).map(|p| (p + r * 5) % 16).collect()).collect();
        Ring::new(4, 1, devs, rows).unwrap()
    }

    #[test]
    fn part_nodes_are_distinct_and_in_replica_order() {
        let ring = small_ring();
        let ids: Vec<u32> = ring.get_part_nodes(2).iter().map(|d| d.id).collect();
        assert_eq!(ids, vec![2, 7, 12]);
        assert_eq!(ring.replica_count(), 3);
        assert_eq!(ring.partition_count(), 16);
    }

    #[test]
    fn handoffs_never_repeat_or_hit_primaries_and_cover_everything() {
        let ring = small_ring();
        for part in 0..16 {
            let primaries: Vec<u32> = ring.get_part_nodes(part).iter().map(|d| d.id).collect();
            let handoffs: Vec<u32> = ring.get_more_nodes(part).map(|d| d.id).collect();
            assert_eq!(handoffs.len(), 13);
            let mut all = primaries.clone();
            all.extend(&handoffs);
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), 16, "part {part}: {primaries:?} {handoffs:?}");
            let again: Vec<u32> = ring.get_more_nodes(part).map(|d| d.id).collect();
            assert_eq!(handoffs, again, "deterministic");
        }
    }

    #[test]
    fn first_handoffs_go_to_unused_zones() {
        let ring = small_ring();
        for part in 0..16 {
            let primaries = ring.get_part_nodes(part);
            let mut zones: Vec<u32> = primaries.iter().map(|d| d.zone).collect();
            zones.sort_unstable();
            zones.dedup();
            let free_zones = 4 - zones.len();
            let first: Vec<&Device> = ring.get_more_nodes(part).take(free_zones).collect();
            for d in first {
                assert!(!zones.contains(&d.zone), "part {part}: handoff {} in a used zone", d.id);
                zones.push(d.zone);
            }
        }
    }

    #[test]
    fn zero_weight_devices_get_no_handoffs() {
        let mut ring = small_ring();
        let mut devs = ring.devs.clone();
        devs[15].as_mut().unwrap().weight = 0.0;
        ring = Ring::new(4, 1, devs, ring.replica2part2dev.clone()).unwrap();
        for part in 0..16 {
            assert!(ring.get_more_nodes(part).all(|d| d.id != 15));
        }
    }

    #[test]
    fn new_refuses_bad_tables() {
        let ring = small_ring();
        let mut rows = ring.replica2part2dev.clone();
        rows[0][3] = 99;
        assert!(Ring::new(4, 1, ring.devs.clone(), rows).is_err());
        let mut rows = ring.replica2part2dev.clone();
        rows[0].pop();
        assert!(Ring::new(4, 1, ring.devs.clone(), rows).is_err(), "only the last row may be short");
        assert!(Ring::new(24, 1, vec![], vec![]).is_err());
    }

    #[test]
    fn get_nodes_uses_the_placement_hash() {
        let ring = small_ring();
        let secret = HashPathSecret::new("pre", "suf");
        let (part, nodes) = ring.get_nodes(&secret, "AUTH_a", Some("c"), Some("o"));
        assert_eq!(part, common::hash::partition_of(secret.hash("AUTH_a", Some("c"), Some("o")), 4));
        assert_eq!(nodes.len(), 3);
    }
}
