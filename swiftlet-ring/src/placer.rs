//! Chooses the device for one replica in O(depth * log(fan-out)).
//!
//! Every tier keeps its weighted children in a max-heap keyed by room: how many more
//! partition-replicas the devices below still want (ties: the least overfull, then a fresh
//! random number, so equal choices spread out). A replica descends from the root, at each
//! level taking the roomiest child that may still hold another replica of this partition
//! under the plan. Moving one replica re-sifts four heaps. (Scanning small tiers instead
//! measured no faster.)

use crate::plan::Plan;
use crate::tiers::{TierCounts, TierTree, DEVICE_LEVEL, NO_NODE, ROOT};

/// Offset that keeps `net` (which may be negative) positive inside a packed key.
const NET_BIAS: i64 = 1 << 40;

/// `room`, then `net`, then a random tie-breaker, packed so one integer compare orders them.
fn pack(room: i64, net: i64, tie: u32) -> u128 {
    let room = room.clamp(0, (1 << 40) - 1) as u128;
    let net = (net + NET_BIAS).clamp(0, (1 << 42) - 1) as u128;
    (room << 74) | (net << 32) | u128::from(tie)
}

/// A heap slot: the child's key inline (so sifting reads contiguous memory) and its id.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    key: u128,
    node: u32,
}

pub(crate) struct Placer {
    parent: Vec<u32>,
    level: Vec<u8>,
    heap_off: Vec<u32>,
    heap_len: Vec<u32>,
    /// Per node: its index inside its parent's heap, or `NO_NODE` if it takes no replicas.
    slot: Vec<u32>,
    heap: Vec<Entry>,
    /// Per node: sum over devices below of `max(want - parts, 0)`.
    room: Vec<i64>,
    /// Per node: sum over devices below of `want - parts` (negative when overfull).
    net: Vec<i64>,
    max: Vec<u32>,
    want: Vec<i64>,
    /// Per leaf: partition-replicas assigned now.
    parts: Vec<i64>,
    rng: u64,
}

impl Placer {
    /// `dev_parts[id]` is how many partition-replicas device `id` holds now.
    pub fn new(tree: &TierTree, plan: &Plan, dev_parts: &[i64], seed: u64) -> Placer {
        let n = tree.nodes.len();
        let mut p = Placer {
            parent: tree.nodes.iter().map(|t| t.parent).collect(),
            level: tree.nodes.iter().map(|t| t.level).collect(),
            heap_off: vec![0; n],
            heap_len: vec![0; n],
            slot: vec![NO_NODE; n],
            heap: Vec::with_capacity(n),
            room: vec![0; n],
            net: vec![0; n],
            max: plan.max.clone(),
            want: plan.want.clone(),
            parts: vec![0; n],
            rng: seed | 1,
        };
        for (id, path) in tree.paths.iter().enumerate() {
            if let Some(path) = path {
                p.parts[path[3] as usize] = dev_parts.get(id).copied().unwrap_or(0);
            }
        }
        for leaf in 0..n {
            if p.level[leaf] == DEVICE_LEVEL && tree.is_weighted(leaf as u32) {
                p.net[leaf] = p.want[leaf] - p.parts[leaf];
                p.room[leaf] = p.net[leaf].max(0);
            }
        }
        for c in (1..n).rev() {
            if tree.is_weighted(c as u32) {
                let parent = p.parent[c] as usize;
                p.room[parent] += p.room[c];
                p.net[parent] += p.net[c];
            }
        }
        for node in 0..n as u32 {
            p.heap_off[node as usize] = p.heap.len() as u32;
            for c in tree.weighted_children(node) {
                let tie = p.next_tie();
                p.heap.push(Entry { key: pack(p.room[c as usize], p.net[c as usize], tie), node: c });
            }
            let len = p.heap.len() as u32 - p.heap_off[node as usize];
            p.heap_len[node as usize] = len;
            for i in 0..len {
                let c = p.heap[(p.heap_off[node as usize] + i) as usize].node;
                p.slot[c as usize] = i;
            }
            for i in (0..len / 2).rev() {
                p.sift_down(node, i);
            }
        }
        p
    }

    fn next_tie(&mut self) -> u32 {
        // xorshift64*: cheap and good enough to break ties.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    /// Partition-replicas a leaf still wants (negative: it holds too many).
    pub fn room(&self, leaf: u32) -> i64 {
        self.want[leaf as usize] - self.parts[leaf as usize]
    }

    /// Partition-replicas a leaf holds now.
    pub fn parts(&self, leaf: u32) -> i64 {
        self.parts[leaf as usize]
    }

    /// Total room left in the whole ring.
    pub fn total_room(&self) -> i64 {
        self.room[ROOT as usize]
    }

    /// Records that a leaf gained (`+1`) or lost (`-1`) a partition-replica.
    pub fn adjust(&mut self, leaf: u32, delta: i64) {
        let l = leaf as usize;
        let old_room = (self.want[l] - self.parts[l]).max(0);
        self.parts[l] += delta;
        if self.slot[l] == NO_NODE {
            return; // a draining device: it takes no replicas, only its count matters
        }
        let d_room = (self.want[l] - self.parts[l]).max(0) - old_room;
        let mut n = leaf;
        while n != ROOT {
            let i = n as usize;
            self.room[i] += d_room;
            self.net[i] -= delta;
            let key = pack(self.room[i], self.net[i], self.next_tie());
            let parent = self.parent[i];
            let at = self.slot[i];
            self.heap[(self.heap_off[parent as usize] + at) as usize].key = key;
            let at = self.sift_up(parent, at);
            self.sift_down(parent, at);
            n = parent;
        }
        self.room[ROOT as usize] += d_room;
        self.net[ROOT as usize] -= delta;
    }

    /// The leaf for one more replica of a partition whose other replicas are in `counts`.
    /// `None` only if every device already holds a replica of it.
    pub fn choose(&self, counts: &TierCounts) -> Option<u32> {
        let mut node = ROOT;
        while self.level[node as usize] < DEVICE_LEVEL {
            match self.best_child(node, counts).or_else(|| self.fallback_child(node, counts)) {
                Some(child) => node = child,
                None => return self.choose_any(counts),
            }
        }
        Some(node)
    }

    /// Last resort when the descent dead-ends (every device of the tier it reached already
    /// holds a replica): the free device sharing the fewest tiers with the other replicas,
    /// most distant tiers first. Scans every device, but only in odd topologies.
    fn choose_any(&self, counts: &TierCounts) -> Option<u32> {
        let mut best: Option<((u32, u32, u32), u128, u32)> = None;
        for e in &self.heap {
            let leaf = e.node;
            if self.level[leaf as usize] != DEVICE_LEVEL || counts.get(leaf) > 0 {
                continue;
            }
            let host = self.parent[leaf as usize];
            let zone = self.parent[host as usize];
            let region = self.parent[zone as usize];
            let shared = (counts.get(region), counts.get(zone), counts.get(host));
            if best.is_none_or(|(s, k, _)| (shared, std::cmp::Reverse(e.key)) < (s, std::cmp::Reverse(k))) {
                best = Some((shared, e.key, leaf));
            }
        }
        best.map(|b| b.2)
    }

    fn children(&self, node: u32) -> &[Entry] {
        let off = self.heap_off[node as usize] as usize;
        &self.heap[off..off + self.heap_len[node as usize] as usize]
    }

    /// The child with the largest key whose count is below its max: a best-first search
    /// from the top of the heap, which only goes deeper past children that are full.
    fn best_child(&self, node: u32, counts: &TierCounts) -> Option<u32> {
        let heap = self.children(node);
        let open = |c: u32| counts.get(c) < self.max[c as usize];
        let top = heap.first()?;
        if open(top.node) {
            return Some(top.node);
        }
        let len = heap.len();
        let mut frontier: Vec<usize> = (1..len.min(3)).collect();
        while !frontier.is_empty() {
            let (at, &i) = frontier.iter().enumerate().max_by_key(|(_, &i)| heap[i].key)?;
            frontier.swap_remove(at);
            if open(heap[i].node) {
                return Some(heap[i].node);
            }
            frontier.extend(2 * i + 1..(2 * i + 3).min(len));
        }
        None
    }

    /// When the plan leaves no open child, take the least-used one (a device only if it
    /// holds no replica of this partition yet).
    fn fallback_child(&self, node: u32, counts: &TierCounts) -> Option<u32> {
        let leaves = self.level[node as usize] + 1 == DEVICE_LEVEL;
        self.children(node)
            .iter()
            .filter(|e| !leaves || counts.get(e.node) == 0)
            .min_by_key(|e| (counts.get(e.node), std::cmp::Reverse(e.key)))
            .map(|e| e.node)
    }

    fn sift_up(&mut self, node: u32, mut i: u32) -> u32 {
        let off = self.heap_off[node as usize] as usize;
        let me = self.heap[off + i as usize];
        while i > 0 {
            let up = (i - 1) / 2;
            let other = self.heap[off + up as usize];
            if other.key >= me.key {
                break;
            }
            self.heap[off + i as usize] = other;
            self.slot[other.node as usize] = i;
            i = up;
        }
        self.heap[off + i as usize] = me;
        self.slot[me.node as usize] = i;
        i
    }

    fn sift_down(&mut self, node: u32, mut i: u32) {
        let off = self.heap_off[node as usize] as usize;
        let len = self.heap_len[node as usize];
        let me = self.heap[off + i as usize];
        loop {
            let l = 2 * i + 1;
            if l >= len {
                break;
            }
            let r = l + 1;
            let big = if r < len && self.heap[off + r as usize].key > self.heap[off + l as usize].key { r } else { l };
            let other = self.heap[off + big as usize];
            if other.key <= me.key {
                break;
            }
            self.heap[off + i as usize] = other;
            self.slot[other.node as usize] = i;
            i = big;
        }
        self.heap[off + i as usize] = me;
        self.slot[me.node as usize] = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Device;

    fn tree(n: u32, zones: u32) -> TierTree {
        let devs: Vec<Option<Device>> = (0..n)
            .map(|id| {
                let zone = id % zones + 1;
                Some(Device::new(id, (1, zone), (&format!("10.0.{zone}.{}", id / zones % 2), 1), format!("d{id}"), 1.0))
            })
            .collect();
        TierTree::build(&devs, |_| true)
    }

    #[test]
    fn fills_devices_to_their_wants_and_respects_zone_limits() {
        let t = tree(12, 3);
        let plan = Plan::build(&t, 3.0, 0.0, 256, 768).unwrap();
        let mut placer = Placer::new(&t, &plan, &[0; 12], 7);
        let mut counts = TierCounts::new(t.nodes.len());
        for _ in 0..256 {
            counts.clear();
            for _ in 0..3 {
                let leaf = placer.choose(&counts).unwrap();
                let dev = t.node(leaf).dev;
                let path = t.paths[dev as usize].unwrap();
                assert_eq!(counts.get(path[1]), 0, "one replica per zone");
                counts.add_path(&path);
                placer.adjust(leaf, 1);
            }
        }
        for path in t.paths.iter().flatten() {
            assert_eq!(placer.room(path[3]), 0, "every device got exactly what it wants");
        }
        assert_eq!(placer.total_room(), 0);
    }

    /// One host with 60 devices. After random gains and losses the choice must always be a
    /// device with the most room among those allowed.
    #[test]
    fn big_tiers_use_a_heap_that_stays_correct() {
        let devs: Vec<Option<Device>> =
            (0..60).map(|id| Some(Device::new(id, (1, 1), ("10.0.0.1", 1), format!("d{id}"), 1.0))).collect();
        let t = TierTree::build(&devs, |_| true);
        let plan = Plan::build(&t, 1.0, 0.0, 600, 600).unwrap();
        let mut placer = Placer::new(&t, &plan, &[0; 60], 3);
        let leaves: Vec<u32> = t.paths.iter().map(|p| p.unwrap()[3]).collect();
        let mut x: u64 = 12345;
        let mut counts = TierCounts::new(t.nodes.len());
        for step in 0..5000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let leaf = leaves[(x >> 33) as usize % 60];
            placer.adjust(leaf, if (x >> 20).is_multiple_of(3) { -1 } else { 1 });
            counts.clear();
            for k in 0..(step % 4) {
                counts.add_path(&t.paths[(x >> (8 + k * 6)) as usize % 60].unwrap());
            }
            let best = leaves.iter().filter(|&&l| counts.get(l) == 0).map(|&l| placer.room(l)).max().unwrap();
            let chosen = placer.choose(&counts).unwrap();
            assert_eq!(counts.get(chosen), 0, "step {step}: chose a device that holds a replica");
            assert_eq!(placer.room(chosen), best, "step {step}");
        }
    }

    #[test]
    fn heap_tracks_changes() {
        let t = tree(6, 1);
        let plan = Plan::build(&t, 1.0, 0.0, 60, 60).unwrap();
        let mut placer = Placer::new(&t, &plan, &[10, 10, 10, 10, 10, 10], 1);
        let leaf = |id: usize| t.paths[id].unwrap()[3];
        placer.adjust(leaf(4), -5);
        let empty = TierCounts::new(t.nodes.len());
        assert_eq!(placer.choose(&empty), Some(leaf(4)), "the device that lost parts has the most room");
        assert_eq!(placer.total_room(), 5);
    }
}
