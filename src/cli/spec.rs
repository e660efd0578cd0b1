//! Job specs from command-line options: environment, inputs, outputs, timeout,
//! concurrency, publisher, annotations and working directory, shared by `exec`,
//! `docker run` and `wasm run`.
//!
//! `--input SRC:PATH` mounts SRC at the absolute PATH inside the job (split at the last
//! `:`). SRC is an `http://` or `https://` URL (URLDownload: the server downloads it into
//! the directory PATH), a `data:` URL (Inline, a file at PATH), an existing local file
//! (sent Inline as a base64 data URL: a file at PATH) or an existing local directory
//! (LocalDirectory: the server must list it under `--allowed-input-dir`).

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;

use super::exit::{CliError, CliResult};
use crate::model::{Deal, Publisher, Spec, StorageSource, StorageSpec};

/// Inline inputs larger than this are refused here (the server's body limit is 10 MiB).
const MAX_INLINE_BYTES: u64 = 7 * 1024 * 1024;

/// Where published outputs go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PublisherArg {
    /// Publish nothing.
    Noop,
    /// A tar.gz on the server that `hake results --download` fetches.
    Local,
}

/// Options shared by `exec`, `docker run` and `wasm run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct JobOptions {
    /// An environment variable, KEY=VALUE (repeatable); a bare KEY passes this shell's value.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Mount SRC at PATH in the job (repeatable). SRC: a local file (sent inline), a
    /// local directory (LocalDirectory, must be allowed on the server), an http(s) URL
    /// (downloaded by the server) or a data: URL.
    #[arg(long = "input", short = 'i', value_name = "SRC:PATH")]
    pub inputs: Vec<String>,
    /// Collect the directory PATH as the output NAME (repeatable); Exec jobs write it at
    /// `$HAKE_OUTPUTS/NAME`.
    #[arg(long = "output", short = 'o', value_name = "NAME:PATH")]
    pub outputs: Vec<String>,
    /// Seconds before an execution is killed (default: the server's).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// How many executions to run.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub concurrency: i64,
    /// Where outputs go [default: local when --output is given, else noop].
    #[arg(long, value_enum)]
    pub publisher: Option<PublisherArg>,
    /// A free-form tag for `hake list --tag` (repeatable).
    #[arg(long = "annotation", short = 'a', value_name = "TAG")]
    pub annotations: Vec<String>,
    /// The working directory of the job.
    #[arg(long, short = 'w', value_name = "DIR")]
    pub workdir: Option<String>,
}

impl JobOptions {
    /// The environment as ordered pairs.
    pub fn env_pairs(&self) -> CliResult<BTreeMap<String, String>> {
        self.env.iter().map(|e| parse_env(e)).collect()
    }

    /// Fills the engine-independent parts of `spec`.
    pub fn apply(&self, spec: &mut Spec) -> CliResult<()> {
        spec.inputs = self
            .inputs
            .iter()
            .map(|i| parse_input(i))
            .collect::<CliResult<_>>()?;
        spec.outputs = self
            .outputs
            .iter()
            .map(|o| parse_output(o))
            .collect::<CliResult<_>>()?;
        if let Some(t) = self.timeout {
            if !t.is_finite() || t <= 0.0 {
                return Err(CliError::usage(
                    "--timeout must be a positive number of seconds",
                ));
            }
            spec.timeout = t;
        }
        if self.concurrency < 1 {
            return Err(CliError::usage("--concurrency must be at least 1"));
        }
        spec.deal = Deal {
            concurrency: self.concurrency,
            ..Default::default()
        };
        let publisher = match self.publisher {
            Some(PublisherArg::Local) => Publisher::Local,
            Some(PublisherArg::Noop) => Publisher::Noop,
            None if !spec.outputs.is_empty() => Publisher::Local,
            None => Publisher::Noop,
        };
        spec.publisher_spec.kind = Some(publisher);
        spec.annotations = self.annotations.clone();
        Ok(())
    }
}

/// `KEY=VALUE`, or `KEY` to pass this process's value.
pub fn parse_env(s: &str) -> CliResult<(String, String)> {
    let (k, v) = match s.split_once('=') {
        Some((k, v)) => (k.to_owned(), v.to_owned()),
        None => {
            let v = std::env::var(s).map_err(|_| {
                CliError::usage(format!(
                    "-e {s}: not KEY=VALUE, and {s} is not set in this shell"
                ))
            })?;
            (s.to_owned(), v)
        }
    };
    if k.is_empty() || k.contains(char::is_whitespace) {
        return Err(CliError::usage(format!(
            "-e {s:?}: the name is empty or has spaces"
        )));
    }
    Ok((k, v))
}

/// Splits `X:PATH` at the last `:`, checking that PATH is absolute.
fn split_mount<'a>(s: &'a str, flag: &str, what: &str) -> CliResult<(&'a str, &'a str)> {
    let usage = || {
        CliError::usage(format!(
            "{flag} {s:?}: expected {what}:PATH with an absolute PATH inside the job, e.g. {}",
            if flag == "--input" {
                "--input ./data.csv:/inputs/data.csv"
            } else {
                "--output results:/outputs"
            }
        ))
    };
    let (src, path) = s.rsplit_once(':').ok_or_else(usage)?;
    if src.is_empty() || !path.starts_with('/') || path.starts_with("//") {
        return Err(usage());
    }
    Ok((src, path))
}

/// `--input SRC:PATH` (see the module docs).
pub fn parse_input(s: &str) -> CliResult<StorageSpec> {
    let (src, path) = split_mount(s, "--input", "SRC")?;
    let mut spec = StorageSpec {
        path: path.to_owned(),
        ..Default::default()
    };
    let lower = src.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        url::Url::parse(src)
            .map_err(|e| CliError::usage(format!("--input {s:?}: bad URL: {e}")))?;
        spec.storage_source = Some(StorageSource::UrlDownload);
        spec.url = src.to_owned();
    } else if lower.starts_with("data:") {
        spec.storage_source = Some(StorageSource::Inline);
        spec.url = src.to_owned();
    } else {
        let p = Path::new(src);
        let meta = std::fs::metadata(p).map_err(|e| {
            CliError::usage(format!(
                "--input {s:?}: {src} is not a URL and cannot be read here: {e}"
            ))
        })?;
        if meta.is_dir() {
            let abs = std::fs::canonicalize(p).map_err(|e| {
                CliError::usage(format!("--input {s:?}: cannot resolve {src}: {e}"))
            })?;
            spec.storage_source = Some(StorageSource::LocalDirectory);
            spec.source_path = abs.display().to_string();
        } else {
            spec.storage_source = Some(StorageSource::Inline);
            spec.url = data_url_of_file(p, "application/octet-stream")?;
        }
    }
    Ok(spec)
}

/// `--output NAME:PATH`.
pub fn parse_output(s: &str) -> CliResult<StorageSpec> {
    let (name, path) = split_mount(s, "--output", "NAME")?;
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(CliError::usage(format!(
            "--output {s:?}: NAME must be a plain name (no slashes)"
        )));
    }
    Ok(StorageSpec {
        name: name.to_owned(),
        path: path.to_owned(),
        ..Default::default()
    })
}

/// A local file as a base64 `data:` URL (refusing files over the inline cap).
pub fn data_url_of_file(path: &Path, mime: &str) -> CliResult<String> {
    let len = std::fs::metadata(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?
        .len();
    if len > MAX_INLINE_BYTES {
        return Err(CliError::usage(format!(
            "{} is {len} bytes; files sent inline must be under {MAX_INLINE_BYTES} bytes \
             (serve it over http and pass the URL instead)",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_takes_key_value_or_a_name_from_this_shell() {
        assert_eq!(parse_env("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert_eq!(parse_env("EMPTY=").unwrap(), ("EMPTY".into(), "".into()));
        assert!(parse_env("=x").is_err());
        assert!(parse_env("HAKE_SURELY_UNSET_VARIABLE").is_err());
    }

    #[test]
    fn inputs_split_at_the_last_colon_and_pick_a_source_kind() {
        let u = parse_input("https://example.com:8443/a.csv:/inputs").unwrap();
        assert_eq!(u.storage_source, Some(StorageSource::UrlDownload));
        assert_eq!(u.url, "https://example.com:8443/a.csv");
        assert_eq!(u.path, "/inputs");

        let d = parse_input("data:,hello:/inputs/h.txt").unwrap();
        assert_eq!(d.storage_source, Some(StorageSource::Inline));
        assert_eq!(d.url, "data:,hello");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.txt");
        std::fs::write(&file, "hi").unwrap();
        let f = parse_input(&format!("{}:/inputs/x.txt", file.display())).unwrap();
        assert_eq!(f.url, "data:application/octet-stream;base64,aGk=");
        let l = parse_input(&format!("{}:/data", dir.path().display())).unwrap();
        assert_eq!(l.storage_source, Some(StorageSource::LocalDirectory));
        assert!(Path::new(&l.source_path).is_absolute());

        for bad in [
            "nopath",
            "https://example.com/a.csv",
            "x:relative",
            "/missing/file:/in",
        ] {
            let e = parse_input(bad).unwrap_err();
            assert_eq!(e.code, super::super::exit::ExitCode::Usage, "{bad}");
        }
    }

    #[test]
    fn outputs_need_a_plain_name_and_an_absolute_path() {
        let o = parse_output("out:/outputs").unwrap();
        assert_eq!((o.name.as_str(), o.path.as_str()), ("out", "/outputs"));
        assert!(parse_output("a/b:/outputs").is_err());
        assert!(parse_output("out:outputs").is_err());
    }

    #[test]
    fn the_publisher_defaults_to_local_only_with_outputs() {
        let mut spec = Spec::default();
        JobOptions {
            concurrency: 1,
            ..Default::default()
        }
        .apply(&mut spec)
        .unwrap();
        assert_eq!(spec.publisher_spec.kind, Some(Publisher::Noop));
        JobOptions {
            concurrency: 2,
            outputs: vec!["out:/outputs".into()],
            ..Default::default()
        }
        .apply(&mut spec)
        .unwrap();
        assert_eq!(spec.publisher_spec.kind, Some(Publisher::Local));
        assert_eq!(spec.deal.concurrency, 2);
    }
}
