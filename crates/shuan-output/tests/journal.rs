//! The journal of live temporaries (its own test binary: the registry is process-wide,
//! and other tests' temporaries would be journaled too).

use std::path::Path;

use shuan_output::{set_journal_dir, TempPath};

fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_journal_lists_live_temporaries_and_goes_when_they_are_gone() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run");
    set_journal_dir(&journal);
    let (temp, _file) = TempPath::create_in(dir.path(), "x").unwrap();
    let listed: String = std::fs::read_dir(&journal)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        listed.contains(&temp.path().display().to_string()),
        "{listed}"
    );
    drop(temp);
    assert!(names(&journal).is_empty(), "{:?}", names(&journal));
}
