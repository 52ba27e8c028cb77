//! Copying to the user's clipboard with OSC 52: the terminal itself sets its clipboard, so
//! copying works over ssh and inside tmux (which passes the sequence on) with no X11 or
//! Wayland tool on the machine that runs retrylab.

/// The most text one copy sends (a terminal may drop a longer sequence whole).
pub const MAX_COPY_BYTES: usize = 100 * 1024;

/// Why a text was not copied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CopyError {
    #[error("the selection is {0} bytes; at most {MAX_COPY_BYTES} can be copied at once")]
    TooLarge(usize),
}

/// `ESC ] 52 ; c ; BASE64 BEL`: sets the clipboard ("c") to `text`.
pub fn osc52(text: &str) -> Result<String, CopyError> {
    if text.len() > MAX_COPY_BYTES {
        return Err(CopyError::TooLarge(text.len()));
    }
    Ok(format!("\x1b]52;c;{}\x07", base64(text.as_bytes())))
}

/// Standard base64 with padding (RFC 4648), the only encoding OSC 52 takes.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain}");
        }
    }

    #[test]
    fn osc52_wraps_the_text_and_refuses_too_much() {
        assert_eq!(osc52("hi").unwrap(), "\x1b]52;c;aGk=\x07");
        let big = "x".repeat(MAX_COPY_BYTES + 1);
        assert_eq!(osc52(&big), Err(CopyError::TooLarge(MAX_COPY_BYTES + 1)));
    }
}
