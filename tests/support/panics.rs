//! Panics anywhere in the process (spawned engine and simulator tasks too) are counted, but
//! not those of another test's own assertions (raised in `tests/`, or by insta's snapshot
//! assertions in its own crate), which run in the same binary at the same time and say
//! nothing about the code under fire.

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

static PANICS: AtomicUsize = AtomicUsize::new(0);
static HOOK: Once = Once::new();

/// Installs the counting hook (once per binary).
pub fn count() {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_a_test = info.location().is_some_and(|l| {
                let f = l.file();
                f.starts_with("tests/") || f.starts_with("tests\\") || is_insta(f)
            });
            if !in_a_test {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

/// A snapshot assertion failing: raised inside insta's own source (`…/insta-1.49.0/src/…`).
fn is_insta(file: &str) -> bool {
    file.split(['/', '\\'])
        .any(|part| part.starts_with("insta-"))
}

/// Panics counted so far.
pub fn so_far() -> usize {
    PANICS.load(Ordering::SeqCst)
}
