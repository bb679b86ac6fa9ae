//! Command-line syntax (clap), kept apart from what the commands do.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Search values select devices: d<id>r<region>z<zone>-<ip>:<port>R<repl_ip>:<repl_port>/<device>_<meta>
Every part is optional, e.g. d74, z1, z1-10.0.0.1, 10.0.0.1:6200, /sdb1, _ssd, [::1].

Exit codes: 0 = success, 1 = completed with warnings, 2 = error.";

#[derive(Parser, Debug)]
#[command(name = "ring-builder", version, about = "Build and inspect Swiftlet rings (swift-ring-builder's verbs)")]
#[command(after_help = AFTER_HELP)]
pub struct Cli {
    /// The builder file, e.g. object.builder (the ring file object.ring is written next to it).
    pub builder_file: PathBuf,
    /// With no command: a summary of the ring and its devices.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
#[command(rename_all = "snake_case")]
pub enum Command {
    /// Create a builder with 2^<part_power> partitions.
    Create {
        /// Partition power (0-23): the ring has 2^part_power partitions.
        part_power: u8,
        /// Replica count; may be fractional (e.g. 2.5).
        replicas: f64,
        /// Hours before a partition may move again.
        min_part_hours: u32,
    },
    /// Add devices: `add r1z1-10.0.0.1:6200/sdb1 100 [<dev> <weight> ...]` or with --region ... --weight.
    Add(AddArgs),
    /// Mark devices for removal at the next rebalance.
    Remove(SearchArgs),
    /// Set weights: `set_weight <search> <weight> [<search> <weight> ...]` or filters and one weight.
    SetWeight(PairArgs),
    /// Move devices to another region: `set_region <search> <region> ...`.
    SetRegion(PairArgs),
    /// Move devices to another zone: `set_zone <search> <zone> ...`.
    SetZone(PairArgs),
    /// Change device addresses, names or meta: `set_info <search> <ip>:<port>R<rip>:<rport>/<device>_<meta> ...`.
    SetInfo(SetInfoArgs),
    /// Show the devices matching a search value or filters.
    Search(SearchArgs),
    /// List the partitions with replicas on the matching devices.
    ListParts(SearchArgs),
    /// Reassign partitions and write the ring file.
    Rebalance {
        /// Save the result even if it changed less than 1%.
        #[arg(short, long)]
        force: bool,
        /// Seed for the random choices (same seed and builder: same ring).
        #[arg(short, long)]
        seed: Option<u64>,
    },
    /// Report how well replicas are spread over regions, zones, hosts and devices.
    Dispersion {
        /// Only tiers whose name starts with this (e.g. r1z2).
        filter: Option<String>,
        /// Show every tier.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Check the builder's partition assignments.
    Validate,
    /// Check and describe the ring file (`ring-builder object.ring version`).
    Version,
    /// Write the ring file from the builder (e.g. after set_info).
    WriteRing,
    /// Let the next rebalance move any partition. Use with care: data may become unreachable
    /// if a partition moves twice before replication catches up.
    PretendMinPartHoursPassed,
    /// Set the overload factor: `0.1` or `10%`.
    SetOverload {
        #[arg(allow_hyphen_values = true)]
        overload: String,
    },
    /// Set the hours before a partition may move again.
    SetMinPartHours { hours: u32 },
    /// Set the replica count (takes effect at the next rebalance).
    SetReplicas {
        #[arg(allow_hyphen_values = true)]
        replicas: f64,
    },
    /// Where an account, container or object lives: partition, placement hash, primary and
    /// handoff nodes (swift-get-nodes). Reads the ring file.
    GetNodes(GetNodesArgs),
}

#[derive(Args, Debug)]
pub struct GetNodesArgs {
    pub account: String,
    pub container: Option<String>,
    pub object: Option<String>,
    /// A TOML file with the cluster's hash-path `prefix` and `suffix` (saio keeps it in
    /// `etc/secret.toml`); SWIFTLET_HASH_PATH_PREFIX/SUFFIX override it.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// Handoff nodes to show after the primaries.
    #[arg(long, default_value_t = 3)]
    pub handoffs: usize,
}

/// A device's fields as flags: filters for the search commands, the new device for `add`.
#[derive(Args, Debug, Default, Clone)]
pub struct DeviceFlags {
    /// Device id (add: default the lowest free one).
    #[arg(short = 'u', long)]
    pub id: Option<u32>,
    /// Region (add: default 1).
    #[arg(short, long)]
    pub region: Option<u32>,
    /// Zone.
    #[arg(short, long)]
    pub zone: Option<u32>,
    /// IP address or hostname.
    #[arg(short, long)]
    pub ip: Option<String>,
    /// Port.
    #[arg(short, long)]
    pub port: Option<u16>,
    /// Replication IP address (add: default --ip).
    #[arg(short = 'j', long)]
    pub replication_ip: Option<String>,
    /// Replication port (add: default --port).
    #[arg(short = 'q', long)]
    pub replication_port: Option<u16>,
    /// Device name (e.g. sdb1).
    #[arg(short, long)]
    pub device: Option<String>,
    /// Weight (relative capacity).
    #[arg(short, long)]
    pub weight: Option<f64>,
}

/// Device filters given as flags instead of a search value: devices matching every one given.
#[derive(Args, Debug, Default, Clone)]
pub struct FilterFlags {
    #[command(flatten)]
    pub device: DeviceFlags,
    /// Match devices whose meta contains this.
    #[arg(short, long)]
    pub meta: Option<String>,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Search values (see below); or use the filter flags.
    pub values: Vec<String>,
    #[command(flatten)]
    pub filter: FilterFlags,
    /// Do not ask before changing several devices.
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct PairArgs {
    /// `<search> <value>` pairs; with filter flags, just the value.
    pub values: Vec<String>,
    #[command(flatten)]
    pub filter: FilterFlags,
    /// Do not ask before changing several devices.
    #[arg(short, long)]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// `[r<region>]z<zone>-<ip>:<port>[R<rip>:<rport>]/<device>[_<meta>] <weight>` pairs.
    pub values: Vec<String>,
    #[command(flatten)]
    pub device: DeviceFlags,
    /// Free-form extra information.
    #[arg(short, long, default_value = "")]
    pub meta: String,
}

#[derive(Args, Debug)]
pub struct SetInfoArgs {
    /// `<search> <change>` pairs, the change being `<ip>:<port>R<rip>:<rport>/<device>_<meta>` (parts optional).
    pub values: Vec<String>,
    #[command(flatten)]
    pub filter: FilterFlags,
    /// New IP address or hostname.
    #[arg(short = 'I', long)]
    pub change_ip: Option<String>,
    /// New port.
    #[arg(short = 'P', long)]
    pub change_port: Option<u16>,
    /// New replication IP.
    #[arg(short = 'J', long)]
    pub change_replication_ip: Option<String>,
    /// New replication port.
    #[arg(short = 'Q', long)]
    pub change_replication_port: Option<u16>,
    /// New device name.
    #[arg(short = 'D', long)]
    pub change_device: Option<String>,
    /// New meta.
    #[arg(short = 'M', long)]
    pub change_meta: Option<String>,
    /// Do not ask before changing several devices.
    #[arg(short, long)]
    pub yes: bool,
}
