//! Device commands: add, remove, set_weight, set_region, set_zone, set_info, search, list_parts.

use std::io::{BufRead, IsTerminal, Write};

use swiftlet_ring::{Device, DeviceFilter, DeviceInfo, NewDevice, RingBuilder};

use crate::cli::{AddArgs, FilterFlags, PairArgs, SearchArgs, SetInfoArgs};
use crate::{show, CmdResult, Fail, Files, Status};

impl FilterFlags {
    fn to_filter(&self) -> DeviceFilter {
        let d = self.device.clone();
        DeviceFilter {
            id: d.id,
            region: d.region,
            zone: d.zone,
            ip: d.ip,
            port: d.port,
            replication_ip: d.replication_ip,
            replication_port: d.replication_port,
            device: d.device,
            weight: d.weight,
            meta: self.meta.clone(),
        }
    }
}

/// The filters of a command: search values, or flags, never both.
fn filters(values: &[String], flags: &FilterFlags) -> Result<Vec<DeviceFilter>, Fail> {
    let from_flags = flags.to_filter();
    match (values.is_empty(), from_flags.is_empty()) {
        (false, true) => values.iter().map(|v| DeviceFilter::parse(v).map_err(Fail::from)).collect(),
        (true, false) => Ok(vec![from_flags]),
        (false, false) => Err(Fail("give search values or filter flags, not both".into())),
        (true, true) => Err(Fail("no search value given (see --help)".into())),
    }
}

/// The ids a filter selects; several need `--yes` (or a "y" at the terminal).
fn select(b: &RingBuilder, filter: &DeviceFilter, yes: bool, what: &str) -> Result<Vec<u32>, Fail> {
    let devs = b.search(filter);
    if devs.is_empty() {
        return Err(Fail("search value matched 0 devices; the builder file is unchanged".into()));
    }
    if devs.len() > 1 && !yes {
        println!("Matched more than one device:");
        for d in &devs {
            println!("    {d}");
        }
        if !confirm(&format!("Are you sure you want to {what} these {} devices? (y/N) ", devs.len())) {
            return Err(Fail("aborted; the builder file is unchanged (pass --yes to skip this question)".into()));
        }
    }
    Ok(devs.iter().map(|d| d.id).collect())
}

fn confirm(question: &str) -> bool {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return false;
    }
    print!("{question}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    stdin.lock().read_line(&mut line).is_ok() && line.trim() == "y"
}

fn parse_weight(s: &str) -> Result<f64, Fail> {
    s.parse::<f64>().map_err(|_| Fail(format!("invalid weight {s:?}"))).and_then(check_weight)
}

fn check_weight(w: f64) -> Result<f64, Fail> {
    if w.is_finite() && w >= 0.0 {
        Ok(w)
    } else {
        Err(Fail(format!("invalid weight {w}: must be a non-negative number")))
    }
}

pub fn add(files: &Files, a: AddArgs) -> CmdResult {
    let mut b = files.load()?;
    let d = &a.device;
    let flags_used = d.region.is_some() || d.zone.is_some() || d.ip.is_some() || d.port.is_some() || d.device.is_some();
    let mut new_devs = Vec::new();
    if flags_used || d.weight.is_some() {
        if !a.values.is_empty() {
            return Err(Fail("give device values or flags, not both".into()));
        }
        let missing: Vec<&str> = [
            ("--zone", d.zone.is_none()),
            ("--ip", d.ip.is_none()),
            ("--port", d.port.is_none()),
            ("--device", d.device.is_none()),
            ("--weight", d.weight.is_none()),
        ]
        .iter()
        .filter(|m| m.1)
        .map(|m| m.0)
        .collect();
        if !missing.is_empty() {
            return Err(Fail(format!("missing {}", missing.join(", "))));
        }
        let weight = check_weight(d.weight.unwrap_or_default())?;
        new_devs.push(NewDevice {
            id: d.id,
            region: d.region.unwrap_or(1),
            zone: d.zone.unwrap_or_default(),
            ip: d.ip.clone().unwrap_or_default(),
            port: d.port.unwrap_or_default(),
            replication_ip: d.replication_ip.clone(),
            replication_port: d.replication_port,
            device: d.device.clone().unwrap_or_default(),
            weight,
            meta: a.meta.clone(),
        });
    } else {
        if a.values.is_empty() || !a.values.len().is_multiple_of(2) {
            return Err(Fail("add takes <device> <weight> pairs, e.g. r1z1-10.0.0.1:6200/sdb1 100".into()));
        }
        for pair in a.values.chunks(2) {
            new_devs.push(NewDevice::parse(&pair[0], parse_weight(&pair[1])?)?);
        }
    }
    for new in new_devs {
        let weight = new.weight;
        let id = b.add_new_device(new).map_err(|e| Fail(format!("{e}; the builder file is unchanged")))?;
        if let Some(dev) = b.device(id) {
            println!("Device {dev} with {weight} weight got id {id}");
        }
    }
    files.save(&b, false)?;
    Ok(Status::Ok)
}

pub fn remove(files: &Files, a: SearchArgs) -> CmdResult {
    let mut b = files.load()?;
    for filter in filters(&a.values, &a.filter)? {
        for id in select(&b, &filter, a.yes, "remove")? {
            b.remove_dev(id)?;
            if let Some(dev) = b.device(id) {
                println!("{dev} marked for removal and will be removed next rebalance.");
            }
        }
    }
    files.save(&b, false)?;
    Ok(Status::Ok)
}

/// `<search> <value>` pairs, or filter flags and a single value.
fn pairs(values: &[String], flags: &FilterFlags) -> Result<Vec<(DeviceFilter, String)>, Fail> {
    let from_flags = flags.to_filter();
    if !from_flags.is_empty() {
        return match values {
            [value] => Ok(vec![(from_flags, value.clone())]),
            _ => Err(Fail("with filter flags, give exactly one value".into())),
        };
    }
    if values.is_empty() || !values.len().is_multiple_of(2) {
        return Err(Fail("expected <search> <value> pairs".into()));
    }
    values.chunks(2).map(|p| Ok((DeviceFilter::parse(&p[0])?, p[1].clone()))).collect()
}

pub fn set_weight(files: &Files, a: PairArgs) -> CmdResult {
    let mut b = files.load()?;
    for (filter, value) in pairs(&a.values, &a.filter)? {
        let weight = parse_weight(&value)?;
        for id in select(&b, &filter, a.yes, "update the weight of")? {
            b.set_weight(id, weight)?;
            if let Some(dev) = b.device(id) {
                println!("{dev} weight set to {weight}");
            }
        }
    }
    files.save(&b, false)?;
    Ok(Status::Ok)
}

/// Which placement attribute `set_region` / `set_zone` changes.
pub enum Placement {
    Region,
    Zone,
}

pub fn set_placement(files: &Files, a: PairArgs, what: Placement) -> CmdResult {
    let mut b = files.load()?;
    let name = match what {
        Placement::Region => "region",
        Placement::Zone => "zone",
    };
    for (filter, value) in pairs(&a.values, &a.filter)? {
        let v: u32 = value.parse().map_err(|_| Fail(format!("invalid {name} {value:?}")))?;
        for id in select(&b, &filter, a.yes, &format!("update the {name} of"))? {
            match what {
                Placement::Region => b.set_region(id, v)?,
                Placement::Zone => b.set_zone(id, v)?,
            }
            if let Some(dev) = b.device(id) {
                println!("{dev} {name} set to {v}");
            }
        }
    }
    files.save(&b, false)?;
    Ok(Status::Ok)
}

pub fn set_info(files: &Files, a: SetInfoArgs) -> CmdResult {
    let mut b = files.load()?;
    let flag_change = DeviceInfo {
        ip: a.change_ip.clone(),
        port: a.change_port,
        replication_ip: a.change_replication_ip.clone(),
        replication_port: a.change_replication_port,
        device: a.change_device.clone(),
        meta: a.change_meta.clone(),
    };
    let jobs: Vec<(DeviceFilter, DeviceInfo)> = if flag_change.is_empty() {
        if a.values.is_empty() || !a.values.len().is_multiple_of(2) {
            return Err(Fail("set_info takes <search> <change> pairs".into()));
        }
        a.values
            .chunks(2)
            .map(|p| Ok((DeviceFilter::parse(&p[0])?, DeviceInfo::parse(&p[1])?)))
            .collect::<Result<_, Fail>>()?
    } else {
        filters(&a.values, &a.filter)?.into_iter().map(|f| (f, flag_change.clone())).collect()
    };
    for (filter, change) in jobs {
        for id in select(&b, &filter, a.yes, "update the info of")? {
            let before = b.device(id).map(Device::describe).unwrap_or_default();
            b.set_info(id, &change).map_err(|e| Fail(format!("{e}; the builder file is unchanged")))?;
            if let Some(dev) = b.device(id) {
                println!("Device {before} is now {dev}");
            }
        }
    }
    files.save(&b, false)?;
    Ok(Status::Ok)
}

pub fn search(files: &Files, a: SearchArgs) -> CmdResult {
    let b = files.load()?;
    let mut found: Vec<&Device> = Vec::new();
    for filter in filters(&a.values, &a.filter)? {
        for d in b.search(&filter) {
            if !found.iter().any(|f| f.id == d.id) {
                found.push(d);
            }
        }
    }
    if found.is_empty() {
        return Err(Fail("no matching devices found".into()));
    }
    show::device_table(&b, found.into_iter());
    Ok(Status::Ok)
}

pub fn list_parts(files: &Files, a: SearchArgs) -> CmdResult {
    let b = files.load()?;
    if !b.ever_rebalanced() {
        return Err(Fail(format!("{} is not rebalanced yet; rebalance first", files.builder.display())));
    }
    let mut ids = Vec::new();
    for filter in filters(&a.values, &a.filter)? {
        ids.extend(b.search(&filter).iter().map(|d| d.id));
    }
    if ids.is_empty() {
        return Err(Fail("no matching devices found".into()));
    }
    println!("Partition   Matches");
    for (part, matches) in b.parts_on_devices(&ids) {
        println!("{part:>9}   {matches:>7}");
    }
    Ok(Status::Ok)
}
