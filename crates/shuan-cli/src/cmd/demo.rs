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

  shuan demo --no-serve                   # for scripts: stop after the inventory

What it does: writes demo/department.db (SQLite) in the data directory with tables
户籍人口 (120,000 residents), 社保缴费, 企业登记, 车辆登记, 系统日志 and three tables with no
personal data, all invented but with valid check digits; scans every table; saves the
result to the inventory; prints it. Then it initialises the platform (the three
administrators sysadmin / secadmin / auditor with one-time passwords, printed once) and
starts the server on loopback, printing its URL, until Ctrl-C. Afterwards try `shuan
assets list`, `shuan assets show 户籍人口` and `shuan assets catalogue`.";

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

    /// Do not initialise the platform and start the server (for scripts).
    #[arg(long)]
    pub no_serve: bool,

    /// Where the demo server listens (loopback).
    #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
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
        source_options: SourceOptions::default(),
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
    if outcome.failed {
        return Ok(ExitCode::from(1));
    }
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    serve_platform(ctx, args.listen)
}

/// Initialises the platform if it has no accounts yet, then serves it on loopback.
fn serve_platform(ctx: &Context, listen: std::net::SocketAddr) -> Result<ExitCode> {
    let opts = shuan_server::init::InitOptions {
        data_dir: ctx.data_dir.clone(),
        store_url: None,
        org_code: "DEMO".into(),
        org_name: "演示县政务服务数据管理局".into(),
    };
    let mut banner = String::new();
    match shuan_server::init::initialise(&opts) {
        Ok(report) => {
            banner.push_str("\n平台已初始化 (platform initialised). 一次性密码只显示这一次 (one-time passwords, shown once):\n");
            for a in &report.accounts {
                banner.push_str(&format!(
                    "  {:<9} {} ({})  {}\n",
                    a.username, a.role_label, a.role, a.one_time_password
                ));
            }
            banner.push_str("登录: POST /api/v1/session {\"username\",\"password\"}; 先改密码并绑定动态口令 (change the password and enrol TOTP first).");
        }
        Err(shuan_server::init::InitError::AlreadyInitialised(n)) => {
            banner.push_str(&format!(
                "\n平台已于先前初始化 ({n} accounts); 一次性密码只在首次显示 (the passwords were shown the first time; \
                 use a fresh --data-dir to see new ones)."
            ));
        }
        Err(e) => return Err(e).context("initialising the platform"),
    }
    let args = super::platform::ServeArgs {
        listen,
        store: None,
        tls_cert: None,
        tls_key: None,
        insecure_plain_http: false,
        session_idle_minutes: 30,
        session_idle_secs: None,
        session_hours: 8,
        min_elevation_secs: 300,
        ledger_segment_bytes: None,
        source_hosts: None,
        alert_syslog: None,
        alert_webhook: None,
    };
    super::platform::serve(ctx, &args, Some(banner))
}
