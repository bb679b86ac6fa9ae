//! Output: the summary (no command), device tables and the dispersion table.

use std::collections::BTreeSet;

use swiftlet_ring::device::bracket;
use swiftlet_ring::{Device, DispersionReport, Ring, RingBuilder};

use crate::{CmdResult, Files, Status};

/// `1 day, 2:03:04`-style durations.
pub fn duration(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let hms = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {hms}"),
        d => format!("{d} days, {hms}"),
    }
}

/// Whether the ring file holds what the builder would write now; `false` if it is invalid.
fn ring_status(files: &Files, b: &RingBuilder) -> (String, bool) {
    let path = files.ring.display();
    if !files.ring.exists() {
        return (format!("Ring file {path} not found, probably it hasn't been written yet"), true);
    }
    let text = match Ring::load(&files.ring) {
        Err(e) => return (format!("Ring file {path} is invalid: {e}"), false),
        Ok(ring) => {
            let fresh = b.get_ring();
            let same = ring.part_power() == fresh.part_power()
                && ring.device_slots() == fresh.device_slots()
                && ring.replica2part2dev() == fresh.replica2part2dev();
            if same {
                format!("Ring file {path} is up-to-date")
            } else {
                format!("Ring file {path} is obsolete")
            }
        }
    };
    (text, true)
}

pub fn summary(files: &Files) -> CmdResult {
    let b = files.load()?;
    println!("{}, build version {}, id {}", files.builder.display(), b.version(), b.id());
    let regions: BTreeSet<u32> = b.devices().map(|d| d.region).collect();
    let zones: BTreeSet<(u32, u32)> = b.devices().map(|d| (d.region, d.zone)).collect();
    let dispersion = b.dispersion().map(|d| format!(", {d:.2} dispersion")).unwrap_or_default();
    println!(
        "{} partitions, {:.6} replicas, {} regions, {} zones, {} devices, {:.2} balance{}",
        b.parts(),
        b.replicas(),
        regions.len(),
        zones.len(),
        b.devices().count(),
        b.balance(),
        dispersion
    );
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    println!(
        "The minimum number of hours before a partition can be reassigned is {} ({} remaining)",
        b.min_part_hours(),
        duration(b.min_part_seconds_left(now))
    );
    println!("The overload factor is {:.2}% ({:.6})", b.overload() * 100.0, b.overload());
    let (ring_line, ring_ok) = ring_status(files, &b);
    println!("{ring_line}");
    let mut devs: Vec<&Device> = b.devices().collect();
    devs.sort_by(|x, y| (x.region, x.zone, &x.ip, &x.device).cmp(&(y.region, y.zone, &y.ip, &y.device)));
    device_table(&b, devs.into_iter());
    if b.devices().next().is_some() && b.devices().all(|d| d.weight == 0.0) {
        println!("There are no devices with weight in this ring.");
    }
    Ok(if ring_ok { Status::Ok } else { Status::Warning })
}

/// The device table, swift-ring-builder style.
pub fn device_table<'a>(b: &RingBuilder, devs: impl Iterator<Item = &'a Device>) {
    let devs: Vec<&Device> = devs.collect();
    let addr = |ip: &str, port: u16| format!("{}:{port}", bracket(ip));
    let aw = devs.iter().map(|d| addr(&d.ip, d.port).len()).max().unwrap_or(0).max(15);
    let rw = devs.iter().map(|d| addr(&d.replication_ip, d.replication_port).len()).max().unwrap_or(0).max(19);
    let nw = devs.iter().map(|d| d.device.len()).max().unwrap_or(0).max(4);
    println!(
        "Devices: {:>5} {:>6} {:>4} {:>aw$} {:>rw$} {:>nw$} {:>8} {:>10} {:>7} {:>5} meta",
        "id",
        "region",
        "zone",
        "ip address:port",
        "replication ip:port",
        "name",
        "weight",
        "partitions",
        "balance",
        "flags"
    );
    for d in devs {
        let flags = if b.is_marked_for_removal(d.id) { "DEL" } else { "" };
        println!(
            "         {:>5} {:>6} {:>4} {:>aw$} {:>rw$} {:>nw$} {:>8.2} {:>10} {:>7.2} {:>5} {}",
            d.id,
            d.region,
            d.zone,
            addr(&d.ip, d.port),
            addr(&d.replication_ip, d.replication_port),
            d.device,
            d.weight,
            b.device_parts(d.id),
            b.device_balance(d.id),
            flags,
            d.meta
        );
    }
}

/// Per-tier rows of `dispersion -v`.
pub fn dispersion_table(b: &RingBuilder, report: &DispersionReport) {
    let columns = b.replica2part2dev().len() + 1;
    let cw = b.parts().to_string().len().max(5);
    let tw = report.tiers.iter().map(|t| t.name.len()).max().unwrap_or(0).max(30);
    let counts_header: Vec<String> = (0..columns).map(|k| format!("{k:>cw$}")).collect();
    let header = format!("{:<tw$} {:>cw$} {:>6} {:>6} {}", "Tier", "Parts", "%", "Max", counts_header.join(" "));
    println!("{}", "-".repeat(header.len()));
    println!("{header}");
    println!("{}", "-".repeat(header.len()));
    for t in &report.tiers {
        let counts: Vec<String> = t.replicas.iter().map(|c| format!("{c:>cw$}")).collect();
        println!(
            "{:<tw$} {:>cw$} {:>6.2} {:>6} {}",
            t.name,
            t.placed_parts,
            t.dispersion,
            t.max_replicas,
            counts.join(" ")
        );
    }
}
