//! Ring-wide commands: rebalance, dispersion, validate, write_ring, and the settings.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use swiftlet_ring::stats::MAX_BALANCE;
use swiftlet_ring::{Progress, Ring, RING_FORMAT_VERSION};

use crate::cli::GetNodesArgs;
use crate::{show, CmdResult, Fail, Files, Status};

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Prints progress to stderr once a rebalance has run for a second, then every second.
fn progress_printer() -> impl FnMut(Progress) {
    let start = Instant::now();
    let mut next = start + Duration::from_secs(1);
    move |p: Progress| {
        let now = Instant::now();
        if now >= next && p.total > 0 && p.phase != "done" {
            eprintln!(
                "rebalance: {} {:.0}% ({}/{}) after {:.1}s",
                p.phase,
                100.0 * p.done as f64 / p.total as f64,
                p.done,
                p.total,
                (now - start).as_secs_f64()
            );
            next = now + Duration::from_secs(1);
        }
    }
}

pub fn rebalance(files: &Files, force: bool, seed: Option<u64>) -> CmdResult {
    let mut b = files.load()?;
    let devs_changed = b.devs_changed();
    let last_balance = b.ever_rebalanced().then(|| b.balance());
    let last_dispersion = b.dispersion();
    let now = now_secs();
    let seconds_left = b.min_part_seconds_left(now);
    let seed = seed.unwrap_or_else(rand::random);
    let report = b.rebalance_with(seed, now, &mut progress_printer()).map_err(|e| {
        Fail(format!(
            "rebalance failed: {e}\nCommon causes: a ring with no devices (or no weight), or fewer devices than replicas."
        ))
    })?;
    if report.moved == 0 && report.removed_devices == 0 && !force {
        println!("No partitions could be reassigned.");
        if seconds_left > 0 {
            println!(
                "The time between rebalances must be at least min_part_hours: {} hours ({} remaining)",
                b.min_part_hours(),
                show::duration(seconds_left)
            );
        } else {
            println!("There is no need to do so at this time");
        }
        return Ok(Status::Warning);
    }
    let balance_changed = last_balance.is_none_or(|last| {
        (last - report.balance).abs() >= 1.0 || (last == MAX_BALANCE && report.balance == MAX_BALANCE)
    });
    let dispersion_changed = last_dispersion.is_none_or(|last| (last - report.dispersion).abs() >= 1.0);
    if !force && !devs_changed && !balance_changed && !dispersion_changed && report.removed_devices == 0 {
        println!("Cowardly refusing to save rebalance as it did not change at least 1%.");
        return Ok(Status::Warning);
    }
    b.validate().map_err(|e| Fail(format!("the rebalanced ring is invalid: {e}")))?;
    let slots: usize = b.replica2part2dev().iter().map(Vec::len).sum();
    println!(
        "Reassigned {} ({:.2}%) partition-replicas in {} partitions. Balance is now {:.2}.  Dispersion is now {:.2}",
        report.moved,
        100.0 * report.moved as f64 / slots.max(1) as f64,
        report.moved_parts,
        report.balance,
        report.dispersion
    );
    let mut status = Status::Ok;
    if report.dispersion > 0.0 {
        println!("{}", "-".repeat(79));
        println!("NOTE: Dispersion of {:.6} indicates some parts are not optimally dispersed.", report.dispersion);
        println!("      You may want to adjust some device weights, increase the overload or");
        println!("      review the dispersion report (ring-builder <builder_file> dispersion -v).");
        println!("{}", "-".repeat(79));
        status = Status::Warning;
    } else if report.balance > 5.0 && report.balance / 100.0 > b.overload() {
        println!("{}", "-".repeat(79));
        println!("NOTE: Balance of {:.2} indicates you should push this ring, wait at least", report.balance);
        println!("      {} hours, and rebalance/repush.", b.min_part_hours());
        println!("{}", "-".repeat(79));
        status = Status::Warning;
    }
    files.write_ring(&b)?;
    files.save(&b, true)?;
    Ok(status)
}

pub fn dispersion(files: &Files, filter: Option<&str>, verbose: bool) -> CmdResult {
    let b = files.load()?;
    if !b.ever_rebalanced() {
        return Err(Fail(format!("{} is not rebalanced yet; rebalance first", files.builder.display())));
    }
    let report = b.dispersion_report(filter);
    let full = if filter.is_some() { b.dispersion_report(None).dispersion } else { report.dispersion };
    println!("Dispersion is {:.6}, Balance is {:.6}, Overload is {:.2}%", full, b.balance(), b.overload() * 100.0);
    match b.required_overload() {
        Ok(r) => println!("Required overload is {:.6}%", r * 100.0),
        Err(e) => println!("Required overload is unknown: {e}"),
    }
    let mut status = Status::Ok;
    if let Some(worst) = &report.worst_tier {
        println!("Worst tier is {:.6} ({worst})", report.worst_dispersion);
        status = Status::Warning;
    }
    if verbose {
        show::dispersion_table(&b, &report);
    }
    Ok(status)
}

pub fn validate(files: &Files) -> CmdResult {
    let b = files.load()?;
    b.validate()?;
    println!("{}: the partition assignments are valid", files.builder.display());
    Ok(Status::Ok)
}

pub fn version(files: &Files) -> CmdResult {
    let ring = Ring::load(&files.ring).map_err(|e| Fail(format!("cannot load ring file: {e}")))?;
    println!(
        "{}: ring format version {}, build version {}, part power {}, {} replica rows, {} devices",
        files.ring.display(),
        RING_FORMAT_VERSION,
        ring.version(),
        ring.part_power(),
        ring.replica_count(),
        ring.devices().count()
    );
    Ok(Status::Ok)
}

pub fn write_ring(files: &Files) -> CmdResult {
    let b = files.load()?;
    if b.devices().next().is_none() {
        return Err(Fail("unable to write an empty ring (no devices)".into()));
    }
    if !b.ever_rebalanced() {
        eprintln!("WARNING: writing a ring with devices but no partition assignments; did you forget to rebalance?");
    }
    files.write_ring(&b)?;
    println!("Ring file {} written", files.ring.display());
    Ok(Status::Ok)
}

pub fn pretend_min_part_hours_passed(files: &Files) -> CmdResult {
    let mut b = files.load()?;
    b.pretend_min_part_hours_passed();
    files.save(&b, false)?;
    Ok(Status::Ok)
}

pub fn set_overload(files: &Files, value: &str) -> CmdResult {
    let mut b = files.load()?;
    let (number, percent) = match value.strip_suffix('%') {
        Some(n) => (n, true),
        None => (value, false),
    };
    let mut overload: f64 = number.trim().parse().map_err(|_| Fail(format!("{value:?} is not a valid number")))?;
    if percent {
        overload *= 0.01;
    }
    if !overload.is_finite() || overload < 0.0 {
        return Err(Fail("overload must be non-negative".into()));
    }
    let mut status = Status::Ok;
    if overload > 1.0 && !percent {
        println!("!?! Warning overload is greater than 100% !?!");
        status = Status::Warning;
    }
    b.set_overload(overload)?;
    println!("The overload factor is now {:.2}% ({:.6})", overload * 100.0, overload);
    println!("The change will take effect after the next rebalance.");
    files.save(&b, false)?;
    Ok(status)
}

pub fn set_min_part_hours(files: &Files, hours: u32) -> CmdResult {
    let mut b = files.load()?;
    b.set_min_part_hours(hours);
    println!("The minimum number of hours before a partition can be reassigned is now set to {hours}");
    files.save(&b, false)?;
    Ok(Status::Ok)
}

pub fn set_replicas(files: &Files, replicas: f64) -> CmdResult {
    let mut b = files.load()?;
    b.set_replicas(replicas)?;
    println!("The replica count is now {:.6}.", b.replicas());
    println!("The change will take effect after the next rebalance.");
    files.save(&b, false)?;
    Ok(Status::Ok)
}

/// Prints where a path lives, in swift-get-nodes' layout so the same scripts read both.
pub fn get_nodes(files: &Files, args: &GetNodesArgs) -> CmdResult {
    let ring = Ring::load(&files.ring).map_err(|e| Fail(format!("cannot load ring file: {e}")))?;
    let secret = match &args.secret_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| Fail(format!("cannot read {}: {e}", path.display())))?;
            toml::from_str::<common::HashPathSecret>(&text).map_err(|e| Fail(format!("{}: {e}", path.display())))?
        }
        None => common::HashPathSecret::default(),
    }
    .with_env_overrides();
    if args.object.is_some() && args.container.is_none() {
        return Err(Fail("an object needs a container".into()));
    }
    let (container, object) = (args.container.as_deref(), args.object.as_deref());
    let (part, primaries) = ring.get_nodes(&secret, &args.account, container, object);
    println!("Account  \t{}", args.account);
    println!("Container\t{}", container.unwrap_or("None"));
    println!("Object   \t{}", object.unwrap_or("None"));
    println!();
    println!("Partition\t{part}");
    println!("Hash     \t{}", secret.hash_hex(&args.account, container, object));
    println!();
    for d in primaries {
        println!("Server:Port Device\t{}:{} {}", d.ip, d.port, d.device);
    }
    for d in ring.get_more_nodes(part).take(args.handoffs) {
        println!("Server:Port Device\t{}:{} {}\t [Handoff]", d.ip, d.port, d.device);
    }
    Ok(Status::Ok)
}
