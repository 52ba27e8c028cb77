//! Runs recorded as JSONL traces (one event per line) in the data dir, and read back for
//! replay. Events never carry keys (they are headers, not bodies), so a trace holds none.
//!
//! Written whole lines at a time and flushed whenever the run's event queue runs dry (and
//! at least every [`FLUSH_EVERY`]), so a killed run leaves every event but the last
//! moments' on disk. Read back as a stream, line by line, each line at most
//! [`LINE_MAX`] bytes: a trace of any size replays in bounded memory, and a trace cut
//! short (a killed run, a full disk) replays up to its last complete line.

use crate::event::TimedEvent;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The longest trace line read back (a whole answer fits: replies are capped well below).
pub const LINE_MAX: usize = 64 << 20;
/// A busy run's trace reaches the disk at least this often.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);

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
    #[error(
        "{path}:{line}: the line is longer than {} MiB; not a trace this version can replay",
        LINE_MAX >> 20
    )]
    LineTooLong { path: String, line: usize },
}

/// The one-line warning when a run's trace cannot be created (the run goes on).
pub fn create_warning(dir: &Path, e: &io::Error) -> String {
    format!(
        "the run is not recorded: cannot create a trace in {}: {e}; set RETRYLAB_DATA_DIR to a \
         writable folder, or pass --no-trace",
        dir.display()
    )
}

/// The one-line warning when writing a run's trace fails midway (the run goes on).
pub fn write_warning(path: &Path, e: &io::Error) -> String {
    let hint = if e.raw_os_error() == Some(28) {
        "free some space or set RETRYLAB_DATA_DIR to another disk"
    } else {
        "set RETRYLAB_DATA_DIR to a writable folder"
    };
    format!(
        "the trace {} stops here: {e}; {hint}, or pass --no-trace",
        path.display()
    )
}

pub use crate::dirs::traces_dir;

/// The longest scenario slug in a trace file name (ASCII, so also bytes).
const SLUG_MAX: usize = 60;

/// Writes one run's events as they come.
pub struct TraceWriter {
    path: PathBuf,
    out: BufWriter<File>,
    last_flush: Instant,
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
        let out = BufWriter::with_capacity(64 << 10, File::create(&path)?);
        Ok(TraceWriter {
            path,
            out,
            last_flush: Instant::now(),
        })
    }

    /// Writes one event as one line, in one piece: the buffer reaches the file only between
    /// lines, so the file always ends with a whole line (unless the disk itself fails
    /// midway, which replay tolerates). The caller flushes when its queue is empty; a busy
    /// run is flushed here at least every [`FLUSH_EVERY`], and at its end.
    pub fn write(&mut self, ev: &TimedEvent) -> io::Result<()> {
        let mut line = ev.to_json_line();
        line.push('\n');
        self.out.write_all(line.as_bytes())?;
        if matches!(ev.event, crate::event::Event::RunFinished(_))
            || self.last_flush.elapsed() >= FLUSH_EVERY
        {
            self.flush()?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.last_flush = Instant::now();
        self.out.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(any(test, feature = "test-util"))]
/// Reads a trace back whole; blank lines are skipped, any other bad line is an error naming
/// it, except a last line cut short, which is left out (see [`TraceReader`]).
pub fn read_trace(path: &Path) -> Result<Vec<TimedEvent>, TraceError> {
    read_trace_bounded(path, u64::MAX).map(|r| r.events)
}

/// A trace read into memory, perhaps not all of it.
#[derive(Debug)]
pub struct ReadTrace {
    pub events: Vec<TimedEvent>,
    /// What was left out and why (a cut last line, the size bound), for the user.
    pub notes: Vec<String>,
}

/// Reads at most `max_bytes` of a trace's lines (the playground keeps its replay in memory).
pub fn read_trace_bounded(path: &Path, max_bytes: u64) -> Result<ReadTrace, TraceError> {
    let mut reader = TraceReader::open(path)?;
    let mut events = Vec::new();
    let mut notes = Vec::new();
    while let Some(ev) = reader.next() {
        events.push(ev?);
        if reader.bytes_read() > max_bytes {
            notes.push(format!(
                "only the first {} events ({} MiB) of the trace are replayed here; `retrylab replay --print` shows it all",
                events.len(),
                max_bytes >> 20
            ));
            break;
        }
    }
    if events.is_empty() {
        return Err(TraceError::Empty {
            path: path.display().to_string(),
        });
    }
    notes.extend(reader.note());
    Ok(ReadTrace { events, notes })
}

/// A trace as a stream of events, one line at a time (memory: the longest line).
pub struct TraceReader {
    shown: String,
    input: BufReader<File>,
    buf: Vec<u8>,
    line: usize,
    bytes: u64,
    done: bool,
    /// The number of the last complete line, when the line after it was cut short.
    cut_after: Option<usize>,
}

impl TraceReader {
    pub fn open(path: &Path) -> Result<TraceReader, TraceError> {
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|source| TraceError::Io {
            path: shown.clone(),
            source,
        })?;
        Ok(TraceReader {
            shown,
            input: BufReader::with_capacity(64 << 10, file),
            buf: Vec::new(),
            line: 0,
            bytes: 0,
            done: false,
            cut_after: None,
        })
    }

    /// The number of the last line read (blank ones included): where the last event was.
    pub fn line(&self) -> usize {
        self.line
    }

    /// Bytes of lines read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Said once the stream ended: where a cut-short trace stopped.
    pub fn note(&self) -> Option<String> {
        self.cut_after
            .map(|n| format!("the trace ends after line {n}: incomplete line ignored"))
    }

    fn bad(&self, message: String) -> TraceError {
        TraceError::Parse {
            path: self.shown.clone(),
            line: self.line,
            message,
        }
    }
}

impl Iterator for TraceReader {
    type Item = Result<TimedEvent, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buf.clear();
            if self.buf.capacity() > 1 << 20 {
                // Do not keep a huge line's buffer for the small ones after it.
                self.buf = Vec::new();
            }
            let cap = LINE_MAX as u64 + 1;
            let n = match (&mut self.input).take(cap).read_until(b'\n', &mut self.buf) {
                Ok(n) => n,
                Err(source) => {
                    self.done = true;
                    return Some(Err(TraceError::Io {
                        path: self.shown.clone(),
                        source,
                    }));
                }
            };
            if n == 0 {
                self.done = true;
                break;
            }
            self.line += 1;
            self.bytes += n as u64;
            let whole = self.buf.last() == Some(&b'\n');
            if !whole && self.buf.len() > LINE_MAX {
                self.done = true;
                return Some(Err(TraceError::LineTooLong {
                    path: self.shown.clone(),
                    line: self.line,
                }));
            }
            let bytes = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
            // Bytes first, so a line that is not UTF-8 is named like any other bad line.
            let parsed = match std::str::from_utf8(bytes) {
                Err(e) => Err(format!("not UTF-8 text ({e})")),
                Ok(text) if text.trim().is_empty() => continue,
                // serde repeats a wrong value whole: a crafted line could make a huge message.
                Ok(text) => TimedEvent::from_json_line(text)
                    .map_err(|e| crate::provider::classify::snippet(&e.to_string())),
            };
            return match parsed {
                Ok(ev) => Some(Ok(ev)),
                // The last line, without its newline and not an event: a run cut short.
                Err(_) if !whole => {
                    self.done = true;
                    self.cut_after = Some(self.line - 1);
                    None
                }
                Err(message) => {
                    self.done = true;
                    Some(Err(self.bad(message)))
                }
            };
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Mode, RunStarted};

    #[test]
    fn bad_lines_are_named_and_quoted_short() {
        let dir = tempfile::tempdir().unwrap();
        let good = TimedEvent {
            t_ms: 0,
            event: Event::RunStarted(RunStarted {
                scenario: "x".into(),
                mode: Mode::Sim,
                speed: "1x".into(),
            }),
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
            event: Event::RunStarted(RunStarted {
                scenario: "x".into(),
                mode: Mode::Sim,
                speed: "max".into(),
            }),
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

    fn started() -> TimedEvent {
        TimedEvent {
            t_ms: 0,
            event: Event::RunStarted(RunStarted {
                scenario: "x".into(),
                mode: Mode::Sim,
                speed: "max".into(),
            }),
        }
    }

    #[test]
    fn a_cut_last_line_is_left_out_and_said() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        let line = started().to_json_line();
        std::fs::write(&p, format!("{line}\n{line}\n{}", &line[..10])).unwrap();
        let r = read_trace_bounded(&p, u64::MAX).unwrap();
        assert_eq!(r.events.len(), 2);
        assert_eq!(
            r.notes,
            vec!["the trace ends after line 2: incomplete line ignored".to_string()]
        );
        // A last line without its newline that is whole is an event like any other.
        std::fs::write(&p, format!("{line}\n{line}")).unwrap();
        let r = read_trace_bounded(&p, u64::MAX).unwrap();
        assert_eq!((r.events.len(), r.notes.len()), (2, 0));
        // A bad line before the end is still an error naming it.
        std::fs::write(&p, format!("{line}\n{}\n{line}\n", &line[..10])).unwrap();
        let e = read_trace(&p).unwrap_err().to_string();
        assert!(e.contains(":2: not a retrylab event"), "{e}");
    }

    #[test]
    fn the_playgrounds_read_is_bounded_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        let line = started().to_json_line() + "\n";
        std::fs::write(&p, line.repeat(100)).unwrap();
        let r = read_trace_bounded(&p, 10 * line.len() as u64).unwrap();
        assert_eq!(r.events.len(), 11);
        assert!(
            r.notes[0].starts_with("only the first 11 events"),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn every_line_is_on_disk_after_a_flush_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = TraceWriter::create(dir.path(), "x").unwrap();
        for _ in 0..3 {
            w.write(&started()).unwrap();
        }
        // Nothing is flushed yet (no run_finished, well within FLUSH_EVERY) ...
        assert_eq!(std::fs::metadata(w.path()).unwrap().len(), 0);
        // ... until the caller's queue is empty.
        w.flush().unwrap();
        let text = std::fs::read_to_string(w.path()).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with('\n'));
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
