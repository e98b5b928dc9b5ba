//! The API handlers, one module per area.

pub mod admin;
pub mod alerts;
pub mod audit;
pub mod backups;
pub mod collections;
pub mod complaints;
pub mod data;
pub mod destructions;
pub mod elevations;
pub mod emergency;
pub mod gateway;
pub mod identity;
pub mod incidents;
pub mod jobs;
pub mod lineage;
pub mod quality;
pub mod risk;
pub mod session;
pub mod sharing;
pub mod temporaries;
pub mod training;
pub mod vendors;
