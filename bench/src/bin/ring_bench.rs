//! Ring benchmark: Swiftlet's ring builder against OpenStack Swift's swift-ring-builder.
//!
//! For each partition power: create a builder, add N devices over Z zones (H hosts per
//! zone), rebalance; time and peak memory of each step, balance and dispersion, for both
//! tools in the same run (each step is its own process, as an operator runs it). Then, for
//! Swiftlet only, library-level numbers: ring file load time, lookup latency, handoffs,
//! and how much moves when one device is added.
//!
//! `bench/ring-compare.sh` builds this, prepares Swift's venv and runs it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use common::HashPathSecret;
use swiftlet_ring::{Device, Ring, RingBuilder};

#[derive(Parser, Debug)]
#[command(about = "Compare Swiftlet's ring-builder with swift-ring-builder")]
struct Args {
    /// Partition powers to run, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "16,20")]
    part_powers: Vec<u8>,
    #[arg(long, default_value_t = 1000)]
    devices: u32,
    #[arg(long, default_value_t = 5)]
    zones: u32,
    /// Hosts per zone (devices are spread evenly over them).
    #[arg(long, default_value_t = 20)]
    hosts_per_zone: u32,
    #[arg(long, default_value_t = 3.0)]
    replicas: f64,
    /// Device weights, comma separated, cycled over the devices (all equal by default).
    #[arg(long, value_delimiter = ',', default_value = "100")]
    weights: Vec<f64>,
    /// Swiftlet's ring-builder binary (default: next to this binary).
    #[arg(long)]
    ring_builder: Option<PathBuf>,
    /// swift-ring-builder; omit to skip the comparison.
    #[arg(long)]
    swift: Option<PathBuf>,
    /// Where builder and ring files go (default: a temp dir).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only the library-level numbers (no CLI runs).
    #[arg(long)]
    lib_only: bool,
}

/// One device of the benchmark layout: `r1z<zone>-10.<zone>.0.<host>:6200/d<n>`.
struct Layout {
    /// (zone, host, ip, device name, weight)
    devs: Vec<(u32, u32, String, String, f64)>,
}

impl Layout {
    fn new(a: &Args) -> Layout {
        let hosts = a.zones * a.hosts_per_zone;
        let devs = (0..a.devices)
            .map(|i| {
                let host = i % hosts;
                let zone = host % a.zones + 1;
                let weight = a.weights[i as usize % a.weights.len().max(1)];
                (zone, host, format!("10.{zone}.0.{}", host / a.zones + 1), format!("d{}", i / hosts), weight)
            })
            .collect();
        Layout { devs }
    }

    fn add_args(&self) -> Vec<String> {
        let mut v = Vec::new();
        for (zone, _, ip, dev, weight) in &self.devs {
            v.push(format!("r1z{zone}-{ip}:6200/{dev}"));
            v.push(weight.to_string());
        }
        v
    }
}

/// Wall time and peak RSS of one child process.
struct Run {
    secs: f64,
    max_rss_mib: f64,
    stdout: String,
    code: i32,
}

fn run(program: &Path, args: &[String], dir: &Path) -> Result<Run> {
    let out_path = dir.join("last-output.txt");
    let out = File::create(&out_path)?;
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone()?))
        .stderr(Stdio::from(out))
        .spawn()
        .with_context(|| format!("running {}", program.display()))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child we just spawned; std never reaps it since we never call wait().
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    if rc < 0 {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    Ok(Run { secs, max_rss_mib: usage.ru_maxrss as f64 / 1024.0, stdout: std::fs::read_to_string(out_path)?, code })
}

/// The numbers after "Balance is now" and "Dispersion is now" (both tools print them).
fn parse_quality(out: &str) -> (f64, f64) {
    let grab = |key: &str| {
        out.find(key)
            .and_then(|i| out[i + key.len()..].split_whitespace().next())
            .and_then(|w| w.trim_end_matches('.').parse().ok())
            .unwrap_or(f64::NAN)
    };
    (grab("Balance is now"), grab("Dispersion is now"))
}

struct ToolResult {
    create: Run,
    add: Run,
    rebalance: Run,
    balance: f64,
    dispersion: f64,
}

fn run_tool(tool: &Path, a: &Args, pp: u8, layout: &Layout, dir: &Path, name: &str) -> Result<ToolResult> {
    let builder = format!("{name}-{pp}.builder");
    let _ = std::fs::remove_file(dir.join(&builder));
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let create = run(tool, &s(&[&builder, "create", &pp.to_string(), &a.replicas.to_string(), "1"]), dir)?;
    let mut add_args = s(&[&builder, "add"]);
    add_args.extend(layout.add_args());
    let add = run(tool, &add_args, dir)?;
    let rebalance = run(tool, &s(&[&builder, "rebalance", "--seed", &a.seed.to_string()]), dir)?;
    for (step, r) in [("create", &create), ("add", &add), ("rebalance", &rebalance)] {
        if r.code != 0 && !(step == "rebalance" && r.code == 1) {
            bail!("{name} {step} exited {}: {}", r.code, r.stdout);
        }
    }
    let (balance, dispersion) = parse_quality(&rebalance.stdout);
    Ok(ToolResult { create, add, rebalance, balance, dispersion })
}

fn print_tool(name: &str, r: &ToolResult) {
    println!(
        "  {name:<9} create {:>7.3}s  add {:>7.3}s  rebalance {:>8.3}s ({:>7.1} MiB peak)  balance {:>6.2}  dispersion {:>6.2}",
        r.create.secs, r.add.secs, r.rebalance.secs, r.rebalance.max_rss_mib, r.balance, r.dispersion
    );
}

fn library_numbers(a: &Args, pp: u8, layout: &Layout, dir: &Path) -> Result<()> {
    let mut b = RingBuilder::new(pp, a.replicas, 1)?;
    for (i, (zone, _, ip, dev, weight)) in layout.devs.iter().enumerate() {
        b.add_dev(Device::new(i as u32, (1, *zone), (ip, 6200), dev.clone(), *weight))?;
    }
    let t = Instant::now();
    let first = b.rebalance(Some(a.seed))?;
    let initial = t.elapsed();
    let ring_path = dir.join(format!("lib-{pp}.ring"));
    let t = Instant::now();
    b.get_ring().save(&ring_path)?;
    let save = t.elapsed();
    let t = Instant::now();
    let ring = Ring::load(&ring_path)?;
    let load = t.elapsed();
    let size = std::fs::metadata(&ring_path)?.len();

    let secret = HashPathSecret::new("prefix", "suffix");
    let names: Vec<String> = (0..100_000).map(|i| format!("obj-{i}")).collect();
    let t = Instant::now();
    let mut sink = 0usize;
    for n in &names {
        let (part, nodes) = ring.get_nodes(&secret, "AUTH_test", Some("bench"), Some(n));
        sink += part as usize + nodes.len();
    }
    let lookup = t.elapsed() / names.len() as u32;
    let t = Instant::now();
    for p in 0..10_000u32 {
        sink += ring.get_more_nodes(p % ring.partition_count()).take(3).count();
    }
    let handoffs = t.elapsed() / 10_000;

    // One more device (weight 100, a new host in zone 1); ideally only its weight share moves.
    let new_id = layout.devs.len() as u32;
    b.add_dev(Device::new(new_id, (1, 1), ("10.1.0.250", 6200), "d0", 100.0))?;
    b.pretend_min_part_hours_passed();
    let t = Instant::now();
    let grow = b.rebalance(Some(a.seed))?;
    let grow_time = t.elapsed();
    let slots = f64::from(b.parts()) * a.replicas;
    println!(
        "  library   rebalance {:>8.3}s  balance {:.2} dispersion {:.2}; ring file {:.1} MiB saved in {:.3}s, loaded in {:.3}s",
        initial.as_secs_f64(),
        first.balance,
        first.dispersion,
        size as f64 / 1048576.0,
        save.as_secs_f64(),
        load.as_secs_f64()
    );
    println!(
        "            get_nodes {} ns/lookup, first 3 handoffs {} ns; +1 device: moved {} replicas ({:.3}% vs ideal {:.3}%) in {:.3}s, balance {:.2}",
        lookup.as_nanos(),
        handoffs.as_nanos(),
        grow.moved,
        100.0 * grow.moved as f64 / slots,
        100.0 * 100.0 / (layout.devs.iter().map(|d| d.4).sum::<f64>() + 100.0),
        grow_time.as_secs_f64(),
        grow.balance
    );
    std::hint::black_box(sink);
    Ok(())
}

fn main() -> Result<()> {
    let a = Args::parse();
    let tmp = tempfile::tempdir()?;
    let dir = a.work_dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    // Absolute paths: the tools run inside the work directory.
    let ours = match &a.ring_builder {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("ring-builder"),
    };
    let ours = std::fs::canonicalize(&ours).with_context(|| format!("no ring-builder at {}", ours.display()))?;
    let swift = match &a.swift {
        Some(p) => Some(std::fs::canonicalize(p).with_context(|| format!("no swift-ring-builder at {}", p.display()))?),
        None => None,
    };
    let layout = Layout::new(&a);
    println!(
        "ring benchmark: {} devices, {} zones x {} hosts, {} replicas, weights {:?}, seed {}",
        a.devices, a.zones, a.hosts_per_zone, a.replicas, a.weights, a.seed
    );
    for &pp in &a.part_powers {
        println!("part power {pp} ({} partitions)", 1u64 << pp);
        if a.lib_only {
            library_numbers(&a, pp, &layout, &dir)?;
            continue;
        }
        let mine = run_tool(&ours, &a, pp, &layout, &dir, "swiftlet")?;
        print_tool("swiftlet", &mine);
        if let Some(swift) = &swift {
            let theirs = run_tool(swift, &a, pp, &layout, &dir, "swift")?;
            print_tool("swift", &theirs);
            let total = |r: &ToolResult| r.create.secs + r.add.secs + r.rebalance.secs;
            println!(
                "  ratio     rebalance {:.1}x faster, all steps {:.1}x faster, peak memory {:.2}x; balance {:.2} vs {:.2}, dispersion {:.2} vs {:.2}",
                theirs.rebalance.secs / mine.rebalance.secs,
                total(&theirs) / total(&mine),
                mine.rebalance.max_rss_mib / theirs.rebalance.max_rss_mib,
                mine.balance,
                theirs.balance,
                mine.dispersion,
                theirs.dispersion
            );
        }
        library_numbers(&a, pp, &layout, &dir)?;
    }
    Ok(())
}
