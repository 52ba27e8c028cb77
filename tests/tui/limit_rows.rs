//! The Timeline rows of `[limits]` and `[fallback].on_result` (limit reached, a rejected
//! reply, a wait and a timeout the deadline clipped, a degraded answer) and what the
//! Inspector says of them, from a real run's events (the engine on the virtual clock).

use crate::run_panes::panes;
use crate::support::run::{run_sim, scenario};

/// The primary's first reply is cut at max tokens (rejected: hop 1 at once); hop 1 fails
/// twice with 500s, waits 4 s then 8 s, which the 6 s deadline clips to 2 s; the run answers
/// with the message.
const SCENARIO: &str = r#"
name = "limits"
[prompt]
template = "Q"
[call]
provider = "openai"
model = "gpt-4o-mini"
[retry]
stop = { after_attempt = 5 }
wait = { chain = [{ fixed = 4 }, { fixed = 8 }] }
[fallback]
catch = ["retry_error"]
on_result = ["length"]
[[fallback.hops]]
provider = "anthropic"
model = "claude-3-5-haiku-latest"
catch = ["retry_error"]
[limits]
deadline = "6s"
on_exhausted = "message"
message = "Busy, try later."
[sim]
first_token_ms = 0
tokens_per_second = 1e9
error_ms = 0
reply = "FORTY TWO."
faults = [
  { provider = "openai", fault = "length", times = 1 },
  { provider = "anthropic", fault = "server_error", times = 10 },
]
"#;

#[tokio::test]
async fn limit_and_rejected_rows_say_what_happened() {
    let (_, events) = run_sim(scenario(SCENARIO)).await;
    let rows = panes(&events, None, 6000, 150, 24);
    assert!(
        rows.contains("⊘ length rejected by on_result  no retry of this model"),
        "{rows}"
    );
    assert!(rows.contains("⊘ limit deadline reached"), "{rows}");
    assert!(rows.contains("8 s clipped to 2 s by deadline"), "{rows}");
    assert!(rows.contains("■ ok (degraded) in 6 s"), "{rows}");
    insta::assert_snapshot!("limit_rows_outcome", rows);
    // The rejected row's Inspector, and the clipped wait's.
    let rejected = panes(&events, Some(1), 6000, 150, 24);
    assert!(
        rejected.contains("rejected, falling back to hop 1 at once"),
        "{rejected}"
    );
    insta::assert_snapshot!("limit_rows_rejected", rejected);
    let wait = panes(&events, Some(6), 6000, 150, 24);
    assert!(
        wait.contains("clipped    wait 8 s clipped to 2 s by deadline"),
        "{wait}"
    );
    // The attempt before it: its 60 s timeout was cut to the 2 s left.
    let attempt = panes(&events, Some(5), 6000, 150, 24);
    assert!(
        attempt.contains("clipped    timeout 60 s clipped to 2 s by deadline"),
        "{attempt}"
    );
}
