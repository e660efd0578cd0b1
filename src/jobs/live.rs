//! The jobs held in memory on this node: [`LiveJob`] (a job that has not finished, run
//! or watched here) and the map of them by id. Where another copy may be registered
//! meanwhile (a cluster's claims and long-polls), a copy is looked up or added in one
//! step, and a copy only ever removes itself, so no watcher is left on a copy that
//! nothing updates.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::service::{JobView, Jobs};
use crate::model::{Job, JobState};

/// A job that has not finished. It lives in memory until it is terminal.
#[derive(Debug)]
pub struct LiveJob {
    /// The job.
    pub job: Arc<Job>,
    /// Serialises every change to this job and holds its committed state (the same
    /// `Arc` that `watch` holds once published).
    pub(super) state: tokio::sync::Mutex<Arc<JobState>>,
    /// The latest committed state; long-polls and log followers wait on it.
    pub(super) watch: watch::Sender<Arc<JobState>>,
    /// Fires when the job is being cancelled: drivers stop and executions are killed.
    pub(super) cancel: CancellationToken,
    /// The job's driver and execution tasks, so cancel can wait until they are gone.
    pub(super) tasks: TaskTracker,
    /// Executions of this job running on this node, with when it claimed each (a
    /// cluster's lease check stops those the database no longer gives to this node).
    pub(super) local: Mutex<HashMap<String, std::time::Instant>>,
}

impl LiveJob {
    pub(super) fn new(job: Arc<Job>, state: JobState) -> Arc<Self> {
        let state = Arc::new(state);
        let (watch, _) = watch::channel(state.clone());
        Arc::new(Self {
            job,
            state: tokio::sync::Mutex::new(state),
            watch,
            cancel: CancellationToken::new(),
            tasks: TaskTracker::new(),
            local: Mutex::new(HashMap::new()),
        })
    }

    /// Forgets an execution that ended here.
    pub(super) fn forget_local(&self, execution_id: &str) {
        self.local
            .lock()
            .expect("local executions")
            .remove(execution_id);
    }

    /// The latest committed state.
    pub fn snapshot(&self) -> Arc<JobState> {
        self.watch.borrow().clone()
    }
}

impl Jobs {
    /// Every job live here.
    pub(super) fn live_jobs(&self) -> Vec<Arc<LiveJob>> {
        self.inner
            .live
            .lock()
            .expect("live map")
            .values()
            .cloned()
            .collect()
    }

    /// The job live here, registered as a watched copy when it is not (in a cluster, a
    /// job running on other nodes), kept current by [`Jobs::refresh`].
    pub(super) fn shadow(&self, view: &JobView) -> Arc<LiveJob> {
        self.live_or_insert(&view.state.job_id, || {
            LiveJob::new(view.job.clone(), (*view.state).clone())
        })
    }

    /// The job live here, or `make()` registered as it, in one step: a copy registered
    /// meanwhile (a long-poll's watched copy) is used, not replaced, so its waiters hear
    /// what happens next.
    pub(super) fn live_or_insert(
        &self,
        id: &str,
        make: impl FnOnce() -> Arc<LiveJob>,
    ) -> Arc<LiveJob> {
        self.inner
            .live
            .lock()
            .expect("live map")
            .entry(id.to_owned())
            .or_insert_with(make)
            .clone()
    }

    /// Keeps a job that has not ended current here while a log stream follows it (in a
    /// cluster it may run on another node).
    pub fn watch_here(&self, view: &JobView) {
        if self.inner.store.cluster().is_some() && !view.state.state.is_terminal() {
            self.shadow(view);
        }
    }

    pub(super) fn live_job(&self, id: &str) -> Option<Arc<LiveJob>> {
        self.inner.live.lock().expect("live map").get(id).cloned()
    }

    pub(super) fn register(&self, live: &Arc<LiveJob>) {
        self.inner
            .live
            .lock()
            .expect("live map")
            .insert(live.job.metadata.id.clone(), live.clone());
    }

    /// Stops keeping `live` here; another copy registered for its id in the meantime
    /// (and watched) stays.
    pub(super) fn unregister(&self, live: &LiveJob) {
        let mut map = self.inner.live.lock().expect("live map");
        let id = &live.job.metadata.id;
        if map
            .get(id)
            .is_some_and(|l| std::ptr::eq(Arc::as_ptr(l), live))
        {
            map.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::state;
    use crate::model::JobStateType;
    use crate::time;

    /// A copy of a job that ends (a claim's, or one read to change) and the copy a
    /// long-poll registered meanwhile: publishing the end on the first must leave the
    /// second registered, or nothing would refresh it and its waiters would sleep out
    /// their whole wait.
    #[tokio::test]
    async fn a_copy_published_as_ended_leaves_the_watched_copy_registered() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::config::ServeConfig::for_dir(dir.path().join("data"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.docker = crate::config::DockerMode::Off;
        let server = crate::app::Server::build(config).await.unwrap();
        let jobs = &server.app().jobs;
        let mut job = Job::default();
        job.metadata.id = "j-watched".into();
        let job = Arc::new(job);
        let waiting = state::initial("j-watched", time::now());

        let watched = jobs.shadow(&JobView {
            job: job.clone(),
            state: Arc::new(waiting.clone()),
        });
        let other = LiveJob::new(job.clone(), waiting.clone());
        let same = jobs.live_or_insert("j-watched", || other.clone());
        assert!(Arc::ptr_eq(&same, &watched), "the registered copy is used");

        let mut ended = waiting;
        ended.state = JobStateType::Completed;
        ended.version += 1;
        jobs.publish(&other, ended.clone());
        let still = jobs.live_job("j-watched").expect("the watched copy stays");
        assert!(Arc::ptr_eq(&still, &watched));

        jobs.publish(&watched, ended);
        assert!(
            jobs.live_job("j-watched").is_none(),
            "and goes once it ends"
        );
    }
}
