//! Read-only, streaming access to data sources for shuan.
//!
//! Owns: CSV/TSV (with encoding detection), XLSX, JSON/JSONL, Parquet, SQLite, PostgreSQL,
//! MySQL/MariaDB and directories, exposed as tables of rows.
//! Must not: write to any source, or print credentials.
