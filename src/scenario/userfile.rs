//! Bounded reading of the files a user points us at (scenarios, the config, themes): only a
//! regular file, and only up to a cap, so `/dev/zero`, a FIFO or a 100 MB file is a clear
//! error instead of a hang or a heap that grows without end.

use std::io::Read;
use std::path::Path;

/// The cap for a scenario, a config or a theme: far above any real one.
pub const MAX_USER_FILE: u64 = 1 << 20;

/// Why a user file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file ({0})")]
    NotAFile(&'static str),
    #[error("larger than {} ({size} bytes)", crate::units::bytes(*.max))]
    TooLarge { max: u64, size: u64 },
    #[error("not UTF-8 text")]
    NotUtf8,
}

/// What a non-regular file is, for the message.
fn kind(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// The text of `path`, when it is a regular file (symlinks followed) of at most `max` bytes.
/// The type is checked before opening (opening a FIFO would block) and again on the open
/// file; the read itself stops at `max + 1` bytes whatever the file claims.
pub fn read_user_file(path: &Path, max: u64) -> Result<String, ReadError> {
    let check = |meta: std::fs::Metadata| {
        if !meta.is_file() {
            return Err(ReadError::NotAFile(kind(meta.file_type())));
        }
        if meta.len() > max {
            return Err(ReadError::TooLarge {
                max,
                size: meta.len(),
            });
        }
        Ok(())
    };
    check(std::fs::metadata(path)?)?;
    let file = std::fs::File::open(path)?;
    check(file.metadata()?)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge {
            max,
            size: bytes.len() as u64,
        });
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_small_files_and_refuses_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.toml");
        std::fs::write(&f, "name = 1").unwrap();
        assert_eq!(read_user_file(&f, 8).unwrap(), "name = 1");
        let e = read_user_file(&f, 7).unwrap_err();
        assert_eq!(e.to_string(), "larger than 7 bytes (8 bytes)");
        std::fs::write(&f, [0xff, 0xfe]).unwrap();
        assert_eq!(
            read_user_file(&f, 8).unwrap_err().to_string(),
            "not UTF-8 text"
        );
        let e = read_user_file(dir.path(), 8).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file (a directory)");
        let e = read_user_file(&dir.path().join("none"), 8).unwrap_err();
        assert!(matches!(e, ReadError::Io(_)), "{e}");
    }
}
