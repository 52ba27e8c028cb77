//! `retrylab traces`: the recorded runs, newest first; and what `retrylab replay` takes for
//! a trace: a path, a trace's name or a unique prefix of it, a scenario's name (its newest
//! run), or `--last`.

use crate::history::{self, TraceFile};
use std::path::{Path, PathBuf};

/// How many runs `retrylab traces` lists without `--all`.
pub const SHOWN: usize = 20;

fn row(t: &TraceFile) -> String {
    let when = t
        .started
        .map_or_else(|| "?".to_string(), history::utc_stamp);
    let (scenario, outcome, attempts, run) = match history::summarize(&t.path) {
        Ok(s) => (
            s.scenario.clone().unwrap_or_else(|| "?".into()),
            s.outcome_label().to_string(),
            s.attempts_label(),
            crate::policy::duration::format_secs(s.run_ms as f64 / 1000.0),
        ),
        Err(e) => (
            format!("(cannot read: {e})"),
            "?".into(),
            "?".into(),
            "?".into(),
        ),
    };
    let scenario: String = if scenario.chars().count() > 28 {
        scenario.chars().take(27).chain(['…']).collect()
    } else {
        scenario
    };
    format!(
        "{when:<19}  {scenario:<28}  {outcome:<10}  {attempts:>8}  {run:>10}  {}\n",
        t.name
    )
}

/// The listing of `dir`'s newest `count` runs (`None`: all of them).
pub fn listing(dir: &Path, count: Option<usize>) -> String {
    let all = history::list(dir);
    if all.is_empty() {
        return format!(
            "no recorded runs in {}; every `retrylab run` and playground run records one\n",
            dir.display()
        );
    }
    let shown = count.unwrap_or(all.len()).min(all.len());
    let mut out = format!(
        "{:<19}  {:<28}  {:<10}  {:>8}  {:>10}  trace (in {})\n",
        "started (UTC)",
        "scenario",
        "outcome",
        "attempts",
        "run time",
        dir.display()
    );
    for t in &all[..shown] {
        out.push_str(&row(t));
    }
    if shown < all.len() {
        out.push_str(&format!(
            "… {} older: retrylab traces --all\n",
            all.len() - shown
        ));
    }
    out.push_str(
        "\nreplay one: retrylab replay NAME (a trace, a unique prefix, or a scenario's newest run) or --last; add --print for text\n",
    );
    out
}

/// The trace `replay` means. An argument with a path separator, or naming a file that
/// exists, is a path (its errors are the reader's); else it is looked up in `dir`.
pub fn locate(arg: Option<&str>, last: bool, dir: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(a) = arg {
        let p = Path::new(a);
        if a.contains(std::path::MAIN_SEPARATOR) || a.contains('/') || p.exists() {
            return Ok(p.to_path_buf());
        }
    }
    let Some(dir) = dir else {
        return Err("no data folder to find traces in (no home directory?); give the trace's path or set RETRYLAB_DATA_DIR".into());
    };
    let found = match (arg, last) {
        (_, true) => history::last(dir),
        // A file name that is not a recorded trace is a path: the reader names what is wrong.
        (Some(a), false) => match history::find(dir, a) {
            Err(history::FindError::NotFound { .. } | history::FindError::NoTraces(_))
                if a.ends_with(".jsonl") =>
            {
                return Ok(PathBuf::from(a));
            }
            found => found,
        },
        (None, false) => {
            return Err(
                "which run? give a trace (a path, a name from `retrylab traces`, a prefix) or --last"
                    .into(),
            );
        }
    };
    found.map_err(|e| e.to_string())
}

/// `retrylab traces [--all]`.
pub fn execute(all: bool) -> std::process::ExitCode {
    match crate::dirs::traces_dir() {
        Some(dir) => {
            print!("{}", listing(&dir, (!all).then_some(SHOWN)));
            std::process::ExitCode::SUCCESS
        }
        None => super::usage_error("no data folder (no home directory?); set RETRYLAB_DATA_DIR"),
    }
}

/// [`locate`] in the user's traces folder.
pub fn locate_in_data_dir(arg: Option<&str>, last: bool) -> Result<PathBuf, String> {
    locate(arg, last, crate::dirs::traces_dir().as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_rows_and_locates() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(listing(d, Some(20)).starts_with("no recorded runs in "));
        let run = concat!(
            r#"{"t_ms":0,"event":"run_started","scenario":"Fallback with retries","mode":"sim","speed":"max"}"#,
            "\n",
            r#"{"t_ms":0,"event":"attempt_started","hop":0,"attempt":1,"provider":"openai","model":"m","request":{}}"#,
            "\n",
            r#"{"t_ms":8925,"event":"run_finished","outcome":"ok","content":"x","error":null,"caught":[]}"#,
            "\n"
        );
        std::fs::write(d.join("1796121065000-fallback-with-retries.jsonl"), run).unwrap();
        std::fs::write(
            d.join("1796121066000-killed.jsonl"),
            &run[..run.rfind("{\"t_ms\":8925").unwrap()],
        )
        .unwrap();
        let out = listing(d, Some(1));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("started (UTC)"), "{out}");
        assert_eq!(
            lines[1],
            "2026-12-01 10:31:06  Fallback with retries         unfinished         1         0 s  1796121066000-killed.jsonl"
        );
        assert_eq!(lines[2], "… 1 older: retrylab traces --all");
        let all = listing(d, None);
        assert!(all.contains("2026-12-01 10:31:05  Fallback with retries         ok                 1     8.925 s  1796121065000-fallback-with-retries.jsonl"), "{all}");

        assert_eq!(
            locate(None, true, Some(d)).unwrap(),
            d.join("1796121066000-killed.jsonl")
        );
        assert_eq!(
            locate(Some("fallback"), false, Some(d)).unwrap(),
            d.join("1796121065000-fallback-with-retries.jsonl")
        );
        assert_eq!(
            locate(Some("1796121065"), false, Some(d)).unwrap(),
            d.join("1796121065000-fallback-with-retries.jsonl")
        );
        assert_eq!(
            locate(Some("./x.jsonl"), false, Some(d)).unwrap(),
            PathBuf::from("./x.jsonl")
        );
        assert!(
            locate(None, false, Some(d))
                .unwrap_err()
                .starts_with("which run?")
        );
        assert!(
            locate(Some("1796"), false, Some(d))
                .unwrap_err()
                .contains("names 2 traces")
        );
    }
}
