//! The autosaved draft: one file per running instance, held by a lock so that only drafts
//! of ended instances are ever offered back (or deleted) by another.

use super::write_private;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// The draft file of versions before per-instance drafts; still offered when found.
const LEGACY_DRAFT: &str = "draft.toml";
const DRAFT_MARK: &str = "# retrylab draft of: ";
/// A draft bigger than this is not read back (a draft is an edited scenario, a few KiB).
const DRAFT_MAX_BYTES: u64 = 16 << 20;

/// An edited scenario, autosaved while editing and offered back after a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// Where the edited scenario came from (a path or `builtin:NAME`).
    pub origin: String,
    pub text: String,
    pub saved_at: Option<SystemTime>,
    /// The draft's file.
    pub path: PathBuf,
}

/// One playground's own draft: `draft-<pid>-<start ms>-<n>.toml`, beside a `.lock` file that
/// the instance holds locked (an advisory `flock`-style lock, `File::try_lock`) from its
/// first autosave until it ends. The kernel drops the lock when the process dies, however it
/// dies (kill -9 too) and a reused pid cannot fake it, so "locked" means "its instance is
/// alive": another instance never offers or deletes a draft whose lock it cannot take.
/// Locks of two opens conflict in one process too, so two Apps in one process are apart.
#[derive(Debug)]
pub struct DraftSlot {
    dir: PathBuf,
    stem: String,
    lock: Option<File>,
}

impl DraftSlot {
    /// This instance's slot in `dir`; nothing is written before the first [`Self::write`].
    pub fn new(dir: &Path) -> DraftSlot {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let started = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        DraftSlot {
            dir: dir.to_path_buf(),
            stem: format!("draft-{}-{started}-{n}", std::process::id()),
            lock: None,
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.toml", self.stem))
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join(format!("{}.lock", self.stem))
    }

    /// Autosaves: the lock is taken before the draft first appears, so no other instance
    /// can see this draft unlocked while this one lives.
    pub fn write(&mut self, origin: &str, text: &str) -> io::Result<()> {
        if self.lock.is_none() {
            std::fs::create_dir_all(&self.dir)?;
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(self.lock_path())?;
            f.try_lock().map_err(|e| match e {
                std::fs::TryLockError::Error(e) => e,
                std::fs::TryLockError::WouldBlock => {
                    io::Error::other("the draft's lock is held by another instance")
                }
            })?;
            self.lock = Some(f);
        }
        let origin = origin.replace(['\n', '\r'], " ");
        write_private(&self.path(), &format!("{DRAFT_MARK}{origin}\n{text}"))
    }

    /// The edits were saved or discarded: the draft goes (the lock stays while we live).
    pub fn clear(&mut self) {
        // Nothing to do when it is already gone.
        let _ = std::fs::remove_file(self.path());
    }

    #[cfg(any(test, feature = "test-util"))]
    /// This instance's draft as written (tests, the help screen).
    pub fn read(&self) -> Option<Draft> {
        read_draft_file(&self.path())
    }
}

impl Drop for DraftSlot {
    /// A draft that is still there stays for the next start (that is its point); the lock
    /// file goes when there is none. A crash never gets here, which is fine: an unlocked
    /// lock file means a dead instance.
    fn drop(&mut self) {
        if self.lock.is_some() && !self.path().exists() {
            let _ = std::fs::remove_file(self.lock_path());
        }
    }
}

/// A draft left by an instance that is no longer running, held (its lock taken) so that
/// a third instance does not offer it at the same time.
#[derive(Debug)]
pub struct DeadDraft {
    pub draft: Draft,
    /// The lock taken over, released on drop.
    claim: Option<File>,
}

impl DeadDraft {
    /// Deletes the draft (restored elsewhere, or discarded), then its lock file.
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.draft.path);
        if self.claim.is_some() {
            let _ = std::fs::remove_file(self.draft.path.with_extension("lock"));
        }
    }
}

/// The drafts in `dir` whose instance has ended (newest first), each claimed; a live
/// instance's draft is never among them.
pub fn dead_drafts(dir: &Path) -> Vec<DeadDraft> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let ours = name.starts_with("draft-") && name.ends_with(".toml");
        if !ours && name != LEGACY_DRAFT {
            continue;
        }
        let claim = match claim_lock(&path.with_extension("lock")) {
            Claim::Live => continue,
            Claim::Taken(f) => Some(f),
            Claim::NoLock => None,
        };
        // Read only after the lock is ours: a live instance deletes its draft before its lock.
        if let Some(draft) = read_draft_file(&path) {
            found.push(DeadDraft { draft, claim });
        }
    }
    found.sort_by_key(|d| std::cmp::Reverse(d.draft.saved_at));
    found
}

enum Claim {
    Live,
    Taken(File),
    NoLock,
}

fn claim_lock(lock: &Path) -> Claim {
    // Only a regular file is opened (a FIFO planted here would block the open).
    match std::fs::symlink_metadata(lock) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Claim::Live,
        Err(_) => return Claim::NoLock,
    }
    let Ok(f) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(lock)
    else {
        // Gone meanwhile (its instance cleaned up) or unreadable: do not touch the draft.
        return Claim::Live;
    };
    match f.try_lock() {
        Ok(()) => Claim::Taken(f),
        Err(_) => Claim::Live,
    }
}

/// Reads one draft file: a regular file, at most [`DRAFT_MAX_BYTES`], with the draft mark.
fn read_draft_file(path: &Path) -> Option<Draft> {
    // Not through a link: a draft is a file this app wrote itself.
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let raw = crate::scenario::userfile::read_user_file(path, DRAFT_MAX_BYTES).ok()?;
    let (first, rest) = raw.split_once('\n').unwrap_or((&raw, ""));
    let origin = first.strip_prefix(DRAFT_MARK)?.to_string();
    Some(Draft {
        origin,
        text: rest.to_string(),
        saved_at: meta.modified().ok(),
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_round_trip_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let mut slot = DraftSlot::new(dir.path());
        assert_eq!(slot.read(), None);
        slot.write("builtin:x", "name = 'x'\n").unwrap();
        let d = slot.read().unwrap();
        assert_eq!(d.origin, "builtin:x");
        assert_eq!(d.text, "name = 'x'\n");
        assert!(d.saved_at.is_some());
        slot.clear();
        assert_eq!(slot.read(), None);
        // Nothing is left once a slot without a draft ends.
        drop(slot);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_live_instances_draft_is_never_offered_and_a_dead_ones_is() {
        let dir = tempfile::tempdir().unwrap();
        let mut alive = DraftSlot::new(dir.path());
        alive.write("builtin:a", "a = 1\n").unwrap();
        let mut crashed = DraftSlot::new(dir.path());
        crashed.write("builtin:b", "b = 2\n").unwrap();
        assert!(dead_drafts(dir.path()).is_empty(), "both still run");
        // The second one ends without clearing (a crash): its draft stays, unlocked.
        drop(crashed);
        let dead = dead_drafts(dir.path());
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].draft.origin, "builtin:b");
        assert_eq!(dead[0].draft.text, "b = 2\n");
        // While claimed, a third look does not offer it again.
        assert!(dead_drafts(dir.path()).is_empty());
        dead.into_iter().for_each(DeadDraft::remove);
        assert!(dead_drafts(dir.path()).is_empty());
        assert_eq!(alive.read().unwrap().text, "a = 1\n");
        // Only the live draft and its lock are left.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn the_old_single_draft_is_still_offered() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("draft.toml"),
            format!("{DRAFT_MARK}x.toml\nold\n"),
        )
        .unwrap();
        let dead = dead_drafts(dir.path());
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].draft.text, "old\n");
    }

    #[cfg(unix)]
    #[test]
    fn drafts_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mut slot = DraftSlot::new(dir.path());
        slot.write("builtin:x", "x").unwrap();
        let mode = std::fs::metadata(slot.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
