//! The command-line client (contract, section 13): the `portcullis` subcommands that talk to a
//! server over HTTP, only through `portcullis-client`.
//!
//! The `portcullis` binary flattens [`GlobalArgs`] and [`Command`] into its own parser beside
//! `serve`, `migrate`, `hash-password` and `openapi`, then calls [`run`].

mod args;
mod commands;
mod config;
mod failure;
mod output;

pub use args::{Command, GlobalArgs};
pub use failure::{Failure, exit_code};

use std::process::ExitCode;

/// Runs one client command, printing its result on standard output and a failure as
/// `error: …` on standard error; returns the exit code of section 13.
pub async fn run(global: GlobalArgs, command: Command) -> ExitCode {
    match commands::run(global, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.exit)
        }
    }
}
