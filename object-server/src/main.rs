//! `object-server`: serves one storage node's devices until SIGINT/SIGTERM (`--help` for
//! flags). It refuses to start without the cluster's secrets (`[hash_path]`, `[backend]`).

use object_server::ObjectServerConfig;
use std::process::ExitCode;

fn main() -> ExitCode {
    common::server::main(
        "object-server",
        "Swiftlet object server",
        |cfg: ObjectServerConfig, secrets, listener, stop| object_server::serve(listener, cfg, secrets, stop),
    )
}
