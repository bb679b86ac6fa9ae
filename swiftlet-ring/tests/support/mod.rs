//! Builders for tests: topologies, and checks every rebalanced ring must pass.

#![allow(dead_code)]

use std::collections::HashSet;

use swiftlet_ring::{Device, RingBuilder};

/// `regions x zones x hosts x devices` devices, all weight `weight`, ids in order.
pub fn topology(regions: u32, zones: u32, hosts: u32, devices: u32, weight: f64) -> Vec<Device> {
    let mut out = Vec::new();
    for r in 1..=regions {
        for z in 1..=zones {
            for h in 1..=hosts {
                for d in 0..devices {
                    out.push(device(out.len() as u32, r, z, &format!("10.{r}.{z}.{h}"), &format!("sd{d}"), weight));
                }
            }
        }
    }
    out
}

pub fn device(id: u32, region: u32, zone: u32, ip: &str, name: &str, weight: f64) -> Device {
    Device::new(id, (region, zone), (ip, 6200), name, weight)
}

pub fn builder(part_power: u8, replicas: f64, min_part_hours: u32, devs: Vec<Device>) -> RingBuilder {
    let mut b = RingBuilder::new(part_power, replicas, min_part_hours).unwrap();
    for d in devs {
        b.add_dev(d).unwrap();
    }
    b
}

/// The distinct devices holding each partition.
pub fn part_devices(b: &RingBuilder, part: usize) -> Vec<u16> {
    b.replica2part2dev().iter().filter_map(|row| row.get(part).copied()).collect()
}

/// Every partition has as many distinct devices as it has replica slots.
pub fn assert_distinct(b: &RingBuilder) {
    b.validate().unwrap();
    for p in 0..b.parts() as usize {
        let devs = part_devices(b, p);
        let set: HashSet<u16> = devs.iter().copied().collect();
        assert_eq!(set.len(), devs.len(), "partition {p}: {devs:?}");
    }
}

/// Number of (replica, partition) slots whose device differs between two tables.
pub fn changed_slots(before: &[Vec<u16>], after: &[Vec<u16>]) -> usize {
    after
        .iter()
        .enumerate()
        .map(|(r, row)| {
            row.iter().enumerate().filter(|&(p, d)| before.get(r).and_then(|o| o.get(p)) != Some(d)).count()
        })
        .sum()
}

/// Per partition, how many of its slots changed.
pub fn changed_per_part(before: &[Vec<u16>], after: &[Vec<u16>], parts: usize) -> Vec<usize> {
    let mut out = vec![0; parts];
    for (r, row) in after.iter().enumerate() {
        for (p, d) in row.iter().enumerate() {
            if before.get(r).and_then(|o| o.get(p)) != Some(d) {
                out[p] += 1;
            }
        }
    }
    out
}

pub const HOUR: u64 = 3600;
/// A fixed "now" so tests do not depend on the clock.
pub const T0: u64 = 1_700_000_000;
