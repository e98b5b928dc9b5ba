//! `shuan keys …`: the keyring (密钥管理) — master key (KEK), versioned data keys,
//! rotation (轮换) and crypto-shredding (密钥销毁).

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::Subcommand;
use serde_json::Map;
use shuan_crypto::keyring::{KekSource, KekSpec, KeyState, Keyring};
use shuan_crypto::zeroize::Zeroizing;
use shuan_ledger::Outcome;

use crate::audit_trail::AuditTrail;
use crate::context::Context;

/// Environment variable holding the KEK passphrase (never a command-line argument).
pub const PASSPHRASE_ENV: &str = "SHUAN_KEK_PASSPHRASE";

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create the keyring and master key in the data directory (refuses to overwrite).
    Init {
        /// Derive the master key from a passphrase (Argon2id) instead of a 0600 key file.
        /// The passphrase is read from $SHUAN_KEK_PASSPHRASE or asked for on the terminal.
        #[arg(long)]
        passphrase: bool,
    },
    /// List data keys and versions (no key material is ever printed).
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = crate::output::ReportFormat::Table)]
        format: crate::output::ReportFormat,
    },
    /// Create a new data key (e.g. one per data asset).
    Create {
        /// Key id: letters, digits, '-', '_', '.'.
        id: String,
    },
    /// Rotate a data key: new data uses a new version; old versions still decrypt.
    Rotate {
        /// Key id (default: the keyring's default key).
        id: Option<String>,
    },
    /// Crypto-shred (销毁) a data key or one version: data under it becomes unrecoverable.
    Destroy {
        /// Key id.
        id: String,
        /// Only this version (default: all versions).
        #[arg(long = "key-version", value_name = "N")]
        key_version: Option<u32>,
        /// Confirm that the data encrypted under the key is to become unrecoverable.
        #[arg(long)]
        yes: bool,
    },
    /// Replace the master key and re-wrap all data keys (no data is re-encrypted).
    RotateKek,
}

/// Read the passphrase from the environment or, on a terminal, without echo.
fn passphrase(confirm: bool) -> Option<Zeroizing<String>> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        if !p.is_empty() {
            return Some(Zeroizing::new(p));
        }
    }
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let read = |prompt: &str| -> Option<Zeroizing<String>> {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let echo_off = std::process::Command::new("stty")
            .arg("-echo")
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success());
        let mut line = Zeroizing::new(String::new());
        let res = std::io::stdin().lock().read_line(&mut line);
        if echo_off {
            let _ = std::process::Command::new("stty")
                .arg("echo")
                .stdin(std::process::Stdio::inherit())
                .status();
        }
        eprintln!();
        res.ok()?;
        let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
        (!trimmed.is_empty()).then_some(trimmed)
    };
    let p = read("master key passphrase (主密钥口令): ")?;
    if confirm {
        let again = read("repeat passphrase: ")?;
        if *again != *p {
            eprintln!("passphrases differ");
            return None;
        }
    }
    Some(p)
}

/// Open the data directory's keyring, asking for the passphrase if it needs one.
pub fn open_keyring(ctx: &Context) -> anyhow::Result<Keyring> {
    Keyring::open(&ctx.data_dir, || passphrase(false)).context("opening the keyring")
}

/// The KEK source `keys init` asked for, after the passphrase checks.
fn init_source(use_passphrase: bool) -> anyhow::Result<KekSource> {
    if !use_passphrase {
        return Ok(KekSource::File);
    }
    let p = passphrase(true).with_context(|| {
        format!("a passphrase is needed: set {PASSPHRASE_ENV} or run on a terminal")
    })?;
    if p.chars().count() < MIN_PASSPHRASE_CHARS {
        bail!("the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters");
    }
    Ok(KekSource::Passphrase(p))
}

/// Shortest passphrase `keys init --passphrase` accepts.
const MIN_PASSPHRASE_CHARS: usize = 12;

/// The ledger object naming data key `id`.
fn key_object(id: &str) -> String {
    format!("key:{id}")
}

pub fn run(ctx: &Context, cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    // Every command below except `list` changes the keyring: each opens the audit trail
    // first (fail-closed) and records its outcome, including every refusal and failure.
    match cmd {
        KeysCommand::Init {
            passphrase: use_pass,
        } => {
            let trail = AuditTrail::open(ctx)?;
            let kind = if use_pass { "passphrase" } else { "file" };
            let kr = trail.record_result(
                "key_init",
                "keyring",
                crate::details! { "kek" => kind },
                init_source(use_pass).and_then(|source| {
                    Keyring::init(&ctx.data_dir, source).context("creating the keyring")
                }),
            )?;
            trail.close()?;
            let how = match kr.kek_spec() {
                KekSpec::File => format!(
                    "key file {} (mode 0600)",
                    shuan_crypto::keyring::kek_path(&ctx.data_dir).display()
                ),
                KekSpec::Passphrase(_) => "passphrase (Argon2id)".to_string(),
            };
            println!(
                "keyring created at {} (master key: {how}); default data key '{}' version 1",
                shuan_crypto::keyring::keyring_path(&ctx.data_dir).display(),
                kr.default_key_id()
            );
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::List { format } => {
            let kr = open_keyring(ctx)?;
            let keys = kr.list();
            if format == crate::output::ReportFormat::Json {
                println!("{}", serde_json::to_string_pretty(&keys)?);
            } else {
                println!(
                    "{:<24} {:>7}  {:<10} {:<21} destroyed",
                    "key id", "version", "state", "created"
                );
                for k in keys {
                    let state = match k.state {
                        KeyState::Active => "active",
                        KeyState::Retired => "retired",
                        KeyState::Destroyed => "destroyed",
                    };
                    let id = if k.is_default {
                        format!("{} *", k.id)
                    } else {
                        k.id
                    };
                    println!(
                        "{:<24} {:>7}  {:<10} {:<21} {}",
                        id,
                        k.version,
                        state,
                        k.created,
                        k.destroyed_at.unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Create { id } => {
            let trail = AuditTrail::open(ctx)?;
            let res = open_keyring(ctx).and_then(|mut kr| Ok(kr.create_key(&id)?));
            trail.record_result("key_create", &key_object(&id), Map::new(), res)?;
            trail.close()?;
            println!("created data key '{id}' version 1");
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Rotate { id } => {
            let trail = AuditTrail::open(ctx)?;
            // The default key's id is only known once the keyring is open.
            let mut object = key_object(id.as_deref().unwrap_or("(default)"));
            let res = open_keyring(ctx).and_then(|mut kr| {
                let id = id.unwrap_or_else(|| kr.default_key_id().to_string());
                object = key_object(&id);
                let version = kr.rotate(&id)?;
                Ok((id, version))
            });
            let (id, v) = trail.record_result("key_rotate", &object, Map::new(), res)?;
            trail.close()?;
            println!(
                "data key '{id}' rotated: version {v} is active; older versions still decrypt"
            );
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Destroy {
            id,
            key_version: version,
            yes,
        } => {
            let trail = AuditTrail::open(ctx)?;
            let object = key_object(&id);
            let res = if yes {
                open_keyring(ctx).and_then(|mut kr| Ok(kr.destroy(&id, version)?))
            } else {
                Err(anyhow::anyhow!(
                    "destroying '{id}' makes every file encrypted under it unrecoverable; \
                     run again with --yes to confirm"
                ))
            };
            let destroyed = match res {
                Ok(versions) => {
                    trail.record(
                        "key_destroy",
                        &object,
                        Outcome::Allowed,
                        crate::details! { "versions" => versions.clone() },
                    )?;
                    versions
                }
                Err(e) => {
                    return trail.record_result(
                        "key_destroy",
                        &object,
                        crate::details! { "version" => version },
                        Err(e),
                    )
                }
            };
            trail.close()?;
            println!(
                "destroyed data key '{id}' version(s) {destroyed:?}; the master key was replaced \
                 and the other keys re-wrapped"
            );
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::RotateKek => {
            let trail = AuditTrail::open(ctx)?;
            let res = open_keyring(ctx).and_then(|mut kr| Ok(kr.rotate_kek()?));
            trail.record_result("kek_rotate", "keyring", Map::new(), res)?;
            trail.close()?;
            println!("master key replaced; all data keys re-wrapped");
            Ok(ExitCode::SUCCESS)
        }
    }
}
