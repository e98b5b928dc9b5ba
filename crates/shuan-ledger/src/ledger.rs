//! The writer: [`Ledger::open`], group-committed [`Ledger::append`], checkpoints and
//! torn-tail recovery.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use shuan_crypto::sm2::SigningKey;

use crate::checkpoint::{Checkpoint, LedgerMeta, MIN_RETENTION_DAYS};
use crate::error::LedgerError;
use crate::hash::Hash;
use crate::merkle::{leaf_hash, Frontier};
use crate::record::{Event, PreparedEvent, Seq};
use crate::segment::{
    encode_entry_header, list_segments, segment_file_name, ScanError, SegmentHeader, SegmentReader,
};
use crate::time::Timestamp;

/// Name of the identity file inside the ledger directory.
pub const META_FILE: &str = "ledger.json";
/// Name of the checkpoint file inside the ledger directory.
pub const CHECKPOINT_FILE: &str = "checkpoints.jsonl";
/// Directory where torn tails are kept after recovery, for inspection.
pub const RECOVERED_DIR: &str = "recovered";
const LOCK_FILE: &str = "lock";

/// Tuning of a [`Ledger`]. The defaults suit production.
#[derive(Clone, Debug)]
pub struct Options {
    /// Start a new segment once the current one is at least this large (default 64 MiB).
    pub segment_max_bytes: u64,
    /// Sign a checkpoint after this many new records (default 10,000)...
    pub checkpoint_every_records: u64,
    /// ...or when this much time has passed since the last one (default 60 s).
    pub checkpoint_interval: Duration,
    /// Retention written into a new ledger (default and minimum 180 days).
    pub retention_days: u32,
    /// Group commits whose `fdatasync`s may overlap (default 2, at least 1). Virtio and
    /// SSD devices complete concurrent flushes in about the time of one, so overlapping
    /// commits make more records durable per second; each commit still writes in order,
    /// and is acknowledged only after all earlier ones.
    pub concurrent_syncs: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            segment_max_bytes: 64 << 20,
            checkpoint_every_records: 10_000,
            checkpoint_interval: Duration::from_secs(60),
            retention_days: MIN_RETENTION_DAYS,
            concurrent_syncs: DEFAULT_CONCURRENT_SYNCS,
        }
    }
}

/// What [`Ledger::open`] found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes of an incomplete final write that were cut off (kept under `recovered/`).
    pub torn_bytes: u64,
    /// Where the cut-off bytes were saved.
    pub saved_to: Option<PathBuf>,
    /// An incomplete final checkpoint line was removed.
    pub torn_checkpoint: bool,
}

/// The appenders whose records go out in one write + `fdatasync`. The committing thread
/// publishes the outcome once. Appender threads then wake each other in a binary tree
/// (waiter `i` wakes `2i+1` and `2i+2`), so no thread wakes them all and none of them
/// needs the state lock to learn the outcome. Async appenders' wakers are all woken by
/// the publisher: a waker only schedules a task, and a task whose future was dropped
/// would never pass a tree wake-up on.
#[derive(Default)]
struct Group {
    threads: OnceLock<Vec<Thread>>,
    /// Registered while the group is open (under the state lock), updated by re-polls,
    /// taken by `publish` after the outcome is set.
    tasks: Mutex<Vec<Waker>>,
    outcome: OnceLock<Result<(), String>>,
}

impl Group {
    fn wake_children(&self, index: usize) {
        if let Some(ws) = self.threads.get() {
            for c in [2 * index + 1, 2 * index + 2] {
                if let Some(t) = ws.get(c) {
                    t.unpark();
                }
            }
        }
    }
}

struct State {
    next_seq: Seq,
    /// Encoded entries not yet handed to the file (their hashes still zero).
    buf: Vec<u8>,
    /// The group that `buf` belongs to, and its waiting appender threads in arrival
    /// order (its async appenders are in `group.tasks`).
    group: Arc<Group>,
    group_waiters: Vec<Thread>,
    /// Threads waiting for every commit in flight to end (`checkpoint` commits alone).
    /// While one waits, no new commit starts.
    lead_waiters: Vec<Thread>,
    /// Committer threads parked for lack of work, and how many were woken and have not
    /// yet looked at the state.
    idle_committers: Vec<Thread>,
    waking_committers: usize,
    /// The ledger is being dropped: committer threads return.
    stop: bool,
    durable: Seq,
    /// Commits under way (written or being written, `fdatasync` not yet returned).
    in_flight: usize,
    /// Commits are numbered when they take their records; they write in this order and
    /// are acknowledged in it (`acked` is the next to acknowledge), however their
    /// `fdatasync`s overlap.
    next_commit: u64,
    acked: u64,
    finished: BTreeMap<u64, Finished>,
    failed: Option<String>,
    last_checkpoint_size: u64,
    last_checkpoint_at: Instant,
}

/// A commit whose `fdatasync` returned, waiting for the earlier ones.
struct Finished {
    group: Arc<Group>,
    waiters: Vec<Thread>,
    upto: Seq,
    root: Option<Hash>,
    result: Result<(), String>,
}

struct Writer {
    /// Shared with the commits syncing it, which do so without holding the writer.
    segment: Arc<File>,
    segment_path: PathBuf,
    /// End of the records in the segment.
    segment_len: u64,
    /// File length: zero bytes from `segment_len` up to here are preallocated space.
    file_len: u64,
    checkpoints: File,
    /// The chain up to the last record handed to the file.
    last_hash: Hash,
    frontier: Frontier,
    /// Size of the last checkpoint written (they are written in increasing size).
    last_checkpoint_size: u64,
    /// A write failed: nothing more may be written after the hole it may have left.
    poisoned: bool,
}

/// Preallocation grows with the segment (small ledgers stay small): at least 256 KiB,
/// at most 8 MiB at a time.
fn prealloc_step(len: u64) -> u64 {
    len.clamp(256 << 10, 8 << 20)
}

/// A commit leader keeps committing what arrived during its `fdatasync` for at most
/// this many rounds before handing over, so its own caller is not held back for long.
const MAX_LEAD_ROUNDS: u32 = 8;

/// Default of [`Options::concurrent_syncs`].
pub const DEFAULT_CONCURRENT_SYNCS: usize = 2;

/// What the appenders and the committer threads share.
struct Core {
    dir: PathBuf,
    meta: LedgerMeta,
    key: SigningKey,
    opts: Options,
    recovery: Recovery,
    state: Mutex<State>,
    writer: Mutex<Writer>,
    _lock: File,
}

/// An open audit ledger (审计日志) that appends records durably.
///
/// Shared between threads by reference (`&Ledger` is `Sync`); concurrent appends share
/// one write and one `fdatasync` (group commit). [`append`] blocks its thread until the
/// record is durable; [`append_async`] returns a future that never blocks the executor:
/// commits for async appenders are led by committer threads, started with the first
/// async append and stopped when the ledger is closed or dropped. Only one process can
/// have a ledger directory open at a time.
///
/// [`append`]: Ledger::append
/// [`append_async`]: Ledger::append_async
pub struct Ledger {
    core: Arc<Core>,
    committers: Mutex<Vec<JoinHandle<()>>>,
    committers_started: AtomicBool,
}

impl Ledger {
    /// Opens the ledger in `dir` (creating it if empty) with default [`Options`]; the node
    /// key signs checkpoints. A torn final record from a crash is cut off (and saved under
    /// `recovered/`); damage anywhere else is an error.
    pub fn open(dir: impl AsRef<Path>, key: SigningKey) -> Result<Ledger, LedgerError> {
        Self::open_with(dir, key, Options::default())
    }

    /// [`Ledger::open`] with explicit options.
    pub fn open_with(
        dir: impl AsRef<Path>,
        key: SigningKey,
        opts: Options,
    ) -> Result<Ledger, LedgerError> {
        Ok(Ledger {
            core: Arc::new(Core::open_with(dir, key, opts)?),
            committers: Mutex::new(Vec::new()),
            committers_started: AtomicBool::new(false),
        })
    }

    /// The ledger directory.
    pub fn dir(&self) -> &Path {
        &self.core.dir
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.core.key
    }

    /// The identity of this ledger.
    pub fn meta(&self) -> &LedgerMeta {
        &self.core.meta
    }

    /// What opening had to repair.
    pub fn recovery(&self) -> &Recovery {
        &self.core.recovery
    }

    /// Number of durable records (= the last durable sequence number).
    pub fn len(&self) -> u64 {
        self.core.len()
    }

    /// True if no record has been appended yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one event and returns its sequence number once it is durable (fsynced).
    /// Fail-closed: any error means the record may not be stored, and the caller should
    /// refuse the audited action. Blocks the calling thread; in async code use
    /// [`Ledger::append_async`].
    pub fn append(&self, event: &Event) -> Result<Seq, LedgerError> {
        let p = event.prepare()?;
        self.core.append_prepared(std::slice::from_ref(&p))
    }

    /// Appends events in order; returns the last sequence number once all are durable
    /// (`None` for an empty batch).
    pub fn append_batch(&self, events: &[Event]) -> Result<Option<Seq>, LedgerError> {
        if events.is_empty() {
            return Ok(None);
        }
        let prepared = events
            .iter()
            .map(Event::prepare)
            .collect::<Result<Vec<_>, _>>()?;
        self.core.append_prepared(&prepared).map(Some)
    }

    /// Appends already-prepared events (see [`Event::prepare`]); returns the last
    /// sequence number once all are durable. `prepared` must not be empty.
    pub fn append_prepared(&self, prepared: &[PreparedEvent]) -> Result<Seq, LedgerError> {
        self.core.append_prepared(prepared)
    }

    /// The async form of [`Ledger::append`]: the future resolves to the event's sequence
    /// number once the record is durable (fsynced), with the same fail-closed meaning of
    /// an error. The event is checked and serialized now; the record is numbered and
    /// queued when the future is first polled, and the task is woken when its group
    /// commit's outcome is out. No executor thread waits for I/O or `fdatasync`.
    ///
    /// Dropping the future after its first poll does not withdraw the record: it may
    /// still be stored, and must be treated as an unacknowledged append.
    pub fn append_async(&self, event: &Event) -> Append<'_> {
        Append {
            ledger: self,
            step: AppendStep::Start(event.prepare().map(|p| vec![p]).map_err(Into::into)),
        }
    }

    /// The async form of [`Ledger::append_batch`]: resolves to the last sequence number
    /// once all events are durable (`None` for an empty batch, without waiting). The
    /// events are checked and serialized now, so the future does not borrow them.
    pub fn append_batch_async(
        &self,
        events: &[Event],
    ) -> impl Future<Output = Result<Option<Seq>, LedgerError>> + Send + '_ {
        let prepared = events
            .iter()
            .map(Event::prepare)
            .collect::<Result<Vec<_>, _>>();
        async move {
            let prepared = prepared?;
            if prepared.is_empty() {
                return Ok(None);
            }
            self.append_prepared_async(prepared).await.map(Some)
        }
    }

    /// The async form of [`Ledger::append_prepared`]: resolves to the last sequence
    /// number once all are durable. `prepared` must not be empty.
    pub fn append_prepared_async(&self, prepared: Vec<PreparedEvent>) -> Append<'_> {
        assert!(
            !prepared.is_empty(),
            "append_prepared_async needs at least one event"
        );
        Append {
            ledger: self,
            step: AppendStep::Start(Ok(prepared)),
        }
    }

    /// Writes all pending records durably and signs a checkpoint of the whole ledger
    /// (of at least every record appended before the call: a concurrent commit may sign
    /// a larger one first). Blocks the calling thread until no commit is in flight; new
    /// commits wait for it.
    pub fn checkpoint(&self) -> Result<Checkpoint, LedgerError> {
        self.core.checkpoint()
    }

    /// Signs a final checkpoint if records were added since the last one, stops the
    /// committer threads, cuts the segment's preallocated space, then closes.
    pub fn close(self) -> Result<(), LedgerError> {
        self.core.final_checkpoint()?;
        self.stop_committers();
        self.core.cut_padding()
    }

    /// Starts the committer threads (one per commit that may be in flight) if they are
    /// not running yet.
    fn start_committers(&self) -> Result<(), LedgerError> {
        if self.committers_started.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut handles = self
            .committers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if handles.is_empty() {
            for i in 0..self.core.max_in_flight() {
                let core = Arc::clone(&self.core);
                match std::thread::Builder::new()
                    .name(format!("ledger-commit-{i}"))
                    .spawn(move || core.run_committer())
                {
                    Ok(h) => handles.push(h),
                    // One committer is enough to make progress (without overlapping
                    // `fdatasync`s); none is an error.
                    Err(e) if handles.is_empty() => {
                        return Err(LedgerError::Failed(format!(
                            "cannot start the ledger's committer thread: {e}"
                        )))
                    }
                    Err(_) => break,
                }
            }
        }
        self.committers_started.store(true, Ordering::Release);
        Ok(())
    }

    /// Tells the committer threads to return and waits for them (each finishes the
    /// commit it may be leading).
    fn stop_committers(&self) {
        let handles = std::mem::take(
            &mut *self
                .committers
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if handles.is_empty() {
            return;
        }
        self.core
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stop = true;
        for h in &handles {
            h.thread().unpark();
        }
        for h in handles {
            let _ = h.join();
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.stop_committers();
    }
}

/// The future of an async append ([`Ledger::append_async`] and friends): the last
/// sequence number once every record is durable.
#[must_use = "the record is not queued until the future is polled"]
pub struct Append<'a> {
    ledger: &'a Ledger,
    step: AppendStep,
}

enum AppendStep {
    /// Not yet queued.
    Start(Result<Vec<PreparedEvent>, LedgerError>),
    /// Queued in `group`, as its task `index`; `target` is the last sequence number.
    Queued {
        group: Arc<Group>,
        index: usize,
        target: Seq,
    },
    Done,
}

impl Future for Append<'_> {
    type Output = Result<Seq, LedgerError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match std::mem::replace(&mut this.step, AppendStep::Done) {
            AppendStep::Start(prepared) => {
                let prepared = match prepared {
                    Ok(p) => p,
                    Err(e) => return Poll::Ready(Err(e)),
                };
                if let Err(e) = this.ledger.start_committers() {
                    return Poll::Ready(Err(e));
                }
                match this.ledger.core.enqueue_async(&prepared, cx.waker()) {
                    Ok((group, index, target)) => {
                        this.step = AppendStep::Queued {
                            group,
                            index,
                            target,
                        };
                        Poll::Pending
                    }
                    Err(e) => Poll::Ready(Err(e)),
                }
            }
            AppendStep::Queued {
                group,
                index,
                target,
            } => {
                let outcome = match group.outcome.get() {
                    Some(o) => o,
                    None => {
                        let mut tasks = group.tasks.lock().unwrap_or_else(PoisonError::into_inner);
                        match group.outcome.get() {
                            Some(o) => o,
                            None => {
                                // Polled again before the outcome: keep the waker current.
                                if let Some(w) = tasks.get_mut(index) {
                                    if !w.will_wake(cx.waker()) {
                                        w.clone_from(cx.waker());
                                    }
                                }
                                drop(tasks);
                                this.step = AppendStep::Queued {
                                    group,
                                    index,
                                    target,
                                };
                                return Poll::Pending;
                            }
                        }
                    }
                };
                Poll::Ready(match outcome {
                    Ok(()) => Ok(target),
                    Err(f) => Err(LedgerError::Failed(f.clone())),
                })
            }
            AppendStep::Done => panic!("ledger append future polled after completion"),
        }
    }
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> LedgerError + 'a {
    move |source| LedgerError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), LedgerError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing directory", dir))
}

/// Writes `bytes` to `path` via a temporary file and rename, durably.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LedgerError> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io_err("creating", &tmp))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io_err("writing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err("renaming into place", path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Reads `ledger.json`.
pub fn read_meta(dir: &Path) -> Result<LedgerMeta, LedgerError> {
    let path = dir.join(META_FILE);
    let text = std::fs::read_to_string(&path).map_err(io_err("reading", &path))?;
    serde_json::from_str(&text).map_err(|e| LedgerError::BadMeta {
        path,
        reason: e.to_string(),
    })
}

/// Parses `checkpoints.jsonl`: the complete lines, and the byte length they span.
/// A final line without its newline is reported as `torn` and not parsed.
pub(crate) struct CheckpointFile {
    pub(crate) checkpoints: Vec<(usize, Checkpoint)>,
    pub(crate) good_len: u64,
    pub(crate) torn: bool,
    pub(crate) bad_line: Option<(usize, String)>,
}

pub(crate) fn read_checkpoint_file(dir: &Path) -> Result<CheckpointFile, LedgerError> {
    let path = dir.join(CHECKPOINT_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err("reading", &path)(e)),
    };
    let mut out = CheckpointFile {
        checkpoints: Vec::new(),
        good_len: 0,
        torn: false,
        bad_line: None,
    };
    let mut start = 0usize;
    let mut line_no = 0usize;
    while start < bytes.len() {
        line_no += 1;
        let Some(nl) = bytes[start..].iter().position(|&b| b == b'\n') else {
            out.torn = true;
            break;
        };
        let line = &bytes[start..start + nl];
        match serde_json::from_slice::<Checkpoint>(line) {
            Ok(c) if c.to_line().as_bytes() == &bytes[start..=start + nl] => {
                out.checkpoints.push((line_no, c))
            }
            Ok(_) => {
                out.bad_line = Some((line_no, "not in canonical form".into()));
                break;
            }
            Err(e) => {
                out.bad_line = Some((line_no, e.to_string()));
                break;
            }
        }
        start += nl + 1;
        out.good_len = start as u64;
    }
    Ok(out)
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, LedgerError> {
    m.lock()
        .map_err(|_| LedgerError::Failed("a thread panicked while appending".into()))
}

impl Core {
    /// Opens the ledger in `dir` (creating it if empty) with default [`Options`]; the node
    /// key signs checkpoints. A torn final record from a crash is cut off (and saved under
    /// `recovered/`); damage anywhere else is an error.
    fn open_with(
        dir: impl AsRef<Path>,
        key: SigningKey,
        opts: Options,
    ) -> Result<Core, LedgerError> {
        let dir = dir.as_ref().to_path_buf();
        if opts.retention_days < MIN_RETENTION_DAYS {
            return Err(LedgerError::RetentionTooShort(opts.retention_days));
        }
        std::fs::create_dir_all(&dir).map_err(io_err("creating ledger directory", &dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("opening", &lock_path))?;
        rustix::fs::flock(
            &lock_file,
            rustix::fs::FlockOperation::NonBlockingLockExclusive,
        )
        .map_err(|_| LedgerError::Locked(dir.clone()))?;

        let meta_path = dir.join(META_FILE);
        let meta = if meta_path.exists() {
            let m = read_meta(&dir)?;
            if !m.verify(&key.verifying_key()) {
                return Err(LedgerError::KeyMismatch(meta_path));
            }
            m
        } else {
            if !list_segments(&dir)
                .map_err(io_err("listing", &dir))?
                .is_empty()
            {
                return Err(LedgerError::BadMeta {
                    path: meta_path,
                    reason: "missing, but segment files exist".into(),
                });
            }
            let m = LedgerMeta::create(&key, opts.retention_days);
            let text = serde_json::to_string_pretty(&m).expect("serializable") + "\n";
            write_atomic(&meta_path, text.as_bytes())?;
            m
        };

        let mut segments = list_segments(&dir).map_err(io_err("listing", &dir))?;
        if segments.is_empty() {
            let first = crate::retention::read_prune_marker(&dir)?
                .map(|p| (p.first_seq, p.prev_hash, p.frontier()))
                .unwrap_or((1, meta.genesis_hash(), Frontier::new()));
            let header = SegmentHeader {
                first_seq: first.0,
                prev_hash: first.1,
                frontier: first.2,
            };
            let path = dir.join(segment_file_name(header.first_seq));
            create_segment(&path, &header)?;
            segments.push((header.first_seq, path));
        }
        let (_, seg_path) = segments.last().expect("at least one segment").clone();

        // Scan the active segment: recompute every leaf hash to find where good data ends.
        let mut reader = SegmentReader::open(&seg_path).map_err(|e| match e {
            ScanError::Io(source) => LedgerError::Io {
                action: "reading",
                path: seg_path.clone(),
                source,
            },
            other => LedgerError::Corrupt {
                path: seg_path.clone(),
                offset: 0,
                reason: other.to_string(),
            },
        })?;
        let mut seq = reader.header.first_seq;
        let mut prev = reader.header.prev_hash;
        let mut frontier = reader.header.frontier.clone();
        let mut body = Vec::new();
        let good_end = loop {
            let at = reader.offset();
            match reader.next_entry(&mut body) {
                Ok(None) => break at,
                Ok(Some(pos)) => {
                    let h = leaf_hash(&prev, &body);
                    if h != pos.stored_hash {
                        break at;
                    }
                    prev = h;
                    frontier.push(h);
                    seq += 1;
                }
                Err(ScanError::Io(source)) => {
                    return Err(LedgerError::Io {
                        action: "reading",
                        path: seg_path,
                        source,
                    })
                }
                Err(_) => break at,
            }
        };
        drop(reader);
        let file_len = std::fs::metadata(&seg_path)
            .map_err(io_err("reading", &seg_path))?
            .len();

        let cps = read_checkpoint_file(&dir)?;
        let cp_path = dir.join(CHECKPOINT_FILE);
        if let Some((line, reason)) = &cps.bad_line {
            return Err(LedgerError::Corrupt {
                path: cp_path,
                offset: *line as u64,
                reason: format!("line {line}: {reason}"),
            });
        }
        let last_cp = cps.checkpoints.last().map(|(_, c)| c.size).unwrap_or(0);
        let mut recovery = Recovery::default();
        // Zero bytes after the records are preallocated space, not a torn write.
        let torn = good_end < file_len && !tail_is_zero(&seg_path, good_end)?;
        let mut file_len = file_len;
        if torn {
            if last_cp >= seq {
                return Err(LedgerError::Corrupt {
                    path: seg_path,
                    offset: good_end,
                    reason: format!(
                        "record {seq} is damaged but a signed checkpoint covers {last_cp} records; \
                         this is not a torn write. Run `shuan audit verify` and keep the files for investigation"
                    ),
                });
            }
            recovery.saved_to = Some(save_tail(&dir, &seg_path, good_end)?);
            recovery.torn_bytes = file_len - good_end;
            let f = OpenOptions::new()
                .write(true)
                .open(&seg_path)
                .map_err(io_err("opening", &seg_path))?;
            f.set_len(good_end)
                .and_then(|_| f.sync_all())
                .map_err(io_err("truncating torn tail of", &seg_path))?;
            file_len = good_end;
        }
        if last_cp > seq - 1 {
            return Err(LedgerError::Corrupt {
                path: cp_path,
                offset: 0,
                reason: format!(
                    "a signed checkpoint covers {last_cp} records but only {} are present: records were deleted",
                    seq - 1
                ),
            });
        }
        let mut checkpoints = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&cp_path)
            .map_err(io_err("opening", &cp_path))?;
        if cps.torn {
            checkpoints
                .set_len(cps.good_len)
                .and_then(|_| checkpoints.sync_all())
                .map_err(io_err("truncating torn line of", &cp_path))?;
            recovery.torn_checkpoint = true;
        }
        checkpoints
            .seek(SeekFrom::End(0))
            .map_err(io_err("seeking", &cp_path))?;
        let segment = OpenOptions::new()
            .write(true)
            .open(&seg_path)
            .map_err(io_err("opening", &seg_path))?;
        remove_stale_temp_segments(&dir);

        let durable = seq - 1;
        Ok(Core {
            dir,
            meta,
            key,
            opts,
            recovery,
            state: Mutex::new(State {
                next_seq: seq,
                buf: Vec::new(),
                group: Arc::default(),
                group_waiters: Vec::new(),
                lead_waiters: Vec::new(),
                idle_committers: Vec::new(),
                waking_committers: 0,
                stop: false,
                durable,
                in_flight: 0,
                next_commit: 0,
                acked: 0,
                finished: BTreeMap::new(),
                failed: None,
                last_checkpoint_size: last_cp,
                last_checkpoint_at: Instant::now(),
            }),
            writer: Mutex::new(Writer {
                segment: Arc::new(segment),
                segment_path: seg_path,
                segment_len: good_end,
                file_len,
                checkpoints,
                last_hash: prev,
                frontier,
                last_checkpoint_size: last_cp,
                poisoned: false,
            }),
            _lock: lock_file,
        })
    }

    fn max_in_flight(&self) -> usize {
        self.opts.concurrent_syncs.max(1)
    }

    fn len(&self) -> u64 {
        self.state.lock().map(|s| s.durable).unwrap_or(0)
    }

    /// True if a new commit may start now: records are queued, a commit slot is free,
    /// and no checkpoint is waiting for the commits in flight to end (else a steady
    /// stream of commits could keep `in_flight` above zero and starve it).
    fn may_lead(&self, st: &State) -> bool {
        !st.buf.is_empty() && st.in_flight < self.max_in_flight() && st.lead_waiters.is_empty()
    }

    /// Takes an idle committer thread to wake, unless enough are awake to fill the free
    /// commit slots (one wake per group, not one per appender).
    fn idle_committer(&self, st: &mut State) -> Option<Thread> {
        if st.in_flight + st.waking_committers >= self.max_in_flight() {
            return None;
        }
        let t = st.idle_committers.pop()?;
        st.waking_committers += 1;
        Some(t)
    }

    /// Who must run once a leader stops (chosen under the state lock, woken after it is
    /// released): checkpoints waiting for the last commit in flight; else, if a commit
    /// may start, an appender thread of the open group, or an idle committer thread
    /// when the group has only async appenders.
    fn successors(&self, st: &mut State) -> Vec<Thread> {
        if !st.lead_waiters.is_empty() {
            // With commits still in flight, the leader of the last one to end wakes them.
            return if st.in_flight == 0 {
                std::mem::take(&mut st.lead_waiters)
            } else {
                Vec::new()
            };
        }
        if !self.may_lead(st) {
            return Vec::new();
        }
        match st.group_waiters.first() {
            Some(t) => vec![t.clone()],
            None => self.idle_committer(st).into_iter().collect(),
        }
    }

    /// Numbers and encodes `prepared` into the open group; returns the last sequence
    /// number. Only the numbering and the bytes are settled here; the committing thread
    /// fills in the leaf hashes (the chain) outside the state lock, which every appender
    /// needs.
    fn enqueue(st: &mut State, prepared: &[PreparedEvent]) -> Seq {
        let now = Timestamp::now();
        for p in prepared {
            let seq = st.next_seq;
            let start = st.buf.len();
            encode_entry_header(&mut st.buf, 0);
            p.finish_into(&mut st.buf, seq, now);
            let body_len = st.buf.len() - start - 4;
            st.buf[start..start + 4].copy_from_slice(&(body_len as u32).to_le_bytes());
            st.buf.extend_from_slice(&[0u8; 32]);
            st.next_seq += 1;
        }
        st.next_seq - 1
    }

    fn append_prepared(&self, prepared: &[PreparedEvent]) -> Result<Seq, LedgerError> {
        assert!(
            !prepared.is_empty(),
            "append_prepared needs at least one event"
        );
        let mut st = lock(&self.state)?;
        if let Some(f) = &st.failed {
            return Err(LedgerError::Failed(f.clone()));
        }
        let target = Self::enqueue(&mut st, prepared);
        let group = Arc::clone(&st.group);
        let index = st.group_waiters.len();
        st.group_waiters.push(std::thread::current());
        let mut held = Some(st);
        loop {
            if let Some(outcome) = group.outcome.get() {
                drop(held.take());
                group.wake_children(index);
                return match outcome {
                    Ok(()) => Ok(target),
                    Err(f) => Err(LedgerError::Failed(f.clone())),
                };
            }
            let st = match held.take() {
                Some(st) => st,
                None => lock(&self.state)?,
            };
            if group.outcome.get().is_some() {
                held = Some(st);
                continue;
            }
            if self.may_lead(&st) {
                held = Some(self.lead(st, false, MAX_LEAD_ROUNDS)?);
                continue;
            }
            drop(st);
            // Woken by its group's tree once the outcome is out, or by a leader handing
            // over; spurious wake-ups just loop.
            std::thread::park();
        }
    }

    /// Queues `prepared` for an async appender whose task `waker` is woken once the
    /// group's outcome is out; wakes a committer thread if a commit may start, since no
    /// appender thread may be there to lead. Returns the group, the appender's place
    /// among its tasks, and the last sequence number.
    fn enqueue_async(
        &self,
        prepared: &[PreparedEvent],
        waker: &Waker,
    ) -> Result<(Arc<Group>, usize, Seq), LedgerError> {
        let mut st = lock(&self.state)?;
        if let Some(f) = &st.failed {
            return Err(LedgerError::Failed(f.clone()));
        }
        let target = Self::enqueue(&mut st, prepared);
        let group = Arc::clone(&st.group);
        let index = {
            let mut tasks = group.tasks.lock().unwrap_or_else(PoisonError::into_inner);
            tasks.push(waker.clone());
            tasks.len() - 1
        };
        let wake = if self.may_lead(&st) {
            self.idle_committer(&mut st)
        } else {
            None
        };
        drop(st);
        if let Some(t) = wake {
            t.unpark();
        }
        Ok((group, index, target))
    }

    /// Body of a committer thread: leads commits whenever records are queued and a
    /// commit may start, parks otherwise, and returns once the ledger is dropped.
    fn run_committer(&self) {
        let me = std::thread::current();
        let Ok(mut st) = lock(&self.state) else {
            return;
        };
        loop {
            if st.stop {
                return;
            }
            if self.may_lead(&st) {
                // No caller waits on this thread, so it leads for as long as there is
                // work (`lead` still stops for a waiting checkpoint).
                st = match self.lead(st, false, u32::MAX) {
                    Ok(st) => st,
                    Err(_) => return,
                };
                continue;
            }
            if !st.idle_committers.iter().any(|t| t.id() == me.id()) {
                st.idle_committers.push(me.clone());
            }
            drop(st);
            std::thread::park();
            st = match lock(&self.state) {
                Ok(st) => st,
                Err(_) => return,
            };
            if !st.idle_committers.iter().any(|t| t.id() == me.id()) {
                // Taken off the idle list by `idle_committer`, which counted the wake.
                st.waking_committers = st.waking_committers.saturating_sub(1);
            }
        }
    }

    fn checkpoint(&self) -> Result<Checkpoint, LedgerError> {
        let me = std::thread::current();
        let mut st = lock(&self.state)?;
        loop {
            st.lead_waiters.retain(|t| t.id() != me.id());
            if let Some(f) = st.failed.clone() {
                // Records queued behind the gate this checkpoint set still need a
                // leader to fail them.
                let next = self.successors(&mut st);
                drop(st);
                for t in next {
                    t.unpark();
                }
                return Err(LedgerError::Failed(f));
            }
            if st.in_flight == 0 {
                let size = st.next_seq - 1;
                st = self.lead(st, true, MAX_LEAD_ROUNDS)?;
                if let Some(f) = &st.failed {
                    return Err(LedgerError::Failed(f.clone()));
                }
                drop(st);
                // A commit that ended after ours may have signed a larger tree first, in
                // which case ours was not written: that one covers these records too.
                let cps = read_checkpoint_file(&self.dir)?;
                return cps
                    .checkpoints
                    .into_iter()
                    .map(|(_, c)| c)
                    .rfind(|c| c.size >= size)
                    .ok_or_else(|| LedgerError::Failed("checkpoint was not written".into()));
            }
            st.lead_waiters.push(me.clone());
            drop(st);
            std::thread::park();
            st = lock(&self.state)?;
        }
    }

    /// Signs a final checkpoint if records were added since the last one.
    fn final_checkpoint(&self) -> Result<(), LedgerError> {
        let need = {
            let st = lock(&self.state)?;
            st.failed.is_none() && (st.next_seq - 1 > st.last_checkpoint_size || !st.buf.is_empty())
        };
        if need {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Cuts the segment's preallocated space (on close).
    fn cut_padding(&self) -> Result<(), LedgerError> {
        let mut w = lock(&self.writer)?;
        if w.file_len > w.segment_len {
            // Zero padding is valid (the next open keeps using it); cutting it only keeps
            // a closed ledger's files at their real size, so a failure here is harmless.
            let len = w.segment_len;
            if w.segment
                .set_len(len)
                .and_then(|_| w.segment.sync_all())
                .is_ok()
            {
                w.file_len = len;
            }
        }
        Ok(())
    }

    /// Runs group commits as a leader: the first round commits what is queued (the
    /// caller's records, and a checkpoint if `force_checkpoint`); further rounds, at most
    /// `max_rounds` in all, commit what arrived meanwhile. Then hands over (see
    /// [`Core::successors`]).
    fn lead<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        force_checkpoint: bool,
        max_rounds: u32,
    ) -> Result<MutexGuard<'a, State>, LedgerError> {
        let mut rounds = 0;
        loop {
            st = self.commit(st, force_checkpoint && rounds == 0)?;
            rounds += 1;
            if st.failed.is_some() || rounds >= max_rounds || !self.may_lead(&st) {
                break;
            }
        }
        if st.failed.is_some() && !st.buf.is_empty() {
            // Records queued after the failure cannot be stored either.
            let f = st.failed.clone().unwrap_or_default();
            let group = std::mem::take(&mut st.group);
            let waiters = std::mem::take(&mut st.group_waiters);
            st.buf.clear();
            publish(&group, waiters, Err(f));
        }
        let next = self.successors(&mut st);
        drop(st);
        for t in next {
            t.unpark();
        }
        lock(&self.state)
    }

    /// One group commit: takes the queued records, writes them with one `write` (in
    /// commit order) and makes them durable with one `fdatasync` (which may overlap
    /// another commit's), then acknowledges every finished commit whose predecessors are
    /// acknowledged, and signs a checkpoint if one is due.
    fn commit<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        force_checkpoint: bool,
    ) -> Result<MutexGuard<'a, State>, LedgerError> {
        let number = st.next_commit;
        st.next_commit += 1;
        st.in_flight += 1;
        let mut buf = std::mem::take(&mut st.buf);
        let group = std::mem::take(&mut st.group);
        let waiters = std::mem::take(&mut st.group_waiters);
        let upto = st.next_seq - 1;
        let due = force_checkpoint
            || (upto > st.last_checkpoint_size
                && (upto - st.last_checkpoint_size >= self.opts.checkpoint_every_records
                    || st.last_checkpoint_at.elapsed() >= self.opts.checkpoint_interval));
        // Taken before the state lock is released, so commits hash and write in order.
        let w = lock(&self.writer);
        drop(st);
        let mut w = w?;
        let written = if buf.is_empty() {
            Ok(None)
        } else {
            self.write_locked(&mut w, &mut buf).map(Some)
        };
        if written.is_err() {
            // Later commits hold later sequence numbers: none may be written after a
            // group that was not.
            w.poisoned = true;
        }
        let root = due.then(|| w.frontier.root());
        drop(w);
        let result = match written {
            Ok(None) => Ok(()),
            Ok(Some((file, path, before))) => file.sync_data().map_err(|source| {
                self.poison(&path, before);
                LedgerError::Io {
                    action: "writing records durably to",
                    path,
                    source,
                }
            }),
            Err(e) => Err(e),
        }
        .map_err(|e| failure_text(&e));

        let mut st = lock(&self.state)?;
        st.in_flight -= 1;
        st.finished.insert(
            number,
            Finished {
                group,
                waiters,
                upto,
                root,
                result,
            },
        );
        let mut out = Vec::new();
        let mut sign = None;
        loop {
            let next = st.acked;
            let Some(f) = st.finished.remove(&next) else {
                break;
            };
            st.acked += 1;
            let result = match (&st.failed, f.result) {
                (Some(e), _) => Err(e.clone()),
                (None, Err(e)) => {
                    st.failed = Some(e.clone());
                    Err(e)
                }
                (None, Ok(())) => {
                    st.durable = st.durable.max(f.upto);
                    if let Some(root) = f.root {
                        sign = Some((f.upto, root));
                    }
                    Ok(())
                }
            };
            out.push((f.group, f.waiters, result));
        }
        drop(st);
        for (group, waiters, result) in out {
            publish(&group, waiters, result);
        }
        if let Some((upto, root)) = sign {
            let signed = self.write_checkpoint(upto, root);
            let mut st = lock(&self.state)?;
            match signed {
                Ok(()) => {
                    st.last_checkpoint_size = st.last_checkpoint_size.max(upto);
                    st.last_checkpoint_at = Instant::now();
                }
                Err(e) => st.failed = Some(failure_text(&e)),
            }
            return Ok(st);
        }
        lock(&self.state)
    }

    /// After a failed `fdatasync`: nothing more is written, and the unsynced records are
    /// cut if they are still at the end of the file (else the next open cuts them).
    fn poison(&self, path: &Path, before: u64) {
        if let Ok(mut w) = self.writer.lock() {
            w.poisoned = true;
            if w.segment_path == path {
                let _ = w.segment.set_len(before);
                w.segment_len = before;
                w.file_len = before;
            }
        }
    }

    /// Writes `buf` after the last record (rolling to a new segment first if the current
    /// one is full). Returns the file to sync, its path and where `buf` starts.
    fn write_locked(
        &self,
        w: &mut Writer,
        buf: &mut [u8],
    ) -> Result<(Arc<File>, PathBuf, u64), LedgerError> {
        if w.poisoned {
            return Err(LedgerError::Failed(
                "an earlier write to the audit ledger failed".into(),
            ));
        }
        if w.segment_len >= self.opts.segment_max_bytes {
            self.roll(w)?;
        }
        // Chain the entries: each stored hash is the leaf hash over the previous one.
        let mut p = 0;
        while p < buf.len() {
            let n = u32::from_le_bytes(buf[p..p + 4].try_into().expect("4 bytes")) as usize;
            let h = leaf_hash(&w.last_hash, &buf[p + 4..p + 4 + n]);
            buf[p + 4 + n..p + 4 + n + 32].copy_from_slice(&h);
            w.last_hash = h;
            w.frontier.push(h);
            p += 4 + n + 32;
        }
        let before = w.segment_len;
        let need = before + buf.len() as u64;
        if need > w.file_len {
            self.preallocate(w, need);
        }
        if let Err(source) = w.segment.write_all_at(buf, before) {
            // Leave no partial entry behind (shrinking needs no free space); if even
            // that fails, the next open cuts the torn tail.
            let _ = w.segment.set_len(before);
            w.file_len = before;
            w.poisoned = true;
            return Err(LedgerError::Io {
                action: "writing records durably to",
                path: w.segment_path.clone(),
                source,
            });
        }
        w.segment_len = need;
        w.file_len = w.file_len.max(need);
        Ok((Arc::clone(&w.segment), w.segment_path.clone(), before))
    }

    /// Extends the segment with zero bytes beyond `need`, so that the following commits
    /// overwrite allocated, written blocks and their `fdatasync` commits no metadata.
    /// The zeros reach the disk with the `fdatasync` of the write that needed them. If
    /// the space is not there, the padding is dropped and the write goes ahead without it
    /// (it fails on its own if the records do not fit either).
    fn preallocate(&self, w: &mut Writer, need: u64) {
        let step = prealloc_step(w.segment_len);
        let cap = self.opts.segment_max_bytes.max(need);
        let end = need.max(w.segment_len + step).min(cap);
        let end = end.div_ceil(4096) * 4096;
        let from = w.file_len;
        if end <= from {
            return;
        }
        static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
        let mut at = from;
        while at < end {
            let n = (end - at).min(ZEROS.len() as u64) as usize;
            if w.segment.write_all_at(&ZEROS[..n], at).is_err() {
                let _ = w.segment.set_len(from);
                return;
            }
            at += n as u64;
        }
        w.file_len = end;
    }

    /// Seals the full segment (cut to its records, so sealed segments hold no padding)
    /// and starts the next one at `b`. The cut comes first: a crash before the new
    /// segment is in place leaves a complete, unpadded last segment, which opens as is.
    fn roll(&self, w: &mut Writer) -> Result<(), LedgerError> {
        if w.file_len > w.segment_len {
            let len = w.segment_len;
            w.segment
                .set_len(len)
                .and_then(|_| w.segment.sync_all())
                .map_err(io_err("sealing segment", &w.segment_path))?;
            w.file_len = len;
        }
        let header = SegmentHeader {
            first_seq: w.frontier.size() + 1,
            prev_hash: w.last_hash,
            frontier: w.frontier.clone(),
        };
        let path = self.dir.join(segment_file_name(header.first_seq));
        let len = create_segment(&path, &header)?;
        let f = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_err("opening", &path))?;
        w.segment = Arc::new(f);
        w.segment_path = path;
        w.segment_len = len;
        w.file_len = len;
        Ok(())
    }

    fn write_checkpoint(&self, size: u64, root: Hash) -> Result<(), LedgerError> {
        let cp = Checkpoint::sign(
            &self.key,
            &self.meta.ledger_id,
            size,
            root,
            Timestamp::now(),
        );
        let line = cp.to_line();
        let mut w = lock(&self.writer)?;
        if size < w.last_checkpoint_size {
            // A concurrent commit already signed a larger tree.
            return Ok(());
        }
        let path = self.dir.join(CHECKPOINT_FILE);
        let before = w.checkpoints.stream_position().unwrap_or(0);
        let res = w
            .checkpoints
            .write_all(line.as_bytes())
            .and_then(|_| w.checkpoints.sync_data());
        if let Err(source) = res {
            let _ = w.checkpoints.set_len(before);
            let _ = w.checkpoints.seek(SeekFrom::Start(before));
            return Err(LedgerError::Io {
                action: "writing checkpoint to",
                path,
                source,
            });
        }
        w.last_checkpoint_size = size;
        Ok(())
    }
}

/// Hands a group's outcome to its appenders: wakes the first appender thread, which
/// wakes the other threads (see [`Group`]), and every async appender's task.
fn publish(group: &Group, waiters: Vec<Thread>, outcome: Result<(), String>) {
    let first = waiters.first().cloned();
    let _ = group.threads.set(waiters);
    let _ = group.outcome.set(outcome);
    if let Some(t) = first {
        if t.id() != std::thread::current().id() {
            t.unpark();
        } else {
            group.wake_children(0);
        }
    }
    // Taken after the outcome is set: a re-poll that finds no outcome under this lock
    // has its waker here before the publisher takes them.
    let tasks = std::mem::take(&mut *group.tasks.lock().unwrap_or_else(PoisonError::into_inner));
    for w in tasks {
        w.wake();
    }
}

/// True if the file holds only zero bytes from `from` on.
fn tail_is_zero(path: &Path, from: u64) -> Result<bool, LedgerError> {
    let mut f = File::open(path).map_err(io_err("reading", path))?;
    f.seek(SeekFrom::Start(from))
        .map_err(io_err("reading", path))?;
    Ok(crate::segment::first_non_zero(&mut f)
        .map_err(io_err("reading", path))?
        .is_none())
}

const TEMP_SUFFIX: &str = ".tmp";

/// Removes segments that were being created when the process stopped (never renamed
/// into place, so they hold no record).
fn remove_stale_temp_segments(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name();
            let Some(name) = name.to_str() else { continue };
            if name
                .strip_suffix(TEMP_SUFFIX)
                .and_then(crate::segment::parse_segment_file_name)
                .is_some()
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Creates a segment holding only `header`: written under a temporary name, synced and
/// renamed into place, so a crash never leaves a segment with a partial header.
fn create_segment(path: &Path, header: &SegmentHeader) -> Result<u64, LedgerError> {
    let bytes = header.encode();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(TEMP_SUFFIX);
    let tmp = PathBuf::from(tmp);
    if path.exists() {
        return Err(LedgerError::Io {
            action: "creating segment",
            path: path.to_path_buf(),
            source: io::Error::from(io::ErrorKind::AlreadyExists),
        });
    }
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&tmp)
        .map_err(io_err("creating segment", &tmp))?;
    if let Err(source) = f.write_all(&bytes).and_then(|_| f.sync_all()) {
        drop(f);
        let _ = std::fs::remove_file(&tmp);
        return Err(LedgerError::Io {
            action: "writing segment header to",
            path: tmp,
            source,
        });
    }
    drop(f);
    if let Err(source) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(LedgerError::Io {
            action: "renaming into place",
            path: path.to_path_buf(),
            source,
        });
    }
    sync_dir(path.parent().unwrap_or(Path::new(".")))?;
    Ok(bytes.len() as u64)
}

fn save_tail(dir: &Path, seg: &Path, from: u64) -> Result<PathBuf, LedgerError> {
    let rec_dir = dir.join(RECOVERED_DIR);
    std::fs::create_dir_all(&rec_dir).map_err(io_err("creating", &rec_dir))?;
    let mut f = File::open(seg).map_err(io_err("reading", seg))?;
    f.seek(SeekFrom::Start(from))
        .map_err(io_err("reading", seg))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(io_err("reading", seg))?;
    let name = format!(
        "{}.tail-at-{from}-{}",
        seg.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("segment"),
        Timestamp::now().0
    );
    let out = rec_dir.join(name);
    write_atomic(&out, &tail)?;
    Ok(out)
}

/// The text kept for a failed ledger: the error and its causes (an I/O error's message
/// names only what was being done; the OS error is its source), so that every later
/// append reports why the ledger stopped.
fn failure_text(e: &LedgerError) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Actor, ActorKind, Outcome};

    fn event(i: u64) -> Event {
        Event {
            time: None,
            actor: Actor {
                kind: ActorKind::System,
                id: format!("job{i}"),
                department: None,
                role: None,
            },
            action: "mask".into(),
            object: "file:/data/x.csv".into(),
            purpose: None,
            outcome: Outcome::Allowed,
            client: None,
            request_id: None,
            details: Default::default(),
        }
    }

    /// Every write fails from here on, as on a full disk (`/dev/full` answers ENOSPC).
    fn fill_disk(l: &Ledger) {
        let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
        l.core.writer.lock().unwrap().segment = Arc::new(full);
    }

    #[test]
    fn a_failed_write_fails_async_and_blocking_appenders_and_acknowledges_none() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let l = Arc::new(Ledger::open(dir.path(), key.clone()).unwrap());
        for i in 0..10 {
            l.append(&event(i)).unwrap();
        }
        // Starts the committer threads.
        assert_eq!(rt.block_on(l.append_async(&event(10))).unwrap(), 11);
        fill_disk(&l);

        let threads: Vec<_> = (0..4)
            .map(|t| {
                let l = Arc::clone(&l);
                std::thread::spawn(move || {
                    (0..5)
                        .map(|i| l.append(&event(1000 + t * 10 + i)).is_err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let l = Arc::clone(&l);
                rt.spawn(async move {
                    let single = l.append_async(&event(100 + i)).await;
                    let batch = l
                        .append_batch_async(&[event(200 + i), event(300 + i)])
                        .await;
                    (single, batch)
                })
            })
            .collect();
        let results = rt.block_on(async {
            let mut v = Vec::new();
            for t in tasks {
                v.push(t.await.unwrap());
            }
            v
        });
        for (single, batch) in results {
            assert!(single.is_err(), "acknowledged on a full disk: {single:?}");
            assert!(batch.is_err(), "acknowledged on a full disk: {batch:?}");
        }
        for t in threads {
            assert!(t.join().unwrap().into_iter().all(|failed| failed));
        }
        assert_eq!(l.len(), 11);
        // Fail-closed until reopened.
        assert!(matches!(
            rt.block_on(l.append_async(&event(1))),
            Err(LedgerError::Failed(_))
        ));
        assert!(l.append(&event(1)).is_err());
        assert!(l.checkpoint().is_err());
        // Dropping stops the committer threads (a hang here fails the test by timeout).
        drop(Arc::into_inner(l).unwrap());

        let l = Ledger::open(dir.path(), key.clone()).unwrap();
        assert_eq!(l.len(), 11);
        l.close().unwrap();
        let r = crate::verify(dir.path(), &key.verifying_key(), &Default::default()).unwrap();
        assert!(r.ok());
        assert_eq!(r.records, 11);
    }
}
