//! A spinner line on stderr while the CLI waits, drawn only when stderr is a terminal
//! (so pipes, files and CI logs never see control characters).

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The spinner's message; None once finished.
type Message = Arc<Mutex<Option<String>>>;

/// A running spinner; it clears its line when finished or dropped.
#[derive(Debug)]
pub struct Progress {
    /// The message (None once finished) and the drawing task.
    shown: Option<(Message, JoinHandle<()>)>,
}

impl Progress {
    /// A spinner that shows nothing.
    pub fn none() -> Self {
        Self { shown: None }
    }

    /// Starts a spinner with `message` when stderr is a terminal; otherwise does nothing.
    pub fn start(message: impl Into<String>) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self { shown: None };
        }
        let text: Message = Arc::new(Mutex::new(Some(message.into())));
        let shared = text.clone();
        let started = Instant::now();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let mut i = 0usize;
            loop {
                tick.tick().await;
                // stderr first, then the message: `finish` clears under the same lock,
                // so no frame is drawn after the line was cleared.
                let mut err = std::io::stderr().lock();
                let Some(msg) = shared.lock().ok().and_then(|m| m.clone()) else {
                    return;
                };
                let secs = started.elapsed().as_secs_f64();
                let _ = write!(
                    err,
                    "\r\x1b[2K{} {msg} ({secs:.0}s)",
                    FRAMES[i % FRAMES.len()]
                );
                let _ = err.flush();
                i += 1;
            }
        });
        Self {
            shown: Some((text, task)),
        }
    }

    /// Replaces the message.
    pub fn set(&self, message: impl Into<String>) {
        if let Some((text, _)) = &self.shown {
            if let Ok(mut t) = text.lock() {
                if t.is_some() {
                    *t = Some(message.into());
                }
            }
        }
    }

    /// Stops the spinner and clears its line.
    pub fn finish(&mut self) {
        if let Some((text, task)) = self.shown.take() {
            let mut err = std::io::stderr().lock();
            if let Ok(mut t) = text.lock() {
                *t = None;
            }
            task.abort();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
