//! Placeholder until issue #2 lands; the owner of that issue replaces this file.

use std::process::ExitCode;

use crate::context::Context;

#[derive(clap::Args)]
pub struct ScanArgs {}

pub fn run(_ctx: &Context, _args: ScanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet (issue #2)")
}
