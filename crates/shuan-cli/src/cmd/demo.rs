//! `shuan demo`: make a synthetic department database, scan and grade it, save the
//! inventory and print it — the whole discovery job on data nobody owns.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use shuan_source::SourceOptions;

use crate::context::Context;
use crate::demo_data::{self, DemoSize};
use crate::output;
use crate::progress::Progress;
use crate::scanner::{self, ScanSettings};

const EXAMPLES: &str = "\
Examples:
  shuan demo                              # data under the default data directory
  shuan --data-dir /tmp/shuan-demo demo   # somewhere you can throw away
  shuan demo --profile xinyang            # grade by the Xinyang rules instead

What it does: writes demo/department.db (SQLite) in the data directory with tables
户籍人口 (120,000 residents), 社保缴费, 企业登记, 车辆登记, 系统日志 and three tables with no
personal data, all invented but with valid check digits; scans every table; saves the
result to the inventory; prints it. Then try `shuan assets list`, `shuan assets show
户籍人口` and `shuan assets catalogue`.";

#[derive(clap::Args, Debug)]
#[command(after_long_help = EXAMPLES)]
pub struct DemoArgs {
    /// Grading profile: gbt43697 (default), xinyang, or a TOML file.
    #[arg(long, default_value = "gbt43697", value_name = "NAME|FILE")]
    pub profile: String,

    /// Rows of 户籍人口 (the other personal-data tables get 5,000 or fewer).
    #[arg(long, default_value_t = 120_000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=5_000_000))]
    pub residents: u32,

    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

pub fn run(ctx: &Context, args: DemoArgs) -> Result<ExitCode> {
    let profile = match scanner::load_profile(&args.profile) {
        Ok(p) => Arc::new(p),
        Err(e) => return Ok(super::scan::usage_error(format!("{e:#}"))),
    };
    // The demo saves to the inventory, so it is recorded like `shuan scan --save`.
    let trail = crate::audit_trail::AuditTrail::open(ctx)?;
    let db = ctx.data_dir.join("demo").join("department.db");
    eprintln!("creating the demo department database {} …", db.display());
    let size = DemoSize {
        residents: args.residents as usize,
        ..DemoSize::default()
    };
    let tables = demo_data::create_department_db(&db, &size, 20_211_001)
        .with_context(|| format!("cannot create the demo database {}", db.display()))?;
    eprintln!("{} tables written; scanning …", tables.len());

    let progress = Progress::new(!args.no_progress);
    let settings = ScanSettings {
        profile: profile.clone(),
        sample: 1000,
        jobs: super::scan::default_jobs(),
        source_options: SourceOptions {
            progress: Some(progress.callback()),
            ..SourceOptions::default()
        },
    };
    let spec = db.display().to_string();
    let outcome = super::scan::scan_all(std::slice::from_ref(&spec), &settings, &progress);
    progress.finish();
    let saved = super::scan::save(ctx, &trail, &outcome.results, &settings)?;
    trail.close()?;

    let mut out = output::stdout();
    writeln!(out, "数安 shuan 演示：某县政务部门数据资产发现与分类分级")?;
    writeln!(
        out,
        "Demo: discovery, classification and grading of a synthetic department database"
    )?;
    writeln!(out)?;
    super::scan::write_text(&mut out, &outcome.results, &profile)?;
    writeln!(out)?;
    for (source, id) in &saved {
        writeln!(
            out,
            "已保存到资产清单 (saved to the inventory): scan #{id} of {source}"
        )?;
    }
    writeln!(
        out,
        "清单文件 (inventory): {}",
        ctx.data_dir.join(shuan_store::INVENTORY_FILE).display()
    )?;
    writeln!(out)?;
    writeln!(out, "下一步 (next):")?;
    let dd = format!("--data-dir '{}'", ctx.data_dir.display());
    writeln!(out, "  shuan {dd} assets list                  # 资产清单")?;
    writeln!(
        out,
        "  shuan {dd} assets show 户籍人口          # 逐字段查看"
    )?;
    writeln!(
        out,
        "  shuan {dd} assets catalogue --format csv # 导出重要数据目录"
    )?;
    writeln!(
        out,
        "  shuan {dd} assets diff '{spec}'          # 与上次扫描比对"
    )?;
    out.finish()?;
    Ok(if outcome.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
