//! The client key of the CLI: where it lives, creating it on first use, and reusing a
//! Bacalhau `user_id.pem`.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::auth::Signer;

/// Where the key comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// Private key file (PEM). Default: `$HAKE_KEY`, else `<config dir>/hake/key.pem`.
    #[arg(long, env = "HAKE_KEY", global = true)]
    pub key: Option<PathBuf>,
}

impl KeyArgs {
    /// The key path in use.
    pub fn path(&self) -> PathBuf {
        self.key.clone().unwrap_or_else(|| {
            dirs::config_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("hake")
                .join("key.pem")
        })
    }

    /// Loads the key, creating an Ed25519 key on first use.
    pub fn load_or_create(&self) -> anyhow::Result<Signer> {
        let path = self.path();
        if path.exists() {
            return Signer::load(&path).with_context(|| format!("loading key {}", path.display()));
        }
        let signer = Signer::generate_ed25519();
        signer.save(&path)?;
        eprintln!("created a new Ed25519 key at {}", path.display());
        Ok(signer)
    }
}

/// `hake id`: show (creating on first use) the client key and its ClientID.
#[derive(Debug, Clone, clap::Args)]
pub struct IdArgs {
    /// Copy this Bacalhau `user_id.pem` (RSA) to the key path and use it from now on.
    #[arg(long)]
    pub bacalhau_key: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `hake id`.
pub fn run_id(keys: &KeyArgs, args: &IdArgs) -> anyhow::Result<()> {
    let signer = match &args.bacalhau_key {
        Some(src) => {
            let s = Signer::load(src)
                .with_context(|| format!("reading Bacalhau key {}", src.display()))?;
            let dest = keys.path();
            s.save(&dest)?;
            eprintln!(
                "using the Bacalhau key {} (saved to {})",
                src.display(),
                dest.display()
            );
            s
        }
        None => keys.load_or_create()?,
    };
    let scheme = match signer {
        Signer::Ed25519(_) => "ed25519",
        Signer::Rsa(_) => "rsa",
    };
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "client_id": signer.client_id(),
                "public_key": signer.public_key_b64(),
                "scheme": scheme,
                "key_file": keys.path(),
            })
        );
    } else {
        println!("ClientID:   {}", signer.client_id());
        println!("Public key: {}", signer.public_key_b64());
        println!("Scheme:     {scheme}");
        println!("Key file:   {}", keys.path().display());
    }
    Ok(())
}
