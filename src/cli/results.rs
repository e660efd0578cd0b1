//! `hake results`: lists a job's published results and, with `--download DIR`, fetches
//! each into `DIR/<execution id>/` (outputs by name, plus `stdout`, `stderr` and
//! `exitCode`): the Local publisher's tarballs from the server, S3 results from the store
//! with the user's own AWS configuration (a prefix object by object, a tarball unpacked).

use std::path::{Path, PathBuf};

use futures::StreamExt as _;
use serde_json::json;
use tokio::io::AsyncWriteExt as _;

use super::client::Client;
use super::exit::{CliError, CliResult, ExitCode};
use super::fmt::table;
use super::jobs::OutputFormat;
use crate::api::dto::{ResultsResponse, StateRequest};
use crate::model::{PublishedResult, S3StorageSpec, StorageSource};
use crate::storage::s3;

/// `hake results`.
#[derive(Debug, Clone, clap::Args)]
pub struct ResultsArgs {
    /// Job id or unique prefix (≥ 8 characters).
    pub job: String,
    /// Download and unpack every result into DIR/<execution id>/.
    #[arg(long, short = 'd', value_name = "DIR")]
    pub download: Option<PathBuf>,
    /// table or json.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// Where a result can be fetched from: the path of its URL on the server the CLI talks
/// to (so a server behind a proxy or port forward works), or the URL itself.
fn fetch_target(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.path().starts_with("/results/") => u.path().to_owned(),
        _ => url.to_owned(),
    }
}

/// Downloads one tarball and unpacks it into `dest`.
async fn download_one(client: &Client, r: &PublishedResult, dest: &Path) -> CliResult<()> {
    let resp = client.get(&fetch_target(&r.data.url)).await?;
    tokio::fs::create_dir_all(dest)
        .await
        .map_err(|e| CliError::local(format!("cannot create {}: {e}", dest.display())))?;
    let tmp = dest.join(".hake-download.tar.gz");
    let local = |e: std::io::Error| CliError::local(format!("writing {}: {e}", tmp.display()));
    let mut file = tokio::fs::File::create(&tmp).await.map_err(local)?;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            CliError::server(format!("the download of {} broke: {e}", r.data.url)).retryable()
        })?;
        file.write_all(&chunk).await.map_err(local)?;
    }
    file.flush().await.map_err(local)?;
    drop(file);
    unpack(&tmp, dest).await
}

/// Unpacks the tarball at `tmp` into `dest`, then removes it.
async fn unpack(tmp: &Path, dest: &Path) -> CliResult<()> {
    let (tmp2, dest2) = (tmp.to_path_buf(), dest.to_path_buf());
    let unpacked = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let f = std::fs::File::open(&tmp2)?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(f));
        archive.set_overwrite(true);
        // `unpack` refuses entries that would land outside `dest2`.
        archive.unpack(&dest2)
    })
    .await
    .map_err(|e| CliError::local(format!("unpacking task failed: {e}")))?;
    let _ = tokio::fs::remove_file(tmp).await;
    unpacked.map_err(|e| {
        CliError::local(format!(
            "cannot unpack the result into {}: {e}",
            dest.display()
        ))
    })
}

/// Downloads an S3 result into `dest`: every object under a prefix at its relative path,
/// or a (compressed) single object unpacked.
async fn download_s3(loc: &S3StorageSpec, dest: &Path) -> CliResult<()> {
    let client = s3::S3Access::new().client(&loc.endpoint, &loc.region).await;
    let store = |e: anyhow::Error| CliError::server(format!("{e:#}"));
    tokio::fs::create_dir_all(dest)
        .await
        .map_err(|e| CliError::local(format!("cannot create {}: {e}", dest.display())))?;
    let mut budget = s3::Budget::new(u64::MAX);
    match s3::prefix_of(&loc.key) {
        Some((prefix, base)) => {
            let keys = s3::list(&client, &loc.bucket, prefix)
                .await
                .map_err(store)?;
            if keys.is_empty() {
                return Err(CliError::server(format!(
                    "{}: no objects under this prefix",
                    s3::url(&loc.bucket, prefix)
                )));
            }
            for key in &keys {
                let Some(rel) = s3::safe_relative(&key[base.len()..]) else {
                    return Err(CliError::server(format!(
                        "{}: the object path cannot be placed under {}",
                        s3::url(&loc.bucket, key),
                        dest.display()
                    )));
                };
                let path = dest.join(rel);
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent).await.map_err(|e| {
                        CliError::local(format!("cannot create {}: {e}", parent.display()))
                    })?;
                }
                let get = s3::Get {
                    bucket: &loc.bucket,
                    key,
                    version_id: None,
                    sha256: None,
                };
                s3::download(&client, &get, &path, &mut budget)
                    .await
                    .map_err(store)?;
            }
            Ok(())
        }
        None => {
            let tmp = dest.join(".hake-download.tar.gz");
            let get = s3::Get {
                bucket: &loc.bucket,
                key: &loc.key,
                version_id: None,
                sha256: None,
            };
            s3::download(&client, &get, &tmp, &mut budget)
                .await
                .map_err(store)?;
            unpack(&tmp, dest).await
        }
    }
}

/// Runs `hake results`.
pub async fn run_results(client: &Client, args: &ResultsArgs) -> CliResult<ExitCode> {
    let resp: ResultsResponse = client
        .post(
            "/requester/results",
            &StateRequest {
                job_id: args.job.clone(),
                ..Default::default()
            },
        )
        .await?;
    let mut downloaded: Vec<(String, PathBuf)> = Vec::new();
    if let Some(dir) = &args.download {
        let fetchable: Vec<&PublishedResult> = resp
            .results
            .iter()
            .filter(|r| !r.data.url.is_empty() || r.data.s3.is_some())
            .collect();
        if fetchable.is_empty() {
            return Err(CliError::server(format!(
                "job {} has no downloadable results (it publishes with Noop, or no execution completed)",
                args.job
            )));
        }
        for (i, r) in fetchable.into_iter().enumerate() {
            let name = if r.data.name.is_empty() {
                format!("result-{i}")
            } else {
                r.data.name.clone()
            };
            let dest = dir.join(&name);
            match (&r.data.storage_source, &r.data.s3) {
                (Some(StorageSource::S3), Some(loc)) => download_s3(loc, &dest).await?,
                _ => download_one(client, r, &dest).await?,
            }
            downloaded.push((name, dest));
        }
    }
    match args.output {
        OutputFormat::Json => {
            let files: serde_json::Map<String, serde_json::Value> = downloaded
                .iter()
                .map(|(n, p)| (n.clone(), json!(p)))
                .collect();
            super::fmt::out(&format!(
                "{}\n",
                json!({"results": resp.results, "downloaded": files})
            ));
        }
        OutputFormat::Table => {
            if args.download.is_some() {
                for (_, p) in &downloaded {
                    super::fmt::out(&format!("{}\n", p.display()));
                }
            } else if resp.results.is_empty() {
                eprintln!("no results (yet): only completed executions publish");
            } else {
                let rows: Vec<Vec<String>> = resp
                    .results
                    .iter()
                    .map(|r| {
                        let source = r
                            .data
                            .storage_source
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "-".into());
                        let location = if !r.data.url.is_empty() {
                            r.data.url.clone()
                        } else if let Some(loc) = &r.data.s3 {
                            s3::url(&loc.bucket, &loc.key)
                        } else if !r.data.cid.is_empty() {
                            r.data.cid.clone()
                        } else {
                            "(not published)".into()
                        };
                        vec![r.data.name.clone(), source, location]
                    })
                    .collect();
                super::fmt::out(&table(&["EXECUTION", "SOURCE", "LOCATION"], &rows));
            }
        }
    }
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_fetched_from_the_server_in_use_by_their_path() {
        assert_eq!(
            fetch_target("http://10.0.0.1:1234/results/j/e-1.tar.gz"),
            "/results/j/e-1.tar.gz"
        );
        assert_eq!(
            fetch_target("https://cdn.example/x.tar.gz"),
            "https://cdn.example/x.tar.gz"
        );
    }
}
