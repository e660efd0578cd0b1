//! Exit codes of the `hake` client commands and the error type that carries one.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | the job completed (or the command succeeded) |
//! | 1 | the job failed: `Error` or `CompletedPartially` (an execution failed or timed out) |
//! | 2 | usage error: bad flags or arguments, an unreadable spec or input file |
//! | 3 | the job was cancelled |
//! | 4 | timed out waiting (`wait --timeout`); the job goes on |
//! | 5 | the server is unreachable, or it answered with an error (its message is printed) |
//! | 6 | a local failure: the key file, writing or unpacking results |

use std::fmt;

use crate::model::JobStateType;

/// What a client command's exit status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The job completed, or the command succeeded.
    Ok = 0,
    /// The job ended `Error` or `CompletedPartially`.
    JobFailed = 1,
    /// Bad flags, arguments or files named on the command line.
    Usage = 2,
    /// The job was cancelled.
    Cancelled = 3,
    /// Waiting timed out before the job ended.
    WaitTimeout = 4,
    /// The server could not be reached or answered with an error.
    Server = 5,
    /// A local failure (key file, results on disk).
    Local = 6,
}

impl ExitCode {
    /// The process exit status.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The exit code for a terminal job state (`Ok` for a state that is not terminal).
    pub fn for_state(state: JobStateType) -> Self {
        match state {
            JobStateType::Error | JobStateType::CompletedPartially => Self::JobFailed,
            JobStateType::Cancelled => Self::Cancelled,
            _ => Self::Ok,
        }
    }
}

/// The text `hake --help` shows after the commands.
pub const EXIT_CODES_HELP: &str = "\
Exit codes of the client commands:
  0  the job completed (or the command succeeded)
  1  the job failed (Error or CompletedPartially)
  2  usage error (bad flags or arguments, an unreadable spec or input file)
  3  the job was cancelled
  4  timed out waiting (wait --timeout); the job goes on
  5  the server is unreachable or answered with an error
  6  local failure (key file, writing or unpacking results)";

/// An error that ends a client command with a specific exit code. The message is what
/// the user sees after `hake: `.
#[derive(Debug)]
pub struct CliError {
    /// The exit status.
    pub code: ExitCode,
    /// A human sentence (the server's `message` for API errors).
    pub message: String,
    /// Whether trying again may help (the server was unreachable, busy or restarting).
    pub retry: bool,
}

impl CliError {
    /// An error with an exit code.
    pub fn new(code: ExitCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry: false,
        }
    }

    /// Marks the error as worth retrying (waiting loops and `logs -f` do).
    pub fn retryable(mut self) -> Self {
        self.retry = true;
        self
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ExitCode::Usage, message)
    }

    /// A server or transport error (exit 5).
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(ExitCode::Server, message)
    }

    /// A local failure (exit 6).
    pub fn local(message: impl Into<String>) -> Self {
        Self::new(ExitCode::Local, message)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// The exit status and message for any error a command returned: a [`CliError`]
/// anywhere in the chain decides the code; anything else is a local failure.
pub fn classify(err: &anyhow::Error) -> (i32, String) {
    match err.downcast_ref::<CliError>() {
        Some(e) => (e.code.code(), e.message.clone()),
        None => (ExitCode::Local.code(), format!("{err:#}")),
    }
}

/// Shorthand for results of client commands.
pub type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_map_to_distinct_codes() {
        assert_eq!(ExitCode::for_state(JobStateType::Completed).code(), 0);
        assert_eq!(ExitCode::for_state(JobStateType::Error).code(), 1);
        assert_eq!(
            ExitCode::for_state(JobStateType::CompletedPartially).code(),
            1
        );
        assert_eq!(ExitCode::for_state(JobStateType::Cancelled).code(), 3);
    }

    #[test]
    fn a_cli_error_keeps_its_code_through_anyhow() {
        let e = anyhow::Error::new(CliError::server("Job not found. ID: x"));
        assert_eq!(classify(&e), (5, "Job not found. ID: x".to_owned()));
        let other = anyhow::anyhow!("disk full");
        assert_eq!(classify(&other).0, 6);
    }
}
