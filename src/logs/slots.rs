//! The cap on concurrent log streams per client (`--max-log-streams-per-client`): a
//! count of open streams per ClientID, and the [`StreamSlot`] a stream holds for as long
//! as its body lives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Open log streams per client, bounded by a cap.
#[derive(Debug)]
pub struct StreamSlots {
    /// Streams allowed per client; 0 means no cap.
    cap: usize,
    /// Open streams per ClientID; clients with none are removed.
    open: Mutex<HashMap<String, usize>>,
}

/// One open stream of a client; dropping it frees the slot.
#[derive(Debug)]
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    client_id: String,
}

/// The client already has `cap` streams open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyStreams {
    /// The cap it reached.
    pub cap: usize,
}

impl StreamSlots {
    /// Slots with `cap` streams per client (0: unlimited).
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Takes a slot for `client_id`, or says the client is at its cap.
    pub fn acquire(self: &Arc<Self>, client_id: &str) -> Result<StreamSlot, TooManyStreams> {
        let mut open = self.open.lock().expect("stream slots");
        let n = open.get(client_id).copied().unwrap_or(0);
        if self.cap > 0 && n >= self.cap {
            return Err(TooManyStreams { cap: self.cap });
        }
        *open.entry(client_id.to_owned()).or_default() += 1;
        Ok(StreamSlot {
            slots: self.clone(),
            client_id: client_id.to_owned(),
        })
    }

    /// Streams `client_id` has open now.
    #[cfg(test)]
    fn open_for(&self, client_id: &str) -> usize {
        let open = self.open.lock().expect("stream slots");
        open.get(client_id).copied().unwrap_or(0)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().expect("stream slots");
        if let Some(n) = open.get_mut(&self.client_id) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.client_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_at_its_cap_is_refused_until_a_stream_ends() {
        let slots = StreamSlots::new(2);
        let a = slots.acquire("alice").unwrap();
        let _b = slots.acquire("alice").unwrap();
        assert_eq!(
            slots.acquire("alice").unwrap_err(),
            TooManyStreams { cap: 2 }
        );
        let _other = slots
            .acquire("bob")
            .expect("other clients have their own cap");
        drop(a);
        let _c = slots.acquire("alice").expect("a freed slot is reusable");
        assert_eq!(slots.open_for("alice"), 2);
    }

    #[test]
    fn zero_means_no_cap_and_idle_clients_are_forgotten() {
        let slots = StreamSlots::new(0);
        let held: Vec<_> = (0..100).map(|_| slots.acquire("c").unwrap()).collect();
        assert_eq!(slots.open_for("c"), 100);
        drop(held);
        assert_eq!(slots.open_for("c"), 0);
        assert!(slots.open.lock().unwrap().is_empty());
    }
}
