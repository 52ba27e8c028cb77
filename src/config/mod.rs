//! What live mode needs from the user beyond the scenario: API keys (environment first, then
//! `config.toml`), prices that override the built-in table, and a line on what to fix when a
//! live call fails because of the setup.
//!
//! `config.toml` lives in `$RETRYLAB_CONFIG_DIR`, else the platform config dir (e.g.
//! `~/.config/retrylab`):
//!
//! ```toml
//! [keys]
//! openai = "sk-..."            # used for OPENAI_API_KEY when the environment lacks it
//! anthropic = "sk-ant-..."     # likewise ANTHROPIC_API_KEY
//! gemini = "AIza..."           # likewise GEMINI_API_KEY (GOOGLE_API_KEY, when set, wins)
//! GROQ_API_KEY = "gsk_..."     # any variable a scenario names in `api_key_env`
//!
//! [prices."gpt-4o-mini"]       # dollars per million tokens; wins over the built-in table
//! input_per_mtok = 0.15
//! output_per_mtok = 0.60
//! ```
//!
//! Keys never leave this module except as [`Secret`]s, whose `Debug` is redacted; nothing
//! here quotes a value of the file in a message.

use crate::cost::{Price, PriceTable};
use crate::scenario::types::ProviderKind;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The file name inside the config dir.
pub const FILE_NAME: &str = "config.toml";

/// A config file larger than this is not read (it is not a retrylab config).
const MAX_BYTES: u64 = 1 << 20;

/// An API key. Its `Debug` never shows it, and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The key itself, for the one place that sends it (a request header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Where environment variables are read from.
#[derive(Clone)]
enum Env {
    /// The process environment.
    Process,
    /// A fixed set (tests, and callers that must not see the real environment).
    Fixed(BTreeMap<String, Secret>),
}

/// The user's configuration: keys, prices, and what was wrong with the file.
#[derive(Clone)]
pub struct Config {
    path: Option<PathBuf>,
    keys: BTreeMap<String, Secret>,
    prices: BTreeMap<String, Price>,
    /// `[traces].keep`: how many recorded runs to keep (0: all).
    traces_keep: usize,
    warnings: Vec<String>,
    env: Env,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("path", &self.path)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .field("prices", &self.prices)
            .field("warnings", &self.warnings)
            .field(
                "env",
                &match &self.env {
                    Env::Process => "process",
                    Env::Fixed(_) => "fixed",
                },
            )
            .finish()
    }
}

pub use crate::dirs::config_dir;

/// How a hop's key was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLookup {
    Found(Secret),
    /// The hop sends no key (an OpenAI-compatible server without `api_key_env`).
    NotNeeded,
    /// Neither the environment nor the config file has `var`.
    Missing {
        var: String,
    },
    /// The key found cannot be sent (a control or non-ASCII character): `message` says
    /// where it came from and what is wrong, never the value.
    Invalid {
        var: String,
        message: String,
    },
}

/// Why a key cannot go into a header, with where the bad character is; `None` when it can.
fn key_problem(key: &str) -> Option<String> {
    let (at, c) = key
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_graphic() || *c == ' '))?;
    let what = if c.is_control() {
        "a control character"
    } else {
        "a character outside printable ASCII"
    };
    Some(format!(
        "holds {what} (character {} of {}): an API key is printable ASCII; set it again without it",
        at + 1,
        key.chars().count()
    ))
}

impl Config {
    /// The user's config: `config.toml` in [`config_dir`] and the process environment.
    /// Never fails: a missing file is an empty config, a broken one a warning.
    pub fn load() -> Config {
        match config_dir() {
            Some(dir) => Config::load_from(&dir),
            None => Config::empty(None),
        }
    }

    /// `config.toml` in `dir` and the process environment.
    pub fn load_from(dir: &Path) -> Config {
        let path = dir.join(FILE_NAME);
        let mut cfg = Config::empty(Some(path.clone()));
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return cfg,
            Err(e) => {
                cfg.warn(format!("cannot read {}: {e}", path.display()));
                return cfg;
            }
        };
        if meta.len() > MAX_BYTES {
            cfg.warn(format!("{} is larger than 1 MiB; not read", path.display()));
            return cfg;
        }
        let text = match crate::scenario::userfile::read_user_file(&path, MAX_BYTES) {
            Ok(t) => t,
            Err(e) => {
                cfg.warn(format!("cannot read {}: {e}", path.display()));
                return cfg;
            }
        };
        cfg.read_text(&text);
        if !cfg.keys.is_empty()
            && let Some(w) = exposed_warning(&path, &meta)
        {
            cfg.warn(w);
        }
        cfg
    }

    /// A config from `text` (as if it were `path`), with the process environment.
    pub fn parse(text: &str, path: Option<PathBuf>) -> Config {
        let mut cfg = Config::empty(path);
        cfg.read_text(text);
        cfg
    }

    /// No file and an empty environment: nothing the machine holds leaks in (tests).
    pub fn isolated() -> Config {
        let mut cfg = Config::empty(None);
        cfg.env = Env::Fixed(BTreeMap::new());
        cfg
    }

    fn empty(path: Option<PathBuf>) -> Config {
        Config {
            path,
            keys: BTreeMap::new(),
            prices: BTreeMap::new(),
            traces_keep: crate::history::DEFAULT_KEEP,
            warnings: Vec::new(),
            env: Env::Process,
        }
    }

    /// Reads environment variables from `vars` only, never the process environment.
    pub fn with_env<I, K, V>(mut self, vars: I) -> Config
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let map = vars
            .into_iter()
            .map(|(k, v)| (k.into(), Secret::new(v)))
            .collect();
        self.env = Env::Fixed(map);
        self
    }

    /// Adds a `[keys]` entry.
    pub fn with_key(mut self, name: impl Into<String>, value: impl Into<String>) -> Config {
        let value: String = value.into();
        self.keys.insert(name.into(), Secret::new(value.trim()));
        self
    }

    /// Adds a `[prices]` entry.
    pub fn with_price(mut self, model: impl Into<String>, price: Price) -> Config {
        self.prices.insert(model.into(), price);
        self
    }

    /// Where `config.toml` is (or would be).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// What was wrong with the file; never quotes its values.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The built-in prices with the user's on top.
    pub fn prices(&self) -> PriceTable {
        PriceTable::with_overrides(self.prices.clone())
    }

    /// How many recorded runs to keep (`[traces].keep`, default 500; 0 keeps all).
    pub fn traces_keep(&self) -> usize {
        self.traces_keep
    }

    /// The names under `[keys]` (never the values).
    pub fn key_names(&self) -> Vec<&str> {
        self.keys.keys().map(String::as_str).collect()
    }

    fn warn(&mut self, w: String) {
        self.warnings.push(w);
    }

    /// A variable's value, trimmed (a key pasted with a trailing newline or space would be
    /// sent with it); `None` when unset or blank; `Err` when it is not UTF-8.
    fn env_var(&self, name: &str) -> Result<Option<Secret>, ()> {
        let v = match &self.env {
            Env::Process => match std::env::var(name) {
                Ok(v) => Some(v),
                Err(std::env::VarError::NotPresent) => None,
                Err(std::env::VarError::NotUnicode(_)) => return Err(()),
            },
            Env::Fixed(m) => m.get(name).map(|s| s.expose().to_owned()),
        };
        Ok(v.map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(Secret::new))
    }

    /// A key from `source` (the variable, or its `[keys]` entry), checked.
    fn found(var: &str, source: String, key: Secret) -> KeyLookup {
        match key_problem(key.expose()) {
            None => KeyLookup::Found(key),
            Some(p) => KeyLookup::Invalid {
                var: var.to_owned(),
                message: format!("{source} {p}"),
            },
        }
    }

    /// The key for a hop: the variable `provider::key_env` names, from the environment,
    /// else `[keys].<variable>`, else (for a provider's own variable only)
    /// `[keys].<provider>`.
    pub fn key(&self, provider: ProviderKind, api_key_env: Option<&str>) -> KeyLookup {
        let custom = api_key_env.map(str::trim).filter(|v| !v.is_empty());
        let Some(var) = crate::provider::key_env(provider, custom) else {
            return KeyLookup::NotNeeded;
        };
        // A variable the provider's SDK reads first (Gemini: GOOGLE_API_KEY), when set.
        let first = crate::provider::wire::format(provider)
            .key_env_first()
            .filter(|_| custom.is_none());
        if let Some(first) = first
            && let Ok(Some(k)) = self.env_var(first)
        {
            return Config::found(first, format!("the variable {first}"), k);
        }
        match self.env_var(&var) {
            Ok(Some(k)) => return Config::found(&var, format!("the variable {var}"), k),
            Ok(None) => {}
            Err(()) => {
                return KeyLookup::Invalid {
                    message: format!(
                        "the variable {var} is not valid UTF-8: an API key is printable ASCII; set it again"
                    ),
                    var,
                };
            }
        }
        let entry = |name: &str| format!("[keys].{name} in {}", self.shown_path());
        if let Some(k) = self.keys.get(&var) {
            return Config::found(&var, entry(&var), k.clone());
        }
        // A key named for the provider goes only where the provider's own variable would:
        // never to a server a scenario points at with its own `api_key_env`.
        if custom.is_none()
            && let Some(k) = self.keys.get(provider.as_str())
        {
            return Config::found(&var, entry(provider.as_str()), k.clone());
        }
        // The Responses API takes the OpenAI key: `[keys].openai` serves it too.
        if custom.is_none()
            && provider == ProviderKind::OpenaiResponses
            && let Some(k) = self.keys.get(ProviderKind::Openai.as_str())
        {
            return Config::found(&var, entry(ProviderKind::Openai.as_str()), k.clone());
        }
        KeyLookup::Missing { var }
    }

    /// A setting that is no secret (Azure's endpoint): the variable `var` from the
    /// environment, else `[keys].<var>`; trimmed, `None` when unset or blank.
    pub fn setting(&self, var: &str) -> Option<String> {
        let from_env = self.env_var(var).ok().flatten();
        from_env
            .or_else(|| self.keys.get(var).cloned())
            .map(|v| v.expose().trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn shown_path(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string())
    }

    /// Where a missing key can go, for messages: `[keys] in /path/config.toml`.
    pub fn keys_location(&self) -> String {
        match &self.path {
            Some(p) => format!("under [keys] in {}", p.display()),
            None => format!(
                "under [keys] in {FILE_NAME} in the retrylab config dir (or set RETRYLAB_CONFIG_DIR)"
            ),
        }
    }

    fn read_text(&mut self, text: &str) {
        let shown = self
            .path
            .as_ref()
            .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string());
        let table = match toml::from_str::<toml::Table>(text) {
            Ok(t) => t,
            Err(e) => {
                let at = e
                    .span()
                    .map(|s| line_col(text, s.start))
                    .map_or_else(String::new, |(l, c)| format!(" at line {l}, column {c}"));
                // toml's message may quote the line (and so a key): keep it only when it
                // holds nothing quoted.
                let first = e.message().lines().next().unwrap_or("");
                let what = first
                    .split(['"', '\'', '`'])
                    .next()
                    .unwrap_or("")
                    .trim_end_matches(|c: char| c == ',' || c == ':' || c.is_whitespace())
                    .trim_end_matches(", expected")
                    .trim_end_matches(" expected")
                    .trim();
                let what = if what.is_empty() {
                    "not valid TOML"
                } else {
                    what
                };
                self.warn(format!("{shown}{at}: {what}; the file is ignored"));
                return;
            }
        };
        for (name, value) in table {
            match (name.as_str(), value) {
                ("keys", toml::Value::Table(keys)) => {
                    for (k, v) in keys {
                        match v {
                            toml::Value::String(s) if !s.trim().is_empty() => {
                                self.keys.insert(k, Secret::new(s.trim()));
                            }
                            toml::Value::String(_) => {}
                            _ => {
                                self.warn(format!("{shown}: [keys].{k} must be a string; ignored"))
                            }
                        }
                    }
                }
                ("prices", toml::Value::Table(prices)) => {
                    for (model, v) in prices {
                        match price_of(&v) {
                            Some(p) => {
                                self.prices.insert(model, p);
                            }
                            None => self.warn(format!(
                                "{shown}: [prices.\"{model}\"] needs input_per_mtok and output_per_mtok (dollars per million tokens, >= 0); ignored"
                            )),
                        }
                    }
                }
                ("traces", toml::Value::Table(t)) => self.read_traces(&shown, t),
                ("keys" | "prices" | "traces", _) => {
                    self.warn(format!("{shown}: `{name}` must be a table; ignored"));
                }
                (other, _) => self.warn(format!(
                    "{shown}: unknown entry `{other}` ignored (known: [keys], [prices], [traces])"
                )),
            }
        }
    }
}

impl Config {
    /// `[traces]`: `keep = N`.
    fn read_traces(&mut self, shown: &str, t: toml::Table) {
        for (k, v) in t {
            match (k.as_str(), v) {
                ("keep", toml::Value::Integer(n)) if (0..=1_000_000).contains(&n) => {
                    self.traces_keep = n as usize;
                }
                ("keep", _) => self.warn(format!(
                    "{shown}: [traces].keep must be a whole number from 0 (keep all) to 1000000; the default {} is used",
                    crate::history::DEFAULT_KEEP
                )),
                (other, _) => self.warn(format!(
                    "{shown}: unknown entry [traces].{other} ignored (known: keep)"
                )),
            }
        }
    }
}

fn price_of(v: &toml::Value) -> Option<Price> {
    let t = v.as_table()?;
    let num = |k: &str| -> Option<f64> {
        let n = match t.get(k)? {
            toml::Value::Float(f) => *f,
            toml::Value::Integer(i) => *i as f64,
            _ => return None,
        };
        (n.is_finite() && n >= 0.0).then_some(n)
    };
    Some(Price::new(num("input_per_mtok")?, num("output_per_mtok")?))
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A warning when a file holding keys can be read by group or others.
#[cfg(unix)]
fn exposed_warning(path: &Path, meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then(|| {
        format!(
            "{} holds API keys and is readable by other users (mode {mode:03o}); run: chmod 600 {}",
            path.display(),
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn exposed_warning(_path: &Path, _meta: &std::fs::Metadata) -> Option<String> {
    None
}

/// Prints `cfg`'s warnings to stderr, the first time it is called in this process.
pub fn warn_once(cfg: &Config) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for w in cfg.warnings() {
            eprintln!("warning: {w}");
        }
    });
}

// The stream redactor lives with the rest of the scrubbing (`provider::redact`).
pub use crate::provider::redact::StreamRedactor;

/// Where it always was: it now lives beside `CallError::hint`.
pub use crate::error::HINT_SEP;

mod hints;
pub use hints::{LiveTarget, fix_hint};

#[cfg(test)]
mod tests {
    use super::*;

    const SENTINEL: &str = "sk-SENTINEL-config-0123456789";

    #[test]
    fn traces_keep_is_read_and_checked() {
        assert_eq!(Config::isolated().traces_keep(), 500);
        let cfg = Config::parse("[traces]\nkeep = 20\n", None);
        assert_eq!((cfg.traces_keep(), cfg.warnings().len()), (20, 0));
        assert_eq!(Config::parse("[traces]\nkeep = 0\n", None).traces_keep(), 0);
        for bad in ["keep = -1", "keep = \"many\"", "keep = 2000000"] {
            let cfg = Config::parse(&format!("[traces]\n{bad}\n"), None);
            assert_eq!(cfg.traces_keep(), 500, "{bad}");
            assert_eq!(
                cfg.warnings(),
                [
                    "config.toml: [traces].keep must be a whole number from 0 (keep all) to 1000000; the default 500 is used"
                ]
            );
        }
        let cfg = Config::parse("[traces]\nkept = 3\n", None);
        assert_eq!(
            cfg.warnings(),
            ["config.toml: unknown entry [traces].kept ignored (known: keep)"]
        );
    }

    #[test]
    fn keys_come_from_the_environment_then_the_file() {
        let cfg = Config::parse(
            &format!("[keys]\nopenai = \"{SENTINEL}\"\nGROQ_API_KEY = \"gsk-file-0123456789\"\n"),
            None,
        )
        .with_env([("OPENAI_API_KEY", "sk-env-0123456789")]);
        let openai = |c: &Config| c.key(ProviderKind::Openai, None);
        assert_eq!(
            openai(&cfg),
            KeyLookup::Found(Secret::new("sk-env-0123456789"))
        );
        let cfg = cfg.with_env(Vec::<(String, String)>::new());
        assert_eq!(openai(&cfg), KeyLookup::Found(Secret::new(SENTINEL)));
        // A scenario's own variable: the environment or [keys].<var>, never [keys].openai.
        assert_eq!(
            cfg.key(ProviderKind::OpenaiCompatible, Some("GROQ_API_KEY")),
            KeyLookup::Found(Secret::new("gsk-file-0123456789"))
        );
        assert_eq!(
            cfg.key(ProviderKind::Openai, Some("OTHER_KEY")),
            KeyLookup::Missing {
                var: "OTHER_KEY".into()
            }
        );
        assert_eq!(
            cfg.key(ProviderKind::Anthropic, None),
            KeyLookup::Missing {
                var: "ANTHROPIC_API_KEY".into()
            }
        );
        assert_eq!(
            cfg.key(ProviderKind::OpenaiCompatible, Some(" ")),
            KeyLookup::NotNeeded
        );
        // An empty variable counts as unset.
        let cfg = Config::isolated().with_env([("OPENAI_API_KEY", "  ")]);
        assert!(matches!(openai(&cfg), KeyLookup::Missing { .. }));
    }

    #[test]
    fn the_responses_api_takes_the_openai_key() {
        let responses = |c: &Config| c.key(ProviderKind::OpenaiResponses, None);
        let cfg = Config::isolated().with_env([("OPENAI_API_KEY", "sk-env-0123456789")]);
        assert_eq!(
            responses(&cfg),
            KeyLookup::Found(Secret::new("sk-env-0123456789"))
        );
        let cfg = Config::parse(&format!("[keys]\nopenai = \"{SENTINEL}\"\n"), None)
            .with_env(Vec::<(String, String)>::new());
        assert_eq!(responses(&cfg), KeyLookup::Found(Secret::new(SENTINEL)));
        // Never for a scenario's own variable.
        assert_eq!(
            cfg.key(ProviderKind::OpenaiResponses, Some("OTHER_KEY")),
            KeyLookup::Missing {
                var: "OTHER_KEY".into()
            }
        );
        assert_eq!(
            responses(&Config::isolated().with_env(Vec::<(String, String)>::new())),
            KeyLookup::Missing {
                var: "OPENAI_API_KEY".into()
            }
        );
    }

    #[test]
    fn gemini_reads_google_api_key_first_as_its_sdk_does() {
        let gemini = |c: &Config| c.key(ProviderKind::Gemini, None);
        let both = Config::isolated().with_env([
            ("GEMINI_API_KEY", "gemini-0123456789"),
            ("GOOGLE_API_KEY", "google-0123456789"),
        ]);
        assert_eq!(
            gemini(&both),
            KeyLookup::Found(Secret::new("google-0123456789"))
        );
        let one = Config::isolated().with_env([("GEMINI_API_KEY", "gemini-0123456789")]);
        assert_eq!(
            gemini(&one),
            KeyLookup::Found(Secret::new("gemini-0123456789"))
        );
        let file = Config::isolated().with_key("gemini", "file-0123456789");
        assert_eq!(
            gemini(&file),
            KeyLookup::Found(Secret::new("file-0123456789"))
        );
        assert_eq!(
            gemini(&Config::isolated()),
            KeyLookup::Missing {
                var: "GEMINI_API_KEY".into()
            }
        );
        // A hop's own variable is the only one read.
        assert_eq!(
            both.key(ProviderKind::Gemini, Some("MY_KEY")),
            KeyLookup::Missing {
                var: "MY_KEY".into()
            }
        );
    }

    #[test]
    fn prices_override_the_builtin_table() {
        let cfg = Config::parse(
            "[prices.\"gpt-4o-mini\"]\ninput_per_mtok = 1\noutput_per_mtok = 2.5\n[prices.\"llama3\"]\ninput_per_mtok = 0.0\noutput_per_mtok = 0.0\n",
            None,
        );
        assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
        let t = cfg.prices();
        assert_eq!(t.price("gpt-4o-mini"), Some(Price::new(1.0, 2.5)));
        assert_eq!(t.price("llama3"), Some(Price::new(0.0, 0.0)));
        assert_eq!(t.price("gpt-4o"), Some(Price::new(2.5, 10.0)));
    }

    #[test]
    fn problems_are_warnings_that_never_quote_values() {
        let cases = [
            (format!("[keys]\nopenai = \"{SENTINEL}"), "at line 2"),
            (format!("keys = \"{SENTINEL}\""), "`keys` must be a table"),
            (
                format!("[keys]\nopenai = [\"{SENTINEL}\"]"),
                "[keys].openai must be a string",
            ),
            (
                format!("[prices.\"gpt-4o\"]\ninput_per_mtok = \"{SENTINEL}\""),
                "needs input_per_mtok and output_per_mtok",
            ),
            (
                "[prices.\"m\"]\ninput_per_mtok = -1\noutput_per_mtok = 1".into(),
                ">= 0",
            ),
            (
                format!("[key]\nopenai = \"{SENTINEL}\""),
                "unknown entry `key`",
            ),
            (format!("{SENTINEL} = 1\n=\n"), "config.toml"),
        ];
        for (text, want) in cases {
            let cfg = Config::parse(&text, None);
            let w = cfg.warnings().join("\n");
            assert!(w.contains(want), "{text:?}: {w}");
            assert!(!w.contains("SENTINEL"), "{text:?}: {w}");
            assert!(
                cfg.key_names().is_empty() || text.contains("[key]\n"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn debug_never_shows_a_key() {
        let cfg = Config::parse(&format!("[keys]\nopenai = \"{SENTINEL}\""), None)
            .with_env([("OPENAI_API_KEY", SENTINEL)])
            .with_key("x", SENTINEL);
        let shown = format!(
            "{cfg:?} {:?} {:?}",
            cfg.key(ProviderKind::Openai, None),
            Secret::new(SENTINEL)
        );
        assert!(!shown.contains("SENTINEL"), "{shown}");
        assert!(shown.contains("openai"), "{shown}");
    }

    #[test]
    fn files_load_from_the_dir_and_warn_when_others_can_read_keys() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Config::load_from(dir.path());
        assert!(missing.warnings().is_empty());
        assert!(missing.key_names().is_empty());
        assert_eq!(missing.path(), Some(dir.path().join(FILE_NAME).as_path()));
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, format!("[keys]\nanthropic = \"{SENTINEL}\"\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let cfg = Config::load_from(dir.path());
            assert_eq!(cfg.key_names(), vec!["anthropic"]);
            let w = cfg.warnings().join("\n");
            assert!(w.contains("readable by other users (mode 644)"), "{w}");
            assert!(w.contains("chmod 600"), "{w}");
            assert!(!w.contains("SENTINEL"));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
            assert!(Config::load_from(dir.path()).warnings().is_empty());
            // Prices alone are no secret.
            std::fs::write(
                &path,
                "[prices.m]\ninput_per_mtok = 1\noutput_per_mtok = 1\n",
            )
            .unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(Config::load_from(dir.path()).warnings().is_empty());
        }
    }
}
