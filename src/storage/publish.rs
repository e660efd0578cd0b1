//! Publishers. `Noop` publishes nothing. `Local` (extension) packs the outputs, with
//! `stdout`, `stderr` and `exitCode` files as Bacalhau lays them out, into
//! `results/<job>/<execution>.tar.gz` under the data dir, served at the same path.

use std::io::Write as _;

use anyhow::Context as _;
use flate2::write::GzEncoder;

use super::{Inner, Workspace};
use crate::model::{Job, Publisher, RunCommandResult, StorageSource, StorageSpec};

pub(super) async fn publish(
    inner: &Inner,
    job: &Job,
    execution_id: &str,
    ws: &Workspace,
    run_output: &RunCommandResult,
) -> anyhow::Result<StorageSpec> {
    match job.spec.publisher_spec.kind.unwrap_or(Publisher::Noop) {
        Publisher::Noop => Ok(StorageSpec::default()),
        Publisher::Local => {
            let dir = inner.config.data_dir.join("results").join(&job.metadata.id);
            tokio::fs::create_dir_all(&dir).await?;
            let file_name = format!("{execution_id}.tar.gz");
            let dest = dir.join(&file_name);
            let tmp = dir.join(format!(".{file_name}.partial"));
            let outputs: Vec<(String, std::path::PathBuf)> = job
                .spec
                .outputs
                .iter()
                .zip(&ws.outputs)
                .map(|(o, m)| (crate::jobs::validate::output_name(o), m.host.clone()))
                .collect();
            let run = run_output.clone();
            let tmp2 = tmp.clone();
            tokio::task::spawn_blocking(move || write_tarball(&tmp2, &outputs, &run))
                .await
                .context("packing task failed")??;
            tokio::fs::rename(&tmp, &dest).await?;
            Ok(StorageSpec {
                storage_source: Some(StorageSource::UrlDownload),
                name: execution_id.to_owned(),
                url: format!(
                    "{}/results/{}/{file_name}",
                    inner.config.public_url(),
                    job.metadata.id
                ),
                path: "/outputs".to_owned(),
                ..Default::default()
            })
        }
        other => anyhow::bail!("publisher {other} is not supported by this node"),
    }
}

fn write_tarball(
    dest: &std::path::Path,
    outputs: &[(String, std::path::PathBuf)],
    run: &RunCommandResult,
) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(dest).with_context(|| format!("creating {}", dest.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(file, flate2::Compression::fast()));
    tar.follow_symlinks(false);
    let mut add_file = |name: &str, data: &[u8]| -> anyhow::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs(),
        );
        h.set_cksum();
        tar.append_data(&mut h, name, data)?;
        Ok(())
    };
    add_file("stdout", run.stdout.as_bytes())?;
    add_file("stderr", run.stderr.as_bytes())?;
    add_file("exitCode", run.exit_code.to_string().as_bytes())?;
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
