//! The choices the playground remembers between sessions: the theme (F4) and the speed (F3),
//! in `prefs.toml` in the config dir. Written atomically on each change; read once at start,
//! bounded; a broken file is ignored with a notice (and replaced at the next change).

use crate::clock::Speed;
use crate::scenario::userfile::{ReadError, read_user_file};
use std::io;
use std::path::Path;

/// The most a prefs file may hold (two short lines are expected).
pub const PREFS_MAX_BYTES: u64 = 16 << 10;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prefs {
    pub theme: Option<String>,
    pub speed: Option<Speed>,
}

impl Prefs {
    /// Reads `path`: empty when it does not exist; the error is the notice to show.
    pub fn read(path: &Path) -> Result<Prefs, String> {
        let text = match read_user_file(path, PREFS_MAX_BYTES) {
            Ok(t) => t,
            Err(ReadError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Prefs::default());
            }
            Err(e) => return Err(format!("preferences ignored: {}: {e}", path.display())),
        };
        Prefs::parse(&text).map_err(|e| format!("preferences ignored: {}: {e}", path.display()))
    }

    /// `theme = "mono"` and `speed = "10x"`; unknown keys are left alone (a newer version's).
    pub fn parse(text: &str) -> Result<Prefs, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
        let text_of = |key: &str| match table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`{key}` must be a string")),
        };
        let theme = text_of("theme")?;
        let speed = text_of("speed")?.map(|s| Speed::parse(&s)).transpose()?;
        Ok(Prefs { theme, speed })
    }

    pub fn to_toml(&self) -> String {
        let mut out =
            String::from("# Remembered by the retrylab playground (F3 speed, F4 theme).\n");
        if let Some(t) = &self.theme {
            out.push_str(&format!("theme = {}\n", toml::Value::String(t.clone())));
        }
        if let Some(s) = self.speed {
            out.push_str(&format!("speed = \"{}\"\n", s.label()));
        }
        out
    }

    pub fn write(&self, path: &Path) -> io::Result<()> {
        super::write_atomic(path, &self.to_toml())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefs_round_trip_and_a_broken_file_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prefs.toml");
        assert_eq!(Prefs::read(&path), Ok(Prefs::default()));
        let p = Prefs {
            theme: Some("mono \"x\"".into()),
            speed: Some(Speed::Times(10.0)),
        };
        p.write(&path).unwrap();
        assert_eq!(Prefs::read(&path), Ok(p));
        std::fs::write(&path, "speed = \"warp\"\n").unwrap();
        assert!(Prefs::read(&path).unwrap_err().contains("speed `warp`"));
        std::fs::write(&path, "theme = 3\n").unwrap();
        assert!(
            Prefs::read(&path)
                .unwrap_err()
                .contains("`theme` must be a string")
        );
        std::fs::write(&path, "x".repeat(PREFS_MAX_BYTES as usize + 1)).unwrap();
        assert!(
            Prefs::read(&path)
                .unwrap_err()
                .starts_with("preferences ignored")
        );
    }
}
