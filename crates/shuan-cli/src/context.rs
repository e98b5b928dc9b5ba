//! Options shared by every command, and where shuan keeps its own files.

use std::path::PathBuf;

use clap::Args;

#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// Data directory (数据目录) holding the inventory, keyring and audit ledger.
    /// Default: $SHUAN_DATA_DIR, else $XDG_DATA_HOME/shuan, else ~/.local/share/shuan.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// More log output on stderr (-v info, -vv debug). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// What every command gets: resolved paths and settings.
#[allow(dead_code)] // read by commands as they land
pub struct Context {
    pub data_dir: PathBuf,
}

impl Context {
    pub fn new(global: &GlobalArgs) -> Self {
        Context {
            data_dir: resolve_data_dir(global.data_dir.clone()),
        }
    }
}

/// `--data-dir`, else `SHUAN_DATA_DIR`, else `$XDG_DATA_HOME/shuan`, else `~/.local/share/shuan`.
pub fn resolve_data_dir(flag: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = flag {
        return dir;
    }
    if let Some(dir) = std::env::var_os("SHUAN_DATA_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("shuan");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local").join("share").join("shuan")
}

pub fn init_tracing(global: &GlobalArgs) {
    let level = match global.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHUAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
