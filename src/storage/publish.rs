//! Publishers. `Noop` publishes nothing. `Local` (extension) packs the outputs, with
//! `stdout`, `stderr` and `exitCode` files as Bacalhau lays them out, into
//! `results/<job>/<execution>.tar.gz` under the data dir, served at the same path. `S3`
//! uploads the same files under a key prefix, or (`Compress`) the tarball at a key. Both
//! publish the complete stdout and stderr kept by the execution's output spool.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use flate2::write::GzEncoder;
use futures::{StreamExt as _, TryStreamExt as _};

use super::{s3, Inner, Workspace};
use crate::logs::spool::OutputSpool;
use crate::model::{
    Job, LogStream, Publisher, RunCommandResult, S3StorageSpec, Spec, StorageSource, StorageSpec,
};

/// The ids a published location may name.
pub(super) struct Ids<'a> {
    pub(super) job: &'a str,
    pub(super) execution: &'a str,
    pub(super) node: &'a str,
}

/// Parameters of the S3 publisher (`PublisherSpec.Params`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct S3Params {
    bucket: String,
    key: String,
    endpoint: String,
    region: String,
    compress: bool,
}

const S3_PARAMS: &str = "Bucket, Key, Endpoint, Region, Compress";

impl S3Params {
    /// Reads the parameters, matching names case-insensitively as Bacalhau does.
    fn parse(params: &BTreeMap<String, serde_json::Value>) -> Result<Self, String> {
        let mut p = S3Params {
            bucket: String::new(),
            key: String::new(),
            endpoint: String::new(),
            region: String::new(),
            compress: false,
        };
        for (name, value) in params {
            let field = format!("PublisherSpec.Params.{name}");
            let text = || match value {
                serde_json::Value::String(s) => Ok(s.clone()),
                other => Err(format!("{field} must be a string (got {other})")),
            };
            match name.to_ascii_lowercase().as_str() {
                "bucket" => p.bucket = text()?,
                "key" => p.key = text()?,
                "endpoint" => p.endpoint = text()?,
                "region" => p.region = text()?,
                "compress" => {
                    p.compress = match value {
                        serde_json::Value::Bool(b) => *b,
                        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                        other => {
                            return Err(format!("{field} must be true or false (got {other})"))
                        }
                    }
                }
                _ => {
                    return Err(format!(
                        "{field} is not a parameter of the S3 publisher (expected: {S3_PARAMS})"
                    ))
                }
            }
        }
        if p.bucket.is_empty() || p.bucket.contains('/') {
            return Err(format!(
                "PublisherSpec.Params.Bucket is required for the S3 publisher and must be a bucket name (got {:?})",
                p.bucket
            ));
        }
        if p.key.is_empty() {
            return Err("PublisherSpec.Params.Key is required for the S3 publisher (it may hold {jobID}, {executionID} and {nodeID})".into());
        }
        super::inputs::validate_endpoint(&p.endpoint, "PublisherSpec.Params.Endpoint")?;
        Ok(p)
    }

    /// The key with its placeholders filled in.
    fn key_for(&self, ids: &Ids<'_>) -> String {
        self.key
            .replace("{jobID}", ids.job)
            .replace("{executionID}", ids.execution)
            .replace("{nodeID}", ids.node)
    }
}

/// Submit-time checks of the publisher's parameters.
pub(super) fn validate(spec: &Spec) -> Result<(), String> {
    match spec.publisher_spec.kind {
        Some(Publisher::S3) => S3Params::parse(&spec.publisher_spec.params).map(|_| ()),
        _ => Ok(()),
    }
}

pub(super) async fn publish(
    inner: &Inner,
    job: &Job,
    ids: &Ids<'_>,
    ws: &Workspace,
    spool: Option<&OutputSpool>,
    run_output: &RunCommandResult,
) -> anyhow::Result<StorageSpec> {
    match job.spec.publisher_spec.kind.unwrap_or(Publisher::Noop) {
        Publisher::Noop => Ok(StorageSpec::default()),
        Publisher::Local => {
            let dir = inner.config.data_dir.join("results").join(ids.job);
            tokio::fs::create_dir_all(&dir).await?;
            let file_name = format!("{}.tar.gz", ids.execution);
            let dest = dir.join(&file_name);
            let tmp = dir.join(format!(".{file_name}.partial"));
            let files = result_files(ws, spool, run_output).await?;
            pack(job, ws, files, &tmp).await?;
            tokio::fs::rename(&tmp, &dest).await?;
            Ok(StorageSpec {
                storage_source: Some(StorageSource::UrlDownload),
                name: ids.execution.to_owned(),
                url: format!(
                    "{}/results/{}/{file_name}",
                    inner.config.public_url, ids.job
                ),
                path: "/outputs".to_owned(),
                ..Default::default()
            })
        }
        Publisher::S3 => {
            let params =
                S3Params::parse(&job.spec.publisher_spec.params).map_err(anyhow::Error::msg)?;
            let client = inner.s3.client(&params.endpoint, &params.region).await;
            let files = result_files(ws, spool, run_output).await?;
            let mut key = params.key_for(ids);
            if params.compress {
                let tarball = ws.root.join("result.tar.gz");
                pack(job, ws, files, &tarball).await?;
                let r = s3::upload(&client, &params.bucket, &key, &tarball).await;
                let _ = tokio::fs::remove_file(&tarball).await;
                r?;
            } else {
                if !key.ends_with('/') {
                    key.push('/');
                }
                let objects = result_objects(job, ws, files).await?;
                let (client, bucket, prefix) = (&client, params.bucket.as_str(), key.as_str());
                futures::stream::iter(objects)
                    .map(|(name, path)| async move {
                        s3::upload(client, bucket, &format!("{prefix}{name}"), &path).await
                    })
                    .buffer_unordered(4)
                    .try_collect::<Vec<()>>()
                    .await?;
            }
            Ok(StorageSpec {
                storage_source: Some(StorageSource::S3),
                name: ids.execution.to_owned(),
                s3: Some(Box::new(S3StorageSpec {
                    bucket: params.bucket,
                    key,
                    endpoint: params.endpoint,
                    region: params.region,
                    ..Default::default()
                })),
                ..Default::default()
            })
        }
        other => anyhow::bail!("publisher {other} is not supported by this node"),
    }
}

/// `stdout`, `stderr` and `exitCode` as files: the complete streams from the spool (the
/// bounded copies only when the workspace kept none).
async fn result_files(
    ws: &Workspace,
    spool: Option<&OutputSpool>,
    run: &RunCommandResult,
) -> anyhow::Result<[(&'static str, PathBuf); 3]> {
    let dir = ws.root.join("output");
    tokio::fs::create_dir_all(&dir).await?;
    let (stdout, stderr) = match spool {
        Some(spool) => {
            spool.finish()?;
            (spool.path(LogStream::Stdout), spool.path(LogStream::Stderr))
        }
        None => {
            let (o, e) = (dir.join("stdout"), dir.join("stderr"));
            tokio::fs::write(&o, &run.stdout).await?;
            tokio::fs::write(&e, &run.stderr).await?;
            (o, e)
        }
    };
    let code = dir.join("exitCode");
    tokio::fs::write(&code, run.exit_code.to_string()).await?;
    Ok([("stdout", stdout), ("stderr", stderr), ("exitCode", code)])
}

/// The outputs' directories by output name.
fn output_dirs(job: &Job, ws: &Workspace) -> Vec<(String, PathBuf)> {
    job.spec
        .outputs
        .iter()
        .zip(&ws.outputs)
        .map(|(o, m)| (crate::jobs::validate::output_name(o), m.host.clone()))
        .collect()
}

/// Every file of the result with its name in it: the three result files, then each
/// regular file of each output as `<output name>/<path>` (symbolic links are left out).
async fn result_objects(
    job: &Job,
    ws: &Workspace,
    files: [(&'static str, PathBuf); 3],
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let dirs = output_dirs(job, ws);
    tokio::task::spawn_blocking(move || {
        let mut all: Vec<(String, PathBuf)> =
            files.into_iter().map(|(n, p)| (n.to_owned(), p)).collect();
        for (name, dir) in dirs {
            walk(&dir, &name, &mut all).with_context(|| format!("listing output {name}"))?;
        }
        Ok(all)
    })
    .await
    .context("listing task failed")?
}

fn walk(dir: &Path, name: &str, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let kind = e.file_type()?;
        let child = format!("{name}/{}", e.file_name().to_string_lossy());
        if kind.is_dir() {
            walk(&e.path(), &child, out)?;
        } else if kind.is_file() {
            out.push((child, e.path()));
        }
    }
    Ok(())
}

/// Packs the result files and the outputs into a tar.gz at `dest`.
async fn pack(
    job: &Job,
    ws: &Workspace,
    files: [(&'static str, PathBuf); 3],
    dest: &Path,
) -> anyhow::Result<()> {
    let outputs = output_dirs(job, ws);
    let dest = dest.to_path_buf();
    tokio::task::spawn_blocking(move || write_tarball(&dest, &files, &outputs))
        .await
        .context("packing task failed")?
}

fn write_tarball(
    dest: &Path,
    files: &[(&'static str, PathBuf)],
    outputs: &[(String, PathBuf)],
) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(dest).with_context(|| format!("creating {}", dest.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(file, flate2::Compression::fast()));
    tar.follow_symlinks(false);
    for (name, path) in files {
        tar.append_path_with_name(path, name)
            .with_context(|| format!("packing {name}"))?;
    }
    for (name, dir) in outputs {
        tar.append_dir_all(name, dir)
            .with_context(|| format!("packing output {name}"))?;
    }
    let gz = tar.into_inner()?;
    let mut file = gz.finish()?;
    file.flush()?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: serde_json::Value) -> Result<S3Params, String> {
        S3Params::parse(&serde_json::from_value(v).unwrap())
    }

    #[test]
    fn s3_params_read_names_case_insensitively_and_compress_as_bool_or_text() {
        let p = params(json!({"bucket": "b", "Key": "k/{jobID}", "Compress": "true"})).unwrap();
        assert_eq!((p.bucket.as_str(), p.compress), ("b", true));
        let p = params(json!({"Bucket": "b", "Key": "k", "Compress": false})).unwrap();
        assert!(!p.compress);
    }

    #[test]
    fn s3_params_name_the_field_that_is_wrong() {
        let cases = [
            (json!({"Key": "k"}), "Params.Bucket"),
            (json!({"Bucket": "b"}), "Params.Key"),
            (
                json!({"Bucket": "b", "Key": "k", "Compress": "yes"}),
                "Params.Compress",
            ),
            (
                json!({"Bucket": "b", "Key": "k", "Endpoint": "ftp://x"}),
                "Params.Endpoint",
            ),
            (
                json!({"Bucket": "b", "Key": "k", "Bukket": "x"}),
                "Params.Bukket",
            ),
            (json!({"Bucket": 3, "Key": "k"}), "Params.Bucket"),
        ];
        for (v, field) in cases {
            let e = params(v.clone()).unwrap_err();
            assert!(e.contains(field), "{v}: {e}");
        }
    }

    #[test]
    fn s3_key_placeholders_are_filled() {
        let p =
            params(json!({"Bucket": "b", "Key": "r/{jobID}/{executionID}-{nodeID}.tgz"})).unwrap();
        let ids = Ids {
            job: "j1",
            execution: "e-2",
            node: "n3",
        };
        assert_eq!(p.key_for(&ids), "r/j1/e-2-n3.tgz");
    }
}
