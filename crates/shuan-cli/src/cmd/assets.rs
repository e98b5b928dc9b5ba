//! Placeholder until issue #2 lands; the owner of that issue replaces this file.

use std::process::ExitCode;

use crate::context::Context;

#[derive(clap::Subcommand)]
pub enum AssetsCommand {
    /// Not built yet.
    Todo,
}

pub fn run(_ctx: &Context, _args: AssetsCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet (issue #2)")
}
