//! The pure half of the Docker engine: submit-time checks of a `Docker` spec, Bacalhau's
//! resource units, and the container configuration an execution is created with.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context as _;
use bollard::models::{ContainerCreateBody, HostConfig, Mount as DockerMount, MountTypeEnum};

use crate::model::{Network, Spec};
use crate::storage::{Mount, Workspace};

/// Label holding the job id on every container hake creates.
pub const LABEL_JOB: &str = "hake.job";
/// Label holding the execution id on every container hake creates.
pub const LABEL_EXECUTION: &str = "hake.execution";
/// Label holding the id of the node that created the container.
pub const LABEL_NODE: &str = "hake.node";

/// The smallest memory limit Docker accepts (6 MiB since Engine 20.10).
const MIN_MEMORY_BYTES: i64 = 6 * 1024 * 1024;
/// The smallest CPU limit Docker accepts (0.01 CPU).
const MIN_NANO_CPUS: i64 = 10_000_000;

/// Submit-time checks of a Docker spec. `node_cpus` is the daemon's CPU count, when known.
pub fn validate(spec: &Spec, node_cpus: Option<i64>) -> Result<(), String> {
    let d = &spec.docker;
    image_reference(&d.image)?;
    for (field, values) in [("Entrypoint", &d.entrypoint), ("Parameters", &d.parameters)] {
        if values.iter().any(|v| v.contains('\0')) {
            return Err(format!("Docker.{field} must not contain NUL characters"));
        }
    }
    for (i, kv) in d.environment_variables.iter().enumerate() {
        match kv.split_once('=') {
            Some((k, _)) if !k.is_empty() && !kv.contains('\0') => {}
            _ => {
                return Err(format!(
                    "Docker.EnvironmentVariables[{i}] {kv:?} must have the form KEY=VALUE"
                ))
            }
        }
    }
    let wd = &d.working_directory;
    if !wd.is_empty() && (!wd.starts_with('/') || wd.contains('\0')) {
        return Err(format!(
            "Docker.WorkingDirectory {wd:?} must be an absolute path"
        ));
    }
    match spec.network.kind {
        Network::None | Network::Full => {}
        Network::Http => {
            return Err(
                "Network.Type HTTP (domain allow-lists) is not supported by the Docker engine on this node; use None or Full"
                    .into(),
            )
        }
    }
    let r = &spec.resources;
    if !r.cpu.trim().is_empty() {
        let nano = parse_cpu(&r.cpu).map_err(|e| format!("Resources.CPU: {e}"))?;
        if nano < MIN_NANO_CPUS {
            return Err(format!(
                "Resources.CPU {:?} is below Docker's minimum of 0.01 CPU",
                r.cpu
            ));
        }
        if let Some(n) = node_cpus.filter(|n| *n > 0) {
            if nano > n.saturating_mul(1_000_000_000) {
                return Err(format!(
                    "Resources.CPU {:?} is more than the {n} CPUs of this node",
                    r.cpu
                ));
            }
        }
    }
    if !r.memory.trim().is_empty() {
        let bytes = parse_memory(&r.memory).map_err(|e| format!("Resources.Memory: {e}"))?;
        if bytes < MIN_MEMORY_BYTES {
            return Err(format!(
                "Resources.Memory {:?} is below Docker's minimum of 6 MiB",
                r.memory
            ));
        }
    }
    let gpu = r.gpu.trim();
    if !gpu.is_empty() && !gpu.parse::<f64>().is_ok_and(|n| n == 0.0) {
        return Err(format!(
            "Resources.GPU {gpu:?}: GPUs are not supported by the Docker engine on this node"
        ));
    }
    let mut targets = HashSet::new();
    let mounts = spec.inputs.iter().map(|s| ("inputs", &s.path));
    for (kind, path) in mounts.chain(spec.outputs.iter().map(|s| ("outputs", &s.path))) {
        let t = path.trim_end_matches('/');
        if t.is_empty() {
            return Err(format!(
                "{kind}: a volume cannot be mounted at the container's root \"/\""
            ));
        }
        if !targets.insert(t) {
            return Err(format!("{kind}: two volumes are mounted at {t:?}"));
        }
    }
    Ok(())
}

/// Checks the characters of an image reference (`name[:tag][@digest]` or an image id).
fn image_reference(image: &str) -> Result<(), String> {
    if image.trim().is_empty() {
        return Err("Docker.Image is required for Docker jobs".into());
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || "._-:/@".contains(c);
    if image.len() > 512 || !image.chars().all(ok) || image.starts_with(['-', '/', ':', '@']) {
        return Err(format!(
            "Docker.Image {image:?} is not a valid image reference"
        ));
    }
    Ok(())
}

/// Parses a CPU quantity as Kubernetes and Bacalhau write it (`"500m"`, `"2"`, `"0.5"`)
/// into Docker's `NanoCpus`.
pub fn parse_cpu(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let (number, scale) = match t.strip_suffix('m') {
        Some(milli) => (milli, 1e-3),
        None => (t, 1.0),
    };
    let n: f64 = plain_decimal(number)
        .ok_or_else(|| format!("{s:?} is not a CPU quantity (e.g. \"500m\", \"0.5\", \"2\")"))?;
    let cpus = n * scale;
    if cpus <= 0.0 || cpus > 1e6 {
        return Err(format!("{s:?} is not a positive CPU quantity"));
    }
    Ok((cpus * 1e9).round() as i64)
}

/// Parses a memory size (`"512Mb"`, `"1Gb"`, `"256MiB"`, `"1.5g"`, `"1048576"`) into bytes.
/// Units are case-insensitive and binary, as Docker's `-m` and Bacalhau's parser read them:
/// `k`, `kb`, `ki`, `kib` are 1024 bytes, and so on up to `t`.
pub fn parse_memory(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad = || format!("{s:?} is not a memory size (e.g. \"512Mb\", \"1Gb\", \"256MiB\")");
    let n = plain_decimal(number).ok_or_else(bad)?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "ki" | "kib" => 10,
        "m" | "mb" | "mi" | "mib" => 20,
        "g" | "gb" | "gi" | "gib" => 30,
        "t" | "tb" | "ti" | "tib" => 40,
        _ => return Err(bad()),
    };
    let bytes = n * (1u64 << shift) as f64;
    if !(1.0..9.0e18).contains(&bytes) {
        return Err(format!("{s:?} is not a usable memory size"));
    }
    Ok(bytes as i64)
}

/// A non-negative decimal without sign or exponent (`"2"`, `"0.5"`, `".5"`).
fn plain_decimal(s: &str) -> Option<f64> {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let dots = s.chars().filter(|&c| c == '.').count();
    (digits > 0 && dots <= 1 && digits + dots == s.len())
        .then(|| s.parse::<f64>().ok())
        .flatten()
        .filter(|n| n.is_finite())
}

/// The name of the container of an execution.
pub fn container_name(execution_id: &str) -> String {
    format!("hake-{execution_id}")
}

/// The configuration of an execution's container: the job's image, command, environment,
/// working directory, resources and network, with its inputs and outputs bind-mounted.
pub fn container_body(
    spec: &Spec,
    job_id: &str,
    execution_id: &str,
    node_id: &str,
    ws: &Workspace,
) -> anyhow::Result<ContainerCreateBody> {
    let d = &spec.docker;
    let mut env = vec![
        format!("HAKE_JOB_ID={job_id}"),
        format!("HAKE_EXECUTION_ID={execution_id}"),
    ];
    env.extend(d.environment_variables.iter().cloned());
    let mut mounts = Vec::with_capacity(ws.inputs.len() + ws.outputs.len());
    for m in &ws.inputs {
        mounts.push(bind(m, m.read_only)?);
    }
    for m in &ws.outputs {
        mounts.push(bind(m, false)?);
    }
    let nano_cpus = match spec.resources.cpu.trim() {
        "" => None,
        cpu => Some(parse_cpu(cpu).map_err(anyhow::Error::msg)?),
    };
    let memory = match spec.resources.memory.trim() {
        "" => None,
        mem => Some(parse_memory(mem).map_err(anyhow::Error::msg)?),
    };
    let network_mode = match spec.network.kind {
        Network::None => Some("none".to_owned()),
        Network::Full => None,
        Network::Http => anyhow::bail!("Network.Type HTTP is not supported by the Docker engine"),
    };
    let mut labels = HashMap::from([
        (LABEL_JOB.to_owned(), job_id.to_owned()),
        (LABEL_EXECUTION.to_owned(), execution_id.to_owned()),
    ]);
    if !node_id.is_empty() {
        labels.insert(LABEL_NODE.to_owned(), node_id.to_owned());
    }
    Ok(ContainerCreateBody {
        image: Some(d.image.clone()),
        entrypoint: (!d.entrypoint.is_empty()).then(|| d.entrypoint.clone()),
        cmd: (!d.parameters.is_empty()).then(|| d.parameters.clone()),
        env: Some(env),
        working_dir: (!d.working_directory.is_empty()).then(|| d.working_directory.clone()),
        labels: Some(labels),
        tty: Some(false),
        open_stdin: Some(false),
        attach_stdin: Some(false),
        attach_stdout: Some(false),
        attach_stderr: Some(false),
        host_config: Some(HostConfig {
            mounts: Some(mounts),
            network_mode,
            nano_cpus,
            memory,
            // Swap counts against the limit: the job gets what it asked for, no more.
            memory_swap: memory,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// A bind mount of a workspace directory or file (a structured mount, so host paths with
/// `:` or `,` need no escaping).
fn bind(m: &Mount, read_only: bool) -> anyhow::Result<DockerMount> {
    let host =
        std::path::absolute(&m.host).with_context(|| format!("resolving {}", m.host.display()))?;
    let source = path_str(&host)?;
    Ok(DockerMount {
        target: Some(m.target.clone()),
        source: Some(source.to_owned()),
        typ: Some(MountTypeEnum::BIND),
        read_only: Some(read_only),
        ..Default::default()
    })
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not valid UTF-8 and cannot be mounted", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Engine, StorageSpec};

    fn docker(image: &str) -> Spec {
        let mut s = Spec {
            engine: Some(Engine::Docker),
            ..Default::default()
        };
        s.docker.image = image.into();
        s
    }

    fn ws() -> Workspace {
        Workspace {
            root: "/data/executions/e-1".into(),
            scratch: "/data/executions/e-1/work".into(),
            inputs_root: "/data/executions/e-1/inputs".into(),
            outputs_root: "/data/executions/e-1/outputs".into(),
            inputs: vec![Mount {
                host: "/data/executions/e-1/inputs/in/data.txt".into(),
                target: "/in/data.txt".into(),
                read_only: true,
            }],
            outputs: vec![Mount {
                host: "/data/executions/e-1/outputs/out".into(),
                target: "/outputs".into(),
                read_only: false,
            }],
        }
    }

    #[test]
    fn cpu_quantities_become_nano_cpus() {
        assert_eq!(parse_cpu("500m"), Ok(500_000_000));
        assert_eq!(parse_cpu("2"), Ok(2_000_000_000));
        assert_eq!(parse_cpu("0.5"), Ok(500_000_000));
        assert_eq!(parse_cpu(" 1.25 "), Ok(1_250_000_000));
        for bad in ["", "m", "-1", "0", "1e3", "two", "1.2.3", "5 cores"] {
            assert!(parse_cpu(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn memory_sizes_use_binary_units_case_insensitively() {
        assert_eq!(parse_memory("512Mb"), Ok(512 << 20));
        assert_eq!(parse_memory("1Gb"), Ok(1 << 30));
        assert_eq!(parse_memory("256MiB"), Ok(256 << 20));
        assert_eq!(parse_memory("64m"), Ok(64 << 20));
        assert_eq!(parse_memory("1.5g"), Ok(3 << 29));
        assert_eq!(parse_memory("1048576"), Ok(1 << 20));
        assert_eq!(parse_memory("2 GB"), Ok(2 << 30));
        for bad in ["", "Mb", "-5Mb", "lots", "5 parsecs", "1e3", "99999999Tb"] {
            assert!(parse_memory(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_plain_spec_with_an_image_is_valid() {
        assert_eq!(validate(&docker("ubuntu:22.04"), Some(2)), Ok(()));
        assert_eq!(
            validate(&docker("registry.local:5000/team/app@sha256:abc"), None),
            Ok(())
        );
    }

    #[test]
    fn a_missing_or_malformed_image_is_refused() {
        assert!(validate(&docker(""), None)
            .unwrap_err()
            .contains("Docker.Image is required"));
        assert!(validate(&docker("bad image"), None)
            .unwrap_err()
            .contains("not a valid image"));
        assert!(validate(&docker("img?x=1"), None).is_err());
    }

    #[test]
    fn http_networking_is_refused_and_full_is_allowed() {
        let mut s = docker("img");
        s.network.kind = Network::Http;
        assert!(validate(&s, None).unwrap_err().contains("HTTP"));
        s.network.kind = Network::Full;
        assert_eq!(validate(&s, None), Ok(()));
    }

    #[test]
    fn environment_entries_need_a_key_and_an_equals_sign() {
        let mut s = docker("img");
        s.docker.environment_variables = vec!["A=1".into(), "B=".into()];
        assert_eq!(validate(&s, None), Ok(()));
        s.docker.environment_variables.push("NOEQUALS".into());
        assert!(validate(&s, None)
            .unwrap_err()
            .contains("EnvironmentVariables[2]"));
        s.docker.environment_variables = vec!["=x".into()];
        assert!(validate(&s, None).is_err());
    }

    #[test]
    fn resources_beyond_dockers_limits_are_refused() {
        let mut s = docker("img");
        s.resources.memory = "1Mb".into();
        assert!(validate(&s, None).unwrap_err().contains("6 MiB"));
        s.resources.memory = "64Mb".into();
        s.resources.cpu = "4".into();
        assert!(validate(&s, Some(2)).unwrap_err().contains("2 CPUs"));
        s.resources.cpu = "5m".into();
        assert!(validate(&s, Some(2)).unwrap_err().contains("0.01"));
        s.resources.cpu = "1".into();
        s.resources.gpu = "1".into();
        assert!(validate(&s, Some(2)).unwrap_err().contains("GPU"));
        s.resources.gpu = "0".into();
        assert_eq!(validate(&s, Some(2)), Ok(()));
    }

    #[test]
    fn clashing_or_root_mount_points_are_refused() {
        let mut s = docker("img");
        let at = |p: &str| StorageSpec {
            path: p.into(),
            ..Default::default()
        };
        s.inputs = vec![at("/data")];
        s.outputs = vec![at("/data/")];
        assert!(validate(&s, None).unwrap_err().contains("two volumes"));
        s.outputs = vec![at("/")];
        assert!(validate(&s, None).unwrap_err().contains("root"));
    }

    #[test]
    fn the_container_gets_the_command_mounts_limits_and_labels() {
        let mut s = docker("img:1");
        s.docker.entrypoint = vec!["sh".into(), "-c".into()];
        s.docker.parameters = vec!["echo hi".into()];
        s.docker.environment_variables = vec!["A=1".into()];
        s.docker.working_directory = "/work".into();
        s.resources.cpu = "500m".into();
        s.resources.memory = "64Mb".into();
        let body = container_body(&s, "job-1", "e-1", "n-1", &ws()).unwrap();
        assert_eq!(body.image.as_deref(), Some("img:1"));
        assert_eq!(
            body.entrypoint,
            Some(vec!["sh".to_owned(), "-c".to_owned()])
        );
        assert_eq!(body.cmd, Some(vec!["echo hi".to_owned()]));
        assert_eq!(body.working_dir.as_deref(), Some("/work"));
        assert!(body.env.as_ref().unwrap().contains(&"A=1".to_owned()));
        let labels = body.labels.unwrap();
        assert_eq!(labels[LABEL_JOB], "job-1");
        assert_eq!(labels[LABEL_EXECUTION], "e-1");
        assert_eq!(labels[LABEL_NODE], "n-1");
        let hc = body.host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        assert_eq!(hc.nano_cpus, Some(500_000_000));
        assert_eq!(hc.memory, Some(64 << 20));
        let mounts = hc.mounts.unwrap();
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].target.as_deref(), Some("/in/data.txt"));
        assert_eq!(mounts[0].read_only, Some(true));
        assert_eq!(
            mounts[1].source.as_deref(),
            Some("/data/executions/e-1/outputs/out")
        );
        assert_eq!(mounts[1].read_only, Some(false));
    }

    #[test]
    fn without_an_entrypoint_the_image_keeps_its_own_and_full_network_uses_the_default() {
        let mut s = docker("img");
        s.network.kind = Network::Full;
        let body = container_body(&s, "j", "e", "", &ws()).unwrap();
        assert_eq!(body.entrypoint, None);
        assert_eq!(body.cmd, None);
        assert_eq!(body.host_config.unwrap().network_mode, None);
    }
}
