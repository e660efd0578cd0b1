//! One integration-test binary: every module starts real servers on port 0 with a real
//! SQLite file and talks to them over HTTP with real signatures.

mod cli_support;
mod helpers;
mod log_client;
mod process;

mod airflow;
mod auth;
mod cancel;
mod cli;
mod cli_jobs;
mod cli_logs;
mod crash;
mod deploy;
mod docker;
mod errors;
mod exec;
mod faults;
mod fuzz;
mod go_decode;
mod limits;
mod list;
mod logs;
mod nonces;
mod observability;
mod openapi;
mod openapi_client;
mod python_clients;
mod restart;
mod schemathesis;
mod signals;
mod submit;
mod walkthrough;
mod wasm;
