//! Properties of grading that must hold for any input: 就高从严 (a table is never below
//! any of its columns), rules only raise, and no profile text makes the parser panic.

use proptest::prelude::*;
use shuan_classify::{GradedColumn, Profile, BUILTIN_PROFILES};

fn type_ids(p: &Profile) -> Vec<String> {
    p.type_ids().map(str::to_string).collect()
}

proptest! {
    #[test]
    fn table_level_is_at_least_every_column_level(
        profile_idx in 0..BUILTIN_PROFILES.len(),
        picks in proptest::collection::vec(proptest::option::of(0usize..64), 0..12),
        rows in 0u64..5_000_000,
    ) {
        let p = Profile::builtin(BUILTIN_PROFILES[profile_idx].0).unwrap();
        let ids = type_ids(&p);
        let grades: Vec<_> = picks
            .iter()
            .map(|pick| p.grade_column(pick.map(|i| ids[i % ids.len()].as_str())))
            .collect();
        let names: Vec<String> = (0..grades.len()).map(|i| format!("c{i}")).collect();
        let cols: Vec<GradedColumn<'_>> = grades
            .iter()
            .zip(&names)
            .map(|(g, n)| GradedColumn { name: n, grade: g })
            .collect();
        let t = p.grade_table(&cols, rows);
        for g in &grades {
            prop_assert!(t.level >= g.level);
        }
        prop_assert!(t.level >= p.default_level());
        prop_assert!(!t.reasons.is_empty());
        // More rows never lower the level.
        let more = p.grade_table(&cols, rows.saturating_mul(2).max(rows + 1));
        prop_assert!(more.level >= t.level);
    }

    #[test]
    fn arbitrary_profile_text_never_panics(text in "\\PC{0,200}") {
        let _ = Profile::from_toml_str(&text, "fuzz.toml");
    }

    #[test]
    fn mutated_builtin_profile_never_panics(cut in 0usize..4000, insert in "[\\[\\]=\"a-z0-9级 \\n]{0,12}") {
        let base = BUILTIN_PROFILES[0].1;
        let mut at = cut.min(base.len());
        while !base.is_char_boundary(at) {
            at -= 1;
        }
        let text = format!("{}{}{}", &base[..at], insert, &base[at..]);
        let _ = Profile::from_toml_str(&text, "mutated.toml");
    }
}
