//! `account-server`: runs the account server from a TOML config (`--help` for flags).

use account_server::AccountConfig;
use std::process::ExitCode;

fn main() -> ExitCode {
    common::server::main("account-server", "Swiftlet account server", |cfg: AccountConfig, secrets, listener, stop| {
        account_server::serve(listener, cfg, secrets, stop)
    })
}
