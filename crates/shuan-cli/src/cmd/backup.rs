//! Placeholder until issue #3 lands; the owner of that issue replaces this file.

use std::process::ExitCode;

use crate::context::Context;

#[derive(clap::Subcommand)]
pub enum BackupCommand {
    /// Not built yet.
    Todo,
}

pub fn run(_ctx: &Context, _args: BackupCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet (issue #3)")
}
