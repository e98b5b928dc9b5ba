//! Placeholder until issue #5 lands; the owner of that issue replaces this file.

use std::process::ExitCode;

use crate::context::Context;

#[derive(clap::Args)]
pub struct MaskArgs {}

#[derive(clap::Args)]
pub struct UnmaskArgs {}

#[derive(clap::Args)]
pub struct RiskArgs {}

#[derive(clap::Subcommand)]
pub enum WatermarkCommand {
    /// Not built yet.
    Todo,
}

pub fn run_mask(_ctx: &Context, _args: MaskArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet (issue #5)")
}

pub fn run_unmask(_ctx: &Context, _args: UnmaskArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet (issue #5)")
}

pub fn run_risk(_ctx: &Context, _args: RiskArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet (issue #5)")
}

pub fn run_watermark(_ctx: &Context, _args: WatermarkCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet (issue #5)")
}
