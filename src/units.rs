//! Sizes in words for messages, one way everywhere: `32 MiB`, `64 KiB`, `100 bytes`.

/// A whole number of MiB or KiB when it is one, else bytes.
pub fn bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_in_words() {
        assert_eq!(super::bytes(32 << 20), "32 MiB");
        assert_eq!(super::bytes(64 << 10), "64 KiB");
        assert_eq!(super::bytes((1 << 20) + 1), "1048577 bytes");
        assert_eq!(super::bytes(0), "0 bytes");
    }
}
