//! `shuan report`: the signed self-inspection report (自查报告). `build` evaluates a
//! department (as `shuan comply check` does), renders the report (`shuan-report`),
//! records its SM3 digest in the audit ledger, signs it with the node's SM2 key and writes
//! `FILE` and `FILE.sig`; `verify` checks a report against its signature (and, on the node
//! that built it, against the ledger record).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use shuan_report::{
    ChartData, LedgerAnchor, RectificationRow, ReportInput, ReportSignature, Subject,
};

use crate::audit_trail::AuditTrail;
use crate::cmd::comply::{compare_target, evaluate_target, summary_details, TargetArgs};
use crate::context::Context;
use crate::output::{self, ReportFormat};

const EXAMPLES: &str = "\
Examples:
  shuan report build --regulation jc --period 2026 --department 1101 --out jc-2026.html
  shuan report build --regulation jc --period 2026 --compare 2025 --out jc-2026.html
  shuan report verify jc-2026.html                       # with the key inside jc-2026.html.sig
  shuan report verify jc-2026.html --public-key node-sm2.pub.pem

The signature is FILE.sig (JSON: SM3 digest, SM2 signature, public key, ledger record);
docs/compliance.md describes it. verify exits 0 valid, 3 invalid, 1 when it cannot check.";

#[derive(clap::Subcommand, Debug)]
#[command(after_long_help = EXAMPLES)]
pub enum ReportCommand {
    /// Build the signed self-inspection report (HTML) of a department for a period.
    Build {
        #[command(flatten)]
        target: TargetArgs,
        /// The report file (.html); its signature goes to FILE.sig.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace FILE and FILE.sig if they exist.
        #[arg(long)]
        force: bool,
        /// Add a comparison with an earlier period (与上期对比): a year or FROM..TO.
        #[arg(long, value_name = "PERIOD")]
        compare: Option<String>,
    },
    /// Check a report against its signature FILE.sig (exit 3 when it does not match).
    Verify {
        /// The report file.
        file: PathBuf,
        /// The node's public key (PEM) kept apart from the report; without it the key in
        /// FILE.sig is used, which proves the file unchanged but not who signed it.
        #[arg(long, value_name = "PEM")]
        public_key: Option<PathBuf>,
        /// The signature file. Default: FILE.sig.
        #[arg(long, value_name = "SIG")]
        signature: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
}

pub fn run(ctx: &Context, cmd: ReportCommand) -> Result<ExitCode> {
    match cmd {
        ReportCommand::Build {
            target,
            out,
            force,
            compare,
        } => build(ctx, &target, &out, force, compare.as_deref()),
        ReportCommand::Verify {
            file,
            public_key,
            signature,
            format,
        } => verify(
            ctx,
            &file,
            public_key.as_deref(),
            signature.as_deref(),
            format,
        ),
    }
}

fn signature_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".sig");
    PathBuf::from(s)
}

fn build(
    ctx: &Context,
    t: &TargetArgs,
    out: &Path,
    force: bool,
    compare: Option<&str>,
) -> Result<ExitCode> {
    if out.as_os_str() == "-" {
        bail!("--out must name a file: the report is signed as a file");
    }
    // Both outputs are claimed first (refused if present without --force, or inside the
    // data directory) and only moved into place once the record and signature exist.
    let rules = output::rules(ctx, Vec::<PathBuf>::new(), force);
    let sig_path = signature_path(out);
    let mut html_out = output::Output::open(Some(out), &rules)?;
    let mut sig_out = output::Output::open(Some(&sig_path), &rules)?;
    // Fail closed: the report is anchored in the ledger before it is reported done.
    let trail = AuditTrail::open(ctx)?;
    let object = format!(
        "{}:{}",
        t.regulation,
        t.department.as_deref().unwrap_or("-")
    );
    trail.begin("report.build", &object);
    let built = render(ctx, t, compare);
    let (e, html, comparison_period) = match built {
        Ok(v) => v,
        Err(err) => {
            return trail.record_result("report.build", &object, Default::default(), Err(err))
        }
    };
    let key = shuan_crypto::node::load_or_create_node_key(&ctx.data_dir)
        .context("loading the node's SM2 key that signs reports")?;
    let ledger_id = shuan_ledger::ledger::read_meta(&shuan_ledger::default_dir(&ctx.data_dir))
        .context("reading the audit ledger's id")?
        .ledger_id;
    let bytes = html.into_bytes();
    let sm3 = shuan_report::digest(&bytes);
    let mut details = summary_details(&e.evaluation);
    details.insert("sm3".into(), sm3.clone().into());
    if let Some(c) = &comparison_period {
        details.insert("compared_with".into(), c.clone().into());
    }
    details.insert("bytes".into(), bytes.len().into());
    details.insert(
        "file".into(),
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .into(),
    );
    let seq = trail.record(
        "report.build",
        &e.object,
        shuan_ledger::Outcome::Allowed,
        details,
    )?;
    let period = e.evaluation.period.to_string();
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sig = shuan_report::sign(
        &bytes,
        &key,
        LedgerAnchor { id: ledger_id, seq },
        &Subject {
            file: &file_name,
            regulation: &e.evaluation.profile,
            department: &e.evaluation.department,
            period: &period,
        },
    );
    html_out.write_all(&bytes)?;
    sig_out.write_all(sig.to_json().as_bytes())?;
    html_out.finish()?;
    sig_out.finish()?;
    trail.close()?;
    let summary: Vec<String> = e
        .evaluation
        .summary()
        .iter()
        .map(|(s, n)| format!("{} {n}", s.label()))
        .collect();
    println!(
        "自查报告 {} ({} bytes, SM3 {sm3}), signature {}, ledger record {seq}: {}",
        out.display(),
        bytes.len(),
        sig_path.display(),
        summary.join("，")
    );
    Ok(ExitCode::SUCCESS)
}

/// Evaluates and renders; the figures for the charts and the rectification items come
/// from the same store. With `compare`, the earlier period is evaluated too and its
/// printed period returned.
fn render(
    ctx: &Context,
    t: &TargetArgs,
    compare: Option<&str>,
) -> Result<(crate::cmd::comply::Evaluated, String, Option<String>)> {
    let (e, comparison) = match compare {
        Some(against) => {
            let (earlier, later, c) = compare_target(ctx, t, against)?;
            drop(earlier);
            (later, Some(c))
        }
        None => (evaluate_target(ctx, t)?, None),
    };
    let audit_by_month = shuan_evidence::audit_by_month(&*e.store, &e.evaluation.period)
        .context("counting audit records per month")?;
    let inventory_by_level = {
        use shuan_comply::EvidenceSource as _;
        let source = shuan_evidence::PlatformEvidence::new(
            &*e.store,
            &ctx.data_dir,
            shuan_evidence::LedgerCheck::Skip,
            crate::cmd::comply::today(),
        );
        source
            .inventory(&e.evaluation.department)
            .context("reading the inventory")?
            .map(|inv| inv.columns_by_level)
    };
    let alerts_by_month =
        shuan_evidence::alerts_by_month(&*e.store, &e.evaluation.department, &e.evaluation.period)
            .context("counting alerts per month")?;
    let rectifications = shuan_evidence::rectifications_in(
        &*e.store,
        &e.evaluation.department,
        &e.evaluation.period,
    )
    .context("reading the rectification items")?
    .into_iter()
    .map(|r| RectificationRow {
        id: r.id.to_string(),
        origin: match r.origin_kind.as_str() {
            shuan_store::platform::risk::ORIGIN_ASSESSMENT => format!("风险评估 #{}", r.origin_id),
            shuan_store::platform::risk::ORIGIN_DRILL => format!("应急演练 #{}", r.origin_id),
            other => format!("{other} #{}", r.origin_id),
        },
        finding: r.finding,
        severity: match r.severity.as_str() {
            "high" => "高".into(),
            "medium" => "中".into(),
            "low" => "低".into(),
            other => other.into(),
        },
        owner: r.owner,
        due: shuan_evidence::day_of(r.due_at),
        closed: r.closed_at.map(shuan_evidence::day_of),
    })
    .collect();
    let node = shuan_ledger::ledger::read_meta(&shuan_ledger::default_dir(&ctx.data_dir))
        .map(|m| m.ledger_id)
        .unwrap_or_default();
    let compared = comparison.as_ref().map(|c| c.before_period.clone());
    let html = shuan_report::render_html(&ReportInput {
        profile: &e.profile,
        evaluation: &e.evaluation,
        department_name: e.department_name.clone(),
        generated_at: shuan_crypto::time::now_rfc3339(),
        node,
        notes: shuan_evidence::scope_notes()
            .into_iter()
            .map(String::from)
            .collect(),
        charts: ChartData {
            audit_by_month,
            inventory_by_level,
            alerts_by_month: Some(alerts_by_month),
        },
        rectifications,
        comparison,
    })?;
    Ok((e, html, compared))
}

fn verify(
    ctx: &Context,
    file: &Path,
    public_key: Option<&Path>,
    signature: Option<&Path>,
    format: ReportFormat,
) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let sig_path = signature.map_or_else(|| signature_path(file), Path::to_path_buf);
    let sig_text = std::fs::read_to_string(&sig_path)
        .with_context(|| format!("cannot read the signature {}", sig_path.display()))?;
    let sig = ReportSignature::parse(&sig_text)
        .with_context(|| format!("{} is not a report signature", sig_path.display()))?;
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
    let mut v = shuan_report::verify(&bytes, &sig, key.as_ref())?;
    // On the node that built it, the ledger record must hold the same digest.
    let ledger = ledger_anchor_check(
        ctx,
        &sig.ledger.id,
        sig.ledger.seq,
        "report.build",
        &sig.sm3,
    );
    if let LedgerAnchorCheck::Mismatch(why) = &ledger {
        v.valid = false;
        v.problems.push(why.clone());
    }
    let mut out = output::stdout();
    match format {
        ReportFormat::Json => {
            let doc = serde_json::json!({
                "file": file.display().to_string(),
                "valid": v.valid,
                "sm3": v.sm3,
                "signed_sm3": sig.sm3,
                "key": v.key,
                "signer": sig.signer,
                "ledger": {"id": sig.ledger.id, "seq": sig.ledger.seq, "checked": ledger.label()},
                "regulation": sig.regulation,
                "department": sig.department,
                "period": sig.period,
                "signed_at": sig.signed_at,
                "problems": v.problems,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        ReportFormat::Table => {
            if v.valid {
                writeln!(
                    out,
                    "valid (有效): {} — SM3 {}, SM2 signature by {} ({} key), {}; {} {} {}",
                    file.display(),
                    v.sm3,
                    &sig.signer[..16.min(sig.signer.len())],
                    v.key,
                    ledger.label(),
                    sig.regulation,
                    sig.department,
                    sig.period
                )?;
                if v.key == "embedded" {
                    writeln!(
                        out,
                        "note: checked with the key inside the signature; give --public-key to prove which node signed"
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

/// Whether the ledger record a signed document names holds its digest.
pub(crate) enum LedgerAnchorCheck {
    /// The data directory's ledger is another node's, or absent: not checked here.
    NotHere,
    /// The record holds the digest.
    Matches,
    /// The record is missing or holds another digest.
    Mismatch(String),
}

impl LedgerAnchorCheck {
    pub(crate) fn label(&self) -> &'static str {
        match self {
            LedgerAnchorCheck::NotHere => "ledger record not checked (another node's ledger)",
            LedgerAnchorCheck::Matches => "ledger record matches",
            LedgerAnchorCheck::Mismatch(_) => "ledger record does not match",
        }
    }
}

/// Checks, on the node whose ledger is `ledger_id`, that record `seq` is an `action`
/// record holding `sm3` in its details; elsewhere nothing can be checked.
pub(crate) fn ledger_anchor_check(
    ctx: &Context,
    ledger_id: &str,
    seq: u64,
    action: &str,
    sm3: &str,
) -> LedgerAnchorCheck {
    let dir = shuan_ledger::default_dir(&ctx.data_dir);
    let Ok(meta) = shuan_ledger::ledger::read_meta(&dir) else {
        return LedgerAnchorCheck::NotHere;
    };
    if meta.ledger_id != ledger_id {
        return LedgerAnchorCheck::NotHere;
    }
    let record = shuan_ledger::reader::records(&dir, seq)
        .ok()
        .and_then(|mut it| it.next())
        .and_then(Result::ok)
        .filter(|r| r.seq == seq);
    match record {
        None => {
            LedgerAnchorCheck::Mismatch(format!("ledger record {seq} is not in this node's ledger"))
        }
        Some(r) if r.action != action => LedgerAnchorCheck::Mismatch(format!(
            "ledger record {seq} is a `{}` record, not `{action}`",
            r.action
        )),
        Some(r) => {
            if r.details.get("sm3").and_then(|v| v.as_str()) == Some(sm3) {
                LedgerAnchorCheck::Matches
            } else {
                LedgerAnchorCheck::Mismatch(format!("ledger record {seq} anchors another digest"))
            }
        }
    }
}
