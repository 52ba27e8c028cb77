//! Themes by meaning: a theme maps each [`Meaning`] (attempt, wait, error, reinserted,
//! fallback, success, muted, ...) to a style. The defaults are the `themes/*.toml` files,
//! embedded; files in the user's config dir overlay them key by key. A meaning a theme leaves
//! out falls back to a related one, so new meanings never break old themes.

use crate::scenario::userfile::{MAX_USER_FILE, read_user_file};
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

/// The embedded themes, in the order F4 cycles through them.
pub const BUILTIN: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

macro_rules! meanings {
    ($($variant:ident = $name:literal => $fallback:expr),* $(,)?) => {
        /// What a piece of the screen means; themes colour meanings, never widgets.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Meaning { $($variant),* }

        impl Meaning {
            pub const ALL: &'static [Meaning] = &[$(Meaning::$variant),*];

            pub fn name(self) -> &'static str {
                match self { $(Meaning::$variant => $name),* }
            }

            /// The meaning to use when a theme does not set this one.
            fn fallback(self) -> Option<Meaning> {
                match self { $(Meaning::$variant => $fallback),* }
            }
        }
    };
}

meanings! {
    Text = "text" => None,
    Muted = "muted" => Some(Meaning::Text),
    Title = "title" => Some(Meaning::Text),
    Border = "border" => Some(Meaning::Muted),
    Focus = "focus" => Some(Meaning::Title),
    Key = "key" => Some(Meaning::Focus),
    Attempt = "attempt" => Some(Meaning::Text),
    Running = "running" => Some(Meaning::Attempt),
    Wait = "wait" => Some(Meaning::Text),
    WaitTrack = "wait_track" => Some(Meaning::Muted),
    Error = "error" => Some(Meaning::Text),
    Warning = "warning" => Some(Meaning::Error),
    Reinserted = "reinserted" => Some(Meaning::Text),
    ReinsertedText = "reinserted_text" => Some(Meaning::Reinserted),
    Fallback = "fallback" => Some(Meaning::Text),
    Success = "success" => Some(Meaning::Text),
    Selection = "selection" => None,
    StatusBar = "status_bar" => Some(Meaning::Text),
    ModeSim = "mode_sim" => Some(Meaning::Success),
    ModeLive = "mode_live" => Some(Meaning::Error),
    ErrorLine = "error_line" => Some(Meaning::Error),
    LineNumber = "line_number" => Some(Meaning::Muted),
    CursorLine = "cursor_line" => Some(Meaning::Text),
    Overlay = "overlay" => Some(Meaning::Text),
    // The Lab view's compared policies (each also has its own marker) and the best value.
    Series1 = "series_1" => Some(Meaning::Attempt),
    Series2 = "series_2" => Some(Meaning::Fallback),
    Series3 = "series_3" => Some(Meaning::Wait),
    Best = "best" => Some(Meaning::Success),
}

impl FromStr for Meaning {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Meaning::ALL
            .iter()
            .copied()
            .find(|m| m.name() == s)
            .ok_or(())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{origin}: {message}")]
pub struct ThemeError {
    pub origin: String,
    pub message: String,
}

/// A style as written in a theme file.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum StyleSpec {
    Color(String),
    Table(StyleTable),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleTable {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    dim: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    #[serde(default)]
    styles: BTreeMap<String, StyleSpec>,
}

/// A resolved theme.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    set: BTreeMap<Meaning, Style>,
}

impl Theme {
    /// The style for a meaning, following fallbacks; plain when nothing is set.
    pub fn style(&self, m: Meaning) -> Style {
        let mut cur = Some(m);
        while let Some(c) = cur {
            if let Some(s) = self.set.get(&c) {
                return *s;
            }
            cur = c.fallback();
        }
        if m == Meaning::Selection {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        }
    }

    /// Parses a theme file (`name` defaults to `fallback_name`).
    pub fn parse(source: &str, origin: &str, fallback_name: &str) -> Result<Theme, ThemeError> {
        let err = |message: String| ThemeError {
            origin: origin.to_string(),
            message,
        };
        let file: ThemeFile = toml::from_str(source).map_err(|e| err(one_line(&e)))?;
        let mut set = BTreeMap::new();
        for (key, spec) in file.styles {
            let m = Meaning::from_str(&key).map_err(|()| {
                let known: Vec<&str> = Meaning::ALL.iter().map(|m| m.name()).collect();
                err(format!(
                    "unknown meaning `{key}`; known: {}",
                    known.join(", ")
                ))
            })?;
            set.insert(m, to_style(&spec).map_err(|e| err(format!("{key}: {e}")))?);
        }
        Ok(Theme {
            name: file.name.unwrap_or_else(|| fallback_name.to_string()),
            set,
        })
    }

    /// `self` with every meaning `top` sets replaced.
    fn overlaid(&self, top: &Theme) -> Theme {
        let mut set = self.set.clone();
        set.extend(top.set.iter().map(|(k, v)| (*k, *v)));
        Theme {
            name: top.name.clone(),
            set,
        }
    }
}

fn one_line(e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => format!("{msg} (at byte {})", span.start),
        None => msg,
    }
}

fn color(name: &str) -> Result<Color, String> {
    Color::from_str(name).map_err(|_| {
        format!("`{name}` is not a colour (a name like red or darkgray, \"#rrggbb\", or 0-255)")
    })
}

fn to_style(spec: &StyleSpec) -> Result<Style, String> {
    match spec {
        StyleSpec::Color(c) => Ok(Style::new().fg(color(c)?)),
        StyleSpec::Table(t) => {
            let mut s = Style::new();
            if let Some(fg) = &t.fg {
                s = s.fg(color(fg)?);
            }
            if let Some(bg) = &t.bg {
                s = s.bg(color(bg)?);
            }
            for (on, m) in [
                (t.bold, Modifier::BOLD),
                (t.italic, Modifier::ITALIC),
                (t.underline, Modifier::UNDERLINED),
                (t.reversed, Modifier::REVERSED),
                (t.dim, Modifier::DIM),
            ] {
                if on {
                    s = s.add_modifier(m);
                }
            }
            Ok(s)
        }
    }
}

/// Every available theme: the embedded ones, overlaid and extended by the user's files.
#[derive(Debug, Clone)]
pub struct ThemeSet {
    pub themes: Vec<Theme>,
}

impl ThemeSet {
    /// The embedded themes only.
    pub fn builtin() -> ThemeSet {
        let themes = BUILTIN
            .iter()
            .filter_map(|(name, src)| Theme::parse(src, name, name).ok())
            .collect::<Vec<_>>();
        ThemeSet { themes }
    }

    /// The embedded themes plus `dir/*.toml`. A bad user file is reported and skipped, never
    /// fatal.
    pub fn load(dir: Option<&Path>) -> (ThemeSet, Vec<ThemeError>) {
        let mut set = ThemeSet::builtin();
        let mut errors = Vec::new();
        let Some(dir) = dir else {
            return (set, errors);
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return (set, errors);
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let origin = path.display().to_string();
            let parsed = read_user_file(&path, MAX_USER_FILE)
                .map_err(|e| ThemeError {
                    origin: origin.clone(),
                    message: e.to_string(),
                })
                .and_then(|src| Theme::parse(&src, &origin, &stem));
            match parsed {
                Ok(user) => set.add_user(user),
                Err(e) => errors.push(e),
            }
        }
        (set, errors)
    }

    fn add_user(&mut self, user: Theme) {
        if let Some(t) = self.themes.iter_mut().find(|t| t.name == user.name) {
            *t = t.overlaid(&user);
        } else {
            let base = self.themes.first().cloned().unwrap_or(Theme {
                name: String::new(),
                set: BTreeMap::new(),
            });
            self.themes.push(base.overlaid(&user));
        }
    }

    #[cfg(any(test, feature = "test-util"))]
    pub fn names(&self) -> Vec<&str> {
        self.themes.iter().map(|t| t.name.as_str()).collect()
    }

    pub fn get(&self, name: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.name == name)
    }

    /// The theme to start with: `mono` under NO_COLOR, else `preferred` if it exists, else
    /// the first (dark).
    pub fn initial(&self, no_color: bool, preferred: Option<&str>) -> Theme {
        let pick = if no_color { Some("mono") } else { preferred };
        pick.and_then(|n| self.get(n))
            .or_else(|| self.themes.first())
            .cloned()
            .unwrap_or(Theme {
                name: "plain".into(),
                set: BTreeMap::new(),
            })
    }

    /// The theme after `current` in cycling order.
    pub fn next_after(&self, current: &str) -> Option<&Theme> {
        let i = self.themes.iter().position(|t| t.name == current)?;
        self.themes.get((i + 1) % self.themes.len())
    }
}

/// True when the NO_COLOR convention asks for no colour (set and non-empty).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_theme_parses_and_sets_every_meaning() {
        for (name, src) in BUILTIN {
            let t = Theme::parse(src, name, name).unwrap();
            assert_eq!(t.name, name);
            for m in Meaning::ALL {
                assert!(t.set.contains_key(m), "{name} leaves out {}", m.name());
            }
        }
        assert_eq!(ThemeSet::builtin().themes.len(), BUILTIN.len());
    }

    #[test]
    fn mono_uses_no_colour() {
        let t = ThemeSet::builtin().get("mono").unwrap().clone();
        for m in Meaning::ALL {
            let s = t.style(*m);
            assert_eq!(s.fg, None, "{}", m.name());
            assert_eq!(s.bg, None, "{}", m.name());
        }
    }

    #[test]
    fn missing_meanings_fall_back() {
        let t = Theme::parse("[styles]\nattempt = \"blue\"\n", "t", "t").unwrap();
        assert_eq!(t.style(Meaning::Running).fg, Some(Color::Blue));
        assert_eq!(t.style(Meaning::Wait), Style::new());
        assert!(
            t.style(Meaning::Selection)
                .add_modifier
                .contains(Modifier::REVERSED)
        );
    }

    #[test]
    fn bad_theme_files_say_why() {
        let e = Theme::parse("[styles]\nerorr = \"red\"\n", "x.toml", "x").unwrap_err();
        assert!(e.message.contains("unknown meaning `erorr`"), "{e}");
        let e = Theme::parse("[styles]\nerror = \"redd\"\n", "x.toml", "x").unwrap_err();
        assert!(e.message.contains("`redd` is not a colour"), "{e}");
        let e = Theme::parse(
            "[styles]\nerror = { fg = \"red\", blink = true }\n",
            "x",
            "x",
        );
        assert!(e.is_err());
        let e = Theme::parse("[styles\n", "x", "x").unwrap_err();
        assert_eq!(e.origin, "x");
    }

    #[test]
    fn user_files_overlay_and_extend() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("dark.toml"),
            "[styles]\nerror = \"#ff0000\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("solar.toml"),
            "name = \"solar\"\n[styles]\nwait = \"#b58900\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.toml"), "[styles]\nnope = 1\n").unwrap();
        let (set, errors) = ThemeSet::load(Some(dir.path()));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].origin.ends_with("broken.toml"));
        let dark = set.get("dark").unwrap();
        assert_eq!(dark.style(Meaning::Error).fg, Some(Color::Rgb(255, 0, 0)));
        assert_eq!(dark.style(Meaning::Wait).fg, Some(Color::Yellow));
        let solar = set.get("solar").unwrap();
        assert_eq!(
            solar.style(Meaning::Wait).fg,
            Some(Color::Rgb(0xb5, 0x89, 0))
        );
        assert_eq!(solar.style(Meaning::Success).fg, Some(Color::Green));
        assert_eq!(set.next_after("mono").unwrap().name, "solar");
        assert_eq!(set.next_after("solar").unwrap().name, "dark");
    }

    #[test]
    fn no_color_starts_mono() {
        let set = ThemeSet::builtin();
        assert_eq!(set.initial(true, Some("light")).name, "mono");
        assert_eq!(set.initial(false, Some("light")).name, "light");
        assert_eq!(set.initial(false, None).name, "dark");
        assert_eq!(set.initial(false, Some("nope")).name, "dark");
    }
}
