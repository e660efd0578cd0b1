//! Image references and registry credentials of the Docker engine: the reference a pull
//! asks for (a tag is added when there is none, as `docker pull` does), the registry it
//! names, and that registry's credentials from the node's Docker config
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: `auths` entries and
//! credential helpers, read by the `docker_credential` crate).

use bollard::auth::DockerCredentials;
use docker_credential::{CredentialRetrievalError, DockerCredential};

/// Docker Hub's name in references without a registry.
const DOCKER_HUB: &str = "docker.io";

/// The reference to pull: `image` with `:latest` added when it has neither a tag nor a
/// digest (without one, the Engine API pulls every tag of the repository).
pub fn pull_reference(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if image.contains('@') || last.contains(':') {
        image.to_owned()
    } else {
        format!("{image}:latest")
    }
}

/// The registry an image reference names: its first component when that is a host
/// (holds a `.` or a `:`, or is `localhost`), else Docker Hub.
pub fn registry_of(image: &str) -> &str {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first
        }
        _ => DOCKER_HUB,
    }
}

/// The keys a Docker config may file a registry's credentials under, most usual first.
fn config_keys(registry: &str) -> Vec<String> {
    if registry == DOCKER_HUB {
        return [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
        ]
        .map(str::to_owned)
        .to_vec();
    }
    vec![
        registry.to_owned(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
    ]
}

/// The credentials the node's Docker config holds for the registry of `image`, or `None`
/// (an anonymous pull) when it has none. A config that cannot be used is logged and
/// treated as none: the registry's answer then says what is missing.
pub async fn credentials_for(image: &str) -> Option<DockerCredentials> {
    let registry = registry_of(image).to_owned();
    // Credential helpers are programs: keep them off the async workers.
    tokio::task::spawn_blocking(move || lookup(&registry))
        .await
        .ok()
        .flatten()
}

fn lookup(registry: &str) -> Option<DockerCredentials> {
    for key in config_keys(registry) {
        match docker_credential::get_credential(&key) {
            Ok(found) => return Some(to_bollard(found, registry)),
            Err(CredentialRetrievalError::NoCredentialConfigured) => continue,
            Err(CredentialRetrievalError::ConfigNotFound)
            | Err(CredentialRetrievalError::ConfigReadError) => return None,
            Err(e) => {
                tracing::warn!(registry, key, error = ?e, "the Docker config's credentials for this registry cannot be used; pulling anonymously");
                return None;
            }
        }
    }
    None
}

fn to_bollard(found: DockerCredential, registry: &str) -> DockerCredentials {
    let mut c = DockerCredentials {
        serveraddress: Some(registry.to_owned()),
        ..Default::default()
    };
    match found {
        DockerCredential::UsernamePassword(user, password) => {
            c.username = Some(user);
            c.password = Some(password);
        }
        DockerCredential::IdentityToken(token) => c.identitytoken = Some(token),
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_without_tag_or_digest_gets_latest() {
        assert_eq!(pull_reference("busybox"), "busybox:latest");
        assert_eq!(pull_reference("busybox:1.36"), "busybox:1.36");
        assert_eq!(
            pull_reference("127.0.0.1:5000/team/app"),
            "127.0.0.1:5000/team/app:latest"
        );
        assert_eq!(
            pull_reference("127.0.0.1:5000/app:v2"),
            "127.0.0.1:5000/app:v2"
        );
        assert_eq!(pull_reference("app@sha256:abc"), "app@sha256:abc");
    }

    #[test]
    fn the_registry_is_the_first_component_when_it_is_a_host() {
        assert_eq!(registry_of("127.0.0.1:5000/app:v2"), "127.0.0.1:5000");
        assert_eq!(registry_of("ghcr.io/org/app"), "ghcr.io");
        assert_eq!(registry_of("localhost/app"), "localhost");
        assert_eq!(registry_of("library/ubuntu"), DOCKER_HUB);
        assert_eq!(registry_of("ubuntu:22.04"), DOCKER_HUB);
    }

    #[test]
    fn username_and_password_become_bollard_credentials_for_the_registry() {
        let c = to_bollard(
            DockerCredential::UsernamePassword("u".into(), "p:w".into()),
            "127.0.0.1:5000",
        );
        assert_eq!(c.username.as_deref(), Some("u"));
        assert_eq!(c.password.as_deref(), Some("p:w"));
        assert_eq!(c.serveraddress.as_deref(), Some("127.0.0.1:5000"));
        let config = br#"{"auths": {"127.0.0.1:5000": {"auth": "dTpwOnc="}}}"#;
        let found =
            docker_credential::get_credential_from_reader(&config[..], "127.0.0.1:5000").unwrap();
        assert_eq!(
            found,
            DockerCredential::UsernamePassword("u".into(), "p:w".into())
        );
    }
}
