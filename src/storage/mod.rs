//! Inputs and outputs of executions: preparing a [`Workspace`] (inputs fetched or linked,
//! output directories made) and publishing outputs when an execution completes.

mod inputs;
mod publish;
pub mod s3;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

use crate::logs::spool::OutputSpool;
use crate::model::{Job, Publisher, RunCommandResult, Spec, StorageSpec};

/// A directory bound into an execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is on the host.
    pub host: PathBuf,
    /// Where the job sees it (the StorageSpec `path`).
    pub target: String,
    /// Whether the job may only read it.
    pub read_only: bool,
}

/// The files of one execution.
#[derive(Debug)]
pub struct Workspace {
    /// Root of everything below (removed on cleanup unless it holds nothing of ours).
    pub root: PathBuf,
    /// Working directory for Exec jobs.
    pub scratch: PathBuf,
    /// `HAKE_INPUTS`: inputs appear here at their path without the leading `/`.
    pub inputs_root: PathBuf,
    /// `HAKE_OUTPUTS`: one directory per output, named by the output's Name.
    pub outputs_root: PathBuf,
    /// Inputs, read-only.
    pub inputs: Vec<Mount>,
    /// Output directories, read-write.
    pub outputs: Vec<Mount>,
}

impl Workspace {
    /// Removes the workspace.
    pub async fn cleanup(&self) -> std::io::Result<()> {
        match tokio::fs::remove_dir_all(&self.root).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Fetches inputs and publishes outputs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

/// The server settings storage uses, as plain values.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    /// The node's data dir (workspaces under `executions/`, results under `results/`).
    pub data_dir: PathBuf,
    /// The base URL clients use to reach this node (for result download links).
    pub public_url: String,
    /// Roots under which LocalDirectory inputs are allowed; `PATH:rw` marks a root whose
    /// inputs may be written when they say `ReadWrite`.
    pub allowed_input_dirs: Vec<PathBuf>,
    /// Largest Inline or URLDownload input, and the total of a job's S3 inputs.
    pub max_input_bytes: u64,
    /// Most bytes of each of stdout and stderr kept in a published result.
    pub max_published_output_bytes: u64,
}

#[derive(Debug)]
struct Inner {
    config: StorageSettings,
    http: reqwest::Client,
    /// Canonical forms of the allowed LocalDirectory roots.
    allowed_roots: Vec<AllowedRoot>,
    /// The canonical data dir, which no input may overlap.
    data_dir: PathBuf,
    /// S3 clients from the node's AWS configuration.
    s3: s3::S3Access,
}

/// A `--allowed-input-dir` root.
#[derive(Debug, Clone)]
struct AllowedRoot {
    path: PathBuf,
    /// Marked `:rw`: inputs that say `ReadWrite` may be written.
    writable: bool,
}

/// Splits `PATH:rw` / `PATH:ro` into the path and whether it is writable.
fn parse_allowed_root(dir: &std::path::Path) -> (PathBuf, bool) {
    let text = dir.to_string_lossy();
    if let Some(p) = text.strip_suffix(":rw") {
        (PathBuf::from(p), true)
    } else if let Some(p) = text.strip_suffix(":ro") {
        (PathBuf::from(p), false)
    } else {
        (dir.to_path_buf(), false)
    }
}

impl Storage {
    /// Storage under `config.data_dir`.
    pub fn new(config: StorageSettings) -> Self {
        let allowed_roots = config
            .allowed_input_dirs
            .iter()
            .filter_map(|d| {
                let (dir, writable) = parse_allowed_root(d);
                match dir.canonicalize() {
                    Ok(path) => Some(AllowedRoot { path, writable }),
                    Err(e) => {
                        tracing::warn!(dir = %dir.display(), error = %e, "allowed input dir is not usable");
                        None
                    }
                }
            })
            .collect();
        let data_dir = config
            .data_dir
            .canonicalize()
            .unwrap_or_else(|_| config.data_dir.clone());
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(300))
            .build()
            .expect("HTTP client builds");
        Self {
            inner: Arc::new(Inner {
                config,
                http,
                allowed_roots,
                data_dir,
                s3: s3::S3Access::new(),
            }),
        }
    }

    /// Submit-time checks of every input, the Wasm entry module and the publisher's
    /// parameters.
    pub fn validate_inputs(&self, spec: &Spec) -> Result<(), String> {
        publish::validate(spec)?;
        for (i, input) in spec.inputs.iter().enumerate() {
            self.validate_source(input, &format!("inputs[{i}]"))?;
        }
        if spec.engine == Some(crate::model::Engine::Wasm) {
            self.validate_source(&spec.wasm.entry_module, "Wasm.EntryModule")?;
        }
        Ok(())
    }

    /// Where published results of this node live.
    pub fn results_dir(&self) -> PathBuf {
        self.inner.config.data_dir.join("results")
    }

    /// The local tarball of a published execution, if the names are well-formed.
    pub fn result_file(&self, job_id: &str, file: &str) -> Option<PathBuf> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                && !s.contains("..")
        };
        (ok(job_id) && ok(file) && file.ends_with(".tar.gz"))
            .then(|| self.results_dir().join(job_id).join(file))
    }

    /// Creates the execution's workspace and fetches its inputs.
    pub async fn prepare(&self, job: &Job, execution_id: &str) -> anyhow::Result<Workspace> {
        let root = self
            .inner
            .config
            .data_dir
            .join("executions")
            .join(execution_id);
        let ws = Workspace {
            scratch: root.join("work"),
            inputs_root: root.join("inputs"),
            outputs_root: root.join("outputs"),
            inputs: Vec::new(),
            outputs: Vec::new(),
            root,
        };
        match fill(&self.inner, job, ws).await {
            Ok(ws) => Ok(ws),
            Err((ws, e)) => {
                // Whatever was fetched before the failure goes with it.
                let _ = ws.cleanup().await;
                Err(e)
            }
        }
    }

    /// Where the complete stdout and stderr of the execution are kept for its published
    /// result (`root/output`), when the job publishes; `None` for Noop.
    pub async fn output_spool(
        &self,
        job: &Job,
        ws: &Workspace,
    ) -> anyhow::Result<Option<Arc<OutputSpool>>> {
        if matches!(job.spec.publisher_spec.kind, None | Some(Publisher::Noop)) {
            return Ok(None);
        }
        let dir = ws.root.join("output");
        let cap = self.inner.config.max_published_output_bytes;
        let spool = tokio::task::spawn_blocking(move || OutputSpool::create(&dir, cap))
            .await?
            .context("creating the output spool")?;
        Ok(Some(Arc::new(spool)))
    }

    /// Reads a whole StorageSpec into memory (the Wasm entry module).
    pub async fn read_all(&self, spec: &StorageSpec) -> anyhow::Result<Vec<u8>> {
        inputs::read_all(&self.inner, spec).await
    }

    /// Publishes the outputs of a completed execution of this node with the job's
    /// publisher.
    pub async fn publish(
        &self,
        job: &Job,
        execution_id: &str,
        node_id: &str,
        ws: &Workspace,
        spool: Option<&OutputSpool>,
        run_output: &RunCommandResult,
    ) -> anyhow::Result<StorageSpec> {
        let ids = publish::Ids {
            job: &job.metadata.id,
            execution: execution_id,
            node: node_id,
        };
        publish::publish(&self.inner, job, &ids, ws, spool, run_output).await
    }

    fn validate_source(&self, s: &StorageSpec, field: &str) -> Result<(), String> {
        inputs::validate(&self.inner, s, field)
    }
}

/// Fetches the inputs and makes the output directories; on failure hands the workspace
/// back so the caller can remove it.
async fn fill(
    inner: &Inner,
    job: &Job,
    mut ws: Workspace,
) -> Result<Workspace, (Workspace, anyhow::Error)> {
    // Directories are made only when there is something to put in them: a Noop job
    // touches no disk at all. Engines that need the scratch dir make it themselves.
    if !job.spec.inputs.is_empty() {
        if let Err(e) = tokio::fs::create_dir_all(&ws.inputs_root).await {
            return Err((ws, e.into()));
        }
    }
    let mut budget = s3::Budget::new(inner.config.max_input_bytes);
    for input in &job.spec.inputs {
        match inputs::fetch_input(inner, input, &ws.inputs_root, &mut budget).await {
            Ok(m) => ws.inputs.push(m),
            Err(e) => return Err((ws, e)),
        }
    }
    for output in &job.spec.outputs {
        let name = crate::jobs::validate::output_name(output);
        let host = ws.outputs_root.join(&name);
        if let Err(e) = tokio::fs::create_dir_all(&host).await {
            return Err((ws, e.into()));
        }
        ws.outputs.push(Mount {
            host,
            target: output.path.clone(),
            read_only: false,
        });
    }
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_roots_are_read_only_unless_marked_rw() {
        let p = |s: &str| parse_allowed_root(std::path::Path::new(s));
        assert_eq!(p("/data"), (PathBuf::from("/data"), false));
        assert_eq!(p("/data:rw"), (PathBuf::from("/data"), true));
        assert_eq!(p("/data:ro"), (PathBuf::from("/data"), false));
        assert_eq!(p("/odd:name"), (PathBuf::from("/odd:name"), false));
    }
}
