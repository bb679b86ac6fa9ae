//! Balance and dispersion, defined as swift-ring-builder defines them so numbers compare.
//!
//! - *Balance* of a device: how far (in %) its partition-replica count is from its share
//!   by weight; the ring's balance is the worst device's.
//! - *Dispersion*: each tier may hold at most `ceil(parent's max / weighted siblings)`
//!   replicas of one partition (a device at most one). A partition's excess is the largest,
//!   over tier levels, of the replicas above those limits; dispersion is the total excess
//!   as a percentage of all partition-replicas.

use crate::builder::RingBuilder;
use crate::tiers::{TierCounts, TierTree};

/// The balance shown for a zero-weight device that still holds partitions.
pub const MAX_BALANCE: f64 = 999.99;

pub(crate) fn device_balance(b: &RingBuilder, id: u32) -> f64 {
    let Some(dev) = b.device(id) else { return 0.0 };
    let parts = f64::from(b.device_parts(id));
    let total_weight: f64 = b.devices().map(|d| d.weight).sum();
    if dev.weight <= 0.0 || total_weight <= 0.0 {
        return if parts > 0.0 { MAX_BALANCE } else { 0.0 };
    }
    let weight_of_one_part = f64::from(b.parts()) * b.replicas() / total_weight;
    100.0 * parts / (dev.weight * weight_of_one_part) - 100.0
}

pub(crate) fn balance(b: &RingBuilder) -> f64 {
    b.devices().map(|d| device_balance(b, d.id).abs()).fold(0.0, f64::max)
}

/// The ring's dispersion alone (what [`dispersion_report`] computes first), without the
/// per-tier histograms: replicas are compared pairwise, level by level.
pub(crate) fn dispersion(b: &RingBuilder) -> f64 {
    let rows = b.replica2part2dev();
    let Some(first) = rows.first() else { return 0.0 };
    let tree = TierTree::build(&b.devs, |d| d.weight > 0.0 && !b.is_marked_for_removal(d.id));
    let max: Vec<u32> = tree.topology_max(b.replicas(), true).iter().map(|&m| m as u32).collect();
    let mut paths: Vec<[u32; 4]> = Vec::with_capacity(rows.len());
    let (mut at_risk, mut placed) = (0u64, 0u64);
    for p in 0..first.len() {
        paths.clear();
        paths.extend(rows.iter().filter_map(|row| row.get(p).and_then(|&d| tree.path(d)).copied()));
        placed += paths.len() as u64;
        let mut worst = 0u64;
        for level in 0..4 {
            let mut excess = 0u64;
            for (i, path) in paths.iter().enumerate() {
                let node = path[level];
                // Count each tier once, at its first replica.
                if paths[..i].iter().any(|q| q[level] == node) {
                    continue;
                }
                let n = paths[i..].iter().filter(|q| q[level] == node).count() as u32;
                excess += u64::from(n.saturating_sub(max[node as usize]));
            }
            worst = worst.max(excess);
        }
        at_risk += worst;
    }
    if placed == 0 {
        0.0
    } else {
        100.0 * at_risk as f64 / placed as f64
    }
}

/// One tier's row of the dispersion report.
#[derive(Debug, Clone, PartialEq)]
pub struct TierDispersion {
    /// `r1`, `r1z2`, `r1z2-10.0.0.1`, `r1z2-10.0.0.1/sdb1`.
    pub name: String,
    /// The most replicas of one partition this tier should hold.
    pub max_replicas: u32,
    /// Partition-replicas in this tier.
    pub placed_parts: u64,
    /// Percentage of those above `max_replicas`.
    pub dispersion: f64,
    /// `replicas[k]`: partitions with exactly `k` replicas in this tier.
    pub replicas: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DispersionReport {
    /// The ring's dispersion (see the module docs).
    pub dispersion: f64,
    /// The tier with the worst dispersion, if any tier is above its limit.
    pub worst_tier: Option<String>,
    pub worst_dispersion: f64,
    /// Every tier (matching the filter), in name order.
    pub tiers: Vec<TierDispersion>,
}

pub(crate) fn dispersion_report(b: &RingBuilder, filter: Option<&str>) -> DispersionReport {
    let rows = b.replica2part2dev();
    let Some(first) = rows.first() else { return DispersionReport::default() };
    let tree = TierTree::build(&b.devs, |d| d.weight > 0.0 && !b.is_marked_for_removal(d.id));
    let max: Vec<u32> = tree.topology_max(b.replicas(), true).iter().map(|&m| m as u32).collect();
    let width = rows.len() + 1;
    let mut hist = vec![0u64; tree.nodes.len() * width];
    let mut counts = TierCounts::new(tree.nodes.len());
    let mut at_risk = 0u64;
    let mut placed = 0u64;
    for p in 0..first.len() {
        counts.clear();
        for row in rows {
            if let Some(path) = row.get(p).and_then(|&d| tree.path(d)) {
                counts.add_path(path);
                placed += 1;
            }
        }
        let mut excess_by_level = [0u64; 5];
        for (node, n) in counts.iter() {
            let level = tree.node(node).level as usize;
            excess_by_level[level] += u64::from(n.saturating_sub(max[node as usize]));
            hist[node as usize * width + (n as usize).min(width - 1)] += 1;
        }
        at_risk += excess_by_level.iter().copied().max().unwrap_or(0);
    }
    let mut report = DispersionReport {
        dispersion: if placed == 0 { 0.0 } else { 100.0 * at_risk as f64 / placed as f64 },
        ..Default::default()
    };
    let parts = first.len() as u64;
    for (n, node) in tree.nodes.iter().enumerate().skip(1) {
        let mut replicas = hist[n * width..(n + 1) * width].to_vec();
        replicas[0] = parts - replicas[1..].iter().sum::<u64>();
        let placed_parts: u64 = replicas.iter().enumerate().map(|(k, &c)| k as u64 * c).sum();
        let excess: u64 =
            replicas.iter().enumerate().map(|(k, &c)| (k as u64).saturating_sub(u64::from(max[n])) * c).sum();
        let dispersion = if placed_parts == 0 { 0.0 } else { 100.0 * excess as f64 / placed_parts as f64 };
        if filter.is_none_or(|f| node.name.starts_with(f)) {
            if dispersion > report.worst_dispersion {
                report.worst_dispersion = dispersion;
                report.worst_tier = Some(node.name.clone());
            }
            report.tiers.push(TierDispersion {
                name: node.name.clone(),
                max_replicas: max[n],
                placed_parts,
                dispersion,
                replicas,
            });
        }
    }
    report.tiers.sort_by(|a, b| a.name.cmp(&b.name));
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Device;

    fn dev(id: u32, zone: u32, ip: &str, weight: f64) -> Device {
        Device::new(id, (1, zone), (ip, 6200), format!("sd{id}"), weight)
    }

    /// Three zones, one of them tiny: without overload some partitions keep two replicas
    /// in one zone, which both dispersion computations must count the same way.
    fn undispersed() -> RingBuilder {
        let mut b = RingBuilder::new(8, 3.0, 0).unwrap();
        for (id, zone, w) in [(0, 1, 100.0), (1, 1, 100.0), (2, 2, 100.0), (3, 2, 100.0), (4, 3, 5.0)] {
            b.add_dev(dev(id, zone, &format!("10.0.{zone}.{id}"), w)).unwrap();
        }
        b.rebalance(Some(3)).unwrap();
        b
    }

    #[test]
    fn fast_dispersion_matches_the_report() {
        let b = undispersed();
        let report = dispersion_report(&b, None);
        assert!(report.dispersion > 0.0);
        assert_eq!(dispersion(&b), report.dispersion);
        assert_eq!(b.dispersion(), Some(report.dispersion));
    }

    #[test]
    fn report_histograms_add_up() {
        let b = undispersed();
        let report = dispersion_report(&b, None);
        for tier in &report.tiers {
            assert_eq!(tier.replicas.iter().sum::<u64>(), 256, "{}: every partition counted once", tier.name);
        }
        let root = report.tiers.iter().find(|t| t.name == "r1").unwrap();
        assert_eq!(root.replicas[3], 256, "every partition has 3 replicas in region 1");
        let zones: Vec<_> =
            report.tiers.iter().filter(|t| t.name.starts_with("r1z") && !t.name.contains('-')).collect();
        assert_eq!(zones.iter().map(|t| t.placed_parts).sum::<u64>(), 768);
        assert!(report.worst_tier.is_some());
        let only_zone3 = dispersion_report(&b, Some("r1z3"));
        assert!(only_zone3.tiers.iter().all(|t| t.name.starts_with("r1z3")));
        assert_eq!(only_zone3.tiers.len(), 3, "zone, host, device");
    }

    #[test]
    fn balance_follows_weights_and_flags_drained_devices() {
        let mut b = undispersed();
        assert!(balance(&b) < 10.0, "balance {}", balance(&b));
        b.set_weight(4, 0.0).unwrap();
        assert_eq!(device_balance(&b, 4), MAX_BALANCE, "zero weight but still holding partitions");
        assert_eq!(balance(&b), MAX_BALANCE);
        assert_eq!(device_balance(&b, 99), 0.0);
    }
}
