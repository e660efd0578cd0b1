//! Execution slots, handed out in submit order. A job asks for one slot per execution;
//! a dispatcher task gives each free slot (a semaphore permit) to the job at the head of
//! the queue. Holding the permit is what allows an execution to run.
//!
//! A queued job holds only its place here and one oneshot per slot it waits for (about
//! two hundred bytes), not a channel of its own: a burst of submits can leave a long queue.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, Notify, OwnedSemaphorePermit, Semaphore};

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

/// A queued job: where each of the slots it still waits for goes, in order.
#[derive(Debug)]
struct Waiting {
    /// One sender per slot still owed; closed once the job stops waiting (its
    /// [`Permits`] dropped).
    slots: VecDeque<oneshot::Sender<OwnedSemaphorePermit>>,
}

impl Waiting {
    fn is_closed(&self) -> bool {
        self.slots.front().is_none_or(oneshot::Sender::is_closed)
    }
}

/// The slots a queued job receives, one per execution, in the order they were granted.
/// Dropping it gives the job's place in the queue away.
#[derive(Debug, Default)]
pub struct Permits(VecDeque<oneshot::Receiver<OwnedSemaphorePermit>>);

impl Permits {
    /// The next slot; `None` when none is owed any more (or the scheduler stopped).
    /// Cancel-safe: a slot granted while a caller stopped waiting is kept for the next.
    pub async fn next(&mut self) -> Option<OwnedSemaphorePermit> {
        let slot = self.0.front_mut()?;
        let permit = slot.await.ok();
        self.0.pop_front();
        permit
    }
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
    /// or no slot is free) and the mailbox its slots arrive in.
    pub fn enqueue(&self, n: usize) -> (bool, Permits) {
        let (slots, permits): (VecDeque<_>, VecDeque<_>) =
            (0..n).map(|_| oneshot::channel()).unzip();
        let must_wait = {
            // Entries whose job stopped waiting are dropped lazily by the dispatcher when
            // they reach the front; scanning here would make every submit O(queue length).
            let mut q = self.queue.lock().expect("scheduler queue");
            let must_wait = !q.is_empty() || self.slots.available_permits() == 0;
            if n > 0 {
                q.push_back(Waiting { slots });
            }
            must_wait
        };
        self.notify.notify_one();
        (must_wait, Permits(permits))
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
        q.iter().filter(|w| !w.is_closed()).count()
    }

    /// Executions waiting for a slot (summed over the waiting jobs).
    pub fn queued_executions(&self) -> usize {
        let q = self.queue.lock().expect("scheduler queue");
        q.iter()
            .filter(|w| !w.is_closed())
            .map(|w| w.slots.len())
            .sum()
    }

    async fn dispatch(self) {
        loop {
            let has_work = {
                let mut q = self.queue.lock().expect("scheduler queue");
                while q.front().is_some_and(Waiting::is_closed) {
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
            // A job that stopped waiting gives its turn away (the permit goes back).
            let granted = front
                .slots
                .pop_front()
                .is_some_and(|slot| slot.send(permit).is_ok());
            if !granted || front.slots.is_empty() {
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
        let pa = a.next().await.unwrap();
        let early = tokio::time::timeout(std::time::Duration::from_millis(50), b.next()).await;
        assert!(early.is_err(), "no slot for b while a holds it");
        drop(pa);
        let _pb = b.next().await.unwrap();
        assert_eq!(s.running(), 1);
    }

    #[tokio::test]
    async fn a_job_that_stops_waiting_gives_its_turn_away() {
        let s = Scheduler::start(1);
        let (_, mut a) = s.enqueue(1);
        let held = a.next().await.unwrap();
        let (_, b) = s.enqueue(1);
        let (_, mut c) = s.enqueue(1);
        drop(b);
        drop(held);
        assert!(c.next().await.is_some());
    }

    #[tokio::test]
    async fn a_job_owed_several_slots_gets_each_in_turn_before_the_next_job() {
        let s = Scheduler::start(2);
        let (_, mut a) = s.enqueue(3);
        let (w, mut b) = s.enqueue(1);
        assert!(w, "b waits behind a");
        let a1 = a.next().await.unwrap();
        let a2 = a.next().await.unwrap();
        assert_eq!(s.queued_executions(), 2, "a's third slot and b's");
        drop(a1);
        let _a3 = a.next().await.unwrap();
        let early = tokio::time::timeout(std::time::Duration::from_millis(50), b.next()).await;
        assert!(early.is_err(), "b gets nothing until a has all three");
        assert!(a.next().await.is_none(), "a is owed nothing more");
        drop(a2);
        assert!(b.next().await.is_some());
        assert_eq!(s.waiting(), 0);
    }

    #[tokio::test]
    async fn a_wait_given_up_keeps_the_place_and_a_slot_granted_meanwhile() {
        let s = Scheduler::start(1);
        let held = s.try_slot().expect("the one slot");
        let (_, mut a) = s.enqueue(1);
        // A wait abandoned before the slot came, as a select! that another branch won.
        let wait = std::time::Duration::from_millis(20);
        assert!(tokio::time::timeout(wait, a.next()).await.is_err());
        drop(held);
        // Granted while nobody waits on it: the permit is held for the job.
        while s.running() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let _slot = a.next().await.expect("the slot granted meanwhile");
        assert_eq!(s.running(), 1);
    }

    #[tokio::test]
    async fn a_job_that_needs_no_slot_is_not_queued() {
        let s = Scheduler::start(1);
        let (_, mut none) = s.enqueue(0);
        assert!(none.next().await.is_none());
        assert_eq!(s.waiting(), 0);
    }
}
