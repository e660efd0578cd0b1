//! hake: a job-execution server with a Bacalhau-compatible requester API.
//!
//! Reading order: [`model`] (the wire model) → [`jobs::state`] (the pure state
//! machine) → [`store`] (all SQL) → [`jobs::service`] and [`jobs::scheduler`] (one code
//! path for every state change) → [`engines`] → [`api`] (axum handlers) → [`app`] (wiring).

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod engines;
pub mod jobs;
pub mod logs;
pub mod metrics;
pub mod model;
pub mod pread;
pub mod sandbox;
pub mod storage;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod ui;

pub use app::App;
pub use config::ServeConfig;
