//! SQLite backend of [`super::PlatformStore`] (one node). Implemented next.
