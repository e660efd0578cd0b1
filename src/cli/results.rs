//! `hake results`: lists a job's published results and, with `--download DIR`, fetches
//! the Local publisher's tarballs and unpacks each into `DIR/<execution id>/` (outputs by
//! name, plus `stdout`, `stderr` and `exitCode`).

use std::path::{Path, PathBuf};

use futures::StreamExt as _;
use serde_json::json;
use tokio::io::AsyncWriteExt as _;

use super::client::Client;
use super::exit::{CliError, CliResult, ExitCode};
use super::fmt::table;
use super::jobs::OutputFormat;
use crate::api::dto::{ResultsResponse, StateRequest};
use crate::model::PublishedResult;

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
    let (tmp2, dest2) = (tmp.clone(), dest.to_path_buf());
    let unpacked = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let f = std::fs::File::open(&tmp2)?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(f));
        archive.set_overwrite(true);
        // `unpack` refuses entries that would land outside `dest2`.
        archive.unpack(&dest2)
    })
    .await
    .map_err(|e| CliError::local(format!("unpacking task failed: {e}")))?;
    let _ = tokio::fs::remove_file(&tmp).await;
    unpacked.map_err(|e| {
        CliError::local(format!(
            "cannot unpack the result into {}: {e}",
            dest.display()
        ))
    })
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
            .filter(|r| !r.data.url.is_empty())
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
            download_one(client, r, &dest).await?;
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
