//! Input sources: Inline (a data URL, or plain text), URLDownload (size-capped, with a
//! timeout), LocalDirectory (only under the allowed roots) and S3 (an object or every
//! object under a prefix; all S3 objects of a job together within the input size cap).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::s3::{self, Budget};
use super::{Inner, Mount};
use crate::jobs::validate;
use crate::model::{StorageSource, StorageSpec};

pub(super) fn validate(inner: &Inner, s: &StorageSpec, field: &str) -> Result<(), String> {
    match validate::storage_source(s, field)? {
        StorageSource::Inline => {
            let data = inline_bytes(&s.url).map_err(|e| format!("{field}.URL: {e}"))?;
            if data.len() as u64 > inner.config.max_input_bytes {
                return Err(format!(
                    "{field}: inline data is larger than {} bytes",
                    inner.config.max_input_bytes
                ));
            }
        }
        StorageSource::UrlDownload => {
            let url =
                url::Url::parse(&s.url).map_err(|e| format!("{field}.URL {:?}: {e}", s.url))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!(
                    "{field}.URL must be http or https (got {})",
                    url.scheme()
                ));
            }
        }
        StorageSource::LocalDirectory => {
            let (_, writable) = local_path(inner, s, field)?;
            if s.read_write && !writable {
                return Err(format!(
                    "{field}: ReadWrite needs an allowed input directory marked writable (--allowed-input-dir PATH:rw); {:?} is not under one",
                    s.source_path
                ));
            }
        }
        StorageSource::S3 => validate_s3(s, field)?,
        other => return Err(format!("{field}: storage source {other} is not supported")),
    }
    Ok(())
}

/// Submit-time checks of an S3 input: what can be known without asking the store.
fn validate_s3(s: &StorageSpec, field: &str) -> Result<(), String> {
    let Some(spec) = &s.s3 else {
        return Err(format!("{field}.S3 is required for S3 storage"));
    };
    if spec.bucket.is_empty() {
        return Err(format!("{field}.S3.Bucket is required"));
    }
    if spec.bucket.contains('/') {
        return Err(format!(
            "{field}.S3.Bucket {:?} is not a bucket name",
            spec.bucket
        ));
    }
    validate_endpoint(&spec.endpoint, &format!("{field}.S3.Endpoint"))?;
    let prefix = s3::prefix_of(&spec.key).is_some();
    if prefix && !spec.version_id.is_empty() {
        return Err(format!(
            "{field}.S3.VersionID applies to a single key, but Key {:?} is a prefix",
            spec.key
        ));
    }
    if !spec.checksum_sha256.is_empty() {
        if prefix {
            return Err(format!(
                "{field}.S3.ChecksumSHA256 applies to a single key, but Key {:?} is a prefix",
                spec.key
            ));
        }
        s3::decode_sha256(&spec.checksum_sha256)
            .map_err(|e| format!("{field}.S3.ChecksumSHA256 {:?}: {e}", spec.checksum_sha256))?;
    }
    Ok(())
}

/// An S3 Endpoint is empty (AWS) or an http(s) URL.
pub(super) fn validate_endpoint(endpoint: &str, field: &str) -> Result<(), String> {
    if endpoint.is_empty() {
        return Ok(());
    }
    match url::Url::parse(endpoint) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(u) => Err(format!(
            "{field} must be http or https (got {})",
            u.scheme()
        )),
        Err(e) => Err(format!("{field} {endpoint:?}: {e}")),
    }
}

/// The canonical source of a LocalDirectory input, and whether its root is writable.
fn local_path(inner: &Inner, s: &StorageSpec, field: &str) -> Result<(PathBuf, bool), String> {
    let p = Path::new(&s.source_path);
    if !p.is_absolute() {
        return Err(format!(
            "{field}.SourcePath {:?} must be absolute",
            s.source_path
        ));
    }
    let canon = p
        .canonicalize()
        .map_err(|e| format!("{field}.SourcePath {:?}: {e}", s.source_path))?;
    let Some(root) = inner
        .allowed_roots
        .iter()
        .filter(|r| canon.starts_with(&r.path))
        .max_by_key(|r| r.writable)
    else {
        return Err(if inner.allowed_roots.is_empty() {
            format!("{field}: LocalDirectory inputs are disabled on this node (start it with --allowed-input-dir)")
        } else {
            format!(
                "{field}.SourcePath {:?} is not under an allowed input directory",
                s.source_path
            )
        });
    };
    if canon.starts_with(&inner.data_dir) || inner.data_dir.starts_with(&canon) {
        return Err(format!(
            "{field}.SourcePath {:?} overlaps the server's data directory",
            s.source_path
        ));
    }
    Ok((canon, root.writable))
}

/// Decodes an Inline source: a `data:` URL, or the text itself.
fn inline_bytes(url: &str) -> Result<Vec<u8>, String> {
    if url.starts_with("data:") {
        let parsed =
            data_url::DataUrl::process(url).map_err(|e| format!("not a valid data URL: {e:?}"))?;
        let (body, _) = parsed
            .decode_to_vec()
            .map_err(|e| format!("data URL does not decode: {e:?}"))?;
        Ok(body)
    } else {
        Ok(url.as_bytes().to_vec())
    }
}

fn relative(target: &str) -> &str {
    target.trim_start_matches('/')
}

pub(super) async fn fetch_input(
    inner: &Inner,
    s: &StorageSpec,
    inputs_root: &Path,
    budget: &mut Budget,
) -> anyhow::Result<Mount> {
    let host = inputs_root.join(relative(&s.path));
    if let Some(parent) = host.parent() {
        tokio::fs::create_dir_all(parent).await?;
    }
    match s.storage_source {
        Some(StorageSource::Inline) => {
            let data = inline_bytes(&s.url).map_err(anyhow::Error::msg)?;
            tokio::fs::write(&host, data)
                .await
                .with_context(|| format!("writing {}", host.display()))?;
        }
        Some(StorageSource::UrlDownload) => {
            tokio::fs::create_dir_all(&host).await?;
            let url = url::Url::parse(&s.url)?;
            let name = url
                .path_segments()
                .and_then(|mut p| p.next_back().map(str::to_owned))
                .filter(|n| !n.is_empty() && n != "." && n != "..")
                .unwrap_or_else(|| "download".to_owned());
            download(inner, &s.url, &host.join(name)).await?;
        }
        Some(StorageSource::LocalDirectory) => {
            let (src, writable) = local_path(inner, s, "input").map_err(anyhow::Error::msg)?;
            tokio::fs::symlink(&src, &host)
                .await
                .with_context(|| format!("linking {}", src.display()))?;
            return Ok(Mount {
                host: src,
                target: s.path.clone(),
                read_only: !(s.read_write && writable),
            });
        }
        Some(StorageSource::S3) => {
            tokio::fs::create_dir_all(&host).await?;
            fetch_s3(inner, s, &host, budget).await?;
        }
        other => bail!("storage source {other:?} is not supported"),
    }
    Ok(Mount {
        host,
        target: s.path.clone(),
        read_only: true,
    })
}

/// Fetches an S3 input into the directory `dir`: a single key as a file named after its
/// last segment, a prefix as every object under it at its path relative to the prefix.
async fn fetch_s3(
    inner: &Inner,
    s: &StorageSpec,
    dir: &Path,
    budget: &mut Budget,
) -> anyhow::Result<()> {
    let spec = s.s3.as_ref().context("the S3 input has no S3 object")?;
    let client = inner.s3.client(&spec.endpoint, &spec.region).await;
    let bucket = spec.bucket.as_str();
    let Some((prefix, base)) = s3::prefix_of(&spec.key) else {
        let name = spec
            .key
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty() && *n != "." && *n != "..")
            .unwrap_or("object");
        let sha256 = if spec.checksum_sha256.is_empty() {
            None
        } else {
            Some(s3::decode_sha256(&spec.checksum_sha256).map_err(anyhow::Error::msg)?)
        };
        let get = s3::Get {
            bucket,
            key: &spec.key,
            version_id: (!spec.version_id.is_empty()).then_some(spec.version_id.as_str()),
            sha256,
        };
        return s3::download(&client, &get, &dir.join(name), budget).await;
    };
    let keys = s3::list(&client, bucket, prefix).await?;
    if keys.is_empty() {
        bail!("{}: no objects under this prefix", s3::url(bucket, prefix));
    }
    for key in &keys {
        let rel = s3::safe_relative(&key[base.len()..]).with_context(|| {
            format!(
                "{}: the object path cannot be placed under the input directory",
                s3::url(bucket, key)
            )
        })?;
        let dest = dir.join(rel);
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let get = s3::Get {
            bucket,
            key,
            version_id: None,
            sha256: None,
        };
        s3::download(&client, &get, &dest, budget).await?;
    }
    Ok(())
}

async fn download(inner: &Inner, url: &str, dest: &Path) -> anyhow::Result<()> {
    let limit = inner.config.max_input_bytes;
    let resp = inner
        .http
        .get(url)
        .send()
        .await
        .with_context(|| format!("downloading {url}"))?;
    if !resp.status().is_success() {
        bail!("downloading {url}: HTTP {}", resp.status());
    }
    if resp.content_length().is_some_and(|n| n > limit) {
        bail!("downloading {url}: larger than the {limit}-byte input limit");
    }
    let mut file = tokio::fs::File::create(dest).await?;
    let mut total = 0u64;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.with_context(|| format!("downloading {url}"))?;
        total += chunk.len() as u64;
        if total > limit {
            drop(file);
            let _ = tokio::fs::remove_file(dest).await;
            bail!("downloading {url}: larger than the {limit}-byte input limit");
        }
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    Ok(())
}

pub(super) async fn read_all(inner: &Inner, s: &StorageSpec) -> anyhow::Result<Vec<u8>> {
    match s.storage_source {
        Some(StorageSource::Inline) => inline_bytes(&s.url).map_err(anyhow::Error::msg),
        Some(StorageSource::UrlDownload) => {
            let dir = tempfile_dir(inner).await?;
            let path = dir.join("module");
            let r = async {
                download(inner, &s.url, &path).await?;
                Ok(tokio::fs::read(&path).await?)
            }
            .await;
            let _ = tokio::fs::remove_dir_all(&dir).await;
            r
        }
        Some(StorageSource::LocalDirectory) => {
            let (p, _) = local_path(inner, s, "module").map_err(anyhow::Error::msg)?;
            Ok(tokio::fs::read(&p)
                .await
                .with_context(|| format!("reading {}", p.display()))?)
        }
        Some(StorageSource::S3) => {
            let is_prefix =
                s.s3.as_ref()
                    .is_some_and(|o| s3::prefix_of(&o.key).is_some());
            if is_prefix {
                bail!("an S3 module must name a single key, not a prefix");
            }
            let dir = tempfile_dir(inner).await?;
            let r = async {
                let mut budget = Budget::new(inner.config.max_input_bytes);
                fetch_s3(inner, s, &dir, &mut budget).await?;
                let mut entries = tokio::fs::read_dir(&dir).await?;
                let entry = entries
                    .next_entry()
                    .await?
                    .context("the S3 module is missing")?;
                Ok(tokio::fs::read(entry.path()).await?)
            }
            .await;
            let _ = tokio::fs::remove_dir_all(&dir).await;
            r
        }
        other => bail!("storage source {other:?} is not supported"),
    }
}

async fn tempfile_dir(inner: &Inner) -> anyhow::Result<PathBuf> {
    let dir = inner
        .config
        .data_dir
        .join("tmp")
        .join(uuid::Uuid::new_v4().to_string());
    tokio::fs::create_dir_all(&dir).await?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_accepts_base64_and_percent_data_urls_and_plain_text() {
        assert_eq!(
            inline_bytes("data:text/plain;base64,aGVsbG8=").unwrap(),
            b"hello"
        );
        assert_eq!(inline_bytes("data:,a%20b").unwrap(), b"a b");
        assert_eq!(inline_bytes("just text").unwrap(), b"just text");
    }
}
