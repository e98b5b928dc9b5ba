//! The API handlers, one module per area.

pub mod admin;
pub mod audit;
pub mod data;
pub mod elevations;
pub mod identity;
pub mod jobs;
pub mod session;
