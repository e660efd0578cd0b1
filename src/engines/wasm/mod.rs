//! The Wasm engine: runs a WebAssembly module with wasmtime and WASI preview 1.
//!
//! It owns the node's one wasmtime [`Engine`] and the thread that advances its epoch while
//! executions run (`epoch.rs`), and for each execution: fetching and compiling the entry
//! module, the WASI context (argv, environment, stdout/stderr streamed into the log sink,
//! preopened directories), the memory limit, calling the entry point, and stopping the
//! instance when `ctx.stop` fires.
//!
//! The entry module is a binary module (WAT text is accepted too). Exit codes: returning
//! from the entry point is 0, `proc_exit(n)` is n, a trap is an engine error.
//!
//! Stopping: a store's epoch deadline is one tick away; on each tick its callback traps
//! when `ctx.stop` has fired and otherwise yields to the async runtime, so a module that
//! loops forever still stops within a tick. A module waiting in a host call (`poll_oneoff`)
//! is dropped at once, since `run` races the execution against `ctx.stop`.
//!
//! Preopened directories get guest file descriptors from 3 upwards in this order:
//! 1. inputs, in spec order, read-only (unless a LocalDirectory input says `ReadWrite` and
//!    its root is `--allowed-input-dir PATH:rw`). An
//!    input that is a single file (Inline, or the file of a URLDownload) is reached through
//!    its parent directory: input `/inputs/data.txt` preopens `/inputs`. Inputs sharing a
//!    directory share one preopen.
//! 2. outputs, in spec order, read-write, at their `path`.
//!
//! A job with one output and no inputs therefore sees its output directory as fd 3.

mod epoch;
pub(crate) mod limits;
mod stdio;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use wasmtime::{
    Config, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, Trap, UpdateDeadline,
};
use wasmtime_wasi::preview1::WasiP1Ctx;
use wasmtime_wasi::{DirPerms, FilePerms, I32Exit, WasiCtxBuilder};

pub use limits::{
    is_plain_identifier, memory_limit, parse_memory, DEFAULT_MEMORY_LIMIT, MAX_MEMORY_LIMIT,
};

use self::epoch::EpochTicker;
use self::stdio::LogPipe;
use super::{Executor, RunContext};
use crate::model::{Engine as EngineKind, LogStream, Spec, StorageSource, StorageSpec, WasmSpec};
use crate::storage::{Storage, Workspace};

/// How often the epoch advances: the longest a running module goes without yielding to the
/// async runtime and checking whether it must stop.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The export called when `Wasm.EntryPoint` is empty.
pub const DEFAULT_ENTRY_POINT: &str = "_start";

/// Runs `Spec.Wasm` modules. Cheap to share: one per node.
pub struct WasmEngine {
    /// The wasmtime engine every module is compiled for and run on (async support and
    /// epoch interruption enabled).
    engine: Engine,
    /// WASI preview 1 (`wasi_snapshot_preview1`, and `wasi_unstable` for older
    /// toolchains), linked once for all executions.
    linker: Arc<Linker<Host>>,
    /// Where entry modules are fetched from.
    storage: Storage,
    /// Advances `engine`'s epoch every [`EPOCH_TICK`] on its own thread while an execution
    /// holds one of its guards; every store's epoch callback runs on those ticks. Dropping
    /// the engine stops the thread.
    ticker: EpochTicker,
}

impl std::fmt::Debug for WasmEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmEngine")
            .field("epoch_tick", &EPOCH_TICK)
            .finish_non_exhaustive()
    }
}

/// The data of one execution's store.
struct Host {
    wasi: WasiP1Ctx,
    limits: StoreLimits,
}

impl WasmEngine {
    /// Creates the wasmtime engine, links WASI and starts the epoch ticker.
    pub fn new(storage: Storage) -> anyhow::Result<Self> {
        let mut config = Config::new();
        config.async_support(true).epoch_interruption(true);
        let engine = Engine::new(&config).context("creating the wasmtime engine")?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::preview1::add_to_linker_async(&mut linker, |h: &mut Host| &mut h.wasi)
            .context("linking WASI preview 1")?;
        wasmtime_wasi::preview0::add_to_linker_async(&mut linker, |h: &mut Host| &mut h.wasi)
            .context("linking WASI preview 0")?;
        let ticked = engine.clone();
        let ticker = EpochTicker::start(EPOCH_TICK, move || ticked.increment_epoch())?;
        Ok(Self {
            engine,
            linker: Arc::new(linker),
            storage,
            ticker,
        })
    }

    /// Fetches, compiles and runs the entry module to its end; `Ok` carries the exit code.
    async fn execute(&self, ctx: &RunContext) -> anyhow::Result<i32> {
        let spec = &ctx.job.spec.wasm;
        let memory = memory_limit(&ctx.job.spec.resources).map_err(anyhow::Error::msg)?;
        let bytes = self
            .storage
            .read_all(&spec.entry_module)
            .await
            .context("fetching the entry module")?;
        let engine = self.engine.clone();
        let module = tokio::task::spawn_blocking(move || Module::new(&engine, &bytes))
            .await
            .context("the compile task failed")?
            .map_err(|e| anyhow!("the entry module is not a valid WebAssembly module: {e:#}"))?;

        let wasi = wasi_context(spec, ctx).await?;
        let limits = StoreLimitsBuilder::new()
            .memory_size(usize::try_from(memory).unwrap_or(usize::MAX))
            .build();
        let _ticking = self.ticker.hold();
        let mut store = Store::new(&self.engine, Host { wasi, limits });
        store.limiter(|h| &mut h.limits);
        let stop = ctx.stop.clone();
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if stop.is_cancelled() {
                Err(anyhow!("stopped"))
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });

        let instance = match self.linker.instantiate_async(&mut store, &module).await {
            Ok(instance) => instance,
            // A start function may already exit.
            Err(e) => {
                return exit_code(Err(e), "instantiating the module failed")
                    .map(Option::unwrap_or_default)
            }
        };
        let name = entry_point(spec);
        let func = instance
            .get_func(&mut store, name)
            .ok_or_else(|| anyhow!("the module exports no function named {name:?}"))?;
        let entry = func.typed::<(), ()>(&store).map_err(|e| {
            anyhow!("the entry point {name:?} must take no parameters and return nothing: {e}")
        })?;
        if name != DEFAULT_ENTRY_POINT {
            // A reactor module initialises itself before any other export is called.
            if let Ok(init) = instance.get_typed_func::<(), ()>(&mut store, "_initialize") {
                if let Some(code) =
                    exit_code(init.call_async(&mut store, ()).await, "the module failed")?
                {
                    return Ok(code);
                }
            }
        }
        Ok(exit_code(entry.call_async(&mut store, ()).await, "the module failed")?.unwrap_or(0))
    }
}

#[async_trait::async_trait]
impl Executor for WasmEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Wasm
    }

    fn validate(&self, spec: &Spec) -> Result<(), String> {
        let w = &spec.wasm;
        if w.entry_module.storage_source.is_none() {
            return Err(
                "Wasm.EntryModule.StorageSource is required (Inline, URLDownload or LocalDirectory)".into(),
            );
        }
        if !w.import_modules.is_empty() {
            return Err(format!(
                "Wasm.ImportModules is not supported by this node ({} given): link everything into the entry module",
                w.import_modules.len()
            ));
        }
        if !w.entry_point.is_empty() && !is_plain_identifier(&w.entry_point) {
            return Err(format!(
                "Wasm.EntryPoint {:?} must be a plain export name (letters, digits, _ - . $)",
                w.entry_point
            ));
        }
        memory_limit(&spec.resources).map(|_| ())
    }

    async fn run(&self, ctx: RunContext) -> anyhow::Result<i32> {
        let result = tokio::select! {
            biased;
            () = ctx.stop.cancelled() => Err(anyhow!("stopped before the module finished")),
            r = self.execute(&ctx) => r,
        };
        ctx.logs.flush(LogStream::Stdout);
        ctx.logs.flush(LogStream::Stderr);
        result
    }
}

/// The export to call.
fn entry_point(spec: &WasmSpec) -> &str {
    if spec.entry_point.is_empty() {
        DEFAULT_ENTRY_POINT
    } else {
        &spec.entry_point
    }
}

/// How a call into the guest ended: `Some(code)` when it called `proc_exit(code)`, `None`
/// when it returned, else an error saying `what` happened and why, in one line: the trap's
/// own words when it trapped (the wasm backtrace goes to the debug log).
fn exit_code(result: anyhow::Result<()>, what: &str) -> anyhow::Result<Option<i32>> {
    let Err(e) = result else { return Ok(None) };
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return Ok(Some(exit.0));
    }
    Err(match e.downcast_ref::<Trap>() {
        Some(trap) => {
            tracing::debug!(error = ?e, "wasm trap");
            anyhow!("{what}: {trap}")
        }
        None => anyhow!("{what}: {e:#}"),
    })
}

/// argv[0]: the module's name, else the last part of its URL or path, else `main.wasm`.
fn program_name(module: &StorageSpec) -> String {
    let last = |p: &str| {
        p.rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let from_source = match module.storage_source {
        Some(StorageSource::UrlDownload) => url::Url::parse(&module.url)
            .ok()
            .and_then(|u| last(u.path())),
        Some(StorageSource::LocalDirectory) => last(&module.source_path),
        _ => None,
    };
    Some(module.name.clone())
        .filter(|n| !n.is_empty())
        .or(from_source)
        .unwrap_or_else(|| "main.wasm".to_owned())
}

/// The WASI context of one execution.
async fn wasi_context(spec: &WasmSpec, ctx: &RunContext) -> anyhow::Result<WasiP1Ctx> {
    let mut b = WasiCtxBuilder::new();
    b.arg(program_name(&spec.entry_module))
        .args(&spec.parameters);
    for (k, v) in &spec.environment_variables {
        b.env(k, v);
    }
    b.stdout(LogPipe::new(ctx.logs.clone(), LogStream::Stdout))
        .stderr(LogPipe::new(ctx.logs.clone(), LogStream::Stderr));
    for p in preopens(&ctx.workspace).await? {
        let (dir, file) = if p.writable {
            (DirPerms::all(), FilePerms::all())
        } else {
            (DirPerms::READ, FilePerms::READ)
        };
        b.preopened_dir(&p.host, &p.guest, dir, file)
            .with_context(|| format!("mounting {} at {}", p.host.display(), p.guest))?;
    }
    Ok(b.build_p1())
}

/// A host directory the guest sees at `guest`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Preopen {
    host: PathBuf,
    guest: String,
    writable: bool,
}

/// The preopened directories of a workspace, in file-descriptor order (see the module docs).
async fn preopens(ws: &Workspace) -> anyhow::Result<Vec<Preopen>> {
    let mut out: Vec<Preopen> = Vec::new();
    let mut add = |p: Preopen| -> anyhow::Result<()> {
        match out.iter().find(|o| o.guest == p.guest) {
            Some(o) if o.host == p.host && o.writable == p.writable => Ok(()),
            Some(_) => bail!("two mounts want the same guest directory {}", p.guest),
            None => {
                out.push(p);
                Ok(())
            }
        }
    };
    for m in &ws.inputs {
        let meta = tokio::fs::metadata(&m.host)
            .await
            .with_context(|| format!("input {}: {}", m.target, m.host.display()))?;
        let guest = normalize(&m.target);
        if meta.is_dir() {
            add(Preopen {
                host: m.host.clone(),
                guest,
                writable: !m.read_only,
            })?;
            continue;
        }
        // A file: mount its directory, which only holds inputs when it is ours.
        let host_dir = m.host.parent().filter(|d| d.starts_with(&ws.inputs_root));
        let (Some(host_dir), Some(guest_dir)) = (host_dir, parent(&guest)) else {
            bail!(
                "input {}: a single LocalDirectory file cannot be mounted in a Wasm job; mount its directory instead",
                m.target
            );
        };
        add(Preopen {
            host: host_dir.to_path_buf(),
            guest: guest_dir,
            writable: false,
        })?;
    }
    for m in &ws.outputs {
        add(Preopen {
            host: m.host.clone(),
            guest: normalize(&m.target),
            writable: true,
        })?;
    }
    Ok(out)
}

/// A guest path without trailing slashes (`/` stays `/`).
fn normalize(path: &str) -> String {
    let p = path.trim_end_matches('/');
    if p.is_empty() {
        "/".to_owned()
    } else {
        p.to_owned()
    }
}

/// The directory of a normalized guest path: `/a/b` → `/a`, `/a` → `/`.
fn parent(path: &str) -> Option<String> {
    let (dir, name) = path.rsplit_once('/')?;
    (!name.is_empty()).then(|| normalize(dir))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::storage::Mount;

    fn ws(root: &Path) -> Workspace {
        Workspace {
            root: root.to_path_buf(),
            scratch: root.join("work"),
            inputs_root: root.join("inputs"),
            outputs_root: root.join("outputs"),
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    #[tokio::test]
    async fn file_inputs_mount_their_directory_once_before_the_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ws(dir.path());
        std::fs::create_dir_all(w.inputs_root.join("in")).unwrap();
        std::fs::create_dir_all(w.outputs_root.join("out")).unwrap();
        for f in ["a.txt", "b.txt"] {
            std::fs::write(w.inputs_root.join("in").join(f), f).unwrap();
            w.inputs.push(Mount {
                host: w.inputs_root.join("in").join(f),
                target: format!("/in/{f}"),
                read_only: true,
            });
        }
        w.outputs.push(Mount {
            host: w.outputs_root.join("out"),
            target: "/outputs/".into(),
            read_only: false,
        });
        let p = preopens(&w).await.unwrap();
        assert_eq!(
            p,
            vec![
                Preopen {
                    host: w.inputs_root.join("in"),
                    guest: "/in".into(),
                    writable: false
                },
                Preopen {
                    host: w.outputs_root.join("out"),
                    guest: "/outputs".into(),
                    writable: true
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_foreign_single_file_is_refused_rather_than_exposing_its_siblings() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = ws(dir.path());
        let foreign = dir.path().join("elsewhere.txt");
        std::fs::write(&foreign, "x").unwrap();
        w.inputs.push(Mount {
            host: foreign,
            target: "/data/x.txt".into(),
            read_only: true,
        });
        let err = preopens(&w).await.unwrap_err().to_string();
        assert!(err.contains("single LocalDirectory file"), "{err}");
    }

    #[test]
    fn argv0_comes_from_the_name_then_the_url_then_a_default() {
        let mut m = StorageSpec {
            storage_source: Some(StorageSource::UrlDownload),
            url: "https://x.org/a/tool.wasm?v=1".into(),
            ..Default::default()
        };
        assert_eq!(program_name(&m), "tool.wasm");
        m.name = "named.wasm".into();
        assert_eq!(program_name(&m), "named.wasm");
        let inline = StorageSpec {
            storage_source: Some(StorageSource::Inline),
            url: "data:,x".into(),
            ..Default::default()
        };
        assert_eq!(program_name(&inline), "main.wasm");
    }

    #[test]
    fn guest_paths_normalize_and_find_their_parent() {
        assert_eq!(normalize("/outputs/"), "/outputs");
        assert_eq!(normalize("/"), "/");
        assert_eq!(parent("/inputs/data.txt").as_deref(), Some("/inputs"));
        assert_eq!(parent("/data.txt").as_deref(), Some("/"));
        assert_eq!(parent("/").as_deref(), None);
    }
}
