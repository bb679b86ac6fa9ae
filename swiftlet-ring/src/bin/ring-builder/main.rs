//! `ring-builder`: the operator's tool for rings, with swift-ring-builder's verbs.
//!
//! `ring-builder <builder_file> <command> ...`; the ring file is written next to the
//! builder file (`object.builder` -> `object.ring`). Exit codes: 0 ok, 1 warning, 2 error.

mod cli;
mod devices;
mod ring_cmds;
mod show;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use swiftlet_ring::{RingBuilder, RingError};

use cli::{Cli, Command};

/// How a command ended; maps to the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warning,
}

/// A failed command: its message goes to stderr and the exit code is 2.
#[derive(Debug)]
pub struct Fail(pub String);

impl From<RingError> for Fail {
    fn from(e: RingError) -> Self {
        Fail(e.to_string())
    }
}

pub type CmdResult = Result<Status, Fail>;

/// The files one invocation works on.
pub struct Files {
    pub builder: PathBuf,
    pub ring: PathBuf,
}

impl Files {
    fn new(arg: &Path) -> Files {
        let name = arg.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".ring") {
            return Files { builder: PathBuf::from(format!("{stem}.builder")), ring: arg.to_path_buf() };
        }
        let stem = name.strip_suffix(".builder").unwrap_or(&name);
        Files { builder: arg.to_path_buf(), ring: PathBuf::from(format!("{stem}.ring")) }
    }

    pub fn load(&self) -> Result<RingBuilder, Fail> {
        if !self.builder.exists() {
            return Err(Fail(format!(
                "builder file {} does not exist (create it with: ring-builder {} create <part_power> <replicas> <min_part_hours>)",
                self.builder.display(),
                self.builder.display()
            )));
        }
        RingBuilder::load(&self.builder).map_err(|e| Fail(format!("cannot load builder file: {e}")))
    }

    /// Saves the builder file (and, with `backup`, a timestamped copy under `backups/`).
    pub fn save(&self, b: &RingBuilder, backup: bool) -> Result<(), Fail> {
        b.save(&self.builder)?;
        if backup {
            self.backup(&self.builder)?;
        }
        Ok(())
    }

    /// Writes the ring file (and a timestamped backup).
    pub fn write_ring(&self, b: &RingBuilder) -> Result<(), Fail> {
        b.get_ring().save(&self.ring)?;
        self.backup(&self.ring)
    }

    /// Keeps the file just written under `backups/`: a hard link (the next save renames a
    /// new file over the name, so the link keeps this version), or a copy.
    fn backup(&self, file: &Path) -> Result<(), Fail> {
        let to = self.backup_path(file)?;
        let _ = std::fs::remove_file(&to);
        std::fs::hard_link(file, &to)
            .or_else(|_| std::fs::copy(file, &to).map(|_| ()))
            .map_err(|e| Fail(format!("cannot back up {} to {}: {e}", file.display(), to.display())))
    }

    fn backup_path(&self, file: &Path) -> Result<PathBuf, Fail> {
        let dir = match self.builder.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.join("backups"),
            _ => PathBuf::from("backups"),
        };
        std::fs::create_dir_all(&dir).map_err(|e| Fail(format!("cannot create {}: {e}", dir.display())))?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(dir.join(format!("{now}.{name}")))
    }
}

fn run(cli: Cli) -> CmdResult {
    let files = Files::new(&cli.builder_file);
    let Some(command) = cli.command else {
        return show::summary(&files);
    };
    match command {
        Command::Create { part_power, replicas, min_part_hours } => {
            if files.builder.exists() {
                return Err(Fail(format!("{} already exists; refusing to overwrite it", files.builder.display())));
            }
            let b = RingBuilder::new(part_power, replicas, min_part_hours)?;
            files.save(&b, true)?;
            Ok(Status::Ok)
        }
        Command::Add(args) => devices::add(&files, args),
        Command::Remove(args) => devices::remove(&files, args),
        Command::SetWeight(args) => devices::set_weight(&files, args),
        Command::SetRegion(args) => devices::set_placement(&files, args, devices::Placement::Region),
        Command::SetZone(args) => devices::set_placement(&files, args, devices::Placement::Zone),
        Command::SetInfo(args) => devices::set_info(&files, args),
        Command::Search(args) => devices::search(&files, args),
        Command::ListParts(args) => devices::list_parts(&files, args),
        Command::Rebalance { force, seed } => ring_cmds::rebalance(&files, force, seed),
        Command::Dispersion { filter, verbose } => ring_cmds::dispersion(&files, filter.as_deref(), verbose),
        Command::Validate => ring_cmds::validate(&files),
        Command::Version => ring_cmds::version(&files),
        Command::WriteRing => ring_cmds::write_ring(&files),
        Command::PretendMinPartHoursPassed => ring_cmds::pretend_min_part_hours_passed(&files),
        Command::SetOverload { overload } => ring_cmds::set_overload(&files, &overload),
        Command::SetMinPartHours { hours } => ring_cmds::set_min_part_hours(&files, hours),
        Command::SetReplicas { replicas } => ring_cmds::set_replicas(&files, replicas),
        Command::GetNodes(args) => ring_cmds::get_nodes(&files, &args),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::Warning) => ExitCode::from(1),
        Err(Fail(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}
