//! PostgreSQL backend of [`super::PlatformStore`] (several nodes). Implemented next.
