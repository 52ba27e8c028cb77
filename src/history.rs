//! The recorded runs on disk (`<data dir>/traces`): listed newest first with a summary read
//! in one bounded pass over each file, found by name, unique prefix or "the last one", and
//! pruned to a count without ever touching the newest.
//!
//! A trace is named `<unix ms>-<scenario slug>[-n].jsonl` by [`crate::trace::TraceWriter`].
//! The summary reads only each line's first bytes: every line starts
//! `{"t_ms":N,"event":"NAME"`, and `run_finished` goes on `,"outcome":"ok"` (the event
//! JSON's field order, DESIGN §5), so a trace of any size is summed up in bounded memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many traces are kept when `[traces].keep` is not set.
pub const DEFAULT_KEEP: usize = 500;
/// The most trace files looked at in a folder.
pub const LIST_MAX: usize = 100_000;
/// The most bytes of one trace read for its summary; past it the summary is partial.
pub const SUMMARY_MAX_BYTES: u64 = 256 << 20;
/// The first line (`run_started`) is parsed whole only up to this size.
const FIRST_LINE_MAX: usize = 64 << 10;
/// Bytes of each line kept for the summary.
const PREFIX: usize = 96;

/// A trace file in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceFile {
    pub path: PathBuf,
    /// The file name (what `retrylab replay NAME` takes).
    pub name: String,
    /// When the run started (from the name), if the name carries it.
    pub started: Option<SystemTime>,
    /// The scenario slug of a name retrylab wrote (`<ms>-<slug>.jsonl`), else None: only
    /// those are ever pruned.
    pub slug: Option<String>,
}

/// What a trace holds, read from the lines' beginnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub scenario: Option<String>,
    /// `ok`, `error`, `cancelled`, or None for a run that never finished (killed).
    pub outcome: Option<String>,
    pub attempts: u32,
    /// The run's length on its own clock (`t_ms` of the last event).
    pub run_ms: u64,
    /// The file was longer than [`SUMMARY_MAX_BYTES`]: the counts are of its start.
    pub partial: bool,
}

impl Summary {
    /// The outcome in words: `unfinished` for a run that never finished (killed), `?` when
    /// the trace was not read to its end.
    pub fn outcome_label(&self) -> &str {
        match (&self.outcome, self.partial) {
            (Some(o), _) => o,
            (None, true) => "?",
            (None, false) => "unfinished",
        }
    }

    /// The attempts counted, `≥` when the trace was not read to its end.
    pub fn attempts_label(&self) -> String {
        format!("{}{}", if self.partial { "≥" } else { "" }, self.attempts)
    }
}

/// `<unix ms>-<slug>.jsonl` as [`crate::trace::TraceWriter`] names a trace: (start, slug).
fn parse_name(name: &str) -> Option<(SystemTime, String)> {
    let (stamp, rest) = name.strip_suffix(".jsonl")?.split_once('-')?;
    if stamp.is_empty() || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ours = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let started = UNIX_EPOCH.checked_add(Duration::from_millis(stamp.parse().ok()?))?;
    ours.then(|| (started, rest.to_string()))
}

/// The `*.jsonl` files in `dir` (regular files, not links), newest first by the time in
/// the name; and whether there were more than [`LIST_MAX`] (then the list is a sample).
fn list_all(dir: &Path) -> (Vec<TraceFile>, bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (Vec::new(), false);
    };
    let mut files = entries.filter_map(Result::ok).filter_map(|e| {
        let name = e.file_name().into_string().ok()?;
        if !name.ends_with(".jsonl") || !e.file_type().ok()?.is_file() {
            return None;
        }
        let parsed = parse_name(&name);
        Some(TraceFile {
            started: parsed.as_ref().map(|p| p.0),
            slug: parsed.map(|p| p.1),
            path: e.path(),
            name,
        })
    });
    let mut v: Vec<TraceFile> = files.by_ref().take(LIST_MAX).collect();
    let truncated = files.next().is_some();
    v.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| b.name.cmp(&a.name)));
    (v, truncated)
}

/// The traces in `dir`, newest first (by the time in the name, then the name).
pub fn list(dir: &Path) -> Vec<TraceFile> {
    list_all(dir).0
}

/// Why a trace name did not resolve.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FindError {
    #[error("no recorded runs in {0}; run one first (`retrylab run NAME`)")]
    NoTraces(String),
    #[error("no trace named `{wanted}` in {dir}; `retrylab traces` lists them")]
    NotFound { wanted: String, dir: String },
    #[error("`{wanted}` names {count} traces ({examples}); give more of the name")]
    Ambiguous {
        wanted: String,
        count: usize,
        examples: String,
    },
}

/// The trace `wanted` names in `dir`, tried in this order: a whole file name (with or
/// without `.jsonl`); the one file name it starts; a scenario's slug (`basic-retry`, or a
/// second run's `basic-retry-2`): its newest run; a prefix of one scenario's slug: that
/// scenario's newest run. Anything matching two or more is ambiguous.
pub fn find(dir: &Path, wanted: &str) -> Result<PathBuf, FindError> {
    let all = list(dir);
    if all.is_empty() {
        return Err(FindError::NoTraces(dir.display().to_string()));
    }
    let bare = wanted.strip_suffix(".jsonl").unwrap_or(wanted);
    if let Some(t) = all.iter().find(|t| t.name == format!("{bare}.jsonl")) {
        return Ok(t.path.clone());
    }
    let ambiguous = |hits: Vec<&str>, count: usize| FindError::Ambiguous {
        wanted: wanted.to_string(),
        count,
        examples: hits.iter().take(3).copied().collect::<Vec<_>>().join(", "),
    };
    let by_name: Vec<&TraceFile> = all.iter().filter(|t| t.name.starts_with(bare)).collect();
    match by_name.as_slice() {
        [one] => return Ok(one.path.clone()),
        [] => {}
        many => {
            let names = many.iter().map(|t| t.name.as_str()).collect();
            return Err(ambiguous(names, many.len()));
        }
    }
    // A scenario: the list is newest first, so the first hit is its newest run.
    let same_scenario = |slug: &str| {
        slug == bare
            || slug
                .strip_prefix(bare)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    if let Some(t) = all
        .iter()
        .find(|t| t.slug.as_deref().is_some_and(same_scenario))
    {
        return Ok(t.path.clone());
    }
    let by_slug: Vec<&TraceFile> = all
        .iter()
        .filter(|t| t.slug.as_deref().is_some_and(|s| s.starts_with(bare)))
        .collect();
    let mut slugs: Vec<&str> = by_slug.iter().filter_map(|t| t.slug.as_deref()).collect();
    slugs.sort_unstable();
    slugs.dedup();
    match (by_slug.first(), slugs.len()) {
        (None, _) => Err(FindError::NotFound {
            wanted: wanted.to_string(),
            dir: dir.display().to_string(),
        }),
        (Some(newest), 1) => Ok(newest.path.clone()),
        (Some(_), n) => Err(ambiguous(slugs, n)),
    }
}

/// The newest trace in `dir`.
pub fn last(dir: &Path) -> Result<PathBuf, FindError> {
    list(dir)
        .into_iter()
        .next()
        .map(|t| t.path)
        .ok_or_else(|| FindError::NoTraces(dir.display().to_string()))
}

/// A trace written to this recently may be another instance's run in progress.
const PRUNE_QUIET: Duration = Duration::from_secs(60);

/// Removes the oldest traces beyond `keep` (0 keeps every one). Only files retrylab named
/// (`<ms>-<slug>.jsonl`) are ever removed; `newest` (the trace being written) and any trace
/// written in the last minute (another instance's run) never are; nor anything when the
/// folder holds more than [`LIST_MAX`] files (the list would be a sample). Returns how many
/// were removed.
pub fn prune(dir: &Path, keep: usize, newest: &Path) -> usize {
    if keep == 0 {
        return 0;
    }
    let (all, truncated) = list_all(dir);
    if truncated {
        return 0;
    }
    let ours: Vec<TraceFile> = all.into_iter().filter(|t| t.slug.is_some()).collect();
    // The trace being written takes one of the `keep` places, wherever it sorts.
    let mut room = keep - usize::from(ours.iter().any(|t| t.path == newest));
    let mut removed = 0;
    for t in ours {
        if t.path == newest {
            continue;
        }
        if room > 0 {
            room -= 1;
            continue;
        }
        let recent = std::fs::metadata(&t.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_none_or(|age| age < PRUNE_QUIET);
        if !recent && std::fs::remove_file(&t.path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// `{"t_ms":N,"event":"NAME"` → (N, NAME).
fn line_head(prefix: &[u8]) -> Option<(u64, &str)> {
    let s = std::str::from_utf8(prefix)
        .or_else(|e| std::str::from_utf8(&prefix[..e.valid_up_to()]))
        .ok()?;
    let rest = s.strip_prefix("{\"t_ms\":")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    let t_ms = rest[..digits].parse().ok()?;
    let rest = rest[digits..].strip_prefix(",\"event\":\"")?;
    let name = &rest[..rest.find('"')?];
    Some((t_ms, name))
}

fn outcome_of(prefix: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(prefix);
    let at = s.find(",\"outcome\":\"")? + ",\"outcome\":\"".len();
    let end = s[at..].find('"')?;
    Some(printable(&s[at..at + end]))
}

/// A text from a trace, safe to print: control characters (an escape sequence) dropped,
/// at most 200 characters.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

fn scenario_of(line: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    v.get("scenario")?.as_str().map(printable)
}

/// Reads `path` once, keeping only each line's first bytes (see the module's note).
pub fn summarize(path: &Path) -> io::Result<Summary> {
    summarize_capped(path, SUMMARY_MAX_BYTES)
}

/// As [`summarize`], reading at most `max_bytes` (past them the summary is `partial`).
pub fn summarize_capped(path: &Path, max_bytes: u64) -> io::Result<Summary> {
    let mut input = BufReader::with_capacity(64 << 10, File::open(path)?);
    let mut s = Summary::default();
    let mut read = 0u64;
    let mut line: Vec<u8> = Vec::with_capacity(PREFIX);
    let mut first = true;
    let mut line_len = 0usize;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        let (chunk, ends, line_done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, n, false),
        };
        let room = if first { FIRST_LINE_MAX } else { PREFIX };
        let take = room.saturating_sub(line.len()).min(chunk.len());
        line.extend_from_slice(&chunk[..take]);
        line_len += chunk.len();
        input.consume(ends);
        read += ends as u64;
        if line_done {
            take_line(&mut s, &line, first && line_len <= FIRST_LINE_MAX);
            line.clear();
            line_len = 0;
            first = false;
        }
        if read >= max_bytes {
            s.partial = true;
            return Ok(s);
        }
    }
    // A last line without its newline (a killed run) still counts if it parses.
    if !line.is_empty() {
        take_line(&mut s, &line, first && line_len <= FIRST_LINE_MAX);
    }
    Ok(s)
}

fn take_line(s: &mut Summary, line: &[u8], whole_first: bool) {
    let Some((t_ms, name)) = line_head(line) else {
        return;
    };
    s.run_ms = s.run_ms.max(t_ms);
    match name {
        "run_started" if whole_first => s.scenario = scenario_of(line),
        "attempt_started" => s.attempts += 1,
        "run_finished" => s.outcome = outcome_of(line),
        _ => {}
    }
}

/// `2026-12-01 10:31:05` (UTC) for a time since the epoch.
pub fn utc_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A trace last written an hour ago (prune spares the ones written in the last minute).
    fn touch_old(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = touch(dir, name, text);
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(hour_ago)
            .unwrap();
        p
    }

    const RUN: &str = concat!(
        r#"{"t_ms":0,"event":"run_started","scenario":"Basic retry","mode":"sim","speed":"max"}"#,
        "\n",
        r#"{"t_ms":0,"event":"attempt_started","hop":0,"attempt":1,"provider":"openai","model":"m","request":{}}"#,
        "\n",
        r#"{"t_ms":40,"event":"attempt_failed","hop":0,"attempt":1}"#,
        "\n",
        r#"{"t_ms":1040,"event":"attempt_started","hop":0,"attempt":2,"provider":"openai","model":"m","request":{"event":"attempt_started"}}"#,
        "\n",
        r#"{"t_ms":1100,"event":"run_finished","outcome":"ok","content":"x","error":null,"caught":[]}"#,
        "\n"
    );

    #[test]
    fn summarizes_from_line_heads() {
        let dir = tempfile::tempdir().unwrap();
        let p = touch(dir.path(), "1-basic-retry.jsonl", RUN);
        let s = summarize(&p).unwrap();
        assert_eq!(
            s,
            Summary {
                scenario: Some("Basic retry".into()),
                outcome: Some("ok".into()),
                attempts: 2,
                run_ms: 1100,
                partial: false,
            }
        );
        // Killed before it finished, the last line cut: no outcome, what came before counts.
        let cut = &RUN[..RUN.find("{\"t_ms\":1100").unwrap() + 40];
        let s = summarize(&touch(dir.path(), "2-cut.jsonl", cut)).unwrap();
        assert_eq!((s.outcome, s.attempts, s.run_ms), (None, 2, 1100));
    }

    #[test]
    fn a_huge_line_is_skipped_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let big = format!(
            "{}\n{{\"t_ms\":5,\"event\":\"delta\",\"text\":\"{}\"}}\n{}\n",
            RUN.lines().next().unwrap(),
            "x".repeat(3 << 20),
            r#"{"t_ms":9,"event":"run_finished","outcome":"error"}"#
        );
        let s = summarize(&touch(dir.path(), "3-big.jsonl", &big)).unwrap();
        assert_eq!(s.outcome.as_deref(), Some("error"));
        assert_eq!(s.run_ms, 9);
    }

    #[test]
    fn lists_newest_first_and_finds_by_name_prefix_and_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(d, "1700000000000-basic-retry.jsonl", RUN);
        touch(d, "1700000001000-fallback.jsonl", RUN);
        touch(d, "1700000002000-basic-retry.jsonl", RUN);
        touch(d, "notes.txt", "");
        let names: Vec<String> = list(d).into_iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "1700000002000-basic-retry.jsonl",
                "1700000001000-fallback.jsonl",
                "1700000000000-basic-retry.jsonl"
            ]
        );
        assert_eq!(last(d).unwrap(), d.join("1700000002000-basic-retry.jsonl"));
        assert_eq!(
            find(d, "1700000001000-fallback").unwrap(),
            d.join("1700000001000-fallback.jsonl")
        );
        assert_eq!(
            find(d, "1700000000000-basic-retry.jsonl").unwrap(),
            d.join("1700000000000-basic-retry.jsonl")
        );
        assert_eq!(
            find(d, "1700000001").unwrap(),
            d.join("1700000001000-fallback.jsonl")
        );
        // A scenario's slug: its newest run.
        assert_eq!(
            find(d, "basic").unwrap(),
            d.join("1700000002000-basic-retry.jsonl")
        );
        assert_eq!(
            find(d, "17000000").unwrap_err(),
            FindError::Ambiguous {
                wanted: "17000000".into(),
                count: 3,
                examples: "1700000002000-basic-retry.jsonl, 1700000001000-fallback.jsonl, 1700000000000-basic-retry.jsonl".into()
            }
        );
        assert!(matches!(find(d, "zzz"), Err(FindError::NotFound { .. })));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(last(empty.path()), Err(FindError::NoTraces(_))));
    }

    #[test]
    fn prune_keeps_the_newest_and_the_one_being_written() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for i in 0..6 {
            touch_old(d, &format!("170000000{i}000-run.jsonl"), RUN);
        }
        // The trace being written, its name older than every other (a clock set back).
        let writing = touch_old(d, "1600000000000-run.jsonl", RUN);
        assert_eq!(prune(d, 3, &writing), 4);
        let names: Vec<String> = list(d).into_iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "1700000005000-run.jsonl",
                "1700000004000-run.jsonl",
                "1600000000000-run.jsonl"
            ]
        );
        assert_eq!(prune(d, 0, &writing), 0, "keep = 0 keeps every trace");
        assert_eq!(prune(d, 1, &writing), 2);
        assert_eq!(list(d)[0].path, writing);
        assert_eq!(list(d).len(), 1);
    }

    #[test]
    fn prune_removes_only_our_old_traces() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let writing = touch_old(d, "1700000009000-run.jsonl", RUN);
        // Not a name retrylab writes: never removed, whatever its age.
        let foreign = [
            "my-notes.jsonl",
            "1700000000000-Mixed Case.jsonl",
            "123.jsonl",
        ];
        for f in foreign {
            touch_old(d, f, RUN);
        }
        // Another instance's trace, written a moment ago: spared though beyond `keep`.
        let other_run = touch(d, "1700000001000-other.jsonl", RUN);
        let old = touch_old(d, "1700000000000-old.jsonl", RUN);
        #[cfg(unix)]
        std::os::unix::fs::symlink(&old, d.join("1700000000500-link.jsonl")).unwrap();
        assert_eq!(prune(d, 1, &writing), 1);
        assert!(!old.exists(), "the old trace of ours went");
        assert!(other_run.exists() && writing.exists());
        for f in foreign {
            assert!(d.join(f).exists(), "{f} is not ours");
        }
        #[cfg(unix)]
        assert!(
            d.join("1700000000500-link.jsonl")
                .symlink_metadata()
                .is_ok(),
            "a link is not a trace"
        );
    }

    #[test]
    fn a_scenario_name_never_picks_another_scenarios_run() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        touch(d, "1700000000000-fallback.jsonl", RUN);
        touch(d, "1700000001000-fallback-with-retries.jsonl", RUN);
        touch(d, "1700000002000-fallback-2.jsonl", RUN);
        // Exactly `fallback` (or its second run's `fallback-2`), not the newer other scenario.
        assert_eq!(
            find(d, "fallback").unwrap(),
            d.join("1700000002000-fallback-2.jsonl")
        );
        assert_eq!(
            find(d, "fallback-with").unwrap(),
            d.join("1700000001000-fallback-with-retries.jsonl")
        );
        assert!(matches!(
            find(d, "fall"),
            Err(FindError::Ambiguous { count: 3, .. })
        ));
    }

    #[test]
    fn summaries_drop_control_characters() {
        let dir = tempfile::tempdir().unwrap();
        let evil = "{\"t_ms\":0,\"event\":\"run_started\",\"scenario\":\"x\\u001b]52;c;aGk=\\u0007y\",\"mode\":\"sim\",\"speed\":\"max\"}\n";
        let s = summarize(&touch(dir.path(), "1-x.jsonl", evil)).unwrap();
        assert_eq!(s.scenario.as_deref(), Some("x]52;c;aGk=y"));
    }

    #[test]
    fn labels_say_what_is_not_known() {
        let mut s = Summary {
            attempts: 3,
            ..Summary::default()
        };
        assert_eq!(
            (s.outcome_label(), s.attempts_label().as_str()),
            ("unfinished", "3")
        );
        s.partial = true;
        assert_eq!(
            (s.outcome_label(), s.attempts_label().as_str()),
            ("?", "≥3")
        );
        s.outcome = Some("ok".into());
        assert_eq!(s.outcome_label(), "ok");
    }

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "1970-01-01 00:00:00");
        let t = UNIX_EPOCH + Duration::from_secs(1_796_121_065);
        assert_eq!(utc_stamp(t), "2026-12-01 10:31:05");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(utc_stamp(leap), "2000-02-29 00:00:00");
    }
}
