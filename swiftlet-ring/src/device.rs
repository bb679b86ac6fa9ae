//! Devices, and the operator's compact syntax for naming them
//! (`r1z2-10.0.0.1:6200R10.1.0.1:6300/sdb1_meta`, as swift-ring-builder spells it).

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::RingError;

/// The largest device id: ids are stored as `u16` and `u16::MAX` marks "no device".
pub const MAX_DEVICE_ID: u32 = 65534;

/// One disk of one storage node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub id: u32,
    pub region: u32,
    pub zone: u32,
    pub ip: String,
    pub port: u16,
    pub replication_ip: String,
    pub replication_port: u16,
    /// The device's directory name under the server's devices root (e.g. `sdb1`).
    pub device: String,
    pub weight: f64,
    pub meta: String,
}

impl Device {
    /// A device in `(region, zone)` serving on `(ip, port)` that replicates over that same
    /// address (no separate replication network), with no meta.
    pub fn new(
        id: u32,
        (region, zone): (u32, u32),
        (ip, port): (&str, u16),
        device: impl Into<String>,
        weight: f64,
    ) -> Device {
        Device {
            id,
            region,
            zone,
            ip: ip.into(),
            port,
            replication_ip: ip.into(),
            replication_port: port,
            device: device.into(),
            weight,
            meta: String::new(),
        }
    }

    /// Checks what the builder relies on: a valid id, a sane weight, a safe device name.
    pub fn check(&self) -> Result<(), RingError> {
        if self.id > MAX_DEVICE_ID {
            return Err(RingError::InvalidArgument(format!("device id {} is above {MAX_DEVICE_ID}", self.id)));
        }
        check_weight(self.weight)?;
        common::path::validate_device(&self.device)
            .map_err(|_| RingError::InvalidArgument(format!("invalid device name {:?}", self.device)))?;
        if self.ip.is_empty() || self.replication_ip.is_empty() {
            return Err(RingError::InvalidArgument("device ip and replication ip must not be empty".into()));
        }
        Ok(())
    }

    /// `d<id>r<region>z<zone>-<ip>:<port>R<rip>:<rport>/<device>_"<meta>"`, for messages.
    pub fn describe(&self) -> String {
        format!(
            "d{}r{}z{}-{}:{}R{}:{}/{}_\"{}\"",
            self.id,
            self.region,
            self.zone,
            bracket(&self.ip),
            self.port,
            bracket(&self.replication_ip),
            self.replication_port,
            self.device,
            self.meta
        )
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Brackets IPv6 addresses so `ip:port` stays readable.
pub fn bracket(ip: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip.to_string()
    }
}

pub(crate) fn check_weight(weight: f64) -> Result<(), RingError> {
    if weight.is_finite() && weight >= 0.0 {
        Ok(())
    } else {
        Err(RingError::InvalidArgument(format!("weight must be a non-negative number, not {weight}")))
    }
}

/// One canonical spelling per address, so searches match however the operator typed it.
pub fn normalize_ip(ip: &str) -> String {
    let bare = ip.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(addr) => addr.to_string(),
        Err(_) => bare.to_ascii_lowercase(),
    }
}

/// The changes `set_info` applies; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceInfo {
    pub ip: Option<String>,
    pub port: Option<u16>,
    pub replication_ip: Option<String>,
    pub replication_port: Option<u16>,
    pub device: Option<String>,
    pub meta: Option<String>,
}

impl DeviceInfo {
    pub fn is_empty(&self) -> bool {
        *self == DeviceInfo::default()
    }

    /// Parses `<ip>:<port>R<rip>:<rport>/<device>_<meta>`, every part optional.
    pub fn parse(value: &str) -> Result<DeviceInfo, RingError> {
        let bad = || RingError::InvalidArgument(format!("invalid change value {value:?}"));
        let mut info = DeviceInfo::default();
        let mut rest = value;
        let (ip, port, after) = parse_opt_address(rest).ok_or_else(bad)?;
        info.ip = ip;
        info.port = port;
        rest = after;
        if let Some(r) = rest.strip_prefix('R') {
            let (ip, port, after) = parse_opt_address(r).ok_or_else(bad)?;
            info.replication_ip = ip;
            info.replication_port = port;
            rest = after;
        }
        if let Some(r) = rest.strip_prefix('/') {
            let end = r.find('_').unwrap_or(r.len());
            info.device = Some(r[..end].to_string());
            rest = &r[end..];
        }
        if let Some(r) = rest.strip_prefix('_') {
            info.meta = Some(r.to_string());
            rest = "";
        }
        if !rest.is_empty() || info.is_empty() {
            return Err(bad());
        }
        Ok(info)
    }
}

/// Which devices a search value selects; `None` fields match anything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceFilter {
    pub id: Option<u32>,
    pub region: Option<u32>,
    pub zone: Option<u32>,
    pub ip: Option<String>,
    pub port: Option<u16>,
    pub replication_ip: Option<String>,
    pub replication_port: Option<u16>,
    pub device: Option<String>,
    pub weight: Option<f64>,
    /// Matches when the device's meta contains this text.
    pub meta: Option<String>,
}

impl DeviceFilter {
    pub fn is_empty(&self) -> bool {
        *self == DeviceFilter::default()
    }

    pub fn matches(&self, dev: &Device) -> bool {
        fn ok<T>(want: &Option<T>, test: impl FnOnce(&T) -> bool) -> bool {
            want.as_ref().is_none_or(test)
        }
        ok(&self.id, |v| *v == dev.id)
            && ok(&self.region, |v| *v == dev.region)
            && ok(&self.zone, |v| *v == dev.zone)
            && ok(&self.ip, |v| normalize_ip(v) == normalize_ip(&dev.ip))
            && ok(&self.port, |v| *v == dev.port)
            && ok(&self.replication_ip, |v| normalize_ip(v) == normalize_ip(&dev.replication_ip))
            && ok(&self.replication_port, |v| *v == dev.replication_port)
            && ok(&self.device, |v| *v == dev.device)
            && ok(&self.weight, |v| *v == dev.weight)
            && ok(&self.meta, |v| dev.meta.contains(v.as_str()))
    }

    /// Parses `d<id>r<region>z<zone>-<ip>:<port>R<rip>:<rport>/<device>_<meta>`; every part
    /// is optional but at least one must be given and nothing may be left over.
    pub fn parse(value: &str) -> Result<DeviceFilter, RingError> {
        let bad = || RingError::InvalidArgument(format!("invalid search value {value:?}"));
        let mut f = DeviceFilter::default();
        let mut rest = value;
        if let Some((n, after)) = take_number(rest, 'd') {
            f.id = Some(n.ok_or_else(bad)?);
            rest = after;
        }
        if let Some((n, after)) = take_number(rest, 'r') {
            f.region = Some(n.ok_or_else(bad)?);
            rest = after;
        }
        if let Some((n, after)) = take_number(rest, 'z') {
            f.zone = Some(n.ok_or_else(bad)?);
            rest = after;
        }
        rest = rest.strip_prefix('-').unwrap_or(rest);
        let (ip, port, after) = parse_opt_address(rest).ok_or_else(bad)?;
        f.ip = ip;
        f.port = port;
        rest = after;
        if let Some(r) = rest.strip_prefix('R') {
            let (ip, port, after) = parse_opt_address(r).ok_or_else(bad)?;
            f.replication_ip = ip;
            f.replication_port = port;
            rest = after;
        }
        if let Some(r) = rest.strip_prefix('/') {
            let end = r.find('_').unwrap_or(r.len());
            f.device = Some(r[..end].to_string());
            rest = &r[end..];
        }
        if let Some(r) = rest.strip_prefix('_') {
            f.meta = Some(r.trim_matches('"').to_string());
            rest = "";
        }
        if !rest.is_empty() || f.is_empty() {
            return Err(bad());
        }
        Ok(f)
    }
}

/// A device as the operator adds it; the id is chosen by the builder when absent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDevice {
    pub id: Option<u32>,
    pub region: u32,
    pub zone: u32,
    pub ip: String,
    pub port: u16,
    pub replication_ip: Option<String>,
    pub replication_port: Option<u16>,
    pub device: String,
    pub weight: f64,
    pub meta: String,
}

impl NewDevice {
    /// Parses `[r<region>]z<zone>-<ip>:<port>[R<rip>:<rport>]/<device>[_<meta>]` and a weight.
    /// A missing region means region 1.
    pub fn parse(value: &str, weight: f64) -> Result<NewDevice, RingError> {
        let bad = |why: &str| RingError::InvalidArgument(format!("invalid device {value:?}: {why}"));
        let mut rest = value;
        let mut region = 1;
        if let Some((n, after)) = take_number(rest, 'r') {
            region = n.ok_or_else(|| bad("bad region"))?;
            rest = after;
        }
        let (zone, after) = take_number(rest, 'z').ok_or_else(|| bad("missing z<zone>"))?;
        let zone = zone.ok_or_else(|| bad("bad zone"))?;
        rest = after.strip_prefix('-').ok_or_else(|| bad("missing -<ip>:<port>"))?;
        let (ip, port, after) = parse_opt_address(rest).ok_or_else(|| bad("bad address"))?;
        let (Some(ip), Some(port)) = (ip, port) else { return Err(bad("need <ip>:<port>")) };
        rest = after;
        let (mut replication_ip, mut replication_port) = (None, None);
        if let Some(r) = rest.strip_prefix('R') {
            let (rip, rport, after) = parse_opt_address(r).ok_or_else(|| bad("bad replication address"))?;
            replication_ip = rip;
            replication_port = rport;
            rest = after;
        }
        let r = rest.strip_prefix('/').ok_or_else(|| bad("missing /<device>"))?;
        let end = r.find('_').unwrap_or(r.len());
        let device = r[..end].to_string();
        let meta = r[end..].strip_prefix('_').unwrap_or("").to_string();
        Ok(NewDevice { id: None, region, zone, ip, port, replication_ip, replication_port, device, weight, meta })
    }

    /// The device this becomes once it has an id (replication address defaults to the main one).
    pub fn into_device(self, id: u32) -> Device {
        Device {
            id,
            region: self.region,
            zone: self.zone,
            replication_ip: normalize_ip(self.replication_ip.as_deref().unwrap_or(&self.ip)),
            ip: normalize_ip(&self.ip),
            replication_port: self.replication_port.unwrap_or(self.port),
            port: self.port,
            device: self.device,
            weight: self.weight,
            meta: self.meta,
        }
    }
}

/// `<letter><digits>` at the start of `s`: `None` if the letter is absent, `Some((None, _))`
/// if the letter is there but the number is not.
fn take_number(s: &str, letter: char) -> Option<(Option<u32>, &str)> {
    let r = s.strip_prefix(letter)?;
    let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
    Some((r[..end].parse().ok(), &r[end..]))
}

/// An optional `<ip>` (`1.2.3.4`, `[::1]` or a hostname) and optional `:<port>`, ending at
/// `R`, `/`, `_` or the end. Returns `None` when what is there is malformed.
fn parse_opt_address(s: &str) -> Option<(Option<String>, Option<u16>, &str)> {
    let (ip, rest) = if let Some(r) = s.strip_prefix('[') {
        let end = r.find(']')?;
        (Some(normalize_ip(&r[..end])), &r[end + 1..])
    } else {
        let end = s.find([':', 'R', '/', '_']).unwrap_or(s.len());
        let host = &s[..end];
        if host.is_empty() {
            (None, s)
        } else if host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
            (Some(normalize_ip(host)), &s[end..])
        } else {
            return None;
        }
    };
    if let Some(r) = rest.strip_prefix(':') {
        let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        let port = r[..end].parse::<u16>().ok()?;
        return Some((ip, Some(port), &r[end..]));
    }
    Some((ip, None, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_add_values() {
        let d = NewDevice::parse("r2z3-10.0.0.1:6200R10.1.0.1:6300/sdb1_fast disk", 100.0).unwrap();
        assert_eq!((d.region, d.zone, d.ip.as_str(), d.port), (2, 3, "10.0.0.1", 6200));
        assert_eq!((d.replication_ip.as_deref(), d.replication_port), (Some("10.1.0.1"), Some(6300)));
        assert_eq!((d.device.as_str(), d.meta.as_str()), ("sdb1", "fast disk"));
        let d = NewDevice::parse("z1-[::1]:6200/sdc", 1.0).unwrap().into_device(7);
        assert_eq!((d.region, d.ip.as_str(), d.replication_ip.as_str(), d.replication_port), (1, "::1", "::1", 6200));
        for bad in
            ["", "r1-1.2.3.4:5/sdb", "z1-1.2.3.4/sdb", "z1-1.2.3.4:99999/sdb", "z1-1.2.3.4:6000", "zx-1.2.3.4:1/a"]
        {
            assert!(NewDevice::parse(bad, 1.0).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_search_values() {
        let f = DeviceFilter::parse("d74r4z1-1.2.3.4:5678R5.6.7.8:9/sdb1_\"snet\"").unwrap();
        assert_eq!(
            (f.id, f.region, f.zone, f.port, f.replication_port),
            (Some(74), Some(4), Some(1), Some(5678), Some(9))
        );
        assert_eq!(
            (f.ip.as_deref(), f.device.as_deref(), f.meta.as_deref()),
            (Some("1.2.3.4"), Some("sdb1"), Some("snet"))
        );
        assert_eq!(DeviceFilter::parse(":6200").unwrap().port, Some(6200));
        assert_eq!(DeviceFilter::parse("1.2.3.4").unwrap().ip.as_deref(), Some("1.2.3.4"));
        assert_eq!(DeviceFilter::parse("/sdb").unwrap().device.as_deref(), Some("sdb"));
        assert_eq!(DeviceFilter::parse("z2").unwrap().zone, Some(2));
        for bad in ["", "d", "dx", "z1-1.2.3.4:notaport", "r1 z1", "%%%", "z1:"] {
            assert!(DeviceFilter::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn filter_matches_normalized_ips() {
        let dev = NewDevice::parse("r1z1-[0:0::1]:6200/sdb1_ssd", 1.0).unwrap().into_device(3);
        assert!(DeviceFilter::parse("[::1]").unwrap().matches(&dev));
        assert!(DeviceFilter::parse("d3_ss").unwrap().matches(&dev));
        assert!(!DeviceFilter::parse("d4").unwrap().matches(&dev));
    }

    #[test]
    fn parses_change_values() {
        let c = DeviceInfo::parse("10.0.0.9:6000/sdz_new").unwrap();
        assert_eq!(
            (c.ip.as_deref(), c.port, c.device.as_deref(), c.meta.as_deref()),
            (Some("10.0.0.9"), Some(6000), Some("sdz"), Some("new"))
        );
        assert_eq!(DeviceInfo::parse("_only meta").unwrap().meta.as_deref(), Some("only meta"));
        assert!(DeviceInfo::parse("").is_err());
        assert!(DeviceInfo::parse("1.2.3.4:x").is_err());
    }

    #[test]
    fn device_check_refuses_bad_values() {
        let mut d = NewDevice::parse("z1-1.2.3.4:1/sdb", 1.0).unwrap().into_device(1);
        assert!(d.check().is_ok());
        d.weight = -1.0;
        assert!(d.check().is_err());
        d.weight = 1.0;
        d.device = "..".into();
        assert!(d.check().is_err());
        d.device = "sdb".into();
        d.id = 70000;
        assert!(d.check().is_err());
    }
}
