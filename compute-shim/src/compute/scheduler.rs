//! Picks a compute host for a new server: among the hosts whose driver suits the image
//! (its `hypervisor_type` property, as Nova's ImagePropertiesFilter) and that have room for
//! the flavor's RAM, the one with the most free RAM (Nova's RAM weigher).

use crate::config::DriverKind;

/// A host as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostState {
    pub name: String,
    pub driver: DriverKind,
    pub ram_mb: u64,
    /// RAM of the flavors of the servers placed on it.
    pub used_mb: u64,
}

pub const NO_VALID_HOST: &str = "No valid host was found. There are not enough hosts available.";

pub fn pick<'a>(hosts: &'a [HostState], ram_mb: u64, hypervisor_type: Option<&str>) -> Option<&'a HostState> {
    hosts
        .iter()
        .filter(|h| hypervisor_type.is_none_or(|t| t.eq_ignore_ascii_case(h.driver.name())))
        .filter(|h| h.ram_mb.saturating_sub(h.used_mb) >= ram_mb)
        .max_by_key(|h| (h.ram_mb.saturating_sub(h.used_mb), std::cmp::Reverse(h.name.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, driver: DriverKind, ram: u64, used: u64) -> HostState {
        HostState { name: name.into(), driver, ram_mb: ram, used_mb: used }
    }

    #[test]
    fn most_free_ram_that_fits() {
        let hosts = [host("a", DriverKind::Qemu, 4096, 0), host("b", DriverKind::Process, 8192, 6144)];
        assert_eq!(pick(&hosts, 512, None).unwrap().name, "a", "4096 free beats 2048 free");
        assert_eq!(pick(&hosts, 512, Some("process")).unwrap().name, "b");
        assert_eq!(pick(&hosts, 512, Some("QEMU")).unwrap().name, "a");
        assert!(pick(&hosts, 4097, None).is_none());
        assert!(pick(&hosts, 512, Some("xen")).is_none());
        let tie = [host("y", DriverKind::Process, 100, 0), host("x", DriverKind::Process, 100, 0)];
        assert_eq!(pick(&tie, 1, None).unwrap().name, "x", "ties break by name");
    }
}
