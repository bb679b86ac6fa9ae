//! `container-server`: runs the container server from a TOML config (`--help` for flags).

use container_server::ContainerConfig;
use std::process::ExitCode;

fn main() -> ExitCode {
    common::server::main(
        "container-server",
        "Swiftlet container server",
        |cfg: ContainerConfig, secrets, listener, stop| container_server::serve(listener, cfg, secrets, stop),
    )
}
