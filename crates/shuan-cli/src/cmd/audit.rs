//! `shuan audit`: the tamper-evident audit ledger (审计日志) — append, count, verify,
//! prove, check proofs, query, export, checkpoint, archive and prune.
//!
//! The ledger lives in `<data dir>/audit` unless `--dir` says otherwise; checkpoints are
//! signed with the node's SM2 key from `<data dir>/keys`. `verify --store` checks instead
//! every `shuan serve` node's records copied into the platform store against that node's
//! signed checkpoints (copied there too).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Subcommand, ValueEnum};
use shuan_crypto::sm2::VerifyingKey;
use shuan_ledger::{
    prove, query, reader, Checkpoint, Event, Filter, Ledger, Outcome, Proof, Timestamp,
    VerifyOptions,
};

use crate::context::Context;
// One node's copy in the platform store checked against its signed checkpoints: the
// server's check, which the auditor's 账本校验 page shows too.
use shuan_server::mirror::check_node_copy as verify_node;

/// Exit code when verification finds a problem or a proof does not hold.
const EXIT_INVALID: u8 = crate::exit::INVALID;

#[derive(Args, Debug, Clone)]
pub struct DirArg {
    /// Ledger directory (default: <data dir>/audit).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct KeyArg {
    /// The node's SM2 public key (PEM) to check signatures with. Default: the data
    /// directory's node key. Give a copy kept outside the audited machine for an inspection.
    #[arg(long, value_name = "PEM")]
    public_key: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct FilterArgs {
    /// Records at or after this time (RFC 3339 or YYYY-MM-DD).
    #[arg(long)]
    since: Option<String>,
    /// Records before this time (RFC 3339 or YYYY-MM-DD).
    #[arg(long)]
    until: Option<String>,
    /// Actor id (操作人).
    #[arg(long)]
    actor: Option<String>,
    /// Actor's department (部门).
    #[arg(long)]
    department: Option<String>,
    /// Action (操作).
    #[arg(long)]
    action: Option<String>,
    /// Object (对象); a trailing `*` matches a prefix.
    #[arg(long)]
    object: Option<String>,
    /// Outcome (结果).
    #[arg(long, value_enum)]
    outcome: Option<OutcomeArg>,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum OutcomeArg {
    Allowed,
    Denied,
    Error,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryFormat {
    Table,
    Json,
    Csv,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One canonical JSON record per line.
    Jsonl,
    /// RFC 5424 syslog lines for a SIEM.
    Syslog,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Append JSON-lines events from stdin; prints the last sequence number once all are
    /// durable. Each line: {"actor":{"kind":"user","id":..,"department":..,"role":..},
    /// "action":..,"object":..,"purpose":..,"outcome":"allowed|denied|error",
    /// "client":{"address":..,"agent":..},"request_id":..,"details":{..},"time":..}.
    Append {
        #[command(flatten)]
        dir: DirArg,
        /// Print `durable SEQ` after every group commit.
        #[arg(long)]
        progress: bool,
    },
    /// Print the number of records (recovering a torn final write first).
    Count {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Re-check the whole chain, tree and signatures; name the first bad record.
    ///
    /// With --store: check every node's records copied into the platform store against
    /// that node's signed checkpoints, one result per node (exit 3 if any is invalid).
    #[command(after_long_help = VERIFY_EXAMPLES)]
    Verify {
        #[command(flatten)]
        dir: DirArg,
        #[command(flatten)]
        key: KeyArg,
        /// A checkpoint published elsewhere (JSON lines as printed by `checkpoint`);
        /// reveals deleted or rewritten recent records. Repeatable.
        #[arg(long, value_name = "FILE")]
        anchor: Vec<PathBuf>,
        /// Check the copies in the platform store (sqlite:PATH or postgres://…) of every
        /// node's records against its signed checkpoints, instead of one ledger directory.
        /// Without a value: the data directory's platform.db.
        #[arg(
            long,
            value_name = "URL",
            num_args = 0..=1,
            conflicts_with_all = ["dir", "anchor", "public_key"]
        )]
        store: Option<Option<String>>,
        /// With --store: a node's public key, as NODE=PEM (NODE is the node's ledger id,
        /// shown by /healthz and `shuan serve`; PEM a copy of that node's
        /// keys/node-sm2.pub.pem kept outside the store). Repeatable. The data
        /// directory's own node key is used for its own node.
        #[arg(long = "node-key", value_name = "NODE=PEM", requires = "store")]
        node_key: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = crate::output::ReportFormat::Table)]
        format: crate::output::ReportFormat,
    },
    /// Emit an inclusion proof (包含证明) of record SEQ, checkable with the public key only.
    Prove {
        #[command(flatten)]
        dir: DirArg,
        /// Sequence number of the record.
        seq: u64,
        #[command(flatten)]
        out: crate::output::OutArgs,
    },
    /// Emit a consistency proof (一致性证明) that a later checkpoint extends an earlier one.
    Consistency {
        #[command(flatten)]
        dir: DirArg,
        /// Size of the earlier checkpoint (default: the first).
        #[arg(long)]
        old: Option<u64>,
        /// Size of the later checkpoint (default: the latest).
        #[arg(long)]
        new: Option<u64>,
        #[command(flatten)]
        out: crate::output::OutArgs,
    },
    /// Check a proof from `prove` or `consistency` with only the public key.
    CheckProof {
        /// The proof file (`-` for stdin).
        proof: PathBuf,
        #[command(flatten)]
        key: KeyArg,
    },
    /// Find records by time range, actor, action, object and outcome.
    Query {
        #[command(flatten)]
        dir: DirArg,
        #[command(flatten)]
        filter: FilterArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: QueryFormat,
        /// At most this many records.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Export records as JSON lines or RFC 5424 syslog (for a SIEM).
    Export {
        #[command(flatten)]
        dir: DirArg,
        #[command(flatten)]
        filter: FilterArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        #[command(flatten)]
        out: crate::output::OutArgs,
    },
    /// Sign a checkpoint now and print it (publish it, e.g. to the supervising bureau).
    Checkpoint {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Compress and sign sealed segments into `archive/` (归档).
    Archive {
        #[command(flatten)]
        dir: DirArg,
    },
    /// Delete archived segments whose records are all past the retention period (≥ 180 days).
    Prune {
        #[command(flatten)]
        dir: DirArg,
    },
}

fn ledger_dir(ctx: &Context, d: &DirArg) -> PathBuf {
    d.dir
        .clone()
        .unwrap_or_else(|| shuan_ledger::default_dir(&ctx.data_dir))
}

fn open_ledger(ctx: &Context, d: &DirArg) -> Result<Ledger> {
    let dir = ledger_dir(ctx, d);
    let key = shuan_crypto::node::load_or_create_node_key(&ctx.data_dir)
        .with_context(|| format!("loading the node key from {}", ctx.data_dir.display()))?;
    let ledger = Ledger::open(&dir, key)
        .with_context(|| format!("opening the audit ledger in {}", dir.display()))?;
    let rec = ledger.recovery();
    if rec.torn_bytes > 0 {
        eprintln!(
            "note: cut {} bytes of an incomplete final write (crash); saved to {}",
            rec.torn_bytes,
            rec.saved_to
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    Ok(ledger)
}

fn public_key(ctx: &Context, k: &KeyArg) -> Result<VerifyingKey> {
    match &k.public_key {
        Some(p) => {
            let pem = std::fs::read_to_string(p)
                .with_context(|| format!("reading public key {}", p.display()))?;
            VerifyingKey::from_public_key_pem(&pem)
                .with_context(|| format!("public key {}", p.display()))
        }
        None => shuan_crypto::node::load_node_public_key(&ctx.data_dir).with_context(|| {
            format!(
                "loading the node public key from {} (or pass --public-key)",
                ctx.data_dir.display()
            )
        }),
    }
}

fn filter(f: &FilterArgs) -> Result<Filter> {
    let time = |s: &Option<String>, what: &str| -> Result<Option<Timestamp>> {
        s.as_deref()
            .map(|t| Timestamp::parse(t).with_context(|| format!("--{what}")))
            .transpose()
    };
    Ok(Filter {
        since: time(&f.since, "since")?,
        until: time(&f.until, "until")?,
        actor: f.actor.clone(),
        department: f.department.clone(),
        action: f.action.clone(),
        object: f.object.clone(),
        outcome: f.outcome.map(|o| match o {
            OutcomeArg::Allowed => Outcome::Allowed,
            OutcomeArg::Denied => Outcome::Denied,
            OutcomeArg::Error => Outcome::Error,
        }),
    })
}

pub fn run(ctx: &Context, cmd: AuditCommand) -> Result<ExitCode> {
    match cmd {
        AuditCommand::Append { dir, progress } => append(ctx, &dir, progress),
        AuditCommand::Count { dir } => {
            let ledger = open_ledger(ctx, &dir)?;
            println!("{}", ledger.len());
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify {
            store: Some(store),
            node_key,
            format,
            ..
        } => verify_store(
            ctx,
            store.as_deref(),
            &node_key,
            format == crate::output::ReportFormat::Json,
        ),
        AuditCommand::Verify {
            dir,
            key,
            anchor,
            format,
            ..
        } => verify(
            ctx,
            &dir,
            &key,
            &anchor,
            format == crate::output::ReportFormat::Json,
        ),
        AuditCommand::Prove { dir, seq, out } => {
            let d = ledger_dir(ctx, &dir);
            let covered = prove::checkpoints(&d)?
                .last()
                .is_some_and(|c| c.size >= seq);
            if !covered {
                // Sign a fresh checkpoint so recent records can be proven too.
                let ledger = open_ledger(ctx, &dir)?;
                if seq > ledger.len() {
                    bail!(
                        "record {seq} does not exist: the ledger has {} records",
                        ledger.len()
                    );
                }
                ledger.checkpoint()?;
            }
            let proof = prove::prove_inclusion(&d, seq, None)?;
            write_json(ctx, &d, &out, &proof)
        }
        AuditCommand::Consistency { dir, old, new, out } => {
            let d = ledger_dir(ctx, &dir);
            let cps = prove::checkpoints(&d)?;
            let pick = |size: Option<u64>, first: bool| -> Result<Checkpoint> {
                let c = match size {
                    Some(s) => cps.iter().rfind(|c| c.size == s),
                    None if first => cps.first(),
                    None => cps.last(),
                };
                c.cloned().with_context(|| match size {
                    Some(s) => format!("no signed checkpoint of size {s} in {}", d.display()),
                    None => format!("no signed checkpoint in {}", d.display()),
                })
            };
            let proof = prove::prove_consistency(&d, &pick(old, true)?, &pick(new, false)?)?;
            write_json(ctx, &d, &out, &proof)
        }
        AuditCommand::CheckProof { proof, key } => {
            let text = if proof.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("reading the proof from stdin")?
            } else {
                std::fs::read_to_string(&proof)
                    .with_context(|| format!("reading {}", proof.display()))?
            };
            let p: Proof = serde_json::from_str(&text).context("not a shuan ledger proof")?;
            let key = public_key(ctx, &key)?;
            match p.check(&key) {
                Ok(summary) => {
                    println!("valid: {summary}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("INVALID: {e}");
                    Ok(ExitCode::from(EXIT_INVALID))
                }
            }
        }
        AuditCommand::Query {
            dir,
            filter: f,
            format,
            limit,
        } => query_cmd(&ledger_dir(ctx, &dir), &filter(&f)?, format, limit),
        AuditCommand::Export {
            dir,
            filter: f,
            format,
            out: out_args,
        } => {
            let d = ledger_dir(ctx, &dir);
            let f = filter(&f)?;
            let host = query::hostname();
            let mut out = out_args.open(ctx, &d)?;
            let mut n = 0u64;
            for r in reader::records(&d, 1)? {
                let r = r?;
                if !f.matches(&r) {
                    continue;
                }
                match format {
                    ExportFormat::Jsonl => {
                        out.write_all(&r.canonical_bytes())?;
                        out.write_all(b"\n")?;
                    }
                    ExportFormat::Syslog => writeln!(out, "{}", query::to_syslog(&r, &host))?,
                }
                n += 1;
            }
            out.finish()?;
            if out_args.out.is_some() {
                eprintln!("exported {n} records");
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Checkpoint { dir } => {
            let ledger = open_ledger(ctx, &dir)?;
            let cp = ledger.checkpoint()?;
            print!("{}", cp.to_line());
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Archive { dir } => {
            let ledger = open_ledger(ctx, &dir)?;
            let done = ledger.archive_sealed()?;
            for p in &done {
                println!("archived {}", p.display());
            }
            eprintln!("{} sealed segments archived", done.len());
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Prune { dir } => {
            let ledger = open_ledger(ctx, &dir)?;
            let gone = ledger.prune_expired(Timestamp::now())?;
            for p in &gone {
                println!("deleted {}", p.display());
            }
            eprintln!(
                "{} archived segments past the {}-day retention deleted",
                gone.len(),
                ledger.meta().retention_days
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes `v` as JSON to stdout or `--out` (never into the ledger directory `ledger`).
fn write_json<T: serde::Serialize>(
    ctx: &Context,
    ledger: &Path,
    out: &crate::output::OutArgs,
    v: &T,
) -> Result<ExitCode> {
    let mut w = out.open(ctx, ledger)?;
    serde_json::to_writer_pretty(&mut w, v)?;
    w.write_all(b"\n")?;
    w.finish()?;
    Ok(ExitCode::SUCCESS)
}

/// Largest number of lines committed together by `append`.
const MAX_BATCH: usize = 16_384;

fn append(ctx: &Context, dir: &DirArg, progress: bool) -> Result<ExitCode> {
    let ledger = open_ledger(ctx, dir)?;
    // A reader thread parses and prepares lines while the ledger is busy syncing, so
    // everything that arrives during one fsync goes into the next group commit.
    type Parsed = Result<shuan_ledger::record::PreparedEvent, String>;
    let (tx, rx) = mpsc::sync_channel::<Parsed>(MAX_BATCH * 2);
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for (i, line) in stdin.lock().lines().enumerate() {
            let parsed = match line {
                Err(e) => Err(format!("reading stdin line {}: {e}", i + 1)),
                Ok(l) if l.trim().is_empty() => continue,
                Ok(l) => serde_json::from_str::<Event>(&l)
                    .map_err(|e| format!("stdin line {}: not an audit event: {e}", i + 1))
                    .and_then(|ev| {
                        ev.prepare()
                            .map_err(|e| format!("stdin line {}: {e}", i + 1))
                    }),
            };
            let stop = parsed.is_err();
            if tx.send(parsed).is_err() || stop {
                return;
            }
        }
    });
    let stdout = std::io::stdout();
    let mut last = ledger.len();
    let mut failure: Option<String> = None;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Ok(p) => batch.push(p),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            last = ledger
                .append_prepared(&batch)
                .context("the audit ledger could not store the records durably")?;
            batch.clear();
            if progress {
                let mut o = stdout.lock();
                writeln!(o, "durable {last}")?;
                o.flush()?;
            }
        }
        if failure.is_some() {
            break;
        }
    }
    ledger.close().context("signing the final checkpoint")?;
    if let Some(e) = failure {
        bail!("{e} (records before it are stored; the last durable sequence number is {last})");
    }
    println!("{last}");
    Ok(ExitCode::SUCCESS)
}

fn verify(
    ctx: &Context,
    dir: &DirArg,
    key: &KeyArg,
    anchors: &[PathBuf],
    json: bool,
) -> Result<ExitCode> {
    let d = ledger_dir(ctx, dir);
    let key = public_key(ctx, key)?;
    let mut opts = VerifyOptions::default();
    for a in anchors {
        let text =
            std::fs::read_to_string(a).with_context(|| format!("reading {}", a.display()))?;
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let cp: Checkpoint = serde_json::from_str(line)
                .with_context(|| format!("{} line {}: not a checkpoint", a.display(), i + 1))?;
            opts.anchors.push(cp);
        }
    }
    let report = shuan_ledger::verify(&d, &key, &opts)
        .with_context(|| format!("verifying {}", d.display()))?;
    let mb_s = report.bytes as f64 / 1e6 / report.seconds.max(1e-9);
    if json {
        let v = serde_json::json!({
            "ok": report.ok(),
            "records": report.records,
            "bytes": report.bytes,
            "segments": report.segments,
            "checkpoints": report.checkpoints,
            "unsigned_tail": report.unsigned_tail,
            "seconds": report.seconds,
            "problem": report.problem.as_ref().map(|p| serde_json::json!({
                "seq": p.seq,
                "file": p.path.display().to_string(),
                "offset": p.offset,
                "problem": p.problem,
                "message": p.to_string(),
            })),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if let Some(p) = &report.problem {
        println!("TAMPERED or DAMAGED (篡改或损坏): {p}");
        println!(
            "checked before the problem: {} records in {} segments",
            report.records, report.segments
        );
    } else {
        println!(
            "ok (完整): {} records, {} segments, {} signed checkpoints verified; {:.1} MB in {:.3} s ({mb_s:.0} MB/s)",
            report.records,
            report.segments,
            report.checkpoints,
            report.bytes as f64 / 1e6,
            report.seconds
        );
        if report.unsigned_tail > 0 {
            println!(
                "note: the last {} records are after the latest checkpoint; run `shuan audit checkpoint` to sign them",
                report.unsigned_tail
            );
        }
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    })
}

const VERIFY_EXAMPLES: &str = "\
Examples:
  shuan audit verify                                  # this node's ledger (<data dir>/audit)
  shuan audit verify --store                          # every node's copy in <data dir>/platform.db
  shuan audit verify --store postgres://auditor@db.internal/shuan --node-key NODE1=node1.pub.pem --node-key NODE2=node2.pub.pem
";

/// The node keys for `--store`: the data directory's own node (if it has a ledger and a
/// node key), then every `--node-key NODE=PEM`.
fn node_keys(
    ctx: &Context,
    given: &[String],
) -> Result<std::collections::BTreeMap<String, VerifyingKey>> {
    let mut keys = std::collections::BTreeMap::new();
    let own = shuan_ledger::default_dir(&ctx.data_dir);
    let has_key = shuan_crypto::node::node_public_key_path(&ctx.data_dir).exists()
        || shuan_crypto::node::node_key_path(&ctx.data_dir).exists();
    if has_key && own.join(shuan_ledger::ledger::META_FILE).exists() {
        let meta = shuan_ledger::ledger::read_meta(&own)
            .with_context(|| format!("reading this node's ledger identity in {}", own.display()))?;
        let key = shuan_crypto::node::load_node_public_key(&ctx.data_dir).with_context(|| {
            format!(
                "loading the node public key from {}",
                ctx.data_dir.display()
            )
        })?;
        keys.insert(meta.ledger_id, key);
    }
    for g in given {
        let Some((node, pem)) = g.split_once('=') else {
            bail!(
                "--node-key {g}: write NODE=PEM (the node's ledger id, then its public key file)"
            );
        };
        if node.is_empty() || pem.is_empty() {
            bail!(
                "--node-key {g}: write NODE=PEM (the node's ledger id, then its public key file)"
            );
        }
        let text = std::fs::read_to_string(pem)
            .with_context(|| format!("reading the public key of node {node} from {pem}"))?;
        let key = VerifyingKey::from_public_key_pem(&text)
            .with_context(|| format!("the public key of node {node} in {pem}"))?;
        keys.insert(node.to_string(), key);
    }
    Ok(keys)
}

/// `1 record`, `2 records`.
fn count(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn verify_store(
    ctx: &Context,
    store: Option<&str>,
    given_keys: &[String],
    json: bool,
) -> Result<ExitCode> {
    use shuan_store::platform::{AuditFilter, PLATFORM_FILE};
    let url = match store.filter(|s| !s.is_empty()) {
        Some(u) => u.to_string(),
        None => {
            let p = ctx.data_dir.join(PLATFORM_FILE);
            if !p.is_file() {
                bail!(
                    "no platform store at {} (give --store sqlite:PATH or --store postgres://…)",
                    p.display()
                );
            }
            format!("sqlite:{}", p.display())
        }
    };
    // Opening a SQLite file that is not there would create an empty store.
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if !Path::new(path).is_file() {
            bail!("no platform store at {path}");
        }
    }
    let keys = node_keys(ctx, given_keys)?;
    // The URL is never shown: it may hold a password.
    let store = shuan_store::platform::open_platform(&ctx.data_dir, Some(&url))
        .context("opening the platform store")?;
    let all_cps = store
        .checkpoints(None)
        .context("reading the copied checkpoints")?;
    let all_rows = store
        .audit_search(&AuditFilter::default())
        .context("reading the copied audit records")?;
    let mut nodes: std::collections::BTreeMap<String, (Vec<_>, Vec<_>)> = Default::default();
    for c in all_cps {
        nodes.entry(c.node.clone()).or_default().1.push(c);
    }
    for r in all_rows {
        nodes.entry(r.node.clone()).or_default().0.push(r);
    }
    let mut results = Vec::new();
    for (node, (rows, cps)) in nodes {
        let key = keys.get(&node);
        let mut result = verify_node(&node, rows, cps, key);
        if result.report.problem.as_ref().is_some_and(|p| p.ends_early) {
            // A live node copies a checkpoint up to half a second before the last records
            // it covers: read that node once more before calling records deleted.
            std::thread::sleep(std::time::Duration::from_millis(1500));
            let rows = store
                .audit_search(&AuditFilter {
                    node: Some(node.clone()),
                    ..AuditFilter::default()
                })
                .context("reading the copied audit records")?;
            let cps = store
                .checkpoints(Some(&node))
                .context("reading the copied checkpoints")?;
            result = verify_node(&node, rows, cps, key);
        }
        results.push(result);
    }
    for k in keys.keys() {
        if !results.iter().any(|r| &r.node == k)
            && given_keys.iter().any(|g| g.starts_with(&format!("{k}=")))
        {
            eprintln!("note: node {k} (--node-key) has no records or checkpoints in the store");
        }
    }
    let invalid = results.iter().filter(|r| r.status() == "invalid").count();
    let unverified = results
        .iter()
        .filter(|r| r.status() == "unverified")
        .count();
    if json {
        let v = serde_json::json!({
            "ok": invalid == 0 && unverified == 0,
            "nodes": results.iter().map(|r| serde_json::json!({
                "node": r.node,
                "status": r.status(),
                "records": r.rows,
                "checked": r.report.records,
                "checkpoints": r.report.checkpoints,
                "last_checkpoint": r.report.last_checkpoint,
                "unsigned_tail": r.report.unsigned_tail,
                "signatures_checked": r.report.signatures_checked,
                "problem": r.report.problem.as_ref().map(|p| serde_json::json!({
                    "seq": p.seq,
                    "problem": p.problem,
                    "message": p.to_string(),
                })),
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        if results.is_empty() {
            println!("the platform store holds no audit records or checkpoints");
        }
        for r in &results {
            let rep = &r.report;
            let covered = match rep.last_checkpoint {
                Some(size) => format!("newest covers {size}"),
                None => "none yet".into(),
            };
            match (&rep.problem, r.keyed) {
                (Some(p), _) => println!(
                    "node {}: TAMPERED or DAMAGED (篡改或损坏): {p} ({} in the copy, {})",
                    r.node,
                    count(r.rows as u64, "record"),
                    count(rep.checkpoints as u64, "checkpoint")
                ),
                (None, true) => println!(
                    "node {}: ok (完整): {}, {} verified ({covered}){}",
                    r.node,
                    count(r.rows as u64, "record"),
                    count(rep.checkpoints as u64, "signed checkpoint"),
                    if rep.unsigned_tail > 0 {
                        format!(
                            "; the newest {} not signed yet",
                            count(rep.unsigned_tail, "record")
                        )
                    } else {
                        String::new()
                    }
                ),
                (None, false) => println!(
                    "node {}: UNVERIFIED (未验证): no public key for this node, so the signatures of its {} were not checked (pass --node-key {}=PEM); its {} agree with the checkpoints' roots",
                    r.node,
                    count(rep.checkpoints as u64, "checkpoint"),
                    r.node,
                    count(r.rows as u64, "record")
                ),
            }
        }
        if results.len() > 1 {
            println!(
                "{} nodes: {} ok, {invalid} invalid, {unverified} unverified",
                results.len(),
                results.len() - invalid - unverified
            );
        }
    }
    Ok(if invalid > 0 {
        ExitCode::from(EXIT_INVALID)
    } else if unverified > 0 {
        ExitCode::from(crate::exit::FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Terminal width of a string: CJK characters take two columns.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            if (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0x20000..=0x3FFFD).contains(&u)
            {
                2
            } else {
                1
            }
        })
        .sum()
}

fn query_cmd(
    dir: &Path,
    f: &Filter,
    format: QueryFormat,
    limit: Option<usize>,
) -> Result<ExitCode> {
    let rows = reader::records(dir, 1)?
        .filter(|r| r.as_ref().map_or(true, |r| f.matches(r)))
        .take(limit.unwrap_or(usize::MAX));
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        QueryFormat::Json => {
            out.write_all(b"[")?;
            for (i, r) in rows.enumerate() {
                let r = r?;
                out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                out.write_all(&r.canonical_bytes())?;
            }
            out.write_all(b"\n]\n")?;
        }
        QueryFormat::Csv => {
            let mut w = crate::output::CsvWriter::new(out);
            w.write_record([
                "seq",
                "time",
                "actor_kind",
                "actor",
                "department",
                "role",
                "action",
                "object",
                "purpose",
                "outcome",
                "client_address",
                "client_agent",
                "request_id",
                "details",
            ])?;
            for r in rows {
                let r = r?;
                let client = r.client.clone().unwrap_or_default();
                w.write_record([
                    r.seq.to_string(),
                    r.time.to_string(),
                    format!("{:?}", r.actor.kind).to_lowercase(),
                    r.actor.id.clone(),
                    r.actor.department.clone().unwrap_or_default(),
                    r.actor.role.clone().unwrap_or_default(),
                    r.action.clone(),
                    r.object.clone(),
                    r.purpose.clone().unwrap_or_default(),
                    r.outcome.to_string(),
                    client.address.unwrap_or_default(),
                    client.agent.unwrap_or_default(),
                    r.request_id.clone().unwrap_or_default(),
                    serde_json::Value::Object(r.details.clone()).to_string(),
                ])?;
            }
            w.flush()?;
            return Ok(ExitCode::SUCCESS);
        }
        QueryFormat::Table => {
            let header = [
                "序号 seq",
                "时间 time",
                "操作人 actor",
                "部门 department",
                "操作 action",
                "对象 object",
                "结果 outcome",
                "目的 purpose",
            ];
            let mut table: Vec<[String; 8]> = Vec::new();
            for r in rows {
                let r = r?;
                table.push([
                    r.seq.to_string(),
                    r.time.to_string(),
                    r.actor.id.clone(),
                    r.actor.department.clone().unwrap_or_default(),
                    r.action.clone(),
                    r.object.clone(),
                    r.outcome.to_string(),
                    r.purpose.clone().unwrap_or_default(),
                ]);
                // Bounded memory: print in pages.
                if table.len() == 10_000 {
                    print_table(&mut out, &header, &table)?;
                    table.clear();
                }
            }
            print_table(&mut out, &header, &table)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_table(out: &mut impl Write, header: &[&str; 8], rows: &[[String; 8]]) -> Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| display_width(h)).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(display_width(c));
        }
    }
    let line = |out: &mut dyn Write, cells: Vec<&str>| -> Result<()> {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(w - display_width(c)));
            }
        }
        writeln!(out, "{s}")?;
        Ok(())
    };
    line(out, header.to_vec())?;
    for r in rows {
        line(out, r.iter().map(String::as_str).collect())?;
    }
    writeln!(out, "({} records)", rows.len())?;
    Ok(())
}
