//! Outputs appear complete or not at all, and no temporary outlives its owner.

use std::io::Write;
use std::path::Path;

use shuan_output::{sweep_journal_dir, AtomicFile, OutputError, OutputRules, TEMP_PREFIX};

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn commit_moves_into_place_and_drop_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("report.json");
    let rules = OutputRules::new();

    let mut f = AtomicFile::create(&target, &rules).unwrap();
    f.write_all(b"half").unwrap();
    assert!(
        !target.exists(),
        "nothing under the real name before commit"
    );
    drop(f);
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));

    let mut f = AtomicFile::create(&target, &rules).unwrap();
    f.write_all(b"whole").unwrap();
    f.commit().unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"whole");
    assert_eq!(names(dir.path()), vec!["report.json"]);
}

#[test]
fn an_existing_file_is_replaced_only_with_force_even_if_it_appeared_after_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.txt");
    let rules = OutputRules::new();
    let mut f = AtomicFile::create(&target, &rules).unwrap();
    f.write_all(b"new").unwrap();
    // Another process creates the target while we write.
    std::fs::write(&target, b"theirs").unwrap();
    assert!(matches!(f.commit(), Err(OutputError::Exists(_))));
    assert_eq!(std::fs::read(&target).unwrap(), b"theirs");
    assert_eq!(names(dir.path()), vec!["out.txt"], "temporary removed");

    let mut f = AtomicFile::create(&target, &rules.force(true)).unwrap();
    f.write_all(b"new").unwrap();
    f.commit().unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
}

#[cfg(unix)]
#[test]
fn private_outputs_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("plain.txt");
    let f = AtomicFile::create_private(&target, &OutputRules::new()).unwrap();
    f.commit().unwrap();
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[cfg(target_os = "linux")]
#[test]
fn the_sweep_removes_what_a_killed_process_left_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run");
    std::fs::create_dir(&journal).unwrap();
    let left = dir.path().join(format!("{TEMP_PREFIX}999-0-x.csv"));
    std::fs::write(&left, "plaintext").unwrap();
    let left_dir = dir.path().join(format!("{TEMP_PREFIX}999-1-out"));
    std::fs::create_dir(&left_dir).unwrap();
    std::fs::write(left_dir.join("part"), "plaintext").unwrap();
    let not_ours = dir.path().join("important.csv");
    std::fs::write(&not_ours, "keep").unwrap();
    let done = dir.path().join(format!("{TEMP_PREFIX}999-2-done"));
    std::fs::write(&done, "was persisted; must stay (listed as removed)").unwrap();

    // A process that is certainly gone: a finished child.
    let child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    let mut child = child;
    child.wait().unwrap();
    // A watched directory: the dead process's prefixed files go, another's stay.
    let watched = dir.path().join("watched");
    std::fs::create_dir(&watched).unwrap();
    let by_name = watched.join(format!("{TEMP_PREFIX}{pid}-restore-abc"));
    std::fs::write(&by_name, "plaintext").unwrap();
    let other_pid = watched.join(format!("{TEMP_PREFIX}{}-restore-abc", pid + 1));
    std::fs::write(&other_pid, "another process's").unwrap();
    let lines = format!(
        "+{}\n+{}\n+{}\n+{}\n-{}\n*{}\n+{}/torn",
        left.display(),
        left_dir.display(),
        not_ours.display(),
        done.display(),
        done.display(),
        watched.display(),
        dir.path().display()
    );
    std::fs::write(journal.join(format!("{pid}-1.temps")), lines).unwrap();
    // A live process's journal (this test's own) is left alone.
    let me = std::process::id();
    let stat = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
    let start: u64 = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    let own = journal.join(format!("{me}-{start}.temps"));
    std::fs::write(&own, format!("+{}\n", left.display())).unwrap();

    // The live journal lists `left` too: sweep only follows the dead one.
    let removed = sweep_journal_dir(&journal);
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert!(
        !by_name.exists(),
        "a temporary named by the dead pid in a watched directory"
    );
    assert!(other_pid.exists(), "another pid's temporary is not touched");
    assert!(!left.exists() && !left_dir.exists());
    assert!(
        not_ours.exists(),
        "a file without the temporary prefix is never deleted"
    );
    assert!(done.exists());
    assert!(!journal.join(format!("{pid}-1.temps")).exists());
    assert!(own.exists());
}
