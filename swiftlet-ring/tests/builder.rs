//! RingBuilder behaviour through the public API: placement, removals, weights,
//! min_part_hours, replica counts, overload, files.

mod support;

use std::collections::HashSet;

use support::*;
use swiftlet_ring::{Device, DeviceFilter, DeviceInfo, Ring, RingBuilder, RingError};

fn rebalance(b: &mut RingBuilder, now: u64) -> swiftlet_ring::RebalanceReport {
    b.rebalance_with(7, now, &mut |_| {}).unwrap()
}

#[test]
fn first_rebalance_spreads_replicas_over_zones_and_balances() {
    let mut b = builder(8, 3.0, 1, topology(1, 4, 2, 2, 100.0));
    let report = rebalance(&mut b, T0);
    assert_distinct(&b);
    assert_eq!(report.moved, 3 * 256);
    assert_eq!(report.dispersion, 0.0);
    assert_eq!(report.balance, 0.0, "16 devices, 768 slots: exactly 48 each");
    for p in 0..256 {
        let zones: HashSet<u32> = part_devices(&b, p).iter().map(|&d| b.device(u32::from(d)).unwrap().zone).collect();
        assert_eq!(zones.len(), 3, "partition {p} must use three zones");
    }
}

#[test]
fn removing_a_device_moves_only_its_partitions() {
    let mut b = builder(8, 3.0, 1, topology(1, 4, 2, 2, 100.0));
    rebalance(&mut b, T0);
    let before = b.replica2part2dev().to_vec();
    let held = b.device_parts(5) as u64;
    b.remove_dev(5).unwrap();
    assert!(b.is_marked_for_removal(5));
    // Removed devices move at once, whatever min_part_hours says.
    let report = rebalance(&mut b, T0 + 60);
    assert_eq!(report.moved, held);
    assert_eq!(report.removed_devices, 1);
    assert!(b.device(5).is_none());
    assert_distinct(&b);
    for (r, row) in before.iter().enumerate() {
        for (p, &d) in row.iter().enumerate() {
            if d != 5 {
                assert_eq!(b.replica2part2dev()[r][p], d, "slot {r}/{p} was not on the removed device");
            }
        }
    }
}

#[test]
fn zero_weight_drains_once_min_part_hours_allow() {
    let mut b = builder(8, 3.0, 1, topology(1, 4, 2, 2, 100.0));
    rebalance(&mut b, T0);
    b.set_weight(3, 0.0).unwrap();
    let early = rebalance(&mut b, T0 + 1800);
    assert_eq!(early.moved, 0, "everything moved 30 minutes ago");
    assert!(b.device_parts(3) > 0);
    let later = rebalance(&mut b, T0 + 2 * HOUR);
    assert_eq!(b.device_parts(3), 0, "drained");
    assert!(b.device(3).is_some(), "a zero-weight device stays until removed");
    assert!(later.balance < 5.0, "balance {}", later.balance);
    assert_distinct(&b);
}

#[test]
fn no_partition_moves_twice_within_min_part_hours() {
    let mut b = builder(9, 3.0, 2, topology(1, 5, 2, 2, 100.0));
    rebalance(&mut b, T0);
    b.pretend_min_part_hours_passed();
    b.add_dev(device(100, 1, 1, "10.1.1.9", "sdx", 300.0)).unwrap();
    let t1 = T0 + 10 * HOUR;
    let before = b.replica2part2dev().to_vec();
    let first = rebalance(&mut b, t1);
    assert!(first.moved > 0);
    let moved_first: Vec<usize> = changed_per_part(&before, b.replica2part2dev(), 512);
    assert!(moved_first.iter().all(|&n| n <= 1), "one replica per partition per rebalance");
    // More weight elsewhere an hour later: partitions moved at t1 must stay put.
    b.add_dev(device(101, 1, 2, "10.1.2.9", "sdx", 300.0)).unwrap();
    let mid = b.replica2part2dev().to_vec();
    rebalance(&mut b, t1 + HOUR);
    let moved_second = changed_per_part(&mid, b.replica2part2dev(), 512);
    for p in 0..512 {
        assert!(!(moved_first[p] > 0 && moved_second[p] > 0), "partition {p} moved twice within 2 hours");
        assert!(moved_second[p] <= 1);
    }
    assert!(b.can_part_move(0, t1 + 3 * HOUR));
}

#[test]
fn replica_count_changes_resize_the_table() {
    let mut b = builder(8, 2.5, 0, topology(1, 3, 2, 2, 100.0));
    rebalance(&mut b, T0);
    let lens: Vec<usize> = b.replica2part2dev().iter().map(Vec::len).collect();
    assert_eq!(lens, vec![256, 256, 128]);
    assert_distinct(&b);
    b.set_replicas(3.0).unwrap();
    assert!(b.devs_changed());
    rebalance(&mut b, T0 + HOUR);
    assert_eq!(b.replica2part2dev().iter().map(Vec::len).collect::<Vec<_>>(), vec![256; 3]);
    assert_distinct(&b);
    b.set_replicas(2.0).unwrap();
    rebalance(&mut b, T0 + 2 * HOUR);
    assert_eq!(b.replica2part2dev().len(), 2);
    assert_distinct(&b);
    assert!(b.set_replicas(0.5).is_err());
}

#[test]
fn impossible_rings_are_refused() {
    let mut two = builder(4, 3.0, 1, topology(1, 2, 1, 1, 1.0));
    assert!(matches!(two.rebalance(None), Err(RingError::NotEnoughDevices { devices: 2, .. })));
    let mut weightless = builder(4, 1.0, 1, topology(1, 2, 1, 1, 0.0));
    assert!(matches!(weightless.rebalance(None), Err(RingError::EmptyRing)));
    let mut empty = RingBuilder::new(4, 1.0, 1).unwrap();
    assert!(matches!(empty.rebalance(None), Err(RingError::EmptyRing)));
    assert!(RingBuilder::new(24, 3.0, 1).is_err());
    assert!(RingBuilder::new(10, 0.0, 1).is_err());
    assert!(matches!(empty.validate(), Err(RingError::NotRebalanced)));
}

#[test]
fn duplicate_devices_are_refused() {
    let mut b = builder(4, 1.0, 1, topology(1, 1, 1, 2, 1.0));
    let mut same_address = device(9, 1, 1, "10.1.1.1", "sd0", 1.0);
    assert!(matches!(b.add_dev(same_address.clone()), Err(RingError::DuplicateDevice(_))));
    same_address.device = "sd9".into();
    same_address.id = 0;
    assert!(matches!(b.add_dev(same_address.clone()), Err(RingError::DuplicateDevice(_))));
    same_address.id = b.next_device_id();
    assert_eq!(b.add_dev(same_address).unwrap(), 2);
    let clash = DeviceInfo { device: Some("sd0".into()), ..Default::default() };
    assert!(b.set_info(1, &clash).is_err(), "set_info may not create a duplicate either");
}

#[test]
fn set_info_changes_addresses_not_placement() {
    let mut b = builder(6, 2.0, 1, topology(1, 2, 1, 2, 1.0));
    rebalance(&mut b, T0);
    let table = b.replica2part2dev().to_vec();
    let change = DeviceInfo::parse("10.9.9.9:7000/sdz_new disk").unwrap();
    b.set_info(0, &change).unwrap();
    let d = b.device(0).unwrap();
    assert_eq!((d.ip.as_str(), d.port, d.device.as_str(), d.meta.as_str()), ("10.9.9.9", 7000, "sdz", "new disk"));
    assert_eq!(b.replica2part2dev(), &table[..]);
    assert_eq!(b.get_ring().device(0).unwrap().port, 7000);
    assert_eq!(b.search(&DeviceFilter::parse("10.9.9.9:7000").unwrap()).len(), 1);
}

#[test]
fn overload_trades_balance_for_dispersion() {
    // One tiny zone: by weight alone it cannot hold a replica of every partition.
    let mut devs = topology(1, 2, 2, 2, 100.0);
    devs.push(device(8, 1, 3, "10.1.3.1", "sd0", 10.0));
    let mut strict = builder(10, 3.0, 0, devs.clone());
    let r = rebalance(&mut strict, T0);
    assert!(r.dispersion > 0.0);
    assert!(r.balance < 2.0, "balance {}", r.balance);
    let mut loose = builder(10, 3.0, 0, devs);
    loose.set_overload(30.0).unwrap();
    let r = rebalance(&mut loose, T0);
    assert_eq!(r.dispersion, 0.0, "with enough overload every partition uses all three zones");
    assert_eq!(loose.device_parts(8), 1024);
    assert!(
        (loose.required_overload().unwrap() - 26.0).abs() < 1e-6,
        "10-weight device: 3 * 10 / 810 of a replica by weight, 1 wanted"
    );
}

#[test]
fn same_seed_and_inputs_give_the_same_ring() {
    let mut a = builder(8, 3.0, 1, topology(2, 3, 2, 2, 50.0));
    let mut b = a.clone();
    rebalance(&mut a, T0);
    rebalance(&mut b, T0);
    assert_eq!(a.replica2part2dev(), b.replica2part2dev());
}

#[test]
fn builder_file_round_trips_and_damage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("object.builder");
    let mut b = builder(8, 3.0, 1, topology(1, 4, 1, 2, 100.0));
    b.set_overload(0.1).unwrap();
    rebalance(&mut b, T0);
    b.remove_dev(2).unwrap();
    b.save(&path).unwrap();
    let loaded = RingBuilder::load(&path).unwrap();
    assert_eq!(loaded, b);
    let raw = std::fs::read(&path).unwrap();
    std::fs::write(&path, &raw[..raw.len() - 10]).unwrap();
    assert!(matches!(RingBuilder::load(&path), Err(RingError::Corrupt { .. })));
    let mut bad = raw.clone();
    bad[40] ^= 1;
    std::fs::write(&path, &bad).unwrap();
    assert!(matches!(RingBuilder::load(&path), Err(RingError::Corrupt { .. })));
    let ring_path = dir.path().join("object.ring");
    b.get_ring().save(&ring_path).unwrap();
    assert!(matches!(RingBuilder::load(&ring_path), Err(RingError::BadMagic { .. })));
}

#[test]
fn ring_lookups_and_handoffs_on_a_built_ring() {
    let mut b = builder(10, 3.0, 1, topology(2, 3, 2, 2, 100.0));
    rebalance(&mut b, T0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("object.ring");
    b.get_ring().save(&path).unwrap();
    let ring = Ring::load(&path).unwrap();
    assert_eq!((ring.part_power(), ring.partition_count(), ring.replica_count()), (10, 1024, 3));
    assert_eq!(ring.devices().count(), 24);
    let secret = common::HashPathSecret::new("", "swiftlet");
    for name in ["a", "b", "c", "d"] {
        let (part, nodes) = ring.get_nodes(&secret, "AUTH_test", Some("c"), Some(name));
        assert_eq!(part, ring.get_part(&secret, "AUTH_test", Some("c"), Some(name)));
        assert_eq!(nodes.len(), 3);
        let regions: HashSet<u32> = nodes.iter().map(|d| d.region).collect();
        assert_eq!(regions.len(), 2, "3 replicas over 2 regions use both");
        let handoffs: Vec<&Device> = ring.get_more_nodes(part).collect();
        assert_eq!(handoffs.len(), 21);
        assert!(handoffs.iter().all(|h| nodes.iter().all(|n| n.id != h.id)));
        let used_zones: HashSet<(u32, u32)> = nodes.iter().map(|d| (d.region, d.zone)).collect();
        assert!(!used_zones.contains(&(handoffs[0].region, handoffs[0].zone)), "first handoff in a fresh zone");
    }
}
