//! Rebalance: assign every partition-replica to a device.
//!
//! 1. Size the replica rows for the replica count; empty slots need a device.
//! 2. Take every replica off devices marked for removal (regardless of `min_part_hours`).
//! 3. Take one replica off each movable partition that breaks the replica plan's
//!    per-tier limits (too many replicas in one zone, or on a draining device).
//! 4. Place everything gathered, from a random starting partition, with the [`Placer`]: each replica goes
//!    down the tier tree to the roomiest tier that may still hold it.
//! 5. Balance: walk the partitions from a random start; for each movable one with a replica
//!    on an overfull device, move that replica if the placer finds a device that still
//!    wants partitions. Replicas placed by this same rebalance may be re-placed (nothing
//!    has been deployed yet). Stops as soon as nothing is overfull.
//!
//! A partition moves at most one replica per rebalance (except from removed devices or
//! duplicates) and none within `min_part_hours` of its last move.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::builder::{row_lengths, RingBuilder};
use crate::placer::Placer;
use crate::plan::Plan;
use crate::ring::NONE_DEV;
use crate::tiers::{TierCounts, TierTree, ROOT};
use crate::{stats, RingError};

/// What a rebalance did.
#[derive(Debug, Clone, PartialEq)]
pub struct RebalanceReport {
    /// Partition-replicas now on a different device than before (new slots included).
    pub moved: u64,
    /// Partitions with at least one such replica.
    pub moved_parts: u64,
    /// See [`RingBuilder::balance`].
    pub balance: f64,
    /// Percentage of partition-replicas in a tier holding more replicas of their
    /// partition than the topology requires (0 = fully dispersed).
    pub dispersion: f64,
    /// Devices that were marked for removal and are now gone.
    pub removed_devices: usize,
    /// The overload full dispersion would need.
    pub required_overload: f64,
}

/// Progress of a long rebalance: `done` of `total` steps of `phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

const PROGRESS_EVERY: usize = 1 << 16;
const BALANCE_PASSES: usize = 2;

fn plan_for(b: &RingBuilder) -> Result<(TierTree, Plan), RingError> {
    let tree = TierTree::build(&b.devs, |d| d.weight > 0.0 && !b.removed.contains(&d.id));
    let devices = tree.node(ROOT).weighted_devs as usize;
    if devices == 0 {
        return Err(RingError::EmptyRing);
    }
    if (devices as f64) < b.replicas {
        return Err(RingError::NotEnoughDevices { replicas: b.replicas, devices });
    }
    let slots: usize = row_lengths(b.parts(), b.replicas).iter().sum();
    let plan = Plan::build(&tree, b.replicas, b.overload, b.parts(), slots as u64)?;
    Ok((tree, plan))
}

pub(crate) fn required_overload(b: &RingBuilder) -> Result<f64, RingError> {
    Ok(plan_for(b)?.1.required_overload)
}

struct Work<'a> {
    tree: &'a TierTree,
    rows: Vec<Vec<u16>>,
    moved: Vec<bool>,
    /// Bit `r * parts + p`: slot (r, p) was assigned by this rebalance, so it can be
    /// reassigned again before anything is deployed.
    fresh: Vec<u64>,
    queue: Vec<u32>,
    queued: Vec<bool>,
    last_move_hour: &'a [u32],
    now_hour: u64,
    min_part_hours: u64,
}

impl Work<'_> {
    fn can_move(&self, p: usize) -> bool {
        !self.moved[p] && self.now_hour.saturating_sub(u64::from(self.last_move_hour[p])) >= self.min_part_hours
    }

    fn fresh_bit(&self, r: usize, p: usize) -> (usize, u64) {
        let i = r * self.moved.len() + p;
        (i / 64, 1 << (i % 64))
    }

    fn is_fresh(&self, r: usize, p: usize) -> bool {
        let (word, bit) = self.fresh_bit(r, p);
        self.fresh.get(word).is_some_and(|w| w & bit != 0)
    }

    /// Assigns a slot during this rebalance.
    fn assign(&mut self, r: usize, p: usize, dev: u16) {
        self.rows[r][p] = dev;
        let (word, bit) = self.fresh_bit(r, p);
        if word >= self.fresh.len() {
            self.fresh.resize(word + 1, 0);
        }
        self.fresh[word] |= bit;
    }

    fn leaf(&self, dev: u16) -> Option<u32> {
        self.tree.path(dev).map(|path| path[3])
    }

    /// Empties a slot and queues its partition for placement.
    fn gather(&mut self, r: usize, p: usize) {
        self.rows[r][p] = NONE_DEV;
        self.moved[p] = true;
        if !self.queued[p] {
            self.queued[p] = true;
            self.queue.push(p as u32);
        }
    }

    /// Counts the tiers of a partition's assigned replicas.
    fn count(&self, p: usize, counts: &mut TierCounts) {
        counts.clear();
        for row in &self.rows {
            if let Some(path) = row.get(p).and_then(|&d| self.tree.path(d)) {
                counts.add_path(path);
            }
        }
    }
}

pub(crate) fn run(
    b: &mut RingBuilder,
    seed: u64,
    now: u64,
    progress: &mut dyn FnMut(Progress),
) -> Result<RebalanceReport, RingError> {
    let (tree, plan) = plan_for(b)?;
    let parts = b.parts() as usize;
    let mut rng = StdRng::seed_from_u64(seed);
    let old = b.replica2part2dev.clone();
    b.last_move_hour.resize(parts, 0);
    let weighted: Vec<bool> =
        (0..b.devs.len()).map(|id| tree.paths[id].is_some_and(|path| tree.is_weighted(path[3]))).collect();
    let mut gone = vec![true; usize::from(NONE_DEV) + 1];
    for dev in b.devices() {
        gone[dev.id as usize] = b.removed.contains(&dev.id);
    }

    let mut w = Work {
        tree: &tree,
        rows: std::mem::take(&mut b.replica2part2dev),
        moved: vec![false; parts],
        fresh: Vec::new(),
        queue: Vec::new(),
        queued: vec![false; parts],
        last_move_hour: &b.last_move_hour,
        now_hour: now / 3600,
        min_part_hours: u64::from(b.min_part_hours),
    };

    // 1 and 2: size the rows; empty slots and slots on removed devices need placing.
    let lengths = row_lengths(b.parts(), b.replicas);
    w.rows.truncate(lengths.len());
    for (r, &len) in lengths.iter().enumerate() {
        if r == w.rows.len() {
            w.rows.push(vec![NONE_DEV; len]);
        } else {
            w.rows[r].resize(len, NONE_DEV);
        }
    }
    let mut dev_parts = vec![0i64; b.devs.len()];
    for r in 0..w.rows.len() {
        for p in 0..w.rows[r].len() {
            let d = w.rows[r][p];
            if gone[usize::from(d)] {
                w.gather(r, p);
            } else {
                dev_parts[d as usize] += 1;
            }
        }
    }

    // 3: duplicates always move; one replica of a movable partition that breaks the plan.
    let mut counts = TierCounts::new(tree.nodes.len());
    let mut held: Vec<(usize, u16)> = Vec::new();
    for p in 0..parts {
        counts.clear();
        held.clear();
        for r in 0..w.rows.len() {
            let Some(&d) = w.rows[r].get(p) else { continue };
            if d == NONE_DEV {
                continue;
            }
            if held.iter().any(|h| h.1 == d) {
                dev_parts[d as usize] -= 1;
                w.gather(r, p);
                continue;
            }
            held.push((r, d));
            if let Some(path) = tree.path(d) {
                counts.add_path(path);
            }
        }
        if !w.can_move(p) {
            continue;
        }
        let mut worst: Option<(usize, u16, i64)> = None;
        for &(r, d) in &held {
            let Some(path) = tree.path(d) else { continue };
            if path.iter().all(|&n| counts.get(n) <= plan.max[n as usize]) {
                continue;
            }
            let surplus =
                if weighted[d as usize] { dev_parts[d as usize] - plan.want[path[3] as usize] } else { i64::MAX };
            if worst.is_none_or(|(_, _, s)| surplus > s) {
                worst = Some((r, d, surplus));
            }
        }
        if let Some((r, d, _)) = worst {
            dev_parts[d as usize] -= 1;
            w.gather(r, p);
        }
    }
    let removed_devices = b.removed.iter().filter(|&&id| b.device(id).is_some()).count();

    // 4: place what was gathered.
    let mut placer = Placer::new(&tree, &plan, &dev_parts, rng.gen());
    // The order carries no preference; a random rotation of partition order keeps the
    // table walk sequential (cache friendly) yet varies with the seed.
    let mut queue = std::mem::take(&mut w.queue);
    queue.sort_unstable();
    let rotate = if queue.is_empty() { 0 } else { rng.gen_range(0..queue.len()) };
    queue.rotate_left(rotate);
    for (i, &p) in queue.iter().enumerate() {
        let p = p as usize;
        w.count(p, &mut counts);
        for r in 0..w.rows.len() {
            if w.rows[r].get(p) != Some(&NONE_DEV) {
                continue;
            }
            let Some(leaf) = placer.choose(&counts) else {
                // Leave the builder as it was: a failed rebalance changes nothing.
                let devices = tree.node(ROOT).weighted_devs as usize;
                b.replica2part2dev = old;
                return Err(RingError::NotEnoughDevices { replicas: b.replicas, devices });
            };
            let dev = tree.node(leaf).dev;
            w.assign(r, p, dev as u16);
            placer.adjust(leaf, 1);
            if let Some(path) = tree.path(dev as u16) {
                counts.add_path(path);
            }
        }
        if i % PROGRESS_EVERY == 0 {
            progress(Progress { phase: "placing", done: i as u64, total: queue.len() as u64 });
        }
    }

    // 5: move replicas off overfull devices onto devices that want more.
    let surplus = |placer: &Placer, leaf: u32| -> i64 {
        if tree.is_weighted(leaf) {
            -placer.room(leaf)
        } else if placer.parts(leaf) > 0 {
            i64::MAX
        } else {
            0
        }
    };
    // Devices holding more than they want, and replicas on devices that must drain.
    let mut overfull: i64 = tree.paths.iter().flatten().map(|path| surplus(&placer, path[3]).clamp(0, 1)).sum();
    let mut draining: i64 =
        tree.paths.iter().flatten().filter(|path| !tree.is_weighted(path[3])).map(|path| placer.parts(path[3])).sum();
    let stuck =
        |placer: &Placer, overfull: i64, draining: i64| overfull == 0 || (placer.total_room() == 0 && draining == 0);
    for _ in 0..BALANCE_PASSES {
        if stuck(&placer, overfull, draining) {
            break;
        }
        let start = rng.gen_range(0..parts);
        for off in 0..parts {
            let p = (start + off) % parts;
            if off % PROGRESS_EVERY == 0 {
                progress(Progress { phase: "balancing", done: off as u64, total: parts as u64 });
            }
            // A movable partition may move any replica; one that already moved, only the
            // replica placed by this rebalance.
            let movable = w.can_move(p);
            if !movable && !w.moved[p] {
                continue;
            }
            let mut from: Option<(usize, u32, i64)> = None;
            for (r, row) in w.rows.iter().enumerate() {
                if !movable && !w.is_fresh(r, p) {
                    continue;
                }
                let Some(leaf) = row.get(p).and_then(|&d| w.leaf(d)) else { continue };
                let s = surplus(&placer, leaf);
                if s > 0 && from.is_none_or(|(_, _, best)| s > best) {
                    from = Some((r, leaf, s));
                }
            }
            let Some((r, from, s)) = from else { continue };
            w.count(p, &mut counts);
            let from_dev = tree.node(from).dev;
            if let Some(path) = tree.path(from_dev as u16) {
                counts.remove_path(path);
            }
            let Some(to) = placer.choose(&counts) else { continue };
            if to == from || (placer.room(to) <= 0 && s != i64::MAX) {
                continue;
            }
            w.assign(r, p, tree.node(to).dev as u16);
            w.moved[p] = true;
            let was_overfull = surplus(&placer, from) > 0;
            placer.adjust(from, -1);
            placer.adjust(to, 1);
            overfull += i64::from(surplus(&placer, from) > 0) - i64::from(was_overfull);
            overfull += i64::from(surplus(&placer, to) > 0 && placer.room(to) == -1);
            draining -= i64::from(!tree.is_weighted(from));
            if stuck(&placer, overfull, draining) {
                break;
            }
        }
    }

    // Commit: drop removed devices, stamp moved partitions, recompute statistics.
    let rows = std::mem::take(&mut w.rows);
    let mut moved = 0u64;
    let mut part_moved = vec![false; parts];
    for (r, row) in rows.iter().enumerate() {
        for (p, &d) in row.iter().enumerate() {
            if old.get(r).and_then(|o| o.get(p)) != Some(&d) {
                moved += 1;
                part_moved[p] = true;
            }
        }
    }
    let stamp = now.div_ceil(3600) as u32;
    for (p, &m) in part_moved.iter().enumerate() {
        if m {
            b.last_move_hour[p] = stamp;
        }
    }
    b.replica2part2dev = rows;
    for id in std::mem::take(&mut b.removed) {
        if let Some(slot) = b.devs.get_mut(id as usize) {
            *slot = None;
        }
    }
    while b.devs.last().is_some_and(Option::is_none) {
        b.devs.pop();
    }
    b.recount();
    let dispersion = stats::dispersion(b);
    b.dispersion = Some(dispersion);
    b.version += 1;
    b.devs_changed = false;
    if moved > 0 {
        b.last_rebalance = now;
    }
    progress(Progress { phase: "done", done: 1, total: 1 });
    Ok(RebalanceReport {
        moved,
        moved_parts: part_moved.iter().filter(|&&m| m).count() as u64,
        balance: b.balance(),
        dispersion,
        removed_devices,
        required_overload: plan.required_overload,
    })
}
