//! Deciding what happens to each column of a table: discovery (`shuan-discover`, the very
//! pipeline `shuan scan` uses) and then the scenario's rules. The first step of every
//! masking run and the whole of `shuan mask --dry-run`, as a library call the CLI and a
//! server make alike; plus the residual redactor backed by `shuan-detect`'s text scanner.

use shuan_classify::Profile;
use shuan_detect::{ColumnClassifier, TextScanner};
use shuan_source::{Source, TableRef};

use crate::error::{MaskError, Result};
use crate::job::{MaskPlan, ResidualRedactor};
use crate::rules::{ColumnInfo, Scenario};

/// What planning one table needs besides the table.
pub struct PlanRequest<'a> {
    /// The scenario whose rules choose the operators.
    pub scenario: &'a Scenario,
    /// Non-blank values sampled per column (`shuan_discover::DEFAULT_SAMPLE`, as a scan).
    pub sample: usize,
    /// Grading profile giving each column its level, for `levels = [...]` rules.
    pub profile: &'a Profile,
    /// The column classifier (build once, share).
    pub classifier: &'a ColumnClassifier,
}

/// The per-column plan of `table`. Discovery is skipped when the scenario's rules name
/// every column explicitly (nothing would depend on it).
pub fn plan_table(
    source: &mut dyn Source,
    table: &TableRef,
    req: &PlanRequest<'_>,
) -> Result<MaskPlan> {
    // The cause chain is kept: a source's I/O error names its OS cause as its source.
    let discovery_failed = |e: &(dyn std::error::Error + 'static)| {
        MaskError::Invalid(format!(
            "discovering the columns of {}: {}",
            table.name,
            shuan_source::error_chain(e)
        ))
    };
    let mut infos: Vec<ColumnInfo> = {
        let reader = source.open_table(table).map_err(|e| discovery_failed(&e))?;
        reader
            .columns()
            .iter()
            .map(|c| ColumnInfo {
                table: Some(table.name.clone()),
                name: c.name.clone(),
                ..Default::default()
            })
            .collect()
    };
    if !infos.iter().all(|c| req.scenario.names_column(c)) {
        let found =
            shuan_discover::discover_table(source, table, req.sample, req.classifier, req.profile)
                .map_err(|e| discovery_failed(&e))?;
        for (info, verdict) in infos.iter_mut().zip(found.columns) {
            if let Some(t) = verdict.data_type {
                info.data_type = Some(t.id().to_string());
                info.data_type_label = Some(t.label().to_string());
            }
            info.level = Some(req.profile.level(verdict.grade.level).name.clone());
        }
    }
    MaskPlan::build(req.scenario, infos)
}

/// The residual scan: every identifier `shuan-detect`'s text scanner finds (weak hints
/// included: masking errs on the side of hiding) becomes `[类型]`, its type's label.
pub struct TextRedactor(TextScanner);

impl Default for TextRedactor {
    fn default() -> Self {
        TextRedactor::new()
    }
}

impl TextRedactor {
    /// A redactor with a fresh scanner. Person names in running text are not looked
    /// for here: the residual scan sees each kept cell alone, so a cell of a name column
    /// that the rule set keeps on purpose (a 2级 column) would be read as a name and
    /// hidden against the rule. Names inside free-text cells need the column's own
    /// verdict to tell the two apart (a later change).
    pub fn new() -> Self {
        TextRedactor(TextScanner::new().with_person_names(false))
    }
}

impl ResidualRedactor for TextRedactor {
    fn redact(&self, text: &str) -> Option<String> {
        let found = self.0.scan(text);
        if found.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for f in &found {
            if f.start < at
                || f.end > text.len()
                || !text.is_char_boundary(f.start)
                || !text.is_char_boundary(f.end)
            {
                continue;
            }
            out.push_str(&text[at..f.start]);
            out.push('[');
            out.push_str(f.data_type.label());
            out.push(']');
            at = f.end;
        }
        out.push_str(&text[at..]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_in_text_become_type_tags() {
        let r = TextRedactor::new();
        assert_eq!(
            r.redact("电话13800138000，身份证11010519491231002X")
                .as_deref(),
            Some("电话[手机号码]，身份证[居民身份证号]")
        );
        assert_eq!(r.redact("材料齐全"), None);
    }
}
