//! Property-based fuzzing over HTTP: random and hostile input at every server
//! function and page must get a 2xx, 3xx or 4xx answer, never a 5xx, and the
//! server must keep serving.
//!
//! Its server runs for a long time: cargo-nextest gives it a process of its
//! own (many short-lived test runtimes in one process made it stall).

use crate::helpers;

use helpers::spawn_app;
use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use reqwest::{Method, StatusCode};

const PATHS: &[&str] = &[
    "/api/register",
    "/api/login",
    "/api/logout",
    "/api/me",
    "/",
    "/login",
    "/register",
    "/dashboard",
    "/no-such-page",
    "/pkg/missing.wasm",
];

const CONTENT_TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "application/octet-stream",
    "",
];

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("' OR 1=1; DROP TABLE users; --".to_string()),
        Just("<script>alert(1)</script>\"'><img src=x onerror=alert(1)>".to_string()),
        Just("\u{0}\u{0}nul\u{0}".to_string()),
        Just("%00%ff%fe%c0%af".to_string()),
        Just("//evil.example".to_string()),
        "[a-zA-Z0-9 ]{0,40}",
        (0usize..40_000).prop_map(|n| "A".repeat(n)),
        Just("ａｌｉｃｅ\u{200b}\u{202e}".to_string()),
    ]
}

#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    Form(Vec<(String, String)>),
}

fn body() -> impl Strategy<Value = Body> {
    let field = prop_oneof![
        Just("username".to_string()),
        Just("password".to_string()),
        Just("remember".to_string()),
        Just("next".to_string()),
        hostile_text(),
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2_000).prop_map(Body::Bytes),
        proptest::collection::vec((field, hostile_text()), 0..6).prop_map(Body::Form),
    ]
}

#[test]
fn hostile_requests_never_get_a_server_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(spawn_app());
    runtime.block_on(async {
        // Signed in, so the fuzzing also reaches signed-in pages until it signs out.
        app.signed_in_as("alice", true).await;
    });
    let strategy = (
        proptest::sample::select(PATHS),
        prop_oneof![
            Just(Method::GET),
            Just(Method::POST),
            Just(Method::PUT),
            Just(Method::DELETE)
        ],
        proptest::sample::select(CONTENT_TYPES),
        body(),
        hostile_text(),
    );
    let mut runner = TestRunner::new(Config {
        cases: 120,
        failure_persistence: None,
        ..Config::default()
    });
    let previous = std::sync::Mutex::new(String::new());
    runner
        .run(&strategy, |(path, method, content_type, body, query)| {
            let status = runtime.block_on(async {
                let url = format!("{}?q={}", app.url(path), urlencode(&query));
                let mut request = app
                    .client
                    .request(method.clone(), url)
                    .timeout(std::time::Duration::from_secs(10));
                if !content_type.is_empty() {
                    request = request.header("content-type", content_type);
                }
                request = match &body {
                    Body::Bytes(bytes) => request.body(bytes.clone()),
                    Body::Form(fields) => request.body(form_encode(fields)),
                };
                request.send().await.map(|response| response.status())
            });
            let status = match status {
                Ok(status) => status,
                Err(error) => {
                    let before = previous.lock().unwrap().clone();
                    return Err(TestCaseError::fail(format!(
                        "{method} {path}: no answer: {error:?}; previous request: {before}"
                    )));
                }
            };
            *previous.lock().unwrap() =
                format!("{method} {path} {content_type} {body:?} -> {status}")
                    .chars()
                    .take(400)
                    .collect();
            prop_assert!(
                status.as_u16() < 500,
                "{method} {path} ({content_type}) answered {status}"
            );
            Ok(())
        })
        .unwrap();
    runtime.block_on(async {
        assert_eq!(
            app.get("/login").await.status(),
            StatusCode::OK,
            "still serving"
        );
        assert_eq!(
            app.login("alice", helpers::PASSWORD, false).await.status(),
            StatusCode::OK
        );
    });
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn form_encode(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", urlencode(name), urlencode(value)))
        .collect::<Vec<_>>()
        .join("&")
}
