//! The replica plan: how many replicas of each partition every tier should hold, and how
//! many partition-replicas every device should end up with.
//!
//! Three views of each tier, in "replicanths" (fractions of one partition's replicas):
//! - *weighted*: its share by weight alone (a device never more than one replica);
//! - *wanted*: the most even spread the topology allows, following weights where it can;
//! - *target*: between the two; `overload` says how far a device may go past its weighted
//!   share to get closer to the wanted spread.
//!
//! The target gives each tier a hard `max` replicas per partition (used by placement) and,
//! times the partition count, each device's integer number of partition-replicas.

use crate::tiers::{TierTree, DEVICE_LEVEL, ROOT};
use crate::RingError;

const EPSILON: f64 = 1e-10;

#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Per node: the most replicas of one partition it may hold.
    pub max: Vec<u32>,
    /// Per node: how many partition-replicas it should hold in total.
    pub want: Vec<i64>,
    /// The overload the target needed to reach the wanted spread (0 when balanced).
    pub required_overload: f64,
}

impl Plan {
    /// `slots` is the number of partition-replicas to place (the sum of replica row lengths).
    pub fn build(tree: &TierTree, replicas: f64, overload: f64, parts: u32, slots: u64) -> Result<Plan, RingError> {
        let weighted = weighted_replicanths(tree, replicas)?;
        let wanted = wanted_replicanths(tree, replicas, &weighted);
        let mut required: f64 = 0.0;
        for (n, node) in tree.nodes.iter().enumerate() {
            if node.level == DEVICE_LEVEL && weighted[n] > 0.0 {
                required = required.max((wanted[n] - weighted[n]) / weighted[n]);
            }
        }
        let target: Vec<f64> = if required <= 0.0 {
            wanted
        } else {
            let blend = overload.min(required) / required;
            weighted.iter().zip(&wanted).map(|(w, x)| w + (x - w) * blend).collect()
        };
        let max = target.iter().map(|t| (t - EPSILON).ceil().max(0.0) as u32).collect();
        let want = integer_wants(tree, &target, parts, slots);
        Ok(Plan { max, want, required_overload: required })
    }
}

/// Each weighted device's share by weight, capped at one replica; what a capped device
/// cannot take is spread over the others in proportion to their weight.
fn weighted_replicanths(tree: &TierTree, replicas: f64) -> Result<Vec<f64>, RingError> {
    let total = tree.node(ROOT).weight;
    if total <= 0.0 {
        return Err(RingError::EmptyRing);
    }
    let leaves: Vec<usize> = (0..tree.nodes.len())
        .filter(|&n| tree.nodes[n].level == DEVICE_LEVEL && tree.nodes[n].weighted_devs > 0)
        .collect();
    let mut share = vec![0.0; tree.nodes.len()];
    for &n in &leaves {
        share[n] = (tree.nodes[n].weight * replicas / total).min(1.0);
    }
    for _ in 0..1000 {
        let placed: f64 = leaves.iter().map(|&n| share[n]).sum();
        let remaining = replicas - placed;
        if remaining < EPSILON {
            break;
        }
        let room: f64 = leaves.iter().filter(|&&n| share[n] < 1.0).map(|&n| share[n]).sum();
        if room <= 0.0 {
            return Err(RingError::NotEnoughDevices { replicas, devices: leaves.len() });
        }
        let grow = 1.0 + remaining / room;
        for &n in &leaves {
            if share[n] < 1.0 {
                share[n] = (share[n] * grow).min(1.0);
            }
        }
    }
    // Sum leaves up into their tiers (children come after parents, so walk backwards).
    for n in (1..tree.nodes.len()).rev() {
        let parent = tree.nodes[n].parent as usize;
        share[parent] += share[n];
    }
    Ok(share)
}

/// Spreads each tier's replicanths over its children as evenly as the topology allows
/// (between the floor and ceiling of an even split), following weights inside those bounds
/// and never giving a tier more replicas than it has devices.
fn wanted_replicanths(tree: &TierTree, replicas: f64, weighted: &[f64]) -> Vec<f64> {
    let even = tree.topology_max(replicas, false);
    let mut wanted = vec![0.0; tree.nodes.len()];
    wanted[ROOT as usize] = replicas;
    for n in 0..tree.nodes.len() as u32 {
        let kids: Vec<u32> = tree.weighted_children(n).collect();
        if kids.is_empty() {
            continue;
        }
        let total = wanted[n as usize];
        let lo: Vec<f64> = kids.iter().map(|&c| even[c as usize].floor()).collect();
        let hi: Vec<f64> = kids.iter().map(|&c| even[c as usize].ceil()).collect();
        let devs: Vec<f64> = kids.iter().map(|&c| f64::from(tree.node(c).weighted_devs)).collect();
        let w: Vec<f64> = kids.iter().map(|&c| weighted[c as usize]).collect();
        let mut place = vec![0.0; kids.len()];
        let mut active: Vec<usize> = (0..kids.len()).collect();
        let mut remaining = total;
        let mut device_limited = false;
        for _ in 0..100 {
            let active_weight: f64 = active.iter().map(|&i| w[i]).sum();
            if active.is_empty() || active_weight <= 0.0 {
                break;
            }
            let scale = remaining / active_weight;
            for &i in &active {
                let mut v = place[i] + w[i] * scale;
                if v < lo[i] {
                    v = lo[i];
                } else if v > hi[i] && !device_limited {
                    v = hi[i];
                }
                place[i] = v.min(devs[i]);
            }
            remaining = total - place.iter().sum::<f64>();
            if remaining < -EPSILON {
                active = (0..kids.len()).filter(|&i| place[i] > lo[i]).collect();
            } else if remaining > EPSILON {
                active = (0..kids.len()).filter(|&i| place[i] < hi[i] && place[i] < devs[i]).collect();
                if active.is_empty() {
                    device_limited = true;
                    active = (0..kids.len()).filter(|&i| place[i] < devs[i]).collect();
                }
            } else {
                break;
            }
        }
        for (i, &c) in kids.iter().enumerate() {
            wanted[c as usize] = place[i];
        }
    }
    wanted
}

/// Turns targets into whole partition-replica counts, top-down: each child gets the floor
/// of its exact share and the leftovers go to the largest remainders, so every device is
/// within one partition of its exact share and the counts add up at every level.
fn integer_wants(tree: &TierTree, target: &[f64], parts: u32, slots: u64) -> Vec<i64> {
    let parts_f = f64::from(parts);
    let mut want = vec![0i64; tree.nodes.len()];
    want[ROOT as usize] = slots as i64;
    for n in 0..tree.nodes.len() as u32 {
        let kids: Vec<u32> = tree.weighted_children(n).collect();
        if kids.is_empty() {
            continue;
        }
        // A device holds at most one replica of each partition.
        let cap = |c: u32| -> i64 { i64::from(tree.node(c).weighted_devs) * i64::from(parts) };
        let exact: Vec<f64> = kids.iter().map(|&c| target[c as usize] * parts_f).collect();
        let mut given: Vec<i64> =
            kids.iter().zip(&exact).map(|(&c, e)| ((e + EPSILON).floor() as i64).clamp(0, cap(c))).collect();
        let mut left = want[n as usize] - given.iter().sum::<i64>();
        let mut order: Vec<usize> = (0..kids.len()).collect();
        // Largest remainder first; ties to the child with the larger exact share.
        order.sort_by(|&a, &b| {
            let ra = exact[a] - given[a] as f64;
            let rb = exact[b] - given[b] as f64;
            rb.total_cmp(&ra).then(exact[b].total_cmp(&exact[a]))
        });
        while left > 0 {
            let before = left;
            for &i in &order {
                if left == 0 {
                    break;
                }
                if given[i] < cap(kids[i]) {
                    given[i] += 1;
                    left -= 1;
                }
            }
            if left == before {
                break;
            }
        }
        while left < 0 {
            let before = left;
            for &i in order.iter().rev() {
                if left == 0 {
                    break;
                }
                if given[i] > 0 {
                    given[i] -= 1;
                    left += 1;
                }
            }
            if left == before {
                break;
            }
        }
        for (i, &c) in kids.iter().enumerate() {
            want[c as usize] = given[i];
        }
    }
    want
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Device;

    fn devs(spec: &[(u32, u32, &str, f64)]) -> Vec<Option<Device>> {
        spec.iter()
            .enumerate()
            .map(|(id, &(region, zone, ip, weight))| {
                Some(Device::new(id as u32, (region, zone), (ip, 1), format!("d{id}"), weight))
            })
            .collect()
    }

    fn leaf_wants(tree: &TierTree, plan: &Plan) -> Vec<i64> {
        tree.paths.iter().map(|p| p.map_or(0, |p| plan.want[p[3] as usize])).collect()
    }

    #[test]
    fn equal_zones_spread_evenly() {
        let d = devs(&[(1, 1, "a", 1.0), (1, 2, "b", 1.0), (1, 3, "c", 1.0), (1, 4, "d", 1.0)]);
        let tree = TierTree::build(&d, |d| d.weight > 0.0);
        let plan = Plan::build(&tree, 3.0, 0.0, 1024, 3072).unwrap();
        assert_eq!(leaf_wants(&tree, &plan), vec![768; 4]);
        let zone = tree.paths[0].unwrap()[1] as usize;
        assert_eq!(plan.max[zone], 1);
        assert_eq!(plan.required_overload, 0.0);
    }

    #[test]
    fn overload_trades_balance_for_dispersion() {
        // Zone 1 has one tiny device; with 3 replicas over 3 zones each zone should hold one.
        let d = devs(&[(1, 1, "a", 10.0), (1, 2, "b", 100.0), (1, 3, "c", 100.0), (1, 3, "c2", 100.0)]);
        let tree = TierTree::build(&d, |d| d.weight > 0.0);
        let strict = Plan::build(&tree, 3.0, 0.0, 1000, 3000).unwrap();
        let loose = Plan::build(&tree, 3.0, 10.0, 1000, 3000).unwrap();
        assert!(strict.required_overload > 1.0);
        let small = tree.paths[0].unwrap()[3] as usize;
        assert_eq!(strict.want[small], 97, "by weight: 10/310 of 3000");
        assert_eq!(loose.want[small], 1000, "fully dispersed: one replica of every partition");
        let total: i64 = leaf_wants(&tree, &loose).iter().sum();
        assert_eq!(total, 3000);
    }

    #[test]
    fn fractional_replicas_and_leftovers_add_up() {
        let d = devs(&[(1, 1, "a", 1.0), (1, 1, "a", 1.0), (1, 2, "b", 1.0), (2, 3, "c", 3.0), (2, 3, "d", 0.5)]);
        let tree = TierTree::build(&d, |d| d.weight > 0.0);
        let plan = Plan::build(&tree, 2.5, 0.1, 4096, 10240).unwrap();
        let wants = leaf_wants(&tree, &plan);
        assert_eq!(wants.iter().sum::<i64>(), 10240);
        assert!(wants.iter().all(|&w| (0..=4096).contains(&w)), "{wants:?}");
    }

    #[test]
    fn zero_weight_is_an_empty_ring() {
        let d = devs(&[(1, 1, "a", 0.0)]);
        let tree = TierTree::build(&d, |d| d.weight > 0.0);
        assert!(matches!(Plan::build(&tree, 1.0, 0.0, 8, 8), Err(RingError::EmptyRing)));
    }
}
