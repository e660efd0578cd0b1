//! A bounded cache of finished jobs' views, so `states` polls of recently finished jobs
//! are answered without a disk read. Bounded by entries and by approximate bytes.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

use super::service::JobView;

/// The entries, each with its weight, and the total weight.
type Entries = (LruCache<String, (JobView, usize)>, usize);

/// Recently finished jobs, least recently used evicted first.
#[derive(Debug)]
pub struct FinishedCache {
    /// The entries and their total weight; locked briefly per lookup.
    inner: Mutex<Entries>,
    max_bytes: usize,
}

fn weight(v: &JobView) -> usize {
    1024 + v
        .state
        .executions
        .iter()
        .map(|e| {
            512 + e
                .run_output
                .as_ref()
                .map_or(0, |o| o.stdout.len() + o.stderr.len())
        })
        .sum::<usize>()
}

impl FinishedCache {
    /// A cache of at most `max_entries` jobs and about `max_bytes`.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        let cap = NonZeroUsize::new(max_entries.max(1)).expect("non-zero");
        Self {
            inner: Mutex::new((LruCache::new(cap), 0)),
            max_bytes,
        }
    }

    /// The cached view of a finished job.
    pub fn get(&self, id: &str) -> Option<JobView> {
        let mut g = self.inner.lock().expect("finished cache");
        g.0.get(id).map(|(v, _)| v.clone())
    }

    /// Remembers a finished job.
    pub fn put(&self, view: JobView) {
        let w = weight(&view);
        if w > self.max_bytes {
            return;
        }
        let mut g = self.inner.lock().expect("finished cache");
        let (cache, bytes) = &mut *g;
        if let Some((_, old)) = cache
            .push(view.state.job_id.clone(), (view, w))
            .map(|(_, v)| v)
        {
            *bytes -= old;
        }
        *bytes += w;
        while *bytes > self.max_bytes {
            match cache.pop_lru() {
                Some((_, (_, old))) => *bytes -= old,
                None => break,
            }
        }
    }

    /// Jobs cached.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("finished cache").0.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
