//! The self-inspection report (自查报告): a department's compliance evaluation (from
//! `shuan-comply`) rendered as one printable Chinese HTML file — executive summary,
//! findings by status, the article-by-article table, the evidence appendix and inline SVG
//! charts — and its detached signature (`FILE.sig`, JSON): the file's SM3 digest, an SM2
//! signature by the node key over the file, the public key, and the ledger record that
//! anchors the digest.
//!
//! This crate owns the report's layout, its charts and the signature format and check. It
//! must not gather evidence (the caller passes an [`shuan_comply::Evaluation`] and the
//! figures for the charts, read by `shuan-evidence`), decide statuses, or write the ledger:
//! the caller records the digest and passes the record's sequence number in, so a report
//! is never signed as anchored before its record is durable. It reads and writes no
//! files; callers do, with their own overwrite rules.

pub mod chart;
pub mod html;
pub mod signature;

pub use html::{render_html, ChartData, RectificationRow, ReportInput};
pub use signature::{
    digest, sign, verify, LedgerAnchor, ReportSignature, Subject, Verification, SIGNATURE_FORMAT,
};

/// What went wrong while building or checking a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The HTML template failed.
    #[error("rendering the report: {0}")]
    Render(String),
    /// A chart could not be drawn.
    #[error("drawing the chart {chart}: {message}")]
    Chart {
        /// Which chart.
        chart: &'static str,
        /// The backend's message.
        message: String,
    },
    /// The signature file is not a report signature.
    #[error("not a report signature ({0})")]
    BadSignatureFile(String),
    /// A key could not be read.
    #[error("public key: {0}")]
    Key(String),
}
