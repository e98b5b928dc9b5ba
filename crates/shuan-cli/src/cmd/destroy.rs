//! `shuan destroy`: destruction certificates (销毁证明). The platform destroys (`POST
//! /api/v1/destructions/{id}/execute`, docs/governance.md); this command checks what it
//! certified, offline: the certificate's SM3 digest, its SM2 signature (with the node's
//! public key kept apart, or the key inside), that it states a passed check, and — on the
//! node that signed it — that the ledger record it names holds the same digest.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use shuan_govern::Certificate;

use crate::cmd::report::{ledger_anchor_check, LedgerAnchorCheck};
use crate::context::Context;
use crate::output::{self, ReportFormat};

const EXAMPLES: &str = "\
Examples:
  shuan destroy verify destruction-7.json                      # with the key inside the certificate
  shuan destroy verify destruction-7.json --public-key node-sm2.pub.pem
  shuan destroy verify destruction-7.json --format json

A certificate is what POST /api/v1/destructions/{id}/execute answered (also GET
/api/v1/destructions/{id}/certificate); docs/governance.md describes it. verify exits 0
valid, 3 invalid, 1 when it cannot check (unreadable file, not a certificate).";

#[derive(clap::Subcommand, Debug)]
#[command(after_long_help = EXAMPLES)]
pub enum DestroyCommand {
    /// Check a destruction certificate offline (exit 3 when it does not hold).
    Verify {
        /// The certificate (JSON).
        certificate: PathBuf,
        /// The signing node's public key (PEM) kept apart from the certificate; without
        /// it the key inside is used, which proves the document unchanged but not who
        /// signed it.
        #[arg(long, value_name = "PEM")]
        public_key: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
}

pub fn run(ctx: &Context, cmd: DestroyCommand) -> Result<ExitCode> {
    match cmd {
        DestroyCommand::Verify {
            certificate,
            public_key,
            format,
        } => verify(ctx, &certificate, public_key.as_deref(), format),
    }
}

fn verify(
    ctx: &Context,
    file: &Path,
    public_key: Option<&Path>,
    format: ReportFormat,
) -> Result<ExitCode> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the certificate {}", file.display()))?;
    let cert = Certificate::parse(&text).with_context(|| {
        format!(
            "{} is not a destruction certificate (shuan-destruction-certificate/1)",
            file.display()
        )
    })?;
    let key = match public_key {
        Some(p) => {
            let pem = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the public key {}", p.display()))?;
            Some(
                shuan_crypto::sm2::VerifyingKey::from_public_key_pem(&pem)
                    .with_context(|| format!("{} is not an SM2 public key", p.display()))?,
            )
        }
        None => None,
    };
    let mut v = shuan_govern::certificate::verify(&cert, key.as_ref())
        .with_context(|| format!("cannot check {}", file.display()))?;
    let ledger = ledger_anchor_check(
        ctx,
        &cert.ledger.id,
        cert.ledger.seq,
        "destruction.certify",
        &cert.sm3,
    );
    if let LedgerAnchorCheck::Mismatch(why) = &ledger {
        v.valid = false;
        v.problems.push(why.clone());
    }
    let text_of = |pointer: &str| {
        cert.body
            .pointer(pointer)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let mut out = output::stdout();
    match format {
        ReportFormat::Json => {
            let doc = serde_json::json!({
                "certificate": file.display().to_string(),
                "valid": v.valid,
                "sm3": v.sm3,
                "signed_sm3": cert.sm3,
                "key": v.key,
                "signer": cert.signer,
                "ledger": {"id": cert.ledger.id, "seq": cert.ledger.seq, "checked": ledger.label()},
                "destruction_id": cert.destruction_id(),
                "target": text_of("/target_label"),
                "method": text_of("/method"),
                "executed_at": text_of("/executed_at"),
                "problems": v.problems,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        ReportFormat::Table => {
            if v.valid {
                writeln!(
                    out,
                    "valid (有效): {} — destruction {} of {} ({}) executed {} by {}; SM3 {}, SM2 signature by {} ({} key), {}",
                    file.display(),
                    cert.destruction_id().map_or_else(|| "?".into(), |i| i.to_string()),
                    text_of("/target_label"),
                    text_of("/method"),
                    text_of("/executed_at"),
                    text_of("/executed_by"),
                    v.sm3,
                    &cert.signer[..16.min(cert.signer.len())],
                    v.key,
                    ledger.label(),
                )?;
                if v.key == "embedded" {
                    writeln!(
                        out,
                        "note: checked with the key inside the certificate; give --public-key to prove which node signed"
                    )?;
                }
            } else {
                writeln!(out, "INVALID (无效): {}", file.display())?;
                for p in &v.problems {
                    writeln!(out, "  - {p}")?;
                }
            }
        }
    }
    out.finish()?;
    Ok(if v.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::exit::INVALID)
    })
}
