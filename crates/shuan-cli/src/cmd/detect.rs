//! Placeholder until issue #2 lands; the owner of that issue replaces this file.

use std::process::ExitCode;

use crate::context::Context;

#[derive(clap::Args)]
pub struct DetectArgs {}

#[derive(clap::Args)]
pub struct RedactArgs {}

pub fn run_detect(_ctx: &Context, _args: DetectArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet (issue #2)")
}

pub fn run_redact(_ctx: &Context, _args: RedactArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet (issue #2)")
}
