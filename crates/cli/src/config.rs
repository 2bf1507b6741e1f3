//! Where settings come from: flags, then `PORTCULLIS_URL`/`PORTCULLIS_TOKEN`/`PORTCULLIS_ORG`,
//! then `$XDG_CONFIG_HOME/portcullis/config.toml`.

use crate::args::GlobalArgs;
use crate::failure::Failure;
use portcullis_client::Credential;
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

pub const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// The config file's contents. `token` is what `config set-token` stores (sent as Bearer);
/// `session` is what `login` stores (sent as the session cookie). One replaces the other.
#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub struct ConfigFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

/// Where a setting in force came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Environment,
    File,
    Default,
}

impl Source {
    pub fn describe(self, variable: &str) -> String {
        match self {
            Source::Flag => "flag".into(),
            Source::Environment => format!("environment ({variable})"),
            Source::File => format!("file {}", config_path().display()),
            Source::Default => "default".into(),
        }
    }
}

/// The settings in force for one command.
pub struct Resolved {
    pub file: ConfigFile,
    pub url: (String, Source),
    pub credential: Option<(Credential, Source)>,
    pub org: Option<(String, Source)>,
}

/// `$XDG_CONFIG_HOME/portcullis/config.toml`, else `~/.config/portcullis/config.toml`.
pub fn config_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"));
    base.join("portcullis").join("config.toml")
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub fn resolve(global: &GlobalArgs) -> Result<Resolved, Failure> {
    let file = load()?;
    let pick = |flag: &Option<String>, variable: &str, stored: &Option<String>| {
        flag.clone()
            .map(|v| (v, Source::Flag))
            .or_else(|| env(variable).map(|v| (v, Source::Environment)))
            .or_else(|| stored.clone().map(|v| (v, Source::File)))
    };
    let url = pick(&global.url, "PORTCULLIS_URL", &file.url)
        .unwrap_or_else(|| (DEFAULT_URL.to_owned(), Source::Default));
    let credential = pick(&global.token, "PORTCULLIS_TOKEN", &file.token)
        .map(|(token, source)| (Credential::Bearer(token), source))
        .or_else(|| {
            file.session
                .clone()
                .map(|session| (Credential::Session(session), Source::File))
        });
    let org = pick(&global.org, "PORTCULLIS_ORG", &file.org);
    Ok(Resolved {
        file,
        url,
        credential,
        org,
    })
}

/// The file, or defaults when there is none. A file others can read is refused: it holds a secret.
pub fn load() -> Result<ConfigFile, Failure> {
    let path = config_path();
    let metadata = match fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(e) => {
            return Err(Failure::other(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    if metadata.permissions().mode() & 0o077 != 0 {
        return Err(Failure::other(format!(
            "{} is readable by other users and holds a credential; fix it with `chmod 600 {}`",
            path.display(),
            path.display()
        )));
    }
    let text = fs::read_to_string(&path)
        .map_err(|e| Failure::other(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text)
        .map_err(|e| Failure::other(format!("{} is not valid: {e}", path.display())))
}

/// Writes the file with mode 0600 inside a 0700 directory, replacing it atomically.
pub fn save(file: &ConfigFile) -> Result<PathBuf, Failure> {
    let path = config_path();
    let dir = path.parent().expect("the config path has a directory");
    let cannot =
        |e: std::io::Error| Failure::other(format!("cannot write {}: {e}", path.display()));
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(cannot)?;
    }
    let text = toml::to_string(file).map_err(|e| Failure::other(e.to_string()))?;
    let temporary = dir.join(".config.toml.tmp");
    let _ = fs::remove_file(&temporary);
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .map_err(cannot)?;
    out.write_all(text.as_bytes()).map_err(cannot)?;
    out.sync_all().map_err(cannot)?;
    fs::rename(&temporary, &path).map_err(cannot)?;
    Ok(path)
}

/// The first 8 characters, `…`, the last 4; a secret too short to show that much is hidden whole.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 16 {
        return "…".into();
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn a_key_is_masked_to_its_first_eight_and_last_four_characters() {
        assert_eq!(
            mask("pcl_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgwXyZ"),
            "pcl_AbCd…wXyZ"
        );
    }

    #[test]
    fn a_short_secret_is_hidden_whole() {
        assert_eq!(mask("short-secret"), "…");
    }
}
