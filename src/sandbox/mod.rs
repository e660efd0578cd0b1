//! Confinement of Exec jobs. This module owns what a host process may reach: the
//! [`Sandbox`] decides, per execution, the environment, the paths it may read or write, its
//! TCP access and limits, and starts the job's program through the [`spawner`]: a forked
//! child of the [`zygote`], or the hidden `hake sandbox-exec` [`helper`], applies them to
//! itself before it becomes the job's program.
//!
//! What a job gets: a minimal environment (`PATH`, `LANG`, `HOME` and `TMPDIR`, both its
//! scratch dir, `HAKE_*`) plus its spec's variables and the `--exec-pass-env` names;
//! read-only access to the system directories, `--exec-read-only-path`s and its inputs;
//! read-write access to its outputs and scratch dir; nothing else.

pub mod helper;
pub mod spawner;
pub mod zygote;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::{ExecSandboxMode, ServeConfig};
use crate::model::{Job, Network};
use crate::storage::Workspace;

pub use helper::SandboxArgs;
pub use spawner::Running;
pub use zygote::Launch;

/// Directories and files every Exec job may read and execute (those that exist on the
/// host). Of `/proc`, only system-wide facts: other processes' entries (the server's
/// environment and command line among them) stay out of reach; the helper adds the
/// program's own entry.
pub const SYSTEM_READ_ONLY: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/opt",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/loadavg",
    "/proc/uptime",
    "/proc/version",
    "/proc/filesystems",
    "/proc/sys",
    "/sys",
    "/run/systemd/resolve",
    "/dev/random",
    "/dev/urandom",
];

/// Device files every Exec job may read and write.
pub const SYSTEM_READ_WRITE: &[&str] = &["/dev/null", "/dev/zero", "/dev/full"];

/// `PATH` of a job unless `--exec-pass-env PATH` passes the server's.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What this node enforces on Exec jobs (shown in `/node_info`).
#[derive(Clone, Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct SandboxStatus {
    /// Whether Landlock confines Exec jobs (`--exec-sandbox on`).
    pub landlock: bool,
    /// The kernel's Landlock ABI (0: none).
    #[serde(rename = "LandlockABI")]
    pub landlock_abi: i32,
    /// Whether `Network: None` denies TCP connect and bind (Landlock ABI 4 or later).
    pub tcp_rules: bool,
    /// Whether jobs cannot signal processes outside their sandbox (Landlock ABI 6 or later).
    pub signal_scoping: bool,
    /// The user Exec jobs run as (`--exec-user`), when not the server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Environment variables passed from the server on purpose (`--exec-pass-env`).
    pub pass_env: Vec<String>,
}

/// The confinement of this node's Exec jobs; built once at start-up.
#[derive(Debug)]
pub struct Sandbox {
    spawner: spawner::Spawner,
    landlock: bool,
    abi: i32,
    user: Option<User>,
    pass_env: Vec<(String, OsString)>,
    extra_read_only: Vec<PathBuf>,
    max_open_files: u64,
}

#[derive(Debug)]
struct User {
    name: String,
    uid: nix::unistd::Uid,
    gid: nix::unistd::Gid,
}

/// `hake-sandbox` beside this binary when it is there (it starts several times faster
/// than the server binary), else this binary's own `sandbox-exec`.
fn default_helper() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("locating the hake binary")?;
    let small = me.with_file_name("hake-sandbox");
    Ok(if small.is_file() { small } else { me })
}

impl Sandbox {
    /// Checks the configuration against this host: the kernel's Landlock (refusing to
    /// go on without it unless `--exec-sandbox off`), the helper binary and `--exec-user`.
    pub fn from_config(config: &ServeConfig) -> anyhow::Result<Self> {
        let abi = if config.exec_sandbox_assume_no_landlock {
            0
        } else {
            helper::probe_abi().unwrap_or_else(|e| {
                tracing::warn!(error = %format!("{e:#}"), "Landlock probe failed");
                0
            })
        };
        let landlock = match config.exec_sandbox {
            ExecSandboxMode::On if abi < 1 => bail!(
                "--allow-exec: this kernel lacks Landlock, which confines Exec jobs; \
                 start with --exec-sandbox off to run them unconfined (they could then read \
                 and change everything the server's user can)"
            ),
            ExecSandboxMode::On => true,
            ExecSandboxMode::Off => {
                tracing::error!(
                    "--exec-sandbox off: Exec jobs are NOT confined by Landlock; they can read \
                     and change everything the server's user can, the database included"
                );
                false
            }
        };
        if landlock && abi < 4 {
            tracing::warn!(
                landlock_abi = abi,
                "this kernel's Landlock cannot restrict TCP (ABI 4 needed): Network None is not enforced for Exec jobs"
            );
        }
        let helper = match &config.exec_helper {
            Some(p) => p.clone(),
            None => default_helper()?,
        };
        if !helper.is_file() {
            bail!("--exec-helper {} is not a file", helper.display());
        }
        let user = config.exec_user.as_deref().map(lookup_user).transpose()?;
        if let Some(u) = &user {
            check_traversable(&config.data_dir, u)?;
        }
        let mut pass_env = Vec::new();
        for name in &config.exec_pass_env {
            match std::env::var_os(name) {
                Some(v) => pass_env.push((name.clone(), v)),
                None => {
                    tracing::warn!(name = %name, "--exec-pass-env: not set in the server's environment")
                }
            }
        }
        Ok(Self {
            spawner: spawner::Spawner::new(helper),
            landlock,
            abi,
            user,
            pass_env,
            extra_read_only: config.exec_read_only_paths.clone(),
            max_open_files: config.exec_max_open_files,
        })
    }

    /// What this node enforces.
    pub fn status(&self) -> SandboxStatus {
        SandboxStatus {
            landlock: self.landlock,
            landlock_abi: self.abi,
            tcp_rules: self.landlock && self.abi >= 4,
            signal_scoping: self.landlock && self.abi >= 6,
            user: self.user.as_ref().map(|u| u.name.clone()),
            pass_env: self.pass_env.iter().map(|(k, _)| k.clone()).collect(),
        }
    }

    /// Makes the execution's scratch, temp and output directories (owned by `--exec-user`
    /// when set) and the launch of the job's program, confined in them.
    pub async fn prepare(
        &self,
        job: &Job,
        execution_id: &str,
        ws: &Workspace,
        memory_limit: Option<u64>,
    ) -> anyhow::Result<Launch> {
        let spec = job.spec.exec.as_ref().context("Spec.Exec is missing")?;
        // The scratch dir is the one directory made here (`HOME`, `TMPDIR` and the default
        // working directory): each mkdir costs an inode, and on a busy node that is much
        // of a short job's cost. `HAKE_OUTPUTS` exists when the job declares outputs (the
        // storage made it with them); with none, nothing written there is published.
        let scratch = ws.scratch.clone();
        let mut owned = vec![scratch.clone()];
        if !ws.outputs.is_empty() {
            owned.push(ws.outputs_root.clone());
            owned.extend(ws.outputs.iter().map(|m| m.host.clone()));
        }
        let owner = self.user.as_ref().map(|u| (u.uid, u.gid, u.name.clone()));
        let (read_only, read_write) = if self.landlock {
            self.paths(ws)
        } else {
            Default::default()
        };
        // The directories, their owner and which ruleset paths exist are file system
        // calls: one trip to the blocking pool makes them all.
        let (read_only, read_write) = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&scratch)
                .with_context(|| format!("creating {}", scratch.display()))?;
            if let Some((uid, gid, name)) = &owner {
                for p in &owned {
                    nix::unistd::chown(p, Some(*uid), Some(*gid))
                        .with_context(|| format!("giving {} to {name}", p.display()))?;
                }
            }
            let exist = |paths: Vec<PathBuf>| -> Vec<PathBuf> {
                paths.into_iter().filter(|p| p.exists()).collect()
            };
            anyhow::Ok((exist(read_only), exist(read_write)))
        })
        .await
        .context("preparing the execution's directories")??;
        let cwd = if spec.working_directory.is_empty() {
            ws.scratch.clone()
        } else {
            PathBuf::from(&spec.working_directory)
        };
        // Only the helper writes here; the spawner's child reports through a pipe.
        let report = ws.root.join("exec-start-error");
        let mut env: Vec<(OsString, OsString)> = vec![
            ("PATH".into(), DEFAULT_PATH.into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("HOME".into(), ws.scratch.clone().into()),
            ("TMPDIR".into(), ws.scratch.clone().into()),
        ];
        env.extend(self.pass_env.iter().map(|(k, v)| (k.into(), v.clone())));
        env.extend([
            ("HAKE_INPUTS".into(), ws.inputs_root.clone().into()),
            ("HAKE_OUTPUTS".into(), ws.outputs_root.clone().into()),
            ("HAKE_JOB_ID".into(), job.metadata.id.clone().into()),
            ("HAKE_EXECUTION_ID".into(), execution_id.into()),
        ]);
        env.extend(
            spec.environment_variables
                .iter()
                .map(|(k, v)| (k.into(), v.into())),
        );
        let args = SandboxArgs {
            read_only,
            read_write,
            net: match job.spec.network.kind {
                Network::Full => helper::NetAccess::Full,
                _ => helper::NetAccess::None,
            },
            no_landlock: !self.landlock,
            rlimit_as: memory_limit,
            nofile: self.max_open_files,
            user: self.user.as_ref().map(|u| u.name.clone()),
            report: Some(report),
            command: spec.command.iter().map(OsString::from).collect(),
        };
        Ok(Launch { args, cwd, env })
    }

    /// Starts a prepared execution's program, confined.
    pub async fn start(&self, prepared: Launch) -> anyhow::Result<Running> {
        self.spawner.start(prepared).await
    }

    /// The read-only and read-write paths of an execution's ruleset, those that do not
    /// exist included (`prepare` leaves them out).
    fn paths(&self, ws: &Workspace) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let mut ro: Vec<PathBuf> = SYSTEM_READ_ONLY.iter().map(PathBuf::from).collect();
        ro.extend(self.extra_read_only.iter().cloned());
        ro.push(ws.inputs_root.clone());
        let mut rw: Vec<PathBuf> = SYSTEM_READ_WRITE.iter().map(PathBuf::from).collect();
        rw.push(ws.scratch.clone());
        rw.push(ws.outputs_root.clone());
        for m in &ws.inputs {
            // A LocalDirectory input is a link to its source: Landlock checks the source.
            if m.read_only {
                ro.push(m.host.clone());
            } else {
                rw.push(m.host.clone());
            }
        }
        (ro, rw)
    }
}

fn lookup_user(name: &str) -> anyhow::Result<User> {
    if !nix::unistd::geteuid().is_root() {
        bail!("--exec-user {name}: the server must run as root to run jobs as another user");
    }
    let u = nix::unistd::User::from_name(name)
        .with_context(|| format!("--exec-user: looking up {name:?}"))?
        .with_context(|| format!("--exec-user: no user {name:?} on this host"))?;
    if u.uid.is_root() {
        bail!("--exec-user {name}: that is root; name an unprivileged user");
    }
    Ok(User {
        name: name.to_owned(),
        uid: u.uid,
        gid: u.gid,
    })
}

/// Fails unless `user` may search every directory down to `dir` (its workspaces live there).
fn check_traversable(dir: &Path, user: &User) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for d in dir.ancestors() {
        let Ok(meta) = std::fs::metadata(d) else {
            continue;
        };
        let mode = meta.mode();
        let searchable = if meta.uid() == user.uid.as_raw() {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid.as_raw() {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !searchable {
            bail!(
                "--exec-user {}: cannot reach the data dir {} ({} is not searchable by that user); use a data dir it can traverse",
                user.name,
                dir.display(),
                d.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Mount;

    fn sandbox() -> Sandbox {
        Sandbox {
            spawner: spawner::Spawner::new(PathBuf::from("/bin/true")),
            landlock: true,
            abi: 7,
            user: None,
            pass_env: Vec::new(),
            extra_read_only: vec![PathBuf::from("/")],
            max_open_files: 1024,
        }
    }

    #[test]
    fn inputs_are_read_only_unless_writable_and_the_workspace_root_is_never_granted() {
        let dir = tempfile_dir();
        let src_ro = dir.join("src-ro");
        let src_rw = dir.join("src-rw");
        let root = dir.join("e-1");
        for d in [
            &src_ro,
            &src_rw,
            &root.join("work"),
            &root.join("inputs"),
            &root.join("outputs"),
        ] {
            std::fs::create_dir_all(d).unwrap();
        }
        let mount = |host: &PathBuf, read_only| Mount {
            host: host.clone(),
            target: "/x".into(),
            read_only,
        };
        let ws = Workspace {
            scratch: root.join("work"),
            inputs_root: root.join("inputs"),
            outputs_root: root.join("outputs"),
            inputs: vec![mount(&src_ro, true), mount(&src_rw, false)],
            outputs: Vec::new(),
            root: root.clone(),
        };
        let (ro, rw) = sandbox().paths(&ws);
        assert!(ro.contains(&src_ro) && !rw.contains(&src_ro));
        assert!(rw.contains(&src_rw) && !ro.contains(&src_rw));
        assert!(ro.contains(&ws.inputs_root));
        assert!(rw.contains(&ws.scratch) && rw.contains(&ws.outputs_root));
        assert!(!ro.contains(&root) && !rw.contains(&root));
        assert!(ro.contains(&PathBuf::from("/usr")));
        assert!(!ro.contains(&PathBuf::from("/proc")), "never all of /proc");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("hake-sandbox-unit-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
