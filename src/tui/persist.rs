//! Where the playground keeps files (directories crate): saved scenarios and user themes in
//! the config dir, the autosaved draft in the data dir, traces where `crate::trace` puts them.
//! Every write goes to a temporary file first and is renamed, so a crash never leaves half a
//! file.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// The folders the playground reads and writes; any may be missing (no home directory).
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// Ctrl+S writes here; Ctrl+O lists it.
    pub scenarios: Option<PathBuf>,
    /// `*.toml` themes overlaying the embedded ones.
    pub themes: Option<PathBuf>,
    /// The autosaved draft.
    pub drafts: Option<PathBuf>,
    /// Run traces.
    pub traces: Option<PathBuf>,
}

impl Paths {
    /// The user's real folders: `$RETRYLAB_CONFIG_DIR` or the platform config dir (e.g.
    /// ~/.config/retrylab), and the data dir of `crate::trace` (`$RETRYLAB_DATA_DIR`).
    pub fn from_env() -> Paths {
        let config = std::env::var_os("RETRYLAB_CONFIG_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                directories::ProjectDirs::from("", "", "retrylab")
                    .map(|d| d.config_dir().to_path_buf())
            });
        Paths {
            scenarios: config.as_ref().map(|d| d.join("scenarios")),
            themes: config.as_ref().map(|d| d.join("themes")),
            drafts: crate::trace::data_dir().map(|d| d.join("drafts")),
            traces: crate::trace::traces_dir(),
        }
    }

    /// Everything under one folder (tests).
    pub fn under(root: &Path) -> Paths {
        Paths {
            scenarios: Some(root.join("scenarios")),
            themes: Some(root.join("themes")),
            drafts: Some(root.join("drafts")),
            traces: Some(root.join("traces")),
        }
    }
}

/// The longest chain of symbolic links a save follows to the real file.
const MAX_LINKS: usize = 40;

/// Writes `text` to `path` atomically (see [`write_atomic_with`]); a new file gets the
/// usual mode (0666 less the umask).
pub fn write_atomic(path: &Path, text: &str) -> io::Result<()> {
    write_atomic_with(path, false, |f| f.write_all(text.as_bytes()))
}

/// As [`write_atomic`], but a new file is readable by its owner only (drafts).
pub fn write_private(path: &Path, text: &str) -> io::Result<()> {
    write_atomic_with(path, true, |f| f.write_all(text.as_bytes()))
}

/// The one way the app writes a whole file: `fill` writes a temporary file in the target's
/// folder, which is fsynced, given the old file's mode (and owner, where allowed), renamed
/// over the target, and the folder fsynced (unix). A symlink is written through: the file it
/// names is replaced, the link stays. Any failure removes the temporary file and leaves the
/// old file as it was. A target that is not a regular file, or is read-only, is refused.
pub fn write_atomic_with(
    path: &Path,
    private: bool,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let target = resolve_links(path)?;
    let old = match std::fs::metadata(&target) {
        Ok(m) if !m.is_file() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a regular file", target.display()),
            ));
        }
        Ok(m) if m.permissions().readonly() => {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("{} is read-only", target.display()),
            ));
        }
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (mut file, tmp) = create_temp(&dir, &target, private || old.is_some())?;
    fill(&mut file)?;
    file.sync_all()?;
    if let Some(old) = &old {
        keep_mode_and_owner(&file, old)?;
    }
    drop(file);
    std::fs::rename(tmp.path(), &target)?;
    tmp.keep();
    sync_dir(&dir);
    Ok(())
}

/// Follows `path` through symlinks (relative ones from their link's folder) to the file a
/// save must replace; a dangling link gives the path it points to.
pub fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) => dir.join(to),
                    None => to,
                };
            }
            Ok(_) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(p),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{}: more than {MAX_LINKS} symbolic links in a row",
        path.display()
    )))
}

/// A temporary file that is removed when dropped, unless kept (renamed into place).
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A new hidden file beside `target` (`.name.PID-N.tmp`), never one that exists already.
fn create_temp(dir: &Path, target: &Path, private: bool) -> io::Result<(File, TempFile)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let mut last = None;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        match opts.open(&tmp) {
            Ok(f) => return Ok((f, TempFile(Some(tmp)))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// The replaced file's permission bits (and owner, when we may set it: root saving a
/// user's file) carry over to the new one.
fn keep_mode_and_owner(file: &File, old: &std::fs::Metadata) -> io::Result<()> {
    file.set_permissions(old.permissions())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Only a privileged process may give a file away; anyone else already owns it.
        let _ = std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()));
    }
    Ok(())
}

/// After a rename, the folder's entry must reach the disk too (unix); a failure here loses
/// nothing that was written, so it is not reported.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// The longest slug, in bytes: file names are limited (255 bytes on most file systems).
const SLUG_MAX_BYTES: usize = 80;

/// A file name from a scenario name: `Fallback with retries` → `fallback-with-retries`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    // Leave room for "-2.toml" and the draft's suffixes.
    let mut out = out.as_str();
    if out.len() > SLUG_MAX_BYTES {
        let mut cut = SLUG_MAX_BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out = &out[..cut];
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "scenario".into()
    } else {
        out
    }
}

/// The saved scenarios (`*.toml`), sorted by name.
pub fn list_saved(dir: Option<&Path>) -> Vec<PathBuf> {
    let Some(Ok(entries)) = dir.map(std::fs::read_dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

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
    fn slugs_of_long_names_fit_a_file_name() {
        let s = slug(&"Ünïcödé retry ".repeat(60));
        assert!(s.len() <= 80, "{} bytes", s.len());
        assert!(s.starts_with("ünïcödé-retry-"), "{s}");
        assert!(!s.ends_with('-'), "{s}");
    }

    #[test]
    fn slugs_are_file_names() {
        assert_eq!(slug("Fallback with retries"), "fallback-with-retries");
        assert_eq!(slug("  --Hello, World!! "), "hello-world");
        assert_eq!(slug("***"), "scenario");
    }

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

    #[cfg(unix)]
    #[test]
    fn saving_keeps_a_private_files_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret.toml");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&p, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn saving_writes_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("s.toml"), "old").unwrap();
        // A relative link, resolved from the link's own folder.
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink("real/s.toml", &link).unwrap();
        write_atomic(&link, "new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(real.join("s.toml")).unwrap(), "new");
        // A loop of links is refused, not followed forever.
        let a = dir.path().join("a.toml");
        std::os::unix::fs::symlink("b.toml", &a).unwrap();
        std::os::unix::fs::symlink("a.toml", dir.path().join("b.toml")).unwrap();
        let e = write_atomic(&a, "x").unwrap_err().to_string();
        assert!(e.contains("symbolic links"), "{e}");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.toml");
        std::fs::write(&p, "old").unwrap();
        let e = write_atomic_with(&p, false, |f| {
            f.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "disk full");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_folder_or_a_read_only_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_atomic(dir.path(), "x").unwrap_err().to_string();
        assert!(e.contains("is not a regular file"), "{e}");
        let p = dir.path().join("ro.toml");
        std::fs::write(&p, "old").unwrap();
        let mut perms = std::fs::metadata(&p).unwrap().permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&p, perms).unwrap();
        let e = write_atomic(&p, "new").unwrap_err().to_string();
        assert!(e.contains("is read-only"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
    }

    /// A real full disk: a 64 KiB tmpfs (root only; elsewhere the test says it skipped).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_leaves_the_old_file_and_no_temp_file() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        let mounted = root
            && std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: mounting a tmpfs needs root");
            return;
        }
        struct Unmount<'a>(&'a Path);
        impl Drop for Unmount<'_> {
            fn drop(&mut self) {
                let _ = std::process::Command::new("umount").arg(self.0).status();
            }
        }
        let _unmount = Unmount(dir.path());
        let p = dir.path().join("s.toml");
        std::fs::write(&p, "old").unwrap();
        let e = write_atomic(&p, &"x".repeat(1 << 20)).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(28), "{e}"); // ENOSPC
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn saves_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let scen = dir.path().join("scenarios");
        assert!(list_saved(Some(&scen)).is_empty());
        write_atomic(&scen.join("b.toml"), "x").unwrap();
        write_atomic(&scen.join("a.toml"), "y").unwrap();
        std::fs::write(scen.join("notes.txt"), "z").unwrap();
        let names: Vec<_> = list_saved(Some(&scen))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["a.toml", "b.toml"]);
        assert_eq!(std::fs::read_to_string(scen.join("a.toml")).unwrap(), "y");
    }
}
