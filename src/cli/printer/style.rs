//! ANSI colours for the printed timeline, or none.

/// ANSI styles, or nothing under NO_COLOR / when not a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    pub fn new(color: bool) -> Style {
        Style { color }
    }

    /// Colour when stdout is a terminal and NO_COLOR is unset.
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style::new(!no_color && std::io::stdout().is_terminal())
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn ok(self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn err(self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn wait(self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn hop(self, t: &str) -> String {
        self.paint("35", t)
    }
    pub fn reinsert(self, t: &str) -> String {
        self.paint("36", t)
    }
    pub fn muted(self, t: &str) -> String {
        self.paint("2", t)
    }
    pub fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
}
