//! Submit-time validation of a spec, as Bacalhau does it plus hake's own limits. Engine-
//! and storage-specific checks live with the engines and storage; this checks the shape.

use crate::model::*;

/// Checks the parts of a spec that do not depend on this node's engines.
pub fn spec(spec: &Spec) -> Result<(), String> {
    let Some(engine) = spec.engine else {
        return Err("Spec.Engine is required (one of: Noop, Docker, Wasm, Exec)".into());
    };
    if spec.deal.concurrency < 1 {
        return Err(format!(
            "Deal.Concurrency must be at least 1 (got {})",
            spec.deal.concurrency
        ));
    }
    if spec.deal.concurrency > 1000 {
        return Err(format!(
            "Deal.Concurrency must be at most 1000 (got {})",
            spec.deal.concurrency
        ));
    }
    if spec.deal.confidence < 0 || spec.deal.confidence > spec.deal.concurrency {
        return Err(format!(
            "Deal.Confidence must be between 0 and Deal.Concurrency ({}), got {}",
            spec.deal.concurrency, spec.deal.confidence
        ));
    }
    if !spec.timeout.is_finite() || spec.timeout < 0.0 {
        return Err(format!(
            "Spec.Timeout must be a non-negative number of seconds (got {})",
            spec.timeout
        ));
    }
    match spec.publisher_spec.kind {
        None | Some(Publisher::Noop) | Some(Publisher::Local) | Some(Publisher::S3) => {}
        Some(p) => {
            return Err(format!(
                "publisher {p} is not supported by this node (supported: Noop, Local, S3)"
            ))
        }
    }
    if spec.network.kind == Network::Http && engine == Engine::Exec {
        return Err(
            "Network.Type HTTP (a domain allow-list) cannot be enforced on Exec jobs: use the Docker engine for domain allow-lists"
                .into(),
        );
    }
    if spec.network.kind == Network::Http && engine != Engine::Docker {
        return Err("Network.Type HTTP is only meaningful for Docker jobs".into());
    }
    for (i, input) in spec.inputs.iter().enumerate() {
        storage_source(input, &format!("inputs[{i}]"))?;
        mount_path(&input.path, &format!("inputs[{i}].path"))?;
    }
    let mut names = std::collections::HashSet::new();
    for (i, output) in spec.outputs.iter().enumerate() {
        mount_path(&output.path, &format!("outputs[{i}].path"))?;
        let name = output_name(output);
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(format!(
                "outputs[{i}].Name {name:?} is not a valid directory name"
            ));
        }
        if !names.insert(name.clone()) {
            return Err(format!("outputs[{i}]: output name {name:?} is used twice"));
        }
    }
    Ok(())
}

/// The directory name an output is collected under: its Name, else the last part of its path.
pub fn output_name(output: &StorageSpec) -> String {
    if !output.name.is_empty() {
        return output.name.clone();
    }
    output
        .path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Checks that an input names a source hake can fetch.
pub fn storage_source(s: &StorageSpec, field: &str) -> Result<StorageSource, String> {
    const SUPPORTED: &str = "Inline, URLDownload, LocalDirectory, S3";
    match s.storage_source {
        None => Err(format!(
            "{field}.StorageSource is required (supported: {SUPPORTED})"
        )),
        Some(
            src @ (StorageSource::Inline
            | StorageSource::UrlDownload
            | StorageSource::LocalDirectory
            | StorageSource::S3),
        ) => {
            let needs = match src {
                StorageSource::S3 if s.s3.is_none() => Some("S3"),
                StorageSource::LocalDirectory if s.source_path.is_empty() => Some("SourcePath"),
                StorageSource::Inline | StorageSource::UrlDownload if s.url.is_empty() => {
                    Some("URL")
                }
                _ => None,
            };
            match needs {
                Some(f) => Err(format!("{field}.{f} is required for {src} storage")),
                None => Ok(src),
            }
        }
        Some(other) => Err(format!(
            "{field}: storage source {other} is not supported by this node (supported: {SUPPORTED})"
        )),
    }
}

/// Checks a mount path: absolute, no `..`.
pub fn mount_path(path: &str, field: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err(format!("{field} is required"));
    }
    if !path.starts_with('/') {
        return Err(format!("{field} {path:?} must be an absolute path"));
    }
    if path.split('/').any(|c| c == "..") {
        return Err(format!("{field} {path:?} must not contain '..'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop() -> Spec {
        Spec {
            engine: Some(Engine::Noop),
            deal: Deal {
                concurrency: 1,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_minimal_noop_spec_is_valid() {
        assert_eq!(spec(&noop()), Ok(()));
    }

    #[test]
    fn zero_concurrency_is_rejected_with_the_field_name() {
        let mut s = noop();
        s.deal.concurrency = 0;
        assert!(spec(&s).unwrap_err().contains("Deal.Concurrency"));
    }

    #[test]
    fn ipfs_inputs_name_the_supported_sources() {
        let mut s = noop();
        s.inputs.push(StorageSpec {
            storage_source: Some(StorageSource::Ipfs),
            path: "/in".into(),
            ..Default::default()
        });
        let e = spec(&s).unwrap_err();
        assert!(e.contains("IPFS") && e.contains("URLDownload"), "{e}");
    }

    #[test]
    fn relative_mount_paths_are_rejected() {
        let mut s = noop();
        s.outputs.push(StorageSpec {
            name: "out".into(),
            path: "out".into(),
            ..Default::default()
        });
        assert!(spec(&s).unwrap_err().contains("absolute"));
    }

    #[test]
    fn ipfs_publisher_is_refused() {
        let mut s = noop();
        s.publisher_spec.kind = Some(Publisher::Ipfs);
        assert!(spec(&s).unwrap_err().contains("Ipfs"));
    }
}
