//! One module per command group. Each owns its clap arguments and a `run` function.

pub mod assets;
pub mod audit;
pub mod backup;
pub mod comply;
pub mod crypto;
pub mod demo;
pub mod destroy;
pub mod detect;
pub mod keys;
pub mod mask;
pub mod platform;
pub mod quality;
pub mod report;
pub mod scan;
