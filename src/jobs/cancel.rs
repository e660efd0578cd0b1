//! Cancel, and the nonces of signed requests: a cancel stops a job's executions and records
//! them and the job as `Cancelled` in one transaction with the request's nonce, so that a
//! repeated cancel with the same nonce is answered with the job's current state; expired
//! nonces are deleted by [`Jobs::expire_nonces`].

use std::time::Duration;

use super::service::{JobView, Jobs};
use super::state::Event;
use super::JobError;
use crate::model::JobState;
use crate::store::{NewNonce, NonceRoute, SeenNonce};
use crate::time;

impl Jobs {
    /// When a nonce used now may be forgotten: twice the freshness window from now, past
    /// which a payload carrying it is refused as stale anyway.
    pub(super) fn nonce_expiry(&self) -> i64 {
        let window_ns = self
            .inner
            .settings
            .freshness_window
            .as_nanos()
            .saturating_mul(2);
        time::to_nanos(time::now()).saturating_add(i64::try_from(window_ns).unwrap_or(i64::MAX))
    }

    /// Cancels a job on behalf of its owner: stops its executions, waits until they are
    /// gone, then records every non-terminal execution and the job as `Cancelled` in one
    /// transaction (with the request's nonce, when it has one).
    ///
    /// A repeated cancel with the same nonce is idempotent: it is answered with the job's
    /// current state, not with the 409 a cancel of an ended job gets.
    pub async fn cancel(
        &self,
        client_id: &str,
        id: &str,
        reason: &str,
        nonce: Option<&str>,
    ) -> Result<JobState, JobError> {
        let view = self.get(id).await?;
        let id = view.state.job_id.clone();
        if view.job.metadata.client_id != client_id {
            return Err(JobError::NotOwner(id));
        }
        if let Some(n) = nonce {
            if let Some(seen) = self.inner.store.nonce(client_id, n).await? {
                return self.repeated_cancel(&seen, &id).await;
            }
        }
        let result = self.cancel_live(&view, reason, client_id, nonce).await;
        match (result, nonce) {
            (Err(e @ (JobError::Terminal { .. } | JobError::NonceReused(_))), Some(n)) => {
                // An identical cancel running at the same time may have recorded it first.
                match self.inner.store.nonce(client_id, n).await? {
                    Some(seen) => self.repeated_cancel(&seen, &id).await,
                    None => Err(e),
                }
            }
            (result, _) => result,
        }
    }

    /// The answer to a cancel whose nonce is on record: the job's state when that nonce
    /// cancelled this job, an error when it was used for something else.
    async fn repeated_cancel(&self, seen: &SeenNonce, id: &str) -> Result<JobState, JobError> {
        if seen.route == NonceRoute::Cancel.as_str() && seen.job_id.as_deref() == Some(id) {
            Ok((*self.get(id).await?.state).clone())
        } else {
            Err(JobError::NonceReused(format!(
                "the nonce was already used by this client in a {} request",
                seen.route
            )))
        }
    }

    async fn cancel_live(
        &self,
        view: &JobView,
        reason: &str,
        client_id: &str,
        nonce: Option<&str>,
    ) -> Result<JobState, JobError> {
        let id = view.state.job_id.clone();
        let live = match self.live_job(&id) {
            Some(live) => live,
            // In a cluster the job may run on other nodes: the cancel is recorded under
            // the job's row lock and they stop its executions when they hear of it.
            None if self.inner.store.cluster().is_some() => {
                super::live::LiveJob::new(view.job.clone(), (*view.state).clone())
            }
            None => {
                return Err(JobError::Terminal {
                    id,
                    state: view.state.state,
                })
            }
        };
        live.cancel.cancel();
        live.tasks.close();
        let grace = self.inner.settings.kill_grace + Duration::from_secs(10);
        if tokio::time::timeout(grace, live.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(job = %id, "executions still stopping after the kill grace period");
        }
        let nonce = nonce.map(|n| NewNonce {
            client_id: client_id.to_owned(),
            nonce: n.to_owned(),
            route: NonceRoute::Cancel,
            job_id: Some(id.clone()),
            expires_at: self.nonce_expiry(),
        });
        let event = Event::Cancel {
            reason: reason.to_owned(),
        };
        let state = match self.transition_with(&live, event.clone(), nonce).await {
            // The executions are already stopped: record the cancel even though the nonce
            // was taken meanwhile by another request (the check above saw it free).
            Err(JobError::NonceReused(_)) => self.transition(&live, event).await?,
            other => other?,
        };
        Ok((*state).clone())
    }

    /// Deletes the nonces whose expiry has passed; returns how many.
    pub async fn expire_nonces(&self) -> Result<u64, JobError> {
        let now = time::to_nanos(time::now());
        Ok(self.inner.store.expire_nonces(now).await?)
    }
}
