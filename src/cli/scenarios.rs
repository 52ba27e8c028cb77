//! `retrylab scenarios`: the built-in scenarios, one per line.

use crate::scenario::builtin::all;
use crate::scenario::load::parse;

pub fn listing() -> String {
    let mut out = String::new();
    for b in all() {
        let about = parse(b.source, b.name).map(|s| s.about).unwrap_or_default();
        let first = about
            .split(['.', ':'])
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        out.push_str(&format!("{:<24} {first}\n", b.name));
    }
    out.push_str(
        "\nrun one: retrylab run NAME --speed max   ·   see its plan: retrylab check NAME\n",
    );
    out
}
