//! S3 access shared by S3 inputs, the S3 publisher and `hake results --download`: clients
//! built from the standard AWS configuration chain (environment, shared config and
//! credentials files, profile, web identity, instance metadata), path-style addressing
//! when an `Endpoint` names an S3-compatible store, and the object-level operations
//! (download with a size budget, version and SHA-256 check; prefix listing; upload).

use std::path::Path;

use anyhow::{bail, Context as _};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::OnceCell;

/// The region used when neither the spec nor the node's AWS configuration names one.
const DEFAULT_REGION: &str = "us-east-1";

/// Builds S3 clients. The AWS configuration (and with it the credential cache) is loaded
/// once, on first use.
#[derive(Debug, Default)]
pub struct S3Access {
    base: OnceCell<SdkConfig>,
}

impl S3Access {
    /// An access that has loaded nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    async fn base(&self) -> &SdkConfig {
        self.base
            .get_or_init(|| async {
                let https = aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https();
                aws_config::defaults(BehaviorVersion::latest())
                    .http_client(https)
                    .load()
                    .await
            })
            .await
    }

    /// A client for `endpoint` (AWS when empty; path-style otherwise) in `region` (the
    /// configured region, else `us-east-1`, when empty).
    pub async fn client(&self, endpoint: &str, region: &str) -> Client {
        let base = self.base().await;
        let mut b = aws_sdk_s3::config::Builder::from(base);
        if !region.is_empty() {
            b = b.region(Region::new(region.to_owned()));
        } else if base.region().is_none() {
            b = b.region(Region::new(DEFAULT_REGION));
        }
        if !endpoint.is_empty() {
            // S3-compatible stores: bucket in the path, and no checksum trailers that
            // many of them do not understand.
            b = b
                .endpoint_url(endpoint)
                .force_path_style(true)
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        }
        Client::from_conf(b.build())
    }
}

/// `s3://bucket/key`, the way locations are named in messages.
pub fn url(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// If `key` names a prefix (empty, or ending in `/` or `*`): the listing prefix and the
/// part of it that object paths are taken relative to.
pub fn prefix_of(key: &str) -> Option<(&str, &str)> {
    if key.is_empty() || key.ends_with('/') {
        Some((key, key))
    } else if let Some(p) = key.strip_suffix('*') {
        let base = p.rfind('/').map_or("", |i| &p[..=i]);
        Some((p, base))
    } else {
        None
    }
}

/// Decodes a ChecksumSHA256: base64 (as S3 reports it) or hex.
pub fn decode_sha256(s: &str) -> Result<[u8; 32], String> {
    let bytes = if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(s).map_err(|e| e.to_string())?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| format!("neither hex nor base64: {e}"))?
    };
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("a SHA-256 has 32 bytes, this has {}", b.len()))
}

/// A short reason for a failed S3 call: the service's error code for the common cases.
fn reason<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.code() {
        Some("NoSuchKey") => "no such key".to_owned(),
        Some("NoSuchBucket") => "no such bucket".to_owned(),
        Some("NoSuchVersion") => "no such version".to_owned(),
        Some(code) => match e.message() {
            Some(m) => format!("{code}: {m}"),
            None => code.to_owned(),
        },
        None => DisplayErrorContext(e).to_string(),
    }
}

/// What a download may still take; shared by every object of a job's inputs.
#[derive(Debug)]
pub struct Budget {
    /// The cap, for messages.
    pub limit: u64,
    /// Bytes still allowed.
    pub left: u64,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self { limit, left: limit }
    }

    fn take(&mut self, n: u64, what: &str) -> anyhow::Result<()> {
        if n > self.left {
            bail!(
                "{what}: the inputs are larger than the {}-byte input limit",
                self.limit
            );
        }
        self.left -= n;
        Ok(())
    }
}

/// One object to fetch.
pub struct Get<'a> {
    /// Bucket.
    pub bucket: &'a str,
    /// Key.
    pub key: &'a str,
    /// Version to read, if any.
    pub version_id: Option<&'a str>,
    /// SHA-256 the bytes must have, if any.
    pub sha256: Option<[u8; 32]>,
}

/// Downloads one object into `dest`, within `budget`; removes `dest` on failure.
pub async fn download(
    client: &Client,
    get: &Get<'_>,
    dest: &Path,
    budget: &mut Budget,
) -> anyhow::Result<()> {
    let r = download_inner(client, get, dest, budget).await;
    if r.is_err() {
        let _ = tokio::fs::remove_file(dest).await;
    }
    r
}

async fn download_inner(
    client: &Client,
    get: &Get<'_>,
    dest: &Path,
    budget: &mut Budget,
) -> anyhow::Result<()> {
    let what = url(get.bucket, get.key);
    let resp = client
        .get_object()
        .bucket(get.bucket)
        .key(get.key)
        .set_version_id(get.version_id.map(str::to_owned))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{what}: {}", reason(&e)))?;
    if let Some(n) = resp.content_length().and_then(|n| u64::try_from(n).ok()) {
        if n > budget.left {
            budget.take(n, &what)?;
        }
    }
    let mut body = resp.body;
    let mut file = tokio::fs::File::create(dest)
        .await
        .with_context(|| format!("creating {}", dest.display()))?;
    let mut hash = Sha256::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.with_context(|| format!("{what}: the download broke"))?;
        budget.take(chunk.len() as u64, &what)?;
        hash.update(&chunk);
        file.write_all(&chunk).await?;
    }
    file.flush().await?;
    if let Some(want) = get.sha256 {
        let got: [u8; 32] = hash.finalize().into();
        if got != want {
            let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
            bail!(
                "{what}: checksum mismatch (ChecksumSHA256 {}, the object's SHA-256 is {})",
                b64(&want),
                b64(&got)
            );
        }
    }
    Ok(())
}

/// Every object key under `prefix` (directory markers, keys ending in `/`, left out).
pub async fn list(client: &Client, bucket: &str, prefix: &str) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| anyhow::anyhow!("{}: {}", url(bucket, prefix), reason(&e)))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .filter(|k| !k.ends_with('/'))
                .map(str::to_owned),
        );
    }
    Ok(keys)
}

/// Uploads the file at `src` as `bucket/key`.
pub async fn upload(client: &Client, bucket: &str, key: &str, src: &Path) -> anyhow::Result<()> {
    let body = ByteStream::from_path(src)
        .await
        .with_context(|| format!("reading {}", src.display()))?;
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("uploading {}: {}", url(bucket, key), reason(&e)))?;
    Ok(())
}

/// A relative object path made safe to join under a directory: no empty, `.` or `..`
/// segments, no leading `/`.
pub fn safe_relative(rel: &str) -> Option<std::path::PathBuf> {
    let parts: Vec<&str> = rel.split('/').collect();
    if rel.is_empty()
        || parts
            .iter()
            .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return None;
    }
    Some(parts.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ending_in_slash_or_star_are_prefixes() {
        assert_eq!(prefix_of("data/"), Some(("data/", "data/")));
        assert_eq!(prefix_of(""), Some(("", "")));
        assert_eq!(prefix_of("data/part-*"), Some(("data/part-", "data/")));
        assert_eq!(prefix_of("top*"), Some(("top", "")));
        assert_eq!(prefix_of("data/file.csv"), None);
    }

    #[test]
    fn checksums_decode_from_base64_or_hex_and_must_be_32_bytes() {
        let hex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let b64 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
        assert_eq!(decode_sha256(hex).unwrap(), decode_sha256(b64).unwrap());
        assert!(decode_sha256("aGVsbG8=").unwrap_err().contains("32 bytes"));
        assert!(decode_sha256("not base64!").is_err());
    }

    #[test]
    fn object_paths_with_dot_segments_are_refused() {
        assert_eq!(
            safe_relative("a/b.txt"),
            Some(std::path::PathBuf::from("a/b.txt"))
        );
        for bad in ["", "../x", "a/../b", "a//b", "/abs", "a/./b"] {
            assert_eq!(safe_relative(bad), None, "{bad}");
        }
    }
}
