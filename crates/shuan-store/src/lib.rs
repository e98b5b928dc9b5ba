//! The platform's own records for shuan: the asset inventory and scan history.
//!
//! Owns: the embedded SQLite store under the data directory, its migrations and queries.
//! Must not: hold scanned data values beyond what the inventory needs.
