//! The ring builder: the device list, its changes, and checks of the assignment table.
//! Rebalancing lives in [`crate::rebalance`], statistics in [`crate::stats`].

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::device::{check_weight, normalize_ip, Device, DeviceFilter, DeviceInfo, NewDevice, MAX_DEVICE_ID};
use crate::rebalance::{self, Progress, RebalanceReport};
use crate::ring::{Ring, MAX_PART_POWER, NONE_DEV};
use crate::{format, stats, RingError};

/// Everything needed to (re)build a ring; persisted in the builder file.
#[derive(Debug, Clone, PartialEq)]
pub struct RingBuilder {
    pub(crate) part_power: u8,
    pub(crate) replicas: f64,
    pub(crate) min_part_hours: u32,
    pub(crate) overload: f64,
    pub(crate) id: String,
    pub(crate) version: u64,
    pub(crate) devs: Vec<Option<Device>>,
    /// Ids marked for removal at the next rebalance.
    pub(crate) removed: Vec<u32>,
    pub(crate) devs_changed: bool,
    /// `replica2part2dev[replica][partition]`; empty until the first rebalance.
    pub(crate) replica2part2dev: Vec<Vec<u16>>,
    /// Per partition: the hour (since the Unix epoch, rounded up) of its last move; 0 = never.
    pub(crate) last_move_hour: Vec<u32>,
    /// Unix seconds of the last rebalance that moved something.
    pub(crate) last_rebalance: u64,
    pub(crate) dispersion: Option<f64>,
    /// Per device slot: partition-replicas assigned (derived from the table).
    pub(crate) dev_parts: Vec<u32>,
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// How long each replica row is: whole replicas cover every partition, a fractional one
/// covers that fraction of them.
pub(crate) fn row_lengths(parts: u32, replicas: f64) -> Vec<usize> {
    let whole = replicas.trunc() as usize;
    let mut lengths = vec![parts as usize; whole];
    let frac = (f64::from(parts) * replicas.fract()).floor() as usize;
    if frac > 0 {
        lengths.push(frac);
    }
    lengths
}

impl RingBuilder {
    /// A new builder with `2^part_power` partitions.
    pub fn new(part_power: u8, replicas: f64, min_part_hours: u32) -> Result<RingBuilder, RingError> {
        if part_power > MAX_PART_POWER {
            return Err(RingError::InvalidArgument(format!("part power {part_power} is above {MAX_PART_POWER}")));
        }
        check_replicas(replicas)?;
        Ok(RingBuilder {
            part_power,
            replicas,
            min_part_hours,
            overload: 0.0,
            id: format!("{:032x}", rand::random::<u128>()),
            version: 0,
            devs: Vec::new(),
            removed: Vec::new(),
            devs_changed: false,
            replica2part2dev: Vec::new(),
            last_move_hour: Vec::new(),
            last_rebalance: 0,
            dispersion: None,
            dev_parts: Vec::new(),
        })
    }

    pub fn load(path: &Path) -> Result<RingBuilder, RingError> {
        format::builder_file::load(path)
    }

    /// Writes the builder file atomically.
    pub fn save(&self, path: &Path) -> Result<(), RingError> {
        format::builder_file::save(self, path)
    }

    pub fn part_power(&self) -> u8 {
        self.part_power
    }
    pub fn parts(&self) -> u32 {
        1 << self.part_power
    }
    pub fn replicas(&self) -> f64 {
        self.replicas
    }
    pub fn min_part_hours(&self) -> u32 {
        self.min_part_hours
    }
    pub fn overload(&self) -> f64 {
        self.overload
    }
    /// A random id naming this builder (to tell builders apart).
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Bumped by every change.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// Whether devices changed since the last rebalance.
    pub fn devs_changed(&self) -> bool {
        self.devs_changed
    }
    pub fn ever_rebalanced(&self) -> bool {
        !self.replica2part2dev.is_empty()
    }
    /// The dispersion computed by the last rebalance.
    pub fn dispersion(&self) -> Option<f64> {
        self.dispersion
    }
    pub fn replica2part2dev(&self) -> &[Vec<u16>] {
        &self.replica2part2dev
    }

    pub fn devices(&self) -> impl Iterator<Item = &Device> {
        self.devs.iter().flatten()
    }
    pub fn device(&self, id: u32) -> Option<&Device> {
        self.devs.get(id as usize).and_then(Option::as_ref)
    }
    /// Partition-replicas assigned to a device.
    pub fn device_parts(&self, id: u32) -> u32 {
        self.dev_parts.get(id as usize).copied().unwrap_or(0)
    }
    pub fn is_marked_for_removal(&self, id: u32) -> bool {
        self.removed.contains(&id)
    }

    /// The lowest free device id.
    pub fn next_device_id(&self) -> u32 {
        self.devs.iter().position(Option::is_none).unwrap_or(self.devs.len()) as u32
    }

    /// Adds a device under its own id. Refuses a taken id and a second device with the same
    /// ip, port and device name.
    pub fn add_dev(&mut self, dev: Device) -> Result<u32, RingError> {
        dev.check()?;
        if self.device(dev.id).is_some() {
            return Err(RingError::DuplicateDevice(format!("device id {} is taken", dev.id)));
        }
        self.check_unique_address(&dev, None)?;
        let id = dev.id;
        if self.devs.len() <= id as usize {
            self.devs.resize(id as usize + 1, None);
        }
        self.devs[id as usize] = Some(dev);
        self.changed();
        Ok(id)
    }

    /// Adds a device, choosing the lowest free id unless it names one.
    pub fn add_new_device(&mut self, new: NewDevice) -> Result<u32, RingError> {
        let id = new.id.unwrap_or_else(|| self.next_device_id());
        if id > MAX_DEVICE_ID {
            return Err(RingError::InvalidArgument(format!("no device ids left (max {MAX_DEVICE_ID})")));
        }
        self.add_dev(new.into_device(id))
    }

    fn check_unique_address(&self, dev: &Device, except: Option<u32>) -> Result<(), RingError> {
        let ip = normalize_ip(&dev.ip);
        let clash = self.devices().find(|d| {
            Some(d.id) != except && d.port == dev.port && d.device == dev.device && normalize_ip(&d.ip) == ip
        });
        match clash {
            Some(d) => Err(RingError::DuplicateDevice(format!(
                "device {} already uses {}:{}/{}",
                d.id, d.ip, d.port, d.device
            ))),
            None => Ok(()),
        }
    }

    fn dev_mut(&mut self, id: u32) -> Result<&mut Device, RingError> {
        self.devs.get_mut(id as usize).and_then(Option::as_mut).ok_or(RingError::NoSuchDevice(id))
    }

    fn changed(&mut self) {
        self.devs_changed = true;
        self.version += 1;
    }

    /// Marks a device for removal: its weight drops to zero now and it leaves the ring at
    /// the next rebalance, which moves all its partitions regardless of `min_part_hours`.
    pub fn remove_dev(&mut self, id: u32) -> Result<(), RingError> {
        self.dev_mut(id)?.weight = 0.0;
        if !self.removed.contains(&id) {
            self.removed.push(id);
        }
        self.changed();
        Ok(())
    }

    pub fn set_weight(&mut self, id: u32, weight: f64) -> Result<(), RingError> {
        check_weight(weight)?;
        if self.is_marked_for_removal(id) {
            return Err(RingError::DeviceMarkedForRemoval(id));
        }
        self.dev_mut(id)?.weight = weight;
        self.changed();
        Ok(())
    }

    pub fn set_region(&mut self, id: u32, region: u32) -> Result<(), RingError> {
        if self.is_marked_for_removal(id) {
            return Err(RingError::DeviceMarkedForRemoval(id));
        }
        self.dev_mut(id)?.region = region;
        self.changed();
        Ok(())
    }

    pub fn set_zone(&mut self, id: u32, zone: u32) -> Result<(), RingError> {
        if self.is_marked_for_removal(id) {
            return Err(RingError::DeviceMarkedForRemoval(id));
        }
        self.dev_mut(id)?.zone = zone;
        self.changed();
        Ok(())
    }

    /// Changes a device's address, name or meta (not its placement: no rebalance needed,
    /// only a new ring file).
    pub fn set_info(&mut self, id: u32, info: &DeviceInfo) -> Result<(), RingError> {
        let mut dev = self.device(id).cloned().ok_or(RingError::NoSuchDevice(id))?;
        if let Some(ip) = &info.ip {
            dev.ip = normalize_ip(ip);
        }
        if let Some(port) = info.port {
            dev.port = port;
        }
        if let Some(ip) = &info.replication_ip {
            dev.replication_ip = normalize_ip(ip);
        }
        if let Some(port) = info.replication_port {
            dev.replication_port = port;
        }
        if let Some(name) = &info.device {
            dev.device = name.clone();
        }
        if let Some(meta) = &info.meta {
            dev.meta = meta.clone();
        }
        dev.check()?;
        self.check_unique_address(&dev, Some(id))?;
        *self.dev_mut(id)? = dev;
        self.changed();
        Ok(())
    }

    /// How far (0.1 = 10%) a device may exceed its weighted share to improve dispersion.
    pub fn set_overload(&mut self, overload: f64) -> Result<(), RingError> {
        if !overload.is_finite() || overload < 0.0 {
            return Err(RingError::InvalidArgument(format!("overload must be non-negative, not {overload}")));
        }
        self.overload = overload;
        self.version += 1;
        Ok(())
    }

    /// Changes the replica count; takes effect at the next rebalance.
    pub fn set_replicas(&mut self, replicas: f64) -> Result<(), RingError> {
        check_replicas(replicas)?;
        if row_lengths(self.parts(), replicas) != row_lengths(self.parts(), self.replicas) {
            self.devs_changed = true;
        }
        self.replicas = replicas;
        self.version += 1;
        Ok(())
    }

    pub fn set_min_part_hours(&mut self, hours: u32) {
        self.min_part_hours = hours;
        self.version += 1;
    }

    /// Devices matching a filter, in id order.
    pub fn search(&self, filter: &DeviceFilter) -> Vec<&Device> {
        self.devices().filter(|d| filter.matches(d)).collect()
    }

    /// Partitions with a replica on any of `ids`, most matches first, then by partition.
    pub fn parts_on_devices(&self, ids: &[u32]) -> Vec<(u32, usize)> {
        let mut hits = vec![0u8; self.parts() as usize];
        for row in &self.replica2part2dev {
            for (p, &d) in row.iter().enumerate() {
                if ids.contains(&u32::from(d)) {
                    hits[p] += 1;
                }
            }
        }
        let mut out: Vec<(u32, usize)> =
            hits.iter().enumerate().filter(|(_, &h)| h > 0).map(|(p, &h)| (p as u32, usize::from(h))).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Rebalances now with a seed (random if `None`).
    pub fn rebalance(&mut self, seed: Option<u64>) -> Result<RebalanceReport, RingError> {
        self.rebalance_with(seed.unwrap_or_else(rand::random), now_secs(), &mut |_| {})
    }

    /// Rebalances as if the time were `now` (Unix seconds), reporting progress.
    pub fn rebalance_with(
        &mut self,
        seed: u64,
        now: u64,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<RebalanceReport, RingError> {
        rebalance::run(self, seed, now, progress)
    }

    /// Lets the next rebalance move any partition, as if `min_part_hours` had passed.
    pub fn pretend_min_part_hours_passed(&mut self) {
        self.last_move_hour.iter_mut().for_each(|h| *h = 0);
        self.last_rebalance = 0;
    }

    /// Whether a partition may move at `now` under `min_part_hours`.
    pub fn can_part_move(&self, part: u32, now: u64) -> bool {
        let last = self.last_move_hour.get(part as usize).copied().unwrap_or(0);
        (now / 3600).saturating_sub(u64::from(last)) >= u64::from(self.min_part_hours)
    }

    /// Seconds until `min_part_hours` have passed since the last rebalance that moved parts.
    pub fn min_part_seconds_left(&self, now: u64) -> u64 {
        (u64::from(self.min_part_hours) * 3600).saturating_sub(now.saturating_sub(self.last_rebalance))
    }

    /// The largest percentage by which any device is off its weighted share of
    /// partition-replicas (999.99 for a zero-weight device that still holds some).
    pub fn balance(&self) -> f64 {
        stats::balance(self)
    }

    /// Per device id: its balance (see [`RingBuilder::balance`]).
    pub fn device_balance(&self, id: u32) -> f64 {
        stats::device_balance(self, id)
    }

    /// The dispersion report of the current table (`filter`: only tiers whose name starts
    /// with it).
    pub fn dispersion_report(&self, filter: Option<&str>) -> stats::DispersionReport {
        stats::dispersion_report(self, filter)
    }

    /// The smallest overload that would allow full dispersion.
    pub fn required_overload(&self) -> Result<f64, RingError> {
        rebalance::required_overload(self)
    }

    /// The ring servers load.
    pub fn get_ring(&self) -> Ring {
        Ring::from_builder(self.part_power, self.version, self.devs.clone(), self.replica2part2dev.clone())
    }

    /// Checks the assignment table: every slot on a present device, no partition twice on
    /// one device, only the last replica row short, per-device counts consistent.
    pub fn validate(&self) -> Result<(), RingError> {
        let parts = self.parts() as usize;
        if self.replica2part2dev.is_empty() {
            return Err(RingError::NotRebalanced);
        }
        let rows = &self.replica2part2dev;
        for (r, row) in rows.iter().enumerate() {
            if row.len() > parts || (row.len() < parts && r + 1 != rows.len()) {
                return Err(RingError::Validation(format!("replica row {r} has {} partitions", row.len())));
            }
        }
        let mut counted = vec![0u32; self.devs.len()];
        let mut seen: Vec<u16> = Vec::with_capacity(rows.len());
        for p in 0..parts {
            seen.clear();
            for (r, row) in rows.iter().enumerate() {
                let Some(&d) = row.get(p) else { continue };
                if d == NONE_DEV || self.device(u32::from(d)).is_none() {
                    return Err(RingError::Validation(format!("partition {p} replica {r} is not on a device")));
                }
                if seen.contains(&d) {
                    return Err(RingError::Validation(format!("partition {p} has two replicas on device {d}")));
                }
                seen.push(d);
                counted[d as usize] += 1;
            }
        }
        if counted != self.dev_parts {
            return Err(RingError::Validation("device partition counts do not match the table".into()));
        }
        for dev in self.devices() {
            if dev.port == 0 {
                return Err(RingError::Validation(format!("device {} has port 0", dev.id)));
            }
        }
        Ok(())
    }

    /// Recounts partition-replicas per device from the table.
    pub(crate) fn recount(&mut self) {
        let mut counts = vec![0u32; self.devs.len()];
        for row in &self.replica2part2dev {
            for &d in row {
                if let Some(c) = counts.get_mut(d as usize) {
                    *c += 1;
                }
            }
        }
        self.dev_parts = counts;
    }
}

fn check_replicas(replicas: f64) -> Result<(), RingError> {
    if replicas.is_finite() && (1.0..=255.0).contains(&replicas) {
        Ok(())
    } else {
        Err(RingError::InvalidArgument(format!("replica count must be between 1 and 255, not {replicas}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> RingBuilder {
        let mut b = RingBuilder::new(4, 2.0, 1).unwrap();
        for id in 0..3u32 {
            b.add_new_device(NewDevice::parse(&format!("r1z{}-10.0.0.{id}:6200/sdb", id + 1), 1.0).unwrap()).unwrap();
        }
        b.rebalance(Some(1)).unwrap();
        b
    }

    #[test]
    fn validate_catches_broken_tables() {
        let good = small();
        good.validate().unwrap();

        let mut dup = good.clone();
        dup.replica2part2dev[1][0] = dup.replica2part2dev[0][0];
        dup.recount();
        assert!(matches!(dup.validate(), Err(RingError::Validation(m)) if m.contains("two replicas")));

        let mut hole = good.clone();
        hole.replica2part2dev[0][3] = NONE_DEV;
        hole.recount();
        assert!(matches!(hole.validate(), Err(RingError::Validation(m)) if m.contains("not on a device")));

        let mut short = good.clone();
        short.replica2part2dev[0].pop();
        short.recount();
        assert!(short.validate().is_err(), "only the last row may be short");

        let mut miscounted = good.clone();
        miscounted.dev_parts[0] += 1;
        assert!(matches!(miscounted.validate(), Err(RingError::Validation(m)) if m.contains("counts")));
    }

    #[test]
    fn ids_fill_holes_and_marked_devices_are_frozen() {
        let mut b = small();
        b.remove_dev(1).unwrap();
        assert!(matches!(b.set_weight(1, 5.0), Err(RingError::DeviceMarkedForRemoval(1))));
        assert!(matches!(b.set_zone(1, 5), Err(RingError::DeviceMarkedForRemoval(1))));
        b.rebalance(Some(1)).unwrap();
        assert_eq!(b.next_device_id(), 1, "the removed id is free again");
        assert!(matches!(b.set_weight(9, 1.0), Err(RingError::NoSuchDevice(9))));
        assert!(b.set_weight(0, f64::NAN).is_err());
        assert!(b.set_overload(-0.5).is_err());
    }

    #[test]
    fn row_lengths_follow_fractional_replicas() {
        assert_eq!(row_lengths(16, 3.0), vec![16, 16, 16]);
        assert_eq!(row_lengths(16, 2.25), vec![16, 16, 4]);
        assert_eq!(row_lengths(16, 1.01), vec![16], "a fraction below one partition adds no row");
    }

    #[test]
    fn min_part_hours_clock() {
        let mut b = small();
        b.min_part_hours = 2;
        b.last_move_hour = vec![100; 16];
        assert!(!b.can_part_move(0, 101 * 3600));
        assert!(b.can_part_move(0, 102 * 3600));
        b.last_rebalance = 1000;
        assert_eq!(b.min_part_seconds_left(1000 + 3600), 3600);
        b.pretend_min_part_hours_passed();
        assert!(b.can_part_move(0, 101 * 3600));
        assert_eq!(b.min_part_seconds_left(1_700_000_000), 0);
    }
}
