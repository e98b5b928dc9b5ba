//! Two evaluations of one profile and department side by side (两期对比): which controls
//! improved, which regressed, which changed without moving on the compliance scale, and
//! which are new or gone (a profile revised between the periods).
//!
//! The scale is how far a control is shown to be met: 符合 above 部分符合 above the two
//! that show nothing met — 不符合 and 无证据. A move between those two is a change, not an
//! improvement: evidence that appears and shows a breach is not progress, and evidence
//! that disappears is not a regression of the department's practice but of its records
//! (both are reported, as [`Change::Changed`]). 人工 is judged by a person from documents
//! and is off the scale: any move to or from it is a change too.

use serde::Serialize;

use crate::engine::{Evaluation, Status};

/// How one control moved between the earlier and the later evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Higher on the scale.
    Improved,
    /// Lower on the scale.
    Regressed,
    /// Another status at the same height, or to or from 人工.
    Changed,
    /// The same status.
    Unchanged,
    /// Evaluated only in the later period.
    New,
    /// Evaluated only in the earlier period.
    Gone,
}

impl Change {
    /// Stable id.
    pub fn id(self) -> &'static str {
        match self {
            Change::Improved => "improved",
            Change::Regressed => "regressed",
            Change::Changed => "changed",
            Change::Unchanged => "unchanged",
            Change::New => "new",
            Change::Gone => "gone",
        }
    }

    /// Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Change::Improved => "改进",
            Change::Regressed => "退步",
            Change::Changed => "变化",
            Change::Unchanged => "未变",
            Change::New => "新增",
            Change::Gone => "移除",
        }
    }
}

/// Height on the scale; `None` for 人工 (off the scale).
fn height(s: Status) -> Option<u8> {
    match s {
        Status::Compliant => Some(2),
        Status::Partial => Some(1),
        Status::NonCompliant | Status::NoEvidence => Some(0),
        Status::Manual => None,
    }
}

/// How a control moved from `before` to `after`.
pub fn change(before: Option<Status>, after: Option<Status>) -> Change {
    match (before, after) {
        (None, None) => Change::Unchanged,
        (None, Some(_)) => Change::New,
        (Some(_), None) => Change::Gone,
        (Some(b), Some(a)) if a == b => Change::Unchanged,
        (Some(b), Some(a)) => match (height(b), height(a)) {
            (Some(hb), Some(ha)) if ha > hb => Change::Improved,
            (Some(hb), Some(ha)) if ha < hb => Change::Regressed,
            _ => Change::Changed,
        },
    }
}

/// One control in both evaluations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlChange {
    /// The control's id.
    pub control_id: String,
    /// Its article (regulations).
    pub article: Option<u32>,
    /// Its clause (baselines).
    pub clause: Option<String>,
    /// Status in the earlier period.
    pub before: Option<Status>,
    /// Status in the later period.
    pub after: Option<Status>,
    /// The move.
    pub change: Change,
    /// The later period's reason (the earlier one's for a control that is gone).
    pub reason: String,
}

/// Two evaluations compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The earlier evaluation's period, as printed (`2025-01-01—2025-12-31`).
    pub before_period: String,
    /// The later one's.
    pub after_period: String,
    /// Every control of either, in the later profile's order, then the gone ones.
    pub controls: Vec<ControlChange>,
}

/// Why two evaluations cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    /// Different profiles.
    #[error("the evaluations are of different profiles ({before} and {after}); compare one regulation across periods")]
    Profile {
        /// The earlier one's.
        before: String,
        /// The later one's.
        after: String,
    },
    /// Different departments.
    #[error("the evaluations are of different departments ({before} and {after})")]
    Department {
        /// The earlier one's.
        before: String,
        /// The later one's.
        after: String,
    },
}

impl Comparison {
    /// The controls that moved that way.
    pub fn with(&self, c: Change) -> impl Iterator<Item = &ControlChange> {
        self.controls.iter().filter(move |x| x.change == c)
    }

    /// How many controls moved that way.
    pub fn count(&self, c: Change) -> usize {
        self.with(c).count()
    }
}

/// Compares `before` (the earlier period) with `after`, control by control.
pub fn compare(before: &Evaluation, after: &Evaluation) -> Result<Comparison, CompareError> {
    if before.profile != after.profile {
        return Err(CompareError::Profile {
            before: before.profile.clone(),
            after: after.profile.clone(),
        });
    }
    if before.department != after.department {
        return Err(CompareError::Department {
            before: before.department.clone(),
            after: after.department.clone(),
        });
    }
    let mut controls: Vec<ControlChange> = after
        .results
        .iter()
        .map(|a| {
            let b = before.result(&a.control_id).map(|r| r.status);
            ControlChange {
                control_id: a.control_id.clone(),
                article: a.article,
                clause: a.clause.clone(),
                before: b,
                after: Some(a.status),
                change: change(b, Some(a.status)),
                reason: a.reason.clone(),
            }
        })
        .collect();
    controls.extend(
        before
            .results
            .iter()
            .filter(|b| after.result(&b.control_id).is_none())
            .map(|b| ControlChange {
                control_id: b.control_id.clone(),
                article: b.article,
                clause: b.clause.clone(),
                before: Some(b.status),
                after: None,
                change: Change::Gone,
                reason: b.reason.clone(),
            }),
    );
    Ok(Comparison {
        before_period: before.period.to_string(),
        after_period: after.period.to_string(),
        controls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ControlResult;
    use crate::source::Period;

    fn result(id: &str, status: Status) -> ControlResult {
        ControlResult {
            control_id: id.into(),
            article: Some(9),
            clause: None,
            evidence_query: None,
            status,
            facts: Vec::new(),
            records: Vec::new(),
            reason: format!("{id} {}", status.label()),
        }
    }

    fn evaluation(year: i64, results: Vec<ControlResult>) -> Evaluation {
        Evaluation {
            profile: "jc".into(),
            department: "1101".into(),
            period: Period::year(year),
            results,
        }
    }

    #[test]
    fn every_pair_of_statuses_moves_as_the_scale_says() {
        use Status::*;
        // (before, after, expected), written out rather than derived from `height`.
        let table = [
            (NonCompliant, Compliant, Change::Improved),
            (NonCompliant, Partial, Change::Improved),
            (NoEvidence, Compliant, Change::Improved),
            (NoEvidence, Partial, Change::Improved),
            (Partial, Compliant, Change::Improved),
            (Compliant, Partial, Change::Regressed),
            (Compliant, NonCompliant, Change::Regressed),
            (Compliant, NoEvidence, Change::Regressed),
            (Partial, NonCompliant, Change::Regressed),
            (Partial, NoEvidence, Change::Regressed),
            (NoEvidence, NonCompliant, Change::Changed),
            (NonCompliant, NoEvidence, Change::Changed),
            (Manual, Compliant, Change::Changed),
            (Compliant, Manual, Change::Changed),
            (Manual, NoEvidence, Change::Changed),
        ];
        for (b, a, want) in table {
            assert_eq!(change(Some(b), Some(a)), want, "{b:?} → {a:?}");
        }
        for s in Status::ALL {
            assert_eq!(change(Some(s), Some(s)), Change::Unchanged);
            assert_eq!(change(None, Some(s)), Change::New);
            assert_eq!(change(Some(s), None), Change::Gone);
        }
    }

    #[test]
    fn controls_are_matched_by_id_in_the_later_order_with_gone_ones_last() {
        let before = evaluation(
            2025,
            vec![
                result("jc-09-training", Status::NonCompliant),
                result("jc-10-old", Status::Compliant),
                result("jc-12-backup", Status::Compliant),
            ],
        );
        let after = evaluation(
            2026,
            vec![
                result("jc-12-backup", Status::Partial),
                result("jc-09-training", Status::Compliant),
                result("jc-15-new", Status::NoEvidence),
            ],
        );
        let c = compare(&before, &after).unwrap();
        let moves: Vec<(&str, Change)> = c
            .controls
            .iter()
            .map(|x| (x.control_id.as_str(), x.change))
            .collect();
        assert_eq!(
            moves,
            [
                ("jc-12-backup", Change::Regressed),
                ("jc-09-training", Change::Improved),
                ("jc-15-new", Change::New),
                ("jc-10-old", Change::Gone),
            ]
        );
        assert_eq!(c.count(Change::Improved), 1);
        assert_eq!(c.count(Change::Regressed), 1);
        assert_eq!(c.before_period, Period::year(2025).to_string());
        // The later reason, except for a control that is gone.
        assert_eq!(c.controls[1].reason, "jc-09-training 符合");
        assert_eq!(c.controls[3].reason, "jc-10-old 符合");
    }

    #[test]
    fn different_profiles_or_departments_are_refused() {
        let a = evaluation(2025, Vec::new());
        let mut b = evaluation(2026, Vec::new());
        b.profile = "jm".into();
        assert!(matches!(compare(&a, &b), Err(CompareError::Profile { .. })));
        let mut c = evaluation(2026, Vec::new());
        c.department = "1102".into();
        assert!(matches!(
            compare(&a, &c),
            Err(CompareError::Department { .. })
        ));
    }
}
