//! The `ring-builder` binary: the operator workflow, exit codes and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use swiftlet_ring::{Ring, RingBuilder};

struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir { tmp: tempfile::tempdir().unwrap() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Runs `ring-builder <args>` in this directory.
    fn run(&self, args: &[&str]) -> Out {
        let out = Command::new(env!("CARGO_BIN_EXE_ring-builder"))
            .args(args)
            .current_dir(self.tmp.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Out(out)
    }

    /// Creates `object.builder` with four zones of one device each.
    fn four_zones(&self, part_power: &str) {
        self.run(&["object.builder", "create", part_power, "3", "1"]).ok();
        self.run(&[
            "object.builder",
            "add",
            "r1z1-127.0.0.1:6210/sdb1",
            "100",
            "r1z2-127.0.0.2:6220/sdb2",
            "100",
            "r1z3-127.0.0.3:6230/sdb3",
            "100",
            "r1z4-127.0.0.4:6240/sdb4",
            "100",
        ])
        .ok();
    }
}

struct Out(Output);

impl Out {
    fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    fn text(&self) -> String {
        format!("{}{}", String::from_utf8_lossy(&self.0.stdout), String::from_utf8_lossy(&self.0.stderr))
    }
    fn ok(&self) -> &Self {
        assert_eq!(self.code(), 0, "expected success: {}", self.text());
        self
    }
    /// Asserts the exit code and that the output mentions `needle`.
    fn fails(&self, code: i32, needle: &str) {
        assert_eq!(self.code(), code, "{}", self.text());
        assert!(self.text().to_lowercase().contains(&needle.to_lowercase()), "{needle:?} not in: {}", self.text());
    }
}

fn devices_in(path: &Path) -> usize {
    RingBuilder::load(path).unwrap().devices().count()
}

#[test]
fn operator_workflow() {
    let d = Dir::new();
    d.four_zones("8");
    let out = d.run(&["object.builder", "rebalance", "--seed", "3"]);
    out.ok();
    assert!(out.text().contains("Balance is now 0.00.  Dispersion is now 0.00"), "{}", out.text());
    let ring = Ring::load(&d.path("object.ring")).unwrap();
    assert_eq!((ring.partition_count(), ring.replica_count(), ring.devices().count()), (256, 3, 4));
    assert!(d.path("backups").read_dir().unwrap().count() >= 2, "rebalance keeps backups");

    let summary = d.run(&["object.builder"]);
    summary.ok();
    assert!(summary.text().contains("256 partitions, 3.000000 replicas, 1 regions, 4 zones, 4 devices"));
    assert!(summary.text().contains("object.ring is up-to-date"));

    let search = d.run(&["object.builder", "search", "z2"]);
    search.ok();
    assert!(search.text().contains("127.0.0.2:6220"));
    let parts = d.run(&["object.builder", "list_parts", "d0"]);
    parts.ok();
    assert_eq!(parts.text().lines().count(), 1 + 192, "d0 holds 192 partitions");
    d.run(&["object.builder", "dispersion", "-v"]).ok();
    d.run(&["object.builder", "validate"]).ok();

    // Too soon to move anything again: a warning, not an error.
    d.run(&["object.builder", "set_weight", "d0", "50"]).ok();
    d.run(&["object.builder", "rebalance"]).fails(1, "No partitions could be reassigned");
    d.run(&["object.builder", "pretend_min_part_hours_passed"]).ok();
    d.run(&["object.builder", "rebalance"]).ok();

    d.run(&["object.builder", "set_info", "d1", "127.0.0.9:6221"]).ok();
    assert!(d.run(&["object.builder"]).text().contains("is obsolete"));
    d.run(&["object.builder", "write_ring"]).ok();
    assert!(d.run(&["object.builder"]).text().contains("is up-to-date"));
    assert_eq!(Ring::load(&d.path("object.ring")).unwrap().device(1).unwrap().ip, "127.0.0.9");
    d.run(&["object.ring", "version"]).ok();

    d.run(&["object.builder", "set_overload", "10%"]).ok();
    d.run(&["object.builder", "set_overload", "2"]).fails(1, "greater than 100%");
    d.run(&["object.builder", "set_min_part_hours", "24"]).ok();
    d.run(&["object.builder", "remove", "d3"]).ok();
    assert!(d.run(&["object.builder"]).text().contains("DEL"));
}

#[test]
fn help_everywhere() {
    let d = Dir::new();
    let top = d.run(&["--help"]);
    top.ok();
    assert!(top.text().contains("Exit codes"));
    for cmd in ["create", "add", "remove", "set_weight", "set_info", "search", "list_parts", "rebalance", "dispersion"]
    {
        let out = d.run(&["x.builder", cmd, "--help"]);
        out.ok();
        assert!(out.text().contains("Usage"), "{cmd}: {}", out.text());
    }
}

#[test]
fn unknown_or_corrupt_builder_files_are_errors() {
    let d = Dir::new();
    d.run(&["missing.builder", "rebalance"]).fails(2, "does not exist");
    d.run(&["missing.builder"]).fails(2, "does not exist");
    std::fs::write(d.path("bad.builder"), b"not a builder").unwrap();
    d.run(&["bad.builder"]).fails(2, "not a builder file");
    d.four_zones("6");
    let raw = std::fs::read(d.path("object.builder")).unwrap();
    std::fs::write(d.path("object.builder"), &raw[..raw.len() / 2]).unwrap();
    d.run(&["object.builder", "add", "r1z5-10.0.0.5:6200/sdb", "1"]).fails(2, "corrupt");
}

#[test]
fn corrupt_ring_files_are_reported() {
    let d = Dir::new();
    d.four_zones("6");
    d.run(&["object.builder", "rebalance"]).ok();
    let raw = std::fs::read(d.path("object.ring")).unwrap();
    let mut bad = raw.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    std::fs::write(d.path("object.ring"), &bad).unwrap();
    d.run(&["object.ring", "version"]).fails(2, "checksum");
    d.run(&["object.builder"]).fails(1, "is invalid");
    std::fs::write(d.path("object.ring"), &raw[..100]).unwrap();
    d.run(&["object.ring", "version"]).fails(2, "corrupt");
}

#[test]
fn bad_search_values_and_no_matches() {
    let d = Dir::new();
    d.four_zones("6");
    d.run(&["object.builder", "remove", "%%%"]).fails(2, "invalid search value");
    d.run(&["object.builder", "search", "z1-1.2.3.4:notaport"]).fails(2, "invalid search value");
    d.run(&["object.builder", "search", "d99"]).fails(2, "no matching devices");
    d.run(&["object.builder", "set_weight", "d99", "1"]).fails(2, "matched 0 devices");
    d.run(&["object.builder", "set_weight", "d0"]).fails(2, "pairs");
    d.run(&["object.builder", "set_weight", "d0", "heavy"]).fails(2, "invalid weight");
    d.run(&["object.builder", "search", "z1", "--zone", "1"]).fails(2, "not both");
    // Several matches need --yes when nobody can be asked.
    d.run(&["object.builder", "set_weight", "r1", "5"]).fails(2, "--yes");
    d.run(&["object.builder", "set_weight", "r1", "5", "--yes"]).ok();
    d.run(&["object.builder", "list_parts", "d0"]).fails(2, "not rebalanced");
}

#[test]
fn duplicate_and_malformed_devices_are_refused() {
    let d = Dir::new();
    d.four_zones("6");
    let builder = d.path("object.builder");
    d.run(&["object.builder", "add", "r1z9-127.0.0.1:6210/sdb1", "100"]).fails(2, "already uses");
    d.run(&[
        "object.builder",
        "add",
        "--region",
        "1",
        "--zone",
        "9",
        "--ip",
        "127.0.0.1",
        "--port",
        "6210",
        "--device",
        "sdb1",
        "--weight",
        "1",
    ])
    .fails(2, "already uses");
    d.run(&[
        "object.builder",
        "add",
        "--id",
        "0",
        "--zone",
        "9",
        "--ip",
        "10.0.0.1",
        "--port",
        "1",
        "--device",
        "x",
        "--weight",
        "1",
    ])
    .fails(2, "taken");
    d.run(&["object.builder", "add", "z1-1.2.3.4/sdb", "100"]).fails(2, "invalid device");
    d.run(&["object.builder", "add", "z1-1.2.3.4:6200/sdb"]).fails(2, "pairs");
    d.run(&["object.builder", "add", "z1-1.2.3.4:6200/../etc", "1"]).fails(2, "invalid device name");
    d.run(&["object.builder", "add", "z1-1.2.3.4:6200/sdx", "-3"]).fails(2, "");
    d.run(&["object.builder", "add", "--zone", "1", "--ip", "1.2.3.4"]).fails(2, "missing --port");
    assert_eq!(devices_in(&builder), 4, "nothing was added");
    d.run(&[
        "object.builder",
        "add",
        "--zone",
        "5",
        "--ip",
        "1.2.3.5",
        "--port",
        "6200",
        "--device",
        "sdb",
        "--weight",
        "7",
    ])
    .ok();
    assert_eq!(devices_in(&builder), 5);
}

#[test]
fn impossible_rings_are_errors() {
    let d = Dir::new();
    d.run(&["two.builder", "create", "6", "3", "1"]).ok();
    d.run(&["two.builder", "create", "6", "3", "1"]).fails(2, "already exists");
    d.run(&["two.builder", "add", "r1z1-10.0.0.1:6200/sdb", "1", "r1z2-10.0.0.2:6200/sdb", "1"]).ok();
    d.run(&["two.builder", "rebalance"]).fails(2, "requires more than 2 devices");
    assert!(!d.path("two.ring").exists(), "no ring written");

    d.run(&["zero.builder", "create", "6", "1", "1"]).ok();
    d.run(&["zero.builder", "rebalance"]).fails(2, "no devices with weight");
    d.run(&["zero.builder", "add", "r1z1-10.0.0.1:6200/sdb", "0"]).ok();
    d.run(&["zero.builder", "rebalance"]).fails(2, "no devices with weight");
    d.run(&["zero.builder", "write_ring"]).ok();

    d.run(&["bad.builder", "create", "24", "3", "1"]).fails(2, "above 23");
    d.run(&["bad.builder", "create", "8", "0.5", "1"]).fails(2, "replica count");
    d.run(&["bad.builder", "create", "8", "three", "1"]).fails(2, "invalid value");
    d.run(&["empty.builder", "create", "4", "1", "1"]).ok();
    d.run(&["empty.builder", "write_ring"]).fails(2, "empty ring");
    d.run(&["empty.builder", "dispersion"]).fails(2, "not rebalanced");
    d.run(&["empty.builder", "validate"]).fails(2, "never been rebalanced");
    d.run(&["empty.builder", "set_overload", "-1"]).fails(2, "non-negative");
    d.run(&["empty.builder", "set_replicas", "0"]).fails(2, "replica count");
    d.run(&["empty.builder", "frobnicate"]).fails(2, "unrecognized subcommand");
}

#[test]
fn get_nodes_agrees_with_the_ring() {
    let d = Dir::new();
    d.four_zones("8");
    d.run(&["object.builder", "rebalance"]).ok();
    std::fs::write(d.path("secret.toml"), "prefix = \"p\"\nsuffix = \"s\"\n").unwrap();
    let out = d.run(&["object.ring", "get_nodes", "AUTH_test", "c", "o", "--secret-file", "secret.toml"]);
    out.ok();
    let text = out.text();
    let ring = Ring::load(&d.path("object.ring")).unwrap();
    let secret = common::HashPathSecret::new("p", "s");
    let (part, nodes) = ring.get_nodes(&secret, "AUTH_test", Some("c"), Some("o"));
    assert!(text.contains(&format!("Partition\t{part}\n")), "{text}");
    assert!(text.contains(&format!("Hash     \t{}\n", secret.hash_hex("AUTH_test", Some("c"), Some("o")))), "{text}");
    for n in nodes {
        assert!(text.contains(&format!("Server:Port Device\t{}:{} {}\n", n.ip, n.port, n.device)), "{text}");
    }
    assert_eq!(text.matches("[Handoff]").count(), 1, "four devices: three primaries, one handoff\n{text}");
    d.run(&["object.ring", "get_nodes", "AUTH_test", "--secret-file", "missing.toml"]).fails(2, "cannot read");
}
