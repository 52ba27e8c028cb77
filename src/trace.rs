//! Runs recorded as JSONL traces (one event per line) in the data dir, and read back for
//! replay. Events never carry keys (they are headers, not bodies), so a trace holds none.

use crate::event::TimedEvent;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot read trace {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path}:{line}: not a retrylab event ({message}); is this a trace written by `retrylab run`?"
    )]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: the trace holds no events")]
    Empty { path: String },
}

/// `$RETRYLAB_DATA_DIR`, else the platform data dir (e.g. ~/.local/share/retrylab).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("RETRYLAB_DATA_DIR") {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("", "", "retrylab").map(|p| p.data_dir().to_path_buf())
}

/// Where traces go: `<data dir>/traces`.
pub fn traces_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("traces"))
}

/// The longest scenario slug in a trace file name (ASCII, so also bytes).
const SLUG_MAX: usize = 60;

/// Writes one run's events as they come.
pub struct TraceWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl TraceWriter {
    /// Creates `<dir>/<timestamp>-<scenario>.jsonl` (the dir too).
    pub fn create(dir: &Path, scenario_name: &str) -> io::Result<TraceWriter> {
        std::fs::create_dir_all(dir)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let slug: String = scenario_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>()
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        // File names are limited (255 bytes on most file systems): keep the slug short.
        let slug = match slug.char_indices().nth(SLUG_MAX) {
            Some((cut, _)) => slug[..cut].trim_end_matches('-').to_string(),
            None => slug,
        };
        let slug = if slug.is_empty() {
            "run".to_string()
        } else {
            slug
        };
        let mut path = dir.join(format!("{stamp}-{slug}.jsonl"));
        let mut n = 1;
        while path.exists() {
            n += 1;
            path = dir.join(format!("{stamp}-{slug}-{n}.jsonl"));
        }
        let out = BufWriter::new(File::create(&path)?);
        Ok(TraceWriter { path, out })
    }

    pub fn write(&mut self, ev: &TimedEvent) -> io::Result<()> {
        self.out.write_all(ev.to_json_line().as_bytes())?;
        self.out.write_all(b"\n")?;
        // Flush at the end of a run so a killed process still leaves a readable trace.
        if matches!(ev.event, crate::event::Event::RunFinished { .. }) {
            self.out.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads a trace back; blank lines are skipped, any other bad line is an error naming it.
pub fn read_trace(path: &Path) -> Result<Vec<TimedEvent>, TraceError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|source| TraceError::Io {
        path: shown.clone(),
        source,
    })?;
    let mut events = Vec::new();
    for (i, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line = line.map_err(|source| TraceError::Io {
            path: shown.clone(),
            source,
        })?;
        let bad = |message: String| TraceError::Parse {
            path: shown.clone(),
            line: i + 1,
            message,
        };
        // Bytes first, so a line that is not UTF-8 is named like any other bad line.
        let line = std::str::from_utf8(&line).map_err(|e| bad(format!("not UTF-8 text ({e})")))?;
        if line.trim().is_empty() {
            continue;
        }
        // serde repeats a wrong value whole: a crafted line could make a huge message.
        let ev = TimedEvent::from_json_line(line)
            .map_err(|e| bad(crate::provider::classify::snippet(&e.to_string())))?;
        events.push(ev);
    }
    if events.is_empty() {
        return Err(TraceError::Empty { path: shown });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Mode};

    #[test]
    fn bad_lines_are_named_and_quoted_short() {
        let dir = tempfile::tempdir().unwrap();
        let good = TimedEvent {
            t_ms: 0,
            event: Event::RunStarted {
                scenario: "x".into(),
                mode: Mode::Sim,
                speed: "1x".into(),
            },
        }
        .to_json_line();
        // Not UTF-8 on line 2: the line is named, as for any other bad line.
        let path = dir.path().join("binary.jsonl");
        std::fs::write(&path, [good.as_bytes(), b"\n{\"t_ms\": 1\xff}\n"].concat()).unwrap();
        match read_trace(&path) {
            Err(TraceError::Parse { line, message, .. }) => {
                assert_eq!(line, 2);
                assert!(message.contains("UTF-8"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // A huge wrong value is not repeated whole in the message.
        let path = dir.path().join("huge.jsonl");
        let huge = format!("{{\"t_ms\": \"{}\"}}\n", "x".repeat(1 << 20));
        std::fs::write(&path, huge).unwrap();
        let e = read_trace(&path).unwrap_err();
        assert!(e.to_string().len() < 1_000, "{} bytes", e.to_string().len());
    }

    #[test]
    fn a_very_long_scenario_name_still_gives_a_trace_file() {
        // File names are limited (255 bytes on most file systems).
        let dir = tempfile::tempdir().unwrap();
        let name = "Retry ".repeat(100);
        let w = TraceWriter::create(dir.path(), &name).unwrap();
        let file = w.path().file_name().unwrap().to_string_lossy().into_owned();
        assert!(file.len() < 120, "{file}");
        assert!(file.contains("retry-retry"), "{file}");
    }

    #[test]
    fn writes_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = TraceWriter::create(dir.path(), "Fallback with retries!").unwrap();
        let ev = TimedEvent {
            t_ms: 0,
            event: Event::RunStarted {
                scenario: "x".into(),
                mode: Mode::Sim,
                speed: "max".into(),
            },
        };
        w.write(&ev).unwrap();
        w.flush().unwrap();
        assert!(
            w.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .ends_with("-fallback-with-retries.jsonl")
        );
        assert_eq!(read_trace(w.path()).unwrap(), vec![ev]);
    }

    #[test]
    fn bad_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        std::fs::write(
            &p,
            "{\"t_ms\":0,\"event\":\"wait_finished\",\"hop\":0,\"attempt\":1}\n<html>\n",
        )
        .unwrap();
        let e = read_trace(&p).unwrap_err().to_string();
        assert!(e.contains(":2: not a retrylab event"), "{e}");
        std::fs::write(&p, "\n").unwrap();
        assert!(matches!(read_trace(&p), Err(TraceError::Empty { .. })));
        assert!(matches!(
            read_trace(&dir.path().join("none")),
            Err(TraceError::Io { .. })
        ));
    }
}
