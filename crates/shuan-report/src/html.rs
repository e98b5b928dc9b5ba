//! The report as one self-contained, printable HTML file (styles and charts inline, no
//! script, nothing fetched), Chinese first.

use askama::Template;
use shuan_comply::source::{format_day, Day};
use shuan_comply::{Change, Comparison, ControlKind, Evaluation, Profile, Status};

use crate::chart::{bar_chart, STATUS_COLOURS};
use crate::ReportError;

/// Figures for the charts besides the findings.
#[derive(Debug, Clone, Default)]
pub struct ChartData {
    /// Audit records per month of the period (label, count), in order.
    pub audit_by_month: Vec<(String, u64)>,
    /// Inventory columns per level (level name, count), when an inventory is kept.
    pub inventory_by_level: Option<Vec<(String, u64)>>,
    /// The department's alerts (告警) per month of the period, when the store keeps them.
    pub alerts_by_month: Option<Vec<(String, u64)>>,
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    /// The profile evaluated.
    pub profile: &'a Profile,
    /// Its evaluation.
    pub evaluation: &'a Evaluation,
    /// The department's name, when the store has it.
    pub department_name: Option<String>,
    /// When the report was built (UTC, RFC 3339).
    pub generated_at: String,
    /// The node that built and signs it (ledger id).
    pub node: String,
    /// Notes on the scope of the evidence (Chinese, one line each).
    pub notes: Vec<String>,
    /// Chart figures.
    pub charts: ChartData,
    /// Rectification items (整改事项) open at some time in the period, oldest first.
    pub rectifications: Vec<RectificationRow>,
    /// The same profile and department in an earlier period, when asked for.
    pub comparison: Option<Comparison>,
}

/// One rectification item as the report lists it.
#[derive(Debug, Clone)]
pub struct RectificationRow {
    /// Item id.
    pub id: String,
    /// Where it was raised (`风险评估 #3`, `应急演练 #2`).
    pub origin: String,
    /// What was found.
    pub finding: String,
    /// Chinese severity (高 / 中 / 低).
    pub severity: String,
    /// The account responsible.
    pub owner: String,
    /// Day it must be closed by.
    pub due: Day,
    /// Day it was closed, if it was.
    pub closed: Option<Day>,
}

/// A rectification item's state at the period's last day, as the report words it. Due on
/// or before that day and not closed by its due day is overdue — the same rule as the
/// evaluation's `rectification_on_time` control, so the table and the verdict agree.
fn rectification_state(r: &RectificationRow, end: Day) -> (&'static str, &'static str) {
    match r.closed {
        Some(c) if c <= end && c <= r.due => ("已整改", "compliant"),
        Some(c) if c <= end => ("逾期整改", "partial"),
        // Closed only after the period, or still open: open as of its end.
        _ if r.due <= end => ("逾期未整改", "non_compliant"),
        _ => ("整改中", "manual"),
    }
}

struct RectificationView {
    id: String,
    origin: String,
    finding: String,
    severity: String,
    owner: String,
    due: String,
    closed: String,
    state: &'static str,
    state_id: &'static str,
}

struct ComparisonRow {
    article: String,
    control: String,
    before: &'static str,
    after: &'static str,
    change: &'static str,
    change_id: &'static str,
    reason: String,
}

struct ComparisonView {
    before_period: String,
    improved: usize,
    regressed: usize,
    changed: usize,
    unchanged: usize,
    new: usize,
    gone: usize,
    /// The controls that moved (unchanged ones are only counted): regressions first.
    rows: Vec<ComparisonRow>,
}

fn comparison_view(c: &Comparison) -> ComparisonView {
    let label = |s: Option<Status>| s.map_or("—", Status::label);
    let order = [
        Change::Regressed,
        Change::Improved,
        Change::Changed,
        Change::New,
        Change::Gone,
    ];
    let rows = order
        .iter()
        .flat_map(|ch| c.with(*ch))
        .map(|x| ComparisonRow {
            article: article_of(x.article, x.clause.as_deref()),
            control: x.control_id.clone(),
            before: label(x.before),
            after: label(x.after),
            change: x.change.label(),
            change_id: x.change.id(),
            reason: x.reason.clone(),
        })
        .collect();
    ComparisonView {
        before_period: c.before_period.clone(),
        improved: c.count(Change::Improved),
        regressed: c.count(Change::Regressed),
        changed: c.count(Change::Changed),
        unchanged: c.count(Change::Unchanged),
        new: c.count(Change::New),
        gone: c.count(Change::Gone),
        rows,
    }
}

struct StatusCount {
    label: &'static str,
    id: &'static str,
    count: usize,
}

struct Finding {
    control: String,
    article: String,
    requires: String,
    reason: String,
}

struct StatusGroup {
    label: &'static str,
    id: &'static str,
    findings: Vec<Finding>,
}

struct ArticleRow {
    article: String,
    control: String,
    kind: &'static str,
    requires: String,
    status: String,
    status_id: &'static str,
    basis: String,
}

struct EvidenceEntry {
    control: String,
    status: &'static str,
    query: String,
    facts: Vec<(String, String)>,
    records: Vec<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    title: String,
    document: String,
    department: String,
    period: String,
    generated_at: String,
    node: String,
    total: usize,
    counts: Vec<StatusCount>,
    headline: String,
    groups: Vec<StatusGroup>,
    articles: Vec<ArticleRow>,
    evidence: Vec<EvidenceEntry>,
    notes: Vec<String>,
    status_chart: String,
    audit_chart: String,
    audit_total: u64,
    inventory_chart: Option<String>,
    alerts_chart: Option<String>,
    alerts_total: u64,
    rectifications: Vec<RectificationView>,
    rectified: usize,
    rectified_late: usize,
    in_progress: usize,
    overdue: usize,
    period_end: String,
    comparison: Option<ComparisonView>,
}

fn article_of(article: Option<u32>, clause: Option<&str>) -> String {
    match (article, clause) {
        (Some(a), _) => format!("第{a}条"),
        (None, Some(c)) => c.to_string(),
        (None, None) => String::new(),
    }
}

/// The report's HTML.
pub fn render_html(input: &ReportInput<'_>) -> Result<String, ReportError> {
    let e = input.evaluation;
    let p = input.profile;
    let summary = e.summary();
    let counts: Vec<StatusCount> = summary
        .iter()
        .map(|(s, n)| StatusCount {
            label: s.label(),
            id: s.id(),
            count: *n,
        })
        .collect();
    let count_of = |s: Status| summary.iter().find(|(x, _)| *x == s).map_or(0, |x| x.1);
    let headline = format!(
        "本次自查依据{}，对 {} 项控制项逐项核查：符合 {} 项，部分符合 {} 项，不符合 {} 项，无证据 {} 项，需人工核查 {} 项。",
        p.title,
        e.results.len(),
        count_of(Status::Compliant),
        count_of(Status::Partial),
        count_of(Status::NonCompliant),
        count_of(Status::NoEvidence),
        count_of(Status::Manual),
    );
    let control = |id: &str| p.controls.iter().find(|c| c.id == id);
    // Findings that need action first: 不符合, 部分符合, then 无证据, 人工, 符合.
    let order = [
        Status::NonCompliant,
        Status::Partial,
        Status::NoEvidence,
        Status::Manual,
        Status::Compliant,
    ];
    let groups: Vec<StatusGroup> = order
        .iter()
        .map(|s| StatusGroup {
            label: s.label(),
            id: s.id(),
            findings: e
                .results
                .iter()
                .filter(|r| r.status == *s)
                .map(|r| Finding {
                    control: r.control_id.clone(),
                    article: article_of(r.article, r.clause.as_deref()),
                    requires: control(&r.control_id)
                        .map(|c| c.requires.clone())
                        .unwrap_or_default(),
                    reason: r.reason.clone(),
                })
                .collect(),
        })
        .filter(|g| !g.findings.is_empty())
        .collect();
    let articles: Vec<ArticleRow> = p
        .controls
        .iter()
        .map(|c| {
            let result = e.result(&c.id);
            let (status, status_id) = match (c.kind, result) {
                (ControlKind::NoRequirement, _) => ("无义务".to_string(), "none"),
                (_, Some(r)) => (r.status.label().to_string(), r.status.id()),
                (_, None) => ("未评估".to_string(), "none"),
            };
            let basis = match c.kind {
                ControlKind::NoRequirement => c.reason.clone().unwrap_or_default(),
                ControlKind::Manual => {
                    format!("需上传：{}", c.document.clone().unwrap_or_default())
                }
                ControlKind::Evidence => result.map(|r| r.reason.clone()).unwrap_or_default(),
            };
            ArticleRow {
                article: article_of(c.article, c.clause.as_deref()),
                control: c.id.clone(),
                kind: match c.kind {
                    ControlKind::Evidence => "证据",
                    ControlKind::Manual => "人工",
                    ControlKind::NoRequirement => "无要求",
                },
                requires: if c.requires.is_empty() {
                    c.reference.clone()
                } else {
                    c.requires.clone()
                },
                status,
                status_id,
                basis,
            }
        })
        .collect();
    let evidence: Vec<EvidenceEntry> = e
        .results
        .iter()
        .filter(|r| !r.facts.is_empty() || !r.records.is_empty())
        .map(|r| EvidenceEntry {
            control: r.control_id.clone(),
            status: r.status.label(),
            query: r.evidence_query.clone().unwrap_or_default(),
            facts: r
                .facts
                .iter()
                .map(|f| (f.label.to_string(), f.value.clone()))
                .collect(),
            records: r
                .records
                .iter()
                .map(|x| {
                    if x.note.is_empty() {
                        format!("{} {}", x.kind, x.id)
                    } else {
                        format!("{} {}：{}", x.kind, x.id, x.note)
                    }
                })
                .collect(),
        })
        .collect();
    let status_bars: Vec<_> = summary
        .iter()
        .zip(STATUS_COLOURS)
        .map(|((s, n), c)| (s.label().to_string(), *n as u64, Some(c)))
        .collect();
    let status_chart = bar_chart("findings", "控制项结论分布", "控制项数", &status_bars)?;
    let audit_bars: Vec<_> = input
        .charts
        .audit_by_month
        .iter()
        .map(|(l, n)| (l.clone(), *n, None))
        .collect();
    let audit_chart = bar_chart("audit", "审计记录量（按月）", "记录数", &audit_bars)?;
    let inventory_chart = match &input.charts.inventory_by_level {
        Some(levels) if !levels.is_empty() => {
            let bars: Vec<_> = levels.iter().map(|(l, n)| (l.clone(), *n, None)).collect();
            Some(bar_chart(
                "inventory",
                "数据资产（字段）分级分布",
                "字段数",
                &bars,
            )?)
        }
        _ => None,
    };
    let alerts_chart = match &input.charts.alerts_by_month {
        Some(months) => {
            let bars: Vec<_> = months.iter().map(|(l, n)| (l.clone(), *n, None)).collect();
            Some(bar_chart("alerts", "告警数量（按月）", "告警数", &bars)?)
        }
        None => None,
    };
    let alerts_total = input
        .charts
        .alerts_by_month
        .iter()
        .flatten()
        .map(|x| x.1)
        .sum();
    let department = match &input.department_name {
        Some(name) => format!("{name}（{}）", e.department),
        None => e.department.clone(),
    };
    let end = e.period.end;
    let rectifications: Vec<RectificationView> = input
        .rectifications
        .iter()
        .map(|r| {
            let (state, state_id) = rectification_state(r, end);
            RectificationView {
                id: r.id.clone(),
                origin: r.origin.clone(),
                finding: r.finding.clone(),
                severity: r.severity.clone(),
                owner: r.owner.clone(),
                due: format_day(r.due),
                closed: r.closed.map(format_day).unwrap_or_default(),
                state,
                state_id,
            }
        })
        .collect();
    let in_state = |ids: &[&str]| {
        rectifications
            .iter()
            .filter(|r| ids.contains(&r.state_id))
            .count()
    };
    let (rectified, rectified_late, in_progress, overdue) = (
        in_state(&["compliant"]),
        in_state(&["partial"]),
        in_state(&["manual"]),
        in_state(&["non_compliant"]),
    );
    let page = ReportPage {
        title: format!("{}数据安全自查报告", p.short),
        document: format!("{}（{}）", p.title, p.document),
        department,
        period: e.period.to_string(),
        generated_at: input.generated_at.clone(),
        node: input.node.clone(),
        total: e.results.len(),
        counts,
        headline,
        groups,
        articles,
        evidence,
        notes: input.notes.clone(),
        status_chart: strip_xml_declaration(status_chart),
        audit_total: input.charts.audit_by_month.iter().map(|x| x.1).sum(),
        audit_chart: strip_xml_declaration(audit_chart),
        inventory_chart: inventory_chart.map(strip_xml_declaration),
        alerts_chart: alerts_chart.map(strip_xml_declaration),
        alerts_total,
        rectifications,
        rectified,
        rectified_late,
        in_progress,
        overdue,
        period_end: format_day(end),
        comparison: input.comparison.as_ref().map(comparison_view),
    };
    page.render()
        .map_err(|e| ReportError::Render(e.to_string()))
}

/// An SVG document becomes an inline `<svg>` element (no XML declaration inside HTML).
fn strip_xml_declaration(svg: String) -> String {
    match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    }
}
