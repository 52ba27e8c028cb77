//! Panics anywhere in the process (spawned engine and simulator tasks too) are counted, but
//! not those of another test's own assertions (raised in `tests/`), which run in the same
//! binary at the same time and say nothing about the code under fire.

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

static PANICS: AtomicUsize = AtomicUsize::new(0);
static HOOK: Once = Once::new();

/// Installs the counting hook (once per binary).
pub fn count() {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_a_test = info
                .location()
                .is_some_and(|l| l.file().starts_with("tests/") || l.file().starts_with("tests\\"));
            if !in_a_test {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            default(info);
        }));
    });
}

/// Panics counted so far.
pub fn so_far() -> usize {
    PANICS.load(Ordering::SeqCst)
}
