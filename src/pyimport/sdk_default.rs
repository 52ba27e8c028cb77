//! The SDK's own retries a program leaves on without saying so (DESIGN §15): a client built
//! without `max_retries`, or Mirascope's default client, retries 2x under each Tenacity
//! attempt. The imported policy is left as written (no `sdk_max_retries`): the importer
//! says so in a note instead of changing what the file reads as.

use super::read::Ctx;

/// What the note says (`retrylab import` prints it with the pieces not mapped).
pub const NOTE: &str = "the SDK retries 2x underneath each attempt (max_retries default); set sdk_max_retries = 2 to model it";

/// Notes, at `line`, that `what` (the client, or the call using the default one) leaves the
/// SDK's default retries on.
pub(super) fn note(cx: &mut Ctx, line: u32, what: impl Into<String>) {
    cx.note(line, what, NOTE);
}

#[cfg(test)]
mod tests {
    use super::NOTE;
    use crate::pyimport::{Dropped, import_python};

    const HEAD: &str =
        "from mirascope import llm\nfrom tenacity import retry, stop_after_attempt\n";

    /// The scenario sets `sdk_max_retries` (outside the comments on top).
    fn sets_sdk_retries(toml: &str) -> bool {
        toml.lines()
            .any(|l| !l.starts_with('#') && l.contains("sdk_max_retries"))
    }

    fn notes(src: &str) -> (Vec<Dropped>, String) {
        let i = import_python(src, "t.py").expect("imports");
        (i.notes, i.scenario_toml)
    }

    #[test]
    fn mirascopes_default_client_gets_the_note_and_the_policy_stays_as_written() {
        let src = format!(
            "{HEAD}@retry(stop=stop_after_attempt(3))\n\
             @llm.call(provider=\"openai\", model=\"gpt-4o-mini\")\n\
             def ask(q: str) -> str:\n    return f\"Q: {{q}}\"\n\nask(\"hi\")\n"
        );
        let i = import_python(&src, "t.py").expect("imports");
        assert!(i.dropped.is_empty(), "{:?}", i.dropped);
        assert_eq!(
            i.notes,
            [Dropped {
                line: 4,
                what: "the call's default client (no client=)".into(),
                why: NOTE.into(),
            }]
        );
        let t = &i.scenario_toml;
        assert!(!sets_sdk_retries(t), "{t}");
        assert!(
            t.contains("# Note: line 4: the call's default client (no client=): the SDK retries 2x underneath each attempt (max_retries default); set sdk_max_retries = 2 to model it"),
            "{t}"
        );
        assert!(t.contains("stop = { after_attempt = 3 }"), "{t}");
    }

    /// A client the program builds itself is not read (its `client=` is dropped as it was):
    /// no note claims what it does.
    #[test]
    fn a_client_of_its_own_gets_no_note() {
        let src = format!(
            "{HEAD}import openai\nC = openai.OpenAI(max_retries=0)\n\
             @llm.call(provider=\"openai\", model=\"gpt-4o-mini\", client=C)\n\
             def ask(q: str) -> str:\n    return f\"Q: {{q}}\"\n"
        );
        let (n, _) = notes(&src);
        assert!(n.is_empty(), "{n:?}");
    }

    /// An exported file's harness client without `max_retries` (edited by hand) leaves the
    /// SDK default on: noted at the client's line; with `max_retries=0`, nothing.
    #[test]
    fn a_harness_client_without_max_retries_gets_the_note() {
        let stamped = |client: &str| {
            format!(
                "\"\"\"X — exported by retrylab: `retrylab export x --to mirascope`.\n\"\"\"\n\
                 from mirascope import llm\n\
                 CLIENT_0 = sdk_client(\"openai\", \"http://h/v1\", TIMEOUT{client})\n\
                 @llm.call(provider=\"openai\", model=\"m\", client=CLIENT_0)\n\
                 def call(q: str) -> str:\n    return f\"Q: {{q}}\"\n"
            )
        };
        let (n, _) = notes(&stamped(", max_retries=0"));
        assert!(n.is_empty(), "{n:?}");
        let (n, t) = notes(&stamped(""));
        assert_eq!(n.len(), 1, "{n:?}");
        assert_eq!(n[0].line, 4);
        assert!(n[0].what.contains("sdk_client("), "{n:?}");
        assert_eq!(n[0].why, NOTE);
        assert!(!sets_sdk_retries(&t), "{t}");
    }
}
