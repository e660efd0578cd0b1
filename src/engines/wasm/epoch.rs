//! The thread that advances the wasmtime engine's epoch, only while Wasm executions run.
//!
//! Every store's epoch deadline is one tick away, and its callback either traps (the
//! execution must stop) or yields to the async runtime. Ticks matter only while some
//! store is running, so the thread parks when no execution holds a [`Ticking`] guard and
//! an idle node pays no wake-ups for it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;

/// Runs `tick` every `every` on a thread of its own while at least one [`Ticking`] guard
/// is alive. Dropping the ticker stops and joins the thread.
pub(super) struct EpochTicker {
    /// Guards alive, and whether the ticker is being dropped; shared with the thread.
    shared: Arc<Shared>,
    /// The ticking thread: parked while no guard is alive.
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    active: AtomicUsize,
    done: AtomicBool,
}

/// Keeps the epoch advancing for as long as it lives.
pub(super) struct Ticking<'a>(&'a EpochTicker);

impl EpochTicker {
    /// Starts the (parked) thread.
    pub(super) fn start(
        every: Duration,
        mut tick: impl FnMut() + Send + 'static,
    ) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            active: AtomicUsize::new(0),
            done: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("wasm-epoch".into())
            .spawn(move || loop {
                if s.done.load(Ordering::Acquire) {
                    return;
                }
                if s.active.load(Ordering::Acquire) == 0 {
                    // An unpark that came first makes this return at once.
                    std::thread::park();
                    continue;
                }
                std::thread::sleep(every);
                tick();
            })
            .context("starting the wasm epoch thread")?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Ticks until the guard is dropped (and as long as any other guard lives).
    pub(super) fn hold(&self) -> Ticking<'_> {
        if self.shared.active.fetch_add(1, Ordering::AcqRel) == 0 {
            self.wake();
        }
        Ticking(self)
    }

    fn wake(&self) {
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }
}

impl Drop for Ticking<'_> {
    fn drop(&mut self) {
        self.0.shared.active.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.shared.done.store(true, Ordering::Release);
        self.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    const TICK: Duration = Duration::from_millis(2);

    fn counting() -> (EpochTicker, Arc<AtomicUsize>) {
        let ticks = Arc::new(AtomicUsize::new(0));
        let t = ticks.clone();
        let ticker = EpochTicker::start(TICK, move || {
            t.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        (ticker, ticks)
    }

    /// Waits until `ticks` has not moved for 100 ticks, and returns it.
    fn settled(ticks: &AtomicUsize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = ticks.load(Ordering::Relaxed);
        loop {
            std::thread::sleep(TICK * 100);
            let now = ticks.load(Ordering::Relaxed);
            if now == last || Instant::now() > deadline {
                return now;
            }
            last = now;
        }
    }

    fn wait_for(ticks: &AtomicUsize, above: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while ticks.load(Ordering::Relaxed) <= above {
            assert!(Instant::now() < deadline, "no tick while a guard was held");
            std::thread::sleep(TICK);
        }
    }

    #[test]
    fn the_epoch_advances_only_while_a_guard_lives() {
        let (ticker, ticks) = counting();
        std::thread::sleep(TICK * 100);
        assert_eq!(ticks.load(Ordering::Relaxed), 0, "ticked with no guard");

        let guard = ticker.hold();
        wait_for(&ticks, 5);
        drop(guard);
        let after = settled(&ticks);
        std::thread::sleep(TICK * 250);
        assert_eq!(
            ticks.load(Ordering::Relaxed),
            after,
            "ticked after the guard went"
        );

        // Parked and woken again; two guards, and the last one's drop is what stops it.
        let a = ticker.hold();
        let b = ticker.hold();
        wait_for(&ticks, after + 5);
        drop(a);
        let mid = ticks.load(Ordering::Relaxed);
        wait_for(&ticks, mid + 5);
        drop(b);
        let end = settled(&ticks);
        std::thread::sleep(TICK * 250);
        assert_eq!(ticks.load(Ordering::Relaxed), end);
    }

    #[test]
    fn dropping_a_parked_ticker_wakes_and_joins_its_thread() {
        // The closure lives on the thread: its Arc goes when the thread ends.
        let alive = Arc::new(());
        let held = alive.clone();
        let ticker = EpochTicker::start(TICK, move || {
            let _ = &held;
        })
        .unwrap();
        std::thread::sleep(TICK * 10);
        assert_eq!(Arc::strong_count(&alive), 2);

        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(ticker);
            let _ = tx.send(());
        });
        rx.recv_timeout(Duration::from_secs(10))
            .expect("dropping the ticker did not return: its parked thread was not woken");
        assert_eq!(Arc::strong_count(&alive), 1, "the thread outlived the drop");
    }
}
