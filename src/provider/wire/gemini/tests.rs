use super::*;
use crate::provider::{Message, ToolDef};

fn req() -> ChatRequest {
    ChatRequest {
        model: "gemini-2.5-flash".into(),
        system: Some("Be brief.".into()),
        messages: vec![Message::user("Who wrote The Name of the Wind?")],
        temperature: Some(0.5),
        max_tokens: Some(100),
        stream: false,
        tools: vec![ToolDef {
            name: "get_book_author".into(),
            description: "Look up who wrote a book".into(),
            parameters: json!({"type": "object", "properties": {"title": {"type": "string"}}, "additionalProperties": false}),
        }],
    }
}

fn ev(data: &str) -> SseEvent {
    SseEvent {
        event: String::new(),
        data: data.into(),
        id: None,
    }
}

#[test]
fn urls_follow_the_sdk_convention() {
    let base = "https://generativelanguage.googleapis.com";
    assert_eq!(
        url(base, "gemini-2.5-flash", false),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(
        url(&format!("{base}/"), "models/gemini-2.5-pro", true),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    );
    assert_eq!(
        url("http://127.0.0.1:8787/v1", "gemini-2.0-flash", false),
        "http://127.0.0.1:8787/v1/models/gemini-2.0-flash:generateContent"
    );
    assert_eq!(
        url("http://h/v1beta/", "m", false),
        "http://h/v1beta/models/m:generateContent"
    );
    // A name cannot reach the query or another path; a non-ASCII base does not panic.
    assert_eq!(
        url("http://h", "a?b/c d", false),
        "http://h/v1beta/models/a%3Fb%2Fc%20d:generateContent"
    );
    assert_eq!(
        url("http://h/vé", "m", false),
        "http://h/vé/v1beta/models/m:generateContent"
    );
}

#[test]
fn body_with_system_tools_config_and_tool_turns() {
    let mut r = req();
    let call = |id: &str, args: &str| ToolCallRecord {
        id: id.into(),
        name: "get_book_author".into(),
        args: args.into(),
    };
    r.messages.push(Message {
        role: Role::Assistant,
        content: String::new(),
        tool_calls: vec![call("c1", "{\"title\":\"x\"}"), call("c2", "{broken")],
        tool_call_id: None,
    });
    for id in ["c1", "c2"] {
        r.messages.push(Message {
            role: Role::Tool,
            content: "Patrick Rothfuss".into(),
            tool_calls: vec![],
            tool_call_id: Some(id.into()),
        });
    }
    r.messages.push(Message::assistant("Patrick Rothfuss."));
    assert_eq!(
        body(&r),
        json!({
            "contents": [
                {"role": "user", "parts": [{"text": "Who wrote The Name of the Wind?"}]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "get_book_author", "args": {"title": "x"}}},
                    {"functionCall": {"name": "get_book_author", "args": {}}},
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_book_author", "response": {"result": "Patrick Rothfuss"}}},
                    {"functionResponse": {"name": "get_book_author", "response": {"result": "Patrick Rothfuss"}}},
                ]},
                {"role": "model", "parts": [{"text": "Patrick Rothfuss."}]},
            ],
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "tools": [{"functionDeclarations": [{
                "name": "get_book_author",
                "description": "Look up who wrote a book",
                "parametersJsonSchema": {"type": "object", "properties": {"title": {"type": "string"}}, "additionalProperties": false},
            }]}],
            "generationConfig": {"temperature": 0.5, "maxOutputTokens": 100},
        })
    );
    let mut bare = req();
    bare.system = None;
    bare.tools.clear();
    bare.temperature = None;
    bare.max_tokens = None;
    assert_eq!(
        body(&bare),
        json!({"contents": [{"role": "user", "parts": [{"text": "Who wrote The Name of the Wind?"}]}]})
    );
}

const PLAIN: &str = r#"{
  "candidates": [
    {
      "content": {
        "parts": [
          {"text": "Let me check. "},
          {"text": "thinking...", "thought": true},
          {"functionCall": {"name": "get_book_author", "args": {"title": "The Name of the Wind"}}}
        ],
        "role": "model"
      },
      "finishReason": "STOP",
      "index": 0
    }
  ],
  "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 9, "thoughtsTokenCount": 3, "totalTokenCount": 32},
  "modelVersion": "gemini-2.5-flash",
  "responseId": "abc"
}"#;

#[test]
fn plain_reply_with_text_a_thought_and_a_function_call() {
    let r = parse_reply(PLAIN.as_bytes(), &[]).unwrap();
    assert_eq!(r.content, "Let me check. ");
    assert_eq!(r.tool_calls.len(), 1);
    assert_eq!(r.tool_calls[0].name, "get_book_author");
    assert_eq!(r.tool_calls[0].args, r#"{"title":"The Name of the Wind"}"#);
    // Thinking tokens are billed as output: 9 + 3.
    assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (20, 12));
    assert_eq!(r.finish_reason.as_deref(), Some("STOP"));
}

#[test]
fn plain_replies_that_fail() {
    let e = parse_reply(
        br#"{"candidates":[{"content":{"parts":[{"text":"I can"}]},"finishReason":"SAFETY","index":0}]}"#,
        &[],
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContentFilter);
    assert_eq!(e.provider_type.as_deref(), Some("SAFETY"));
    let e = parse_reply(
        br#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":5}}"#,
        &[],
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContentFilter);
    assert!(
        e.message.contains("blockReason: PROHIBITED_CONTENT"),
        "{}",
        e.message
    );
    let e = parse_reply(
        br#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
        &[],
    )
    .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Overloaded, Some(200)));
    assert_eq!(
        parse_reply(b"not json", &[]).unwrap_err().kind,
        ErrorKind::ServerError
    );
    assert_eq!(
        parse_reply(br#"{"candidates": 7}"#, &[]).unwrap_err().kind,
        ErrorKind::ServerError
    );
    // MAX_TOKENS is an answer (cut short), not an error.
    let r = parse_reply(
        br#"{"candidates":[{"content":{"parts":[{"text":"a b"}]},"finishReason":"MAX_TOKENS","index":0}]}"#,
        &[],
    )
    .unwrap();
    assert_eq!(
        (r.content.as_str(), r.finish_reason.as_deref()),
        ("a b", Some("MAX_TOKENS"))
    );
}

#[test]
fn a_json_list_reply_is_joined_and_a_cut_one_is_a_broken_stream() {
    let list = r#"[{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}]},
{"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":2}}]"#;
    let r = parse_reply(list.as_bytes(), &[]).unwrap();
    assert_eq!(r.content, "Hello");
    assert_eq!(r.usage.output_tokens, 2);
    let cut = &list[..list.len() / 2];
    let e = parse_reply(cut.as_bytes(), &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::StreamInterrupted);
    assert!(e.message.contains("ends mid-list"), "{}", e.message);
    let unfinished = r#"[{"candidates":[{"content":{"parts":[{"text":"Hel"}]},"index":0}]}]"#;
    let e = parse_reply(unfinished.as_bytes(), &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::StreamInterrupted);
    assert!(
        e.message.contains("without a finishReason"),
        "{}",
        e.message
    );
}

#[test]
fn stream_of_text_then_a_function_call_ends_at_the_finish_reason() {
    let frames = [
        r#"{"candidates": [{"content": {"parts": [{"text": "The"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 1,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "r1"}"#,
        r#"{"candidates": [{"content": {"parts": [{"text": " answer \"quoted\""}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 4},"modelVersion": "gemini-2.5-flash","responseId": "r1"}"#,
        r#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f","args": {"k": [1, 2]}}}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "r1"}"#,
    ];
    let mut s = StreamState::new();
    let mut seen = Vec::new();
    for f in frames {
        let step = s
            .event(&ev(f), &[], &mut |t| seen.push(t.to_owned()))
            .unwrap();
        assert_eq!(step, Step::Continue);
    }
    let last = r#"{"candidates": [{"content": {"parts": [{"text": ""}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 10}}"#;
    assert_eq!(s.event(&ev(last), &[], &mut |_| {}).unwrap(), Step::Done);
    assert_eq!(
        s.answer_bytes(),
        "The answer \"quoted\"".len() + r#"{"k":[1,2]}"#.len()
    );
    let r = s.finish();
    assert_eq!(seen, ["The", " answer \"quoted\""]);
    assert_eq!(r.content, "The answer \"quoted\"");
    assert_eq!(r.tool_calls[0].args, r#"{"k":[1,2]}"#);
    assert_eq!((r.usage.input_tokens, r.usage.output_tokens), (8, 10));
    assert_eq!(r.finish_reason.as_deref(), Some("STOP"));
}

#[test]
fn stream_errors_cuts_and_filters() {
    let mut s = StreamState::new();
    let e = s
        .event(
            &ev(r#"{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}"#),
            &[],
            &mut |_| {},
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Overloaded);
    assert_eq!(
        e.message,
        "The model is overloaded. Please try again later."
    );
    // The stream ended inside a frame: its JSON is cut.
    let e = s
        .event(
            &ev(r#"{"candidates": [{"content": {"parts": [{"text": "Hel"#),
            &[],
            &mut |_| {},
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::StreamInterrupted);
    assert!(
        e.message
            .starts_with("a stream frame ends mid-JSON, cut off after 52 bytes"),
        "{}",
        e.message
    );
    // Not JSON at all.
    let e = s.event(&ev("}{"), &[], &mut |_| {}).unwrap_err();
    assert_eq!(e.kind, ErrorKind::StreamInterrupted);
    assert!(
        e.message.starts_with("malformed stream frame"),
        "{}",
        e.message
    );
    let e = s
        .event(
            &ev(r#"{"candidates":[{"finishReason":"RECITATION","index":0}]}"#),
            &[],
            &mut |_| {},
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContentFilter);
    assert_eq!(s.terminal(), "finishReason");
}
