//! Execution slots, handed out in submit order. A job asks for one slot per execution;
//! a dispatcher task gives each free slot (a semaphore permit) to the job at the head of
//! the queue. Holding the permit is what allows an execution to run.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit, Semaphore};

/// The slot scheduler. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Scheduler {
    /// Jobs waiting for slots, in submit order.
    queue: Arc<Mutex<VecDeque<Waiting>>>,
    /// Wakes the dispatcher when a job is queued.
    notify: Arc<Notify>,
    /// One permit per execution that may run at once.
    slots: Arc<Semaphore>,
    max: usize,
}

#[derive(Debug)]
struct Waiting {
    remaining: usize,
    /// Where this job's permits go; closed when the job stops waiting.
    tx: mpsc::UnboundedSender<OwnedSemaphorePermit>,
}

impl Scheduler {
    /// Starts the dispatcher with `max` slots.
    pub fn start(max: usize) -> Self {
        let s = Self {
            queue: Arc::new(Mutex::new(VecDeque::new())),
            notify: Arc::new(Notify::new()),
            slots: Arc::new(Semaphore::new(max)),
            max,
        };
        tokio::spawn(s.clone().dispatch());
        s
    }

    /// Queues a job that needs `n` slots. Returns whether it has to wait (others are ahead
    /// or no slot is free) and the channel its permits arrive on.
    pub fn enqueue(&self, n: usize) -> (bool, mpsc::UnboundedReceiver<OwnedSemaphorePermit>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let must_wait = {
            // Entries whose job stopped waiting are dropped lazily by the dispatcher when
            // they reach the front; scanning here would make every submit O(queue length).
            let mut q = self.queue.lock().expect("scheduler queue");
            let must_wait = !q.is_empty() || self.slots.available_permits() == 0;
            if n > 0 {
                q.push_back(Waiting { remaining: n, tx });
            }
            must_wait
        };
        self.notify.notify_one();
        (must_wait, rx)
    }

    /// Waits for a free slot outside the queue (a cluster node's claimer, which takes
    /// work from the database rather than from this queue). `None` once closed.
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.ok()
    }

    /// A free slot now, if there is one (outside the queue, as [`Scheduler::slot`]).
    pub fn try_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Executions running now.
    pub fn running(&self) -> usize {
        self.max - self.slots.available_permits()
    }

    /// Jobs waiting for a slot.
    pub fn waiting(&self) -> usize {
        let q = self.queue.lock().expect("scheduler queue");
        q.iter().filter(|w| !w.tx.is_closed()).count()
    }

    /// Executions waiting for a slot (summed over the waiting jobs).
    pub fn queued_executions(&self) -> usize {
        let q = self.queue.lock().expect("scheduler queue");
        q.iter()
            .filter(|w| !w.tx.is_closed())
            .map(|w| w.remaining)
            .sum()
    }

    async fn dispatch(self) {
        loop {
            let has_work = {
                let mut q = self.queue.lock().expect("scheduler queue");
                while q.front().is_some_and(|w| w.tx.is_closed()) {
                    q.pop_front();
                }
                !q.is_empty()
            };
            if !has_work {
                self.notify.notified().await;
                continue;
            }
            let Ok(permit) = self.slots.clone().acquire_owned().await else {
                return;
            };
            let mut q = self.queue.lock().expect("scheduler queue");
            let Some(front) = q.front_mut() else {
                continue;
            };
            if front.tx.send(permit).is_err() {
                q.pop_front();
                continue;
            }
            front.remaining -= 1;
            if front.remaining == 0 {
                q.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_go_to_jobs_in_submit_order() {
        let s = Scheduler::start(1);
        let (w1, mut a) = s.enqueue(1);
        let (w2, mut b) = s.enqueue(1);
        assert!(!w1);
        assert!(w2, "second job waits behind the first");
        let pa = a.recv().await.unwrap();
        assert!(b.try_recv().is_err(), "no slot for b while a holds it");
        drop(pa);
        let _pb = b.recv().await.unwrap();
        assert_eq!(s.running(), 1);
    }

    #[tokio::test]
    async fn a_job_that_stops_waiting_gives_its_turn_away() {
        let s = Scheduler::start(1);
        let (_, mut a) = s.enqueue(1);
        let held = a.recv().await.unwrap();
        let (_, b) = s.enqueue(1);
        let (_, mut c) = s.enqueue(1);
        drop(b);
        drop(held);
        assert!(c.recv().await.is_some());
    }
}
