//! Image pulls of the Docker engine under the `--docker-pull` policy: whether an
//! execution's image is pulled, one pull per image at a time shared by every execution
//! that needs it, the pull's progress as the executions' status notes, and the submit-time
//! question to the registry whether an image exists.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use bollard::models::CreateImageInfo;
use bollard::query_parameters::CreateImageOptions;
use bollard::Docker;
use futures::future::{BoxFuture, FutureExt as _, Shared};
use futures::StreamExt as _;
use tokio::sync::{watch, Mutex};
use tokio_util::sync::CancellationToken;

use super::registry::{credentials_for, pull_reference};
use super::{message_of, status_of};
use crate::config::DockerPull;
use crate::engines::StatusSink;

/// The shortest time between two progress notes of one pull.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// A pull under way: its result, shared by every execution waiting for it, and its
/// latest progress note.
#[derive(Clone)]
struct InFlight {
    done: Shared<BoxFuture<'static, Result<(), String>>>,
    progress: watch::Receiver<String>,
}

/// Pulls images per the node's policy. Cheap to clone; clones share the pulls under way.
#[derive(Clone)]
pub struct Puller {
    docker: Docker,
    policy: DockerPull,
    /// Pulls under way, by the reference pulled.
    in_flight: Arc<Mutex<HashMap<String, InFlight>>>,
}

impl std::fmt::Debug for Puller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Puller")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Puller {
    /// A puller with this policy on this daemon.
    pub fn new(docker: Docker, policy: DockerPull) -> Self {
        Self {
            docker,
            policy,
            in_flight: Arc::default(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> DockerPull {
        self.policy
    }

    /// Makes sure `image` is on the node before an execution creates its container: with
    /// `missing`, pulls it when it is absent; with `always`, pulls it anyway; with `never`,
    /// does nothing. Joins the pull of the same image already under way, if any. Notes
    /// the pull's start, progress and end on `status`; gives up waiting (the pull goes on
    /// for the others) when `stop` fires.
    pub async fn ensure(
        &self,
        image: &str,
        status: &StatusSink,
        stop: &CancellationToken,
    ) -> anyhow::Result<()> {
        let reference = pull_reference(image);
        let flight = match self.policy {
            DockerPull::Never => return Ok(()),
            DockerPull::Missing => {
                if self.present(image).await? {
                    return Ok(());
                }
                let mut pulls = self.in_flight.lock().await;
                match pulls.get(&reference) {
                    Some(f) => f.clone(),
                    // Asked again under the lock: a pull that just ended left the image.
                    None if self.present(image).await? => return Ok(()),
                    None => self.start(&mut pulls, &reference),
                }
            }
            DockerPull::Always => {
                let mut pulls = self.in_flight.lock().await;
                match pulls.get(&reference) {
                    Some(f) => f.clone(),
                    None => self.start(&mut pulls, &reference),
                }
            }
        };
        status.milestone(format!("pulling image {reference}"));
        let mut progress = flight.progress;
        let mut reporting = true;
        let mut forwarded = String::new();
        let done = flight.done;
        tokio::pin!(done);
        loop {
            tokio::select! {
                r = &mut done => {
                    // The last progress of the pull, if it arrived with its end (the
                    // value stays readable after the pull dropped its sender).
                    let last = progress.borrow().clone();
                    if !last.is_empty() && last != forwarded {
                        status.progress(last);
                    }
                    return match r {
                        Ok(()) => {
                            status.milestone(format!("pulled image {reference}"));
                            Ok(())
                        }
                        Err(e) => Err(anyhow!(e)),
                    };
                }
                changed = progress.changed(), if reporting => match changed {
                    Ok(()) => {
                        let note = progress.borrow_and_update().clone();
                        if !note.is_empty() && note != forwarded {
                            status.progress(note.clone());
                            forwarded = note;
                        }
                    }
                    Err(_) => reporting = false,
                },
                () = stop.cancelled() => {
                    bail!("the execution was stopped while image {reference} was being pulled")
                }
            }
        }
    }

    /// Whether the image is on the node.
    async fn present(&self, image: &str) -> anyhow::Result<bool> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) if status_of(&e) == Some(404) => Ok(false),
            Err(e) => Err(anyhow!(
                "asking the Docker daemon for image {image} failed: {}",
                message_of(&e)
            )),
        }
    }

    /// Starts pulling `reference` in a task of its own (it outlives the executions that
    /// wait for it) and files it under `pulls` until it ends.
    fn start(&self, pulls: &mut HashMap<String, InFlight>, reference: &str) -> InFlight {
        let (tx, rx) = watch::channel(String::new());
        let docker = self.docker.clone();
        let in_flight = self.in_flight.clone();
        let key = reference.to_owned();
        let task = tokio::spawn(async move {
            let result = pull(&docker, &key, &tx).await;
            in_flight.lock().await.remove(&key);
            result
        });
        let done = async move {
            task.await
                .unwrap_or_else(|e| Err(format!("the pull task ended abnormally: {e}")))
        }
        .boxed()
        .shared();
        let flight = InFlight { done, progress: rx };
        pulls.insert(reference.to_owned(), flight.clone());
        flight
    }

    /// The submit-time question to the registry, for an image the policy would pull:
    /// `Err` only when the registry says the image does not exist. Any other failure
    /// (no answer, refused credentials, a daemon too old to ask) leaves it to the run.
    pub async fn check_registry(&self, image: &str, timeout: Duration) -> Result<(), String> {
        let reference = pull_reference(image);
        let credentials = credentials_for(&reference).await;
        let ask = self.docker.inspect_registry_image(&reference, credentials);
        match tokio::time::timeout(timeout, ask).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if status_of(&e) == Some(404) => Err(format!(
                "image {reference} does not exist in its registry: {}",
                message_of(&e)
            )),
            Ok(Err(e)) => {
                tracing::warn!(image = %reference, error = %e, "could not ask the registry for the image at submit");
                Ok(())
            }
            Err(_) => {
                tracing::warn!(image = %reference, "the registry did not answer for the image at submit in time");
                Ok(())
            }
        }
    }
}

/// Pulls `reference`, sending progress notes at most every [`PROGRESS_EVERY`].
async fn pull(
    docker: &Docker,
    reference: &str,
    progress: &watch::Sender<String>,
) -> Result<(), String> {
    let started = Instant::now();
    let credentials = credentials_for(reference).await;
    let opts = CreateImageOptions {
        from_image: Some(reference.to_owned()),
        ..Default::default()
    };
    tracing::info!(image = %reference, authenticated = credentials.is_some(), "pulling image");
    let mut stream = docker.create_image(Some(opts), None, credentials);
    let mut last_note: Option<Instant> = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if last_note.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
                    continue;
                }
                if let Some(note) = describe(&info) {
                    progress.send_replace(format!("pulling image {reference}: {note}"));
                    last_note = Some(Instant::now());
                }
            }
            Err(e) => {
                let answer = message_of(&e);
                tracing::warn!(image = %reference, error = %answer, "pulling image failed");
                return Err(format!("pulling image {reference} failed: {answer}"));
            }
        }
    }
    tracing::info!(image = %reference, elapsed_ms = started.elapsed().as_millis() as u64, "image pulled");
    Ok(())
}

/// A progress event in a few words: `<layer>: <status> <progress>`.
fn describe(info: &CreateImageInfo) -> Option<String> {
    let status = info.status.as_deref().filter(|s| !s.is_empty())?;
    let mut note = match info.id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => format!("{id}: {status}"),
        None => status.to_owned(),
    };
    if let Some(p) = info.progress.as_deref().filter(|p| !p.is_empty()) {
        // The bar is for terminals; the byte counts that follow it are the news.
        let counts = p.rsplit(']').next().unwrap_or(p).trim();
        if !counts.is_empty() {
            note.push(' ');
            note.push_str(counts);
        }
    }
    Some(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_events_read_as_layer_status_and_byte_counts() {
        let info = CreateImageInfo {
            id: Some("8c6055cdd582".into()),
            status: Some("Downloading".into()),
            progress: Some("[=====>      ]  1.2MB/2.0MB".into()),
            ..Default::default()
        };
        assert_eq!(
            describe(&info).as_deref(),
            Some("8c6055cdd582: Downloading 1.2MB/2.0MB")
        );
        let info = CreateImageInfo {
            status: Some("Pulling from app".into()),
            ..Default::default()
        };
        assert_eq!(describe(&info).as_deref(), Some("Pulling from app"));
        assert_eq!(describe(&CreateImageInfo::default()), None);
    }
}
