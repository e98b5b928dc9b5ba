//! `shuan backup …`: encrypted, SM2-signed backups (备份) and verified restores (恢复),
//! each recorded in the data directory's backup log for restore drills.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use shuan_crypto::backup::{self, BackupRecord};
use shuan_ledger::Outcome;

use crate::audit_trail::{path_object, AuditTrail};
use crate::context::Context;

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Archive DIR (tar), encrypt it (SM4-GCM envelope) and sign it with the node's SM2 key.
    /// Writes OUT and OUT.sig. The master key file is never included.
    Create {
        /// Directory to back up (usually the data directory).
        dir: PathBuf,
        /// Archive to write (outside DIR and the data directory; OUT.sig beside it).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace an existing archive.
        #[arg(long)]
        force: bool,
        /// Data key id (default: "backup", created on first use).
        #[arg(long)]
        key_id: Option<String>,
    },
    /// Check the signature and every authentication tag, writing no plaintext.
    Verify {
        /// Archive.
        out: PathBuf,
        /// Signer's public key (default: this node's key).
        #[arg(long, value_name = "PUB.pem")]
        pub_key: Option<PathBuf>,
    },
    /// Verify, then unpack into DIR (which must be empty unless --force).
    Restore {
        /// Archive.
        out: PathBuf,
        /// Target directory.
        dir: PathBuf,
        /// Unpack into a non-empty directory.
        #[arg(long)]
        force: bool,
        /// Signer's public key (default: this node's key).
        #[arg(long, value_name = "PUB.pem")]
        pub_key: Option<PathBuf>,
    },
    /// Show the backup log (what was backed up, verified and restored, when).
    Log {
        /// Output format (json: one JSON object per line).
        #[arg(long, value_enum, default_value_t = crate::output::ReportFormat::Table)]
        format: crate::output::ReportFormat,
    },
}

fn node_public(
    ctx: &Context,
    pub_key: Option<PathBuf>,
) -> anyhow::Result<shuan_crypto::sm2::VerifyingKey> {
    match pub_key {
        Some(p) => {
            let pem =
                std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            Ok(shuan_crypto::sm2::VerifyingKey::from_public_key_pem(&pem)
                .with_context(|| format!("{}", p.display()))?)
        }
        None => shuan_crypto::node::load_node_public_key(&ctx.data_dir)
            .context("loading this node's SM2 public key (pass --pub-key to use another)"),
    }
}

/// Record the outcome (success or failure, including a refusal before the backup code
/// ran, such as a keyring that does not open) in the backup log and the audit ledger,
/// then return it. The backup log lists backups for restore drills; the ledger is the
/// tamper-evident record of who did what.
fn logged(
    ctx: &Context,
    trail: &AuditTrail,
    action: &str,
    archive: &std::path::Path,
    res: anyhow::Result<BackupRecord>,
) -> anyhow::Result<BackupRecord> {
    let object = path_object(archive);
    match res {
        Ok(rec) => {
            backup::append_log(&ctx.data_dir, &rec).context("writing the backup log")?;
            let details = crate::details! {
                "directory" => rec.directory.as_ref().map(|d| d.display().to_string()),
                "files" => rec.files,
                "bytes" => rec.bytes,
                "key_id" => rec.key_id,
                "key_version" => rec.key_version,
                "archive_sm3" => rec.archive_sm3,
                "signer" => rec.signer,
            };
            trail.record(
                &format!("backup_{action}"),
                &object,
                Outcome::Allowed,
                details,
            )?;
            Ok(rec)
        }
        Err(e) => {
            let rec = backup::failure_record(action, archive, &format!("{e:#}"));
            let _ = backup::append_log(&ctx.data_dir, &rec);
            trail.record(
                &format!("backup_{action}"),
                &object,
                Outcome::Error,
                crate::details! { "error" => format!("{e:#}") },
            )?;
            Err(e)
        }
    }
}

/// Restoring over the live data directory would replace the audit ledger and keyring that
/// this very command is using; restore elsewhere and switch `--data-dir` instead.
fn refuse_live_target(ctx: &Context, target: &std::path::Path) -> anyhow::Result<()> {
    let canon = |p: &std::path::Path| std::fs::canonicalize(p).ok();
    if let (Some(t), Some(d)) = (canon(target), canon(&ctx.data_dir)) {
        if d.starts_with(&t) {
            anyhow::bail!(
                "{} holds the data directory in use ({}), whose audit ledger and keyring this \
                 restore relies on; restore into an empty directory and then run shuan with \
                 --data-dir pointing at it",
                target.display(),
                ctx.data_dir.display()
            );
        }
    }
    Ok(())
}

pub fn run(ctx: &Context, cmd: BackupCommand) -> anyhow::Result<ExitCode> {
    // Create, verify and restore open the audit trail first (fail-closed) and record
    // their outcome whatever step fails, the keyring and node key included.
    match cmd {
        BackupCommand::Create {
            dir,
            out,
            force,
            key_id,
        } => {
            // An archive inside the directory it archives would include itself.
            let rules = crate::output::rules(ctx, Vec::<PathBuf>::new(), force).protect_dir(&dir);
            rules.check(&out)?;
            rules.check(&backup::signature_path(&out))?;
            let trail = AuditTrail::open(ctx)?;
            trail.begin("backup_create", &path_object(&out));
            let res = (|| -> anyhow::Result<BackupRecord> {
                let mut kr = crate::cmd::keys::open_keyring(ctx)?;
                // A server may be writing the databases: archive consistent copies.
                let snapshots = |tmp: &Path| live_database_copies(&dir, tmp);
                Ok(backup::create_node_backup(
                    &mut kr,
                    &backup::NodeBackupRequest {
                        source: &dir,
                        data_dir: &ctx.data_dir,
                        archive: &out,
                        key_id: key_id.as_deref(),
                        options: backup::CreateOptions {
                            snapshots: Some(&snapshots),
                            ..Default::default()
                        },
                    },
                )?)
            })();
            let rec = logged(ctx, &trail, "create", &out, res)?;
            println!(
                "backup {} created: {} files, {} bytes, key '{}' v{}, signed (SM2) -> {}",
                out.display(),
                rec.files.unwrap_or(0),
                rec.bytes,
                rec.key_id,
                rec.key_version,
                backup::signature_path(&out).display()
            );
            trail.close()?;
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Verify { out, pub_key } => {
            let trail = AuditTrail::open(ctx)?;
            trail.begin("backup_verify", &path_object(&out));
            let res = (|| -> anyhow::Result<BackupRecord> {
                let kr = crate::cmd::keys::open_keyring(ctx)?;
                let vk = node_public(ctx, pub_key)?;
                Ok(backup::verify(&out, &kr, &vk)?)
            })();
            let rec = logged(ctx, &trail, "verify", &out, res)?;
            println!(
                "backup {} verified: SM2 signature valid, every chunk authenticated ({} bytes); SM3 {}",
                out.display(),
                rec.bytes,
                rec.archive_sm3
            );
            trail.close()?;
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Restore {
            out,
            dir,
            force,
            pub_key,
        } => {
            let trail = AuditTrail::open(ctx)?;
            trail.begin("backup_restore", &path_object(&out));
            let res = (|| -> anyhow::Result<BackupRecord> {
                refuse_live_target(ctx, &dir)?;
                let kr = crate::cmd::keys::open_keyring(ctx)?;
                let vk = node_public(ctx, pub_key)?;
                Ok(backup::restore(&out, &dir, &kr, &vk, force)?)
            })();
            let rec = logged(ctx, &trail, "restore", &out, res)?;
            println!(
                "backup {} restored into {}: {} files, {} bytes",
                out.display(),
                dir.display(),
                rec.files.unwrap_or(0),
                rec.bytes
            );
            trail.close()?;
            Ok(ExitCode::SUCCESS)
        }
        BackupCommand::Log { format } => {
            for r in backup::read_log(&ctx.data_dir)? {
                if format == crate::output::ReportFormat::Json {
                    println!("{}", serde_json::to_string(&r)?);
                } else {
                    println!(
                        "{}  {:<8} {}  {}",
                        r.time,
                        r.action,
                        r.archive.display(),
                        r.result
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Consistent copies of the SQLite databases at the top of `dir`, made in `tmp`, to be
/// archived in place of the live files.
fn live_database_copies(dir: &Path, tmp: &Path) -> Result<Vec<backup::Substitute>, String> {
    Ok(shuan_store::snapshot_databases(dir, tmp)
        .map_err(|e| format!("{:#}", anyhow::Error::from(e)))?
        .into_iter()
        .map(|s| backup::Substitute {
            relative: s.relative,
            file: s.copy,
        })
        .collect())
}
