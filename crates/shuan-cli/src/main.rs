//! The `shuan` command (数安): discover → classify & grade → protect → share & use →
//! audit & alert → destroy → prove.
//!
//! The binary is thin: each command group lives in `cmd/<group>.rs` with its clap
//! arguments and a `run` function; the work itself is done by the library crates.

mod audit_trail;
mod cmd;
mod context;
mod demo_data;
mod exit;
mod mask_support;
mod output;
mod progress;
mod scanner;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// shuan (数安) — government data security platform (政务数据安全平台).
///
/// Finds and grades sensitive data, protects it with national cryptography (国密),
/// masks it, and keeps a tamper-evident audit trail, as the municipal regulations on
/// government data security (政务数据安全管理办法) require.
#[derive(Parser)]
#[command(name = "shuan", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: context::GlobalArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a synthetic department database, scan it and print the inventory (演示).
    Demo(cmd::demo::DemoArgs),
    /// Discover, classify (分类) and grade (分级) sensitive data in files and databases.
    Scan(cmd::scan::ScanArgs),
    /// Find sensitive identifiers in free text (UTF-8 byte spans).
    Detect(cmd::detect::DetectArgs),
    /// Replace every sensitive finding in text by a masked form (e.g. before sending it to an AI tool).
    Redact(cmd::detect::RedactArgs),
    /// The data asset inventory (数据资产清单) and important-data catalogue (重要数据目录).
    #[command(subcommand)]
    Assets(cmd::assets::AssetsCommand),
    /// National cryptography (国密): SM3 digests, SM4 encryption, SM2 keys and signatures.
    #[command(subcommand)]
    Crypto(cmd::crypto::CryptoCommand),
    /// The keyring (密钥管理): master key, data keys, rotation and crypto-shredding.
    #[command(subcommand)]
    Keys(cmd::keys::KeysCommand),
    /// Encrypted, signed backups (备份) and verified restores (恢复).
    #[command(subcommand)]
    Backup(cmd::backup::BackupCommand),
    /// Compliance profiles (合规配置): regulations article by article, evidence queries.
    #[command(subcommand)]
    Comply(cmd::comply::ComplyCommand),
    /// The signed self-inspection report (自查报告): build it, verify it.
    #[command(subcommand)]
    Report(cmd::report::ReportCommand),
    /// Destruction certificates (销毁证明): check one offline.
    #[command(subcommand)]
    Destroy(cmd::destroy::DestroyCommand),
    /// Data quality (数据质量): check a table against rules (not null, unique, checksums, …).
    #[command(subcommand)]
    Quality(cmd::quality::QualityCommand),
    /// The tamper-evident audit ledger (审计日志).
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Masking (脱敏): mask a source into a new destination by scenario rules.
    Mask(cmd::mask::MaskArgs),
    /// Reverse format-preserving encryption for an authorised, audited purpose.
    Unmask(cmd::mask::UnmaskArgs),
    /// Re-identification risk (重识别风险): k-anonymity and l-diversity of a source.
    Risk(cmd::mask::RiskArgs),
    /// Leak-tracing watermarks (水印溯源).
    #[command(subcommand)]
    Watermark(cmd::mask::WatermarkCommand),
    /// Initialise the platform: store, keyring, ledger and the three administrators (三员).
    Init(cmd::platform::InitArgs),
    /// Run the platform server: accounts, policy, the audited API (平台服务).
    Serve(cmd::platform::ServeArgs),
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let command_path = command_path(&matches);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    context::init_tracing(&cli.global);
    let ctx = context::Context::new(&cli.global);
    start_cleanup(&ctx, command_path);
    let result = match cli.command {
        Command::Demo(args) => cmd::demo::run(&ctx, args),
        Command::Scan(args) => cmd::scan::run(&ctx, args),
        Command::Detect(args) => cmd::detect::run_detect(&ctx, args),
        Command::Redact(args) => cmd::detect::run_redact(&ctx, args),
        Command::Assets(c) => cmd::assets::run(&ctx, c),
        Command::Crypto(c) => cmd::crypto::run(&ctx, c),
        Command::Keys(c) => cmd::keys::run(&ctx, c),
        Command::Backup(c) => cmd::backup::run(&ctx, c),
        Command::Comply(c) => cmd::comply::run(&ctx, c),
        Command::Report(c) => cmd::report::run(&ctx, c),
        Command::Destroy(c) => cmd::destroy::run(&ctx, c),
        Command::Quality(c) => cmd::quality::run(&ctx, c),
        Command::Audit(c) => cmd::audit::run(&ctx, c),
        Command::Mask(args) => cmd::mask::run_mask(&ctx, args),
        Command::Unmask(args) => cmd::mask::run_unmask(&ctx, args),
        Command::Risk(args) => cmd::mask::run_risk(&ctx, args),
        Command::Watermark(c) => cmd::mask::run_watermark(&ctx, c),
        Command::Init(args) => cmd::platform::run_init(&ctx, args),
        Command::Serve(args) => cmd::platform::run_serve(&ctx, args),
    };
    shuan_output::end_of_process();
    match result {
        Ok(code) => code,
        // A reader that went away (`shuan detect big.txt | head`) is not a failure.
        Err(err) if exit::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit::FAILED)
        }
    }
}

/// "crypto decrypt", "scan" …: names the interrupted action when no record says more.
fn command_path(matches: &clap::ArgMatches) -> String {
    let mut words = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        words.push(name.to_string());
        m = sub;
    }
    words.join(" ")
}

/// Temporaries never outlive a command: those a killed run left are removed now, and
/// this run's are removed on SIGINT/SIGTERM/SIGHUP, after which the interruption is
/// recorded in the audit ledger (if the command is an audited one).
fn start_cleanup(ctx: &context::Context, command_path: String) {
    let journal = ctx.data_dir.join("run");
    for p in shuan_output::sweep_journal_dir(&journal) {
        eprintln!(
            "note: removed {}, left by an interrupted shuan command",
            p.display()
        );
    }
    shuan_output::set_journal_dir(&journal);
    let handler = shuan_output::install_interrupt_handler(move |signal| {
        audit_trail::record_interruption(&command_path, signal);
    });
    if let Err(e) = handler {
        tracing::warn!("cannot handle interrupt signals: {e}");
    }
}
