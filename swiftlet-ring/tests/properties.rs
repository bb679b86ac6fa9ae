//! Properties every rebalance must keep, over random topologies, weights and seeds.

mod support;

use proptest::prelude::*;
use support::*;
use swiftlet_ring::{Ring, RingBuilder};

/// A random topology: per zone a random number of hosts, per host a random number of
/// devices, weights from a small set (or all equal).
fn random_devices(
    regions: u32,
    zones: u32,
    shape: &[(u32, u32)],
    weights: &[f64],
    equal: bool,
) -> Vec<swiftlet_ring::Device> {
    let mut devs = Vec::new();
    let mut k = 0;
    for r in 1..=regions {
        for z in 1..=zones {
            let (hosts, per_host) = shape[((r - 1) * zones + z - 1) as usize % shape.len()];
            for h in 1..=hosts {
                for d in 0..per_host {
                    let w = if equal { 100.0 } else { weights[k % weights.len()] };
                    k += 1;
                    devs.push(device(devs.len() as u32, r, z, &format!("10.{r}.{z}.{h}"), &format!("sd{d}"), w));
                }
            }
        }
    }
    devs
}

fn shapes() -> impl Strategy<Value = Vec<(u32, u32)>> {
    prop::collection::vec((1u32..=3, 1u32..=3), 8)
}

fn weights() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(prop::sample::select(vec![0.5, 1.0, 2.0, 3.0, 10.0]), 16)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every partition gets its replicas on distinct devices whenever enough devices exist,
    /// and the ring the builder writes loads back identical.
    #[test]
    fn replicas_land_on_distinct_devices(
        regions in 1u32..=2,
        zones in 1u32..=4,
        shape in shapes(),
        w in weights(),
        replicas in prop::sample::select(vec![1.0, 2.0, 2.5, 3.0, 4.0]),
        part_power in 3u8..=8,
        overload in prop::sample::select(vec![0.0, 0.1, 1.0]),
        seed in any::<u64>(),
    ) {
        let devs = random_devices(regions, zones, &shape, &w, false);
        let n = devs.len();
        let mut b = builder(part_power, replicas, 1, devs);
        b.set_overload(overload).unwrap();
        let result = b.rebalance_with(seed, T0, &mut |_| {});
        if (n as f64) < replicas {
            prop_assert!(result.is_err());
            return Ok(());
        }
        let report = result.unwrap();
        assert_distinct(&b);
        let parts = b.parts() as usize;
        let slots: usize = b.replica2part2dev().iter().map(Vec::len).sum();
        prop_assert_eq!(slots, parts * replicas.trunc() as usize + (parts as f64 * replicas.fract()) as usize);
        prop_assert!(report.dispersion >= 0.0 && report.balance >= 0.0);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("object.ring");
        let ring = b.get_ring();
        ring.save(&path).unwrap();
        prop_assert_eq!(Ring::load(&path).unwrap(), ring);
    }

    /// Symmetric topologies with equal weights are fully dispersed and balanced.
    #[test]
    fn symmetric_rings_are_fully_dispersed(
        regions in 1u32..=2,
        zones in 2u32..=5,
        hosts in 1u32..=3,
        per_host in 1u32..=3,
        replicas in prop::sample::select(vec![2.0, 3.0]),
        seed in any::<u64>(),
    ) {
        prop_assume!((regions * zones * hosts * per_host) as f64 >= replicas);
        let mut b = builder(9, replicas, 1, topology(regions, zones, hosts, per_host, 100.0));
        let report = b.rebalance_with(seed, T0, &mut |_| {}).unwrap();
        prop_assert_eq!(report.dispersion, 0.0);
        let per_dev = 512.0 * replicas / f64::from(regions * zones * hosts * per_host);
        // Whole partitions: a device may be one off its exact share.
        prop_assert!(report.balance <= 100.0 / per_dev.floor() + 1e-9, "balance {}", report.balance);
    }

    /// Equal weights on 100+ devices balance within 1%, however the devices are spread.
    #[test]
    fn equal_weights_balance_within_one_percent(
        zones in 3u32..=6,
        shape in prop::collection::vec((4u32..=10, 3u32..=6), 8),
        seed in any::<u64>(),
    ) {
        let devs = random_devices(1, zones, &shape, &[], true);
        prop_assume!(devs.len() >= 100);
        let mut b = builder(14, 3.0, 1, devs);
        let report = b.rebalance_with(seed, T0, &mut |_| {}).unwrap();
        prop_assert!(report.balance < 1.0, "balance {} over {} devices", report.balance, b.devices().count());
        assert_distinct(&b);
    }

    /// Adding one device to N moves about 1/N of the partition-replicas, at most one replica
    /// per partition, and nothing that moved moves again within min_part_hours.
    #[test]
    fn adding_a_device_moves_about_one_nth(
        zones in 3u32..=5,
        hosts in 2u32..=4,
        per_host in 2u32..=4,
        new_zone in 1u32..=5,
        seed in any::<u64>(),
    ) {
        let devs = topology(1, zones, hosts, per_host, 100.0);
        let n = devs.len();
        let mut b = builder(11, 3.0, 1, devs);
        b.rebalance_with(seed, T0, &mut |_| {}).unwrap();
        b.pretend_min_part_hours_passed();
        let zone = new_zone.min(zones);
        b.add_dev(device(n as u32, 1, zone, &format!("10.1.{zone}.99"), "sdn", 100.0)).unwrap();
        let before = b.replica2part2dev().to_vec();
        let t1 = T0 + 100 * HOUR;
        let report = b.rebalance_with(seed, t1, &mut |_| {}).unwrap();
        let slots = 3.0 * 2048.0;
        let ideal = slots / (n + 1) as f64;
        prop_assert!(report.moved as f64 <= ideal * 1.02 + 2.0, "moved {} ideal {}", report.moved, ideal);
        prop_assert!(report.moved as f64 >= ideal * 0.98 - 2.0, "moved {} ideal {}", report.moved, ideal);
        prop_assert_eq!(report.moved, u64::from(b.device_parts(n as u32)), "everything that moved went to the new device");
        let first = changed_per_part(&before, b.replica2part2dev(), 2048);
        prop_assert!(first.iter().all(|&c| c <= 1));
        // Another device half an hour later: partitions that just moved must stay.
        b.add_dev(device(n as u32 + 1, 1, 1, "10.1.1.98", "sdm", 100.0)).unwrap();
        let mid = b.replica2part2dev().to_vec();
        b.rebalance_with(seed, t1 + 1800, &mut |_| {}).unwrap();
        let second = changed_per_part(&mid, b.replica2part2dev(), 2048);
        for p in 0..2048 {
            prop_assert!(first[p] == 0 || second[p] == 0, "partition {} moved twice within min_part_hours", p);
            prop_assert!(second[p] <= 1);
        }
        assert_distinct(&b);
    }

    /// A ring file cut anywhere, or with any byte flipped, is refused whole.
    #[test]
    fn damaged_ring_files_are_refused(cut in 0.0f64..1.0, flip in 0.0f64..1.0, bit in 0u8..8) {
        let mut b = builder(6, 3.0, 1, topology(1, 3, 2, 2, 1.0));
        b.rebalance_with(1, T0, &mut |_| {}).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("object.ring");
        b.get_ring().save(&path).unwrap();
        let raw = std::fs::read(&path).unwrap();
        let at = ((raw.len() as f64) * cut) as usize;
        std::fs::write(&path, &raw[..at]).unwrap();
        prop_assert!(Ring::load(&path).is_err(), "truncated to {} of {} bytes", at, raw.len());
        let mut bad = raw.clone();
        let at = ((raw.len() as f64) * flip) as usize;
        bad[at] ^= 1 << bit;
        std::fs::write(&path, &bad).unwrap();
        prop_assert!(Ring::load(&path).is_err(), "flipped bit {} of byte {}", bit, at);
        prop_assert!(RingBuilder::load(&path).is_err());
    }
}
