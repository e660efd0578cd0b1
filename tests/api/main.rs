//! One integration-test binary: every module starts real servers on port 0 with a real
//! SQLite file and talks to them over HTTP with real signatures.

mod cli_support;
mod helpers;
mod log_client;
mod process;
mod registry;
mod s3_support;
mod testdb;

mod airflow;
mod auth;
mod cancel;
mod cli;
mod cli_jobs;
mod cli_logs;
mod cluster;
mod compose_cluster;
mod crash;
mod deploy;
mod docker;
mod docker_pull;
mod errors;
mod exec;
mod exec_sandbox;
mod exec_spawner;
mod faults;
mod fuzz;
mod go_decode;
mod limits;
mod list;
mod logs;
mod logs_text;
mod nonces;
mod observability;
mod openapi;
mod openapi_client;
mod outputs;
mod postgres;
mod python_clients;
mod python_package;
mod restart;
mod results;
mod s3;
mod schemathesis;
mod signals;
mod submit;
mod walkthrough;
mod wasm;

// The web console.
mod browser_support;
mod console;
mod console_browser;
