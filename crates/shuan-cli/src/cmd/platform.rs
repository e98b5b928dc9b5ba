//! `shuan init` and `shuan serve`: the platform (平台) — accounts, 三员分立, policy and
//! the HTTP API. The use cases live in `shuan-server`; this module parses arguments and
//! prints.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use shuan_server::init::{InitOptions, InitReport};
use shuan_server::{ServerConfig, ServerError, Settings, TlsFiles};

use crate::context::Context;
use crate::output::{self, OutArgs, ReportFormat, TextTable};

const INIT_EXAMPLES: &str = "\
Examples:
  shuan init                                   # SQLite store in the data directory
  shuan init --org-code 11441900MB2C92661X --org-name 某市政务服务数据管理局
  shuan init --store postgres://shuan@db.internal/shuan   # one store for several nodes
  shuan init --format json --out first-passwords.json     # owner-only file

Creates the platform store, the keyring (KEK in keys/kek.key, or from
$SHUAN_KEK_PASSPHRASE) and the audit ledger if missing, the top department, and the three
administrators sysadmin (系统管理员), secadmin (安全管理员) and auditor (安全审计员), each
with a one-time password printed once. A one-time password only allows changing it and
enrolling TOTP. There is no superuser; `init` refuses to run again once accounts exist.";

/// `shuan init`.
#[derive(clap::Args, Debug)]
#[command(after_long_help = INIT_EXAMPLES)]
pub struct InitArgs {
    /// Platform store: omit for SQLite in the data directory, or postgres://… for several nodes.
    #[arg(long, value_name = "URL", env = "SHUAN_STORE")]
    pub store: Option<String>,
    /// 机构代码 of the top department.
    #[arg(long, default_value = "ROOT", value_name = "CODE")]
    pub org_code: String,
    /// Name of the top department.
    #[arg(long, default_value = "本单位", value_name = "NAME")]
    pub org_name: String,
    /// table (for people) or json (`{"accounts":[{"username","role","one_time_password"}]}`).
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    #[command(flatten)]
    pub out: OutArgs,
}

const SERVE_EXAMPLES: &str = "\
Examples:
  shuan serve                                   # http://127.0.0.1:8443, SQLite store
  shuan serve --listen 0.0.0.0:8443 --tls-cert server.crt --tls-key server.key
  shuan serve --store postgres://shuan@db.internal/shuan --data-dir /var/lib/shuan/node1

Plain HTTP is served only on a loopback address unless --insecure-plain-http is given
(for a node behind a TLS-terminating proxy). Every request that reads protected data or
changes anything is recorded in this node's ledger before it is answered; if the ledger
cannot be written the request fails with 503 and nothing changes. While the server runs
it holds the ledger: commands that record (scan --save, mask, keys …) on the same data
directory wait for it, so use the API or another data directory.
API: /api/v1 …, OpenAPI at /api/openapi.json, /healthz, /metrics.";

/// `shuan serve`.
#[derive(clap::Args, Debug)]
#[command(after_long_help = SERVE_EXAMPLES)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Platform store: omit for SQLite in the data directory, or postgres://….
    #[arg(long, value_name = "URL", env = "SHUAN_STORE")]
    pub store: Option<String>,
    /// TLS certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    #[arg(long)]
    pub insecure_plain_http: bool,
    /// Sign a session out after this many minutes without a request.
    #[arg(long, default_value_t = 30, value_name = "MIN",
          value_parser = clap::value_parser!(i64).range(1..=1440))]
    pub session_idle_minutes: i64,
    /// Idle timeout in seconds, overriding --session-idle-minutes (the browser tests watch
    /// a session time out without waiting minutes).
    #[arg(long, value_name = "SECS", hide = true,
          value_parser = clap::value_parser!(i64).range(1..=86_400))]
    pub session_idle_secs: Option<i64>,
    /// Sign a session out this many hours after sign-in, whatever happens.
    #[arg(long, default_value_t = 8, value_name = "H",
          value_parser = clap::value_parser!(i64).range(1..=72))]
    pub session_hours: i64,
    /// Shortest elevation (超出权限) that may be asked for, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECS", hide = true,
          value_parser = clap::value_parser!(i64).range(1..=86_400))]
    pub min_elevation_secs: i64,
    /// Database hosts that sources and scan jobs may name, comma-separated
    /// (`db1.internal,10.0.0.8:5432,[fd00::5]:3306`), or `*` for any. Default: loopback
    /// only (localhost, 127.0.0.1, ::1, local sockets): a steward's URL never makes the
    /// server connect elsewhere.
    #[arg(long, value_name = "HOSTS", env = "SHUAN_SOURCE_HOSTS",
          value_parser = parse_source_hosts)]
    pub source_hosts: Option<shuan_source::SourceHosts>,
    /// Send each new misuse alert (滥用告警) as an RFC 5424 syslog line over UDP to
    /// udp://HOST:PORT (best effort; failures counted in /metrics).
    #[arg(long, value_name = "URL", value_parser = shuan_server::watch::SyslogTarget::parse)]
    pub alert_syslog: Option<shuan_server::watch::SyslogTarget>,
    /// Also post each new misuse alert as JSON to this URL: https://…, or http:// to a
    /// loopback address (three attempts; failures counted in /metrics).
    #[arg(long, value_name = "URL", value_parser = shuan_server::watch::WebhookTarget::parse)]
    pub alert_webhook: Option<shuan_server::watch::WebhookTarget>,
    /// Ledger segment size in bytes (tests use small ones to exercise segment changes).
    #[arg(long, value_name = "BYTES", hide = true)]
    pub ledger_segment_bytes: Option<u64>,
}

fn parse_source_hosts(s: &str) -> Result<shuan_source::SourceHosts, String> {
    shuan_source::SourceHosts::parse(s).map_err(|e| e.to_string())
}

fn print_init(out: &mut dyn Write, report: &InitReport, format: ReportFormat) -> Result<()> {
    match format {
        ReportFormat::Json => {
            let accounts: Vec<_> = report
                .accounts
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "username": a.username,
                        "role": a.role,
                        "one_time_password": a.one_time_password,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "accounts": accounts }))?;
            writeln!(out)?;
        }
        ReportFormat::Table => {
            writeln!(
                out,
                "平台已初始化 (platform initialised), store: {}",
                report.store
            )?;
            writeln!(
                out,
                "三个管理员账号的一次性密码只显示这一次 (one-time passwords, shown once):"
            )?;
            let mut t =
                TextTable::new(&["账号 account", "角色 role", "一次性密码 one-time password"]);
            for a in &report.accounts {
                t.row(vec![
                    a.username.clone(),
                    format!("{} {}", a.role_label, a.role),
                    a.one_time_password.clone(),
                ]);
            }
            t.write(out, "  ")?;
            writeln!(
                out,
                "每人登录后须先修改密码并绑定动态口令 (each must change the password and enrol TOTP at first sign-in)."
            )?;
        }
    }
    Ok(())
}

/// `shuan init`.
pub fn run_init(ctx: &Context, args: InitArgs) -> Result<ExitCode> {
    let rules = output::rules(ctx, Vec::<PathBuf>::new(), args.out.force);
    // Opened first: a refused --out must not leave an initialised platform whose
    // passwords nobody saw.
    let mut out = output::Output::open_private(args.out.out.as_deref(), &rules)?;
    let opts = InitOptions {
        data_dir: ctx.data_dir.clone(),
        store_url: args.store.clone(),
        org_code: args.org_code.clone(),
        org_name: args.org_name.clone(),
    };
    let report = match shuan_server::init::initialise(&opts) {
        Ok(r) => r,
        Err(e @ shuan_server::init::InitError::AlreadyInitialised(_)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(crate::exit::FAILED));
        }
        Err(e) => return Err(e).context("shuan init"),
    };
    print_init(&mut out, &report, args.format)?;
    out.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// The server settings of `serve`'s flags.
pub fn settings(args: &ServeArgs) -> Settings {
    Settings {
        session_idle_secs: args
            .session_idle_secs
            .unwrap_or(args.session_idle_minutes * 60),
        session_absolute_secs: args.session_hours * 3600,
        min_elevation_secs: args.min_elevation_secs,
        ledger_segment_max_bytes: args.ledger_segment_bytes,
        source_hosts: args.source_hosts.clone().unwrap_or_default(),
        alert_syslog: args.alert_syslog.clone(),
        alert_webhook: args.alert_webhook.clone(),
        ..Settings::default()
    }
}

/// Serves until Ctrl-C or SIGTERM.
pub fn serve(ctx: &Context, args: &ServeArgs, banner: Option<String>) -> Result<ExitCode> {
    let config = ServerConfig {
        data_dir: ctx.data_dir.clone(),
        store_url: args.store.clone(),
        listen: args.listen,
        tls: args
            .tls_cert
            .clone()
            .zip(args.tls_key.clone())
            .map(|(cert, key)| TlsFiles { cert, key }),
        insecure_plain_http: args.insecure_plain_http,
        settings: settings(args),
    };
    // Ctrl-C and SIGTERM stop the server gracefully (below) instead of ending the process.
    shuan_output::let_program_handle_interrupts();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let server = match shuan_server::start(config.clone()).await {
            Ok(s) => s,
            Err(e @ (ServerError::PlainHttpNotLoopback(_) | ServerError::NotInitialised)) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(crate::exit::USAGE));
            }
            Err(e) => return Err(anyhow::Error::new(e)).context("shuan serve"),
        };
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        if let Some(b) = banner {
            println!("{b}");
        }
        println!(
            "shuan serve: listening on {scheme}://{} (store: {}, node {}); Ctrl-C stops",
            server.addr,
            server.platform.store.backend(),
            server.platform.node
        );
        let _ = std::io::stdout().flush();
        shutdown_signal().await;
        eprintln!("stopping: finishing requests in flight …");
        let platform = std::sync::Arc::clone(&server.platform);
        tokio::time::timeout(Duration::from_secs(15), server.stop())
            .await
            .ok()
            .transpose()
            .context("stopping the server")?;
        // Sign a checkpoint over the last records, so a stopped node's copy in the store is
        // covered by a signature (`shuan audit verify --store`), then copy it.
        let ledger = std::sync::Arc::clone(&platform.ledger);
        if let Err(e) = tokio::task::spawn_blocking(move || ledger.checkpoint())
            .await
            .context("signing the final checkpoint")?
        {
            eprintln!("warning: the final audit checkpoint could not be signed: {e}");
        }
        shuan_server::mirror::mirror_now(&platform).await.ok();
        Ok(ExitCode::SUCCESS)
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// `shuan serve`.
pub fn run_serve(ctx: &Context, args: ServeArgs) -> Result<ExitCode> {
    serve(ctx, &args, None)
}
