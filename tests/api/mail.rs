//! What the mail stories (`email`, `recovery`, `alerts`) share: an app whose
//! mail goes to a real SMTP server of the test's own, an account with a
//! verified address, and the pieces of an answer they read.

use crate::helpers::{location, spawn_app_with, test_settings, Browser, TestApp, TestStorage};
use crate::smtp::SmtpSink;
use persistent_login::server::config::{SecretText, Settings};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use std::sync::Arc;

/// Settings whose mail goes to `sink`, looked for every second.
pub async fn mail_settings(sink: &SmtpSink) -> (Settings, TestStorage) {
    let (mut settings, storage) = test_settings().await;
    settings.mail.smtp_url = Some(SecretText::from(sink.url()));
    settings.mail.poll_interval_secs = 1;
    (settings, storage)
}

pub async fn app_with_mail() -> (TestApp, SmtpSink) {
    app_with_mail_and(|_| ()).await
}

/// As `app_with_mail`, with the settings changed first.
pub async fn app_with_mail_and(change: impl FnOnce(&mut Settings)) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start();
    let (mut settings, storage) = mail_settings(&sink).await;
    change(&mut settings);
    (spawn_app_with(settings, Arc::new(storage)).await, sink)
}

/// Registers `username` with `address` and follows its verification link.
pub async fn verified(app: &TestApp, sink: &SmtpSink, username: &str, address: &str) {
    let registered = app.register_with_email(username, address).await;
    assert_eq!(registered.status(), StatusCode::OK);
    let mail = sink.wait_for(address, 1).await.remove(0);
    let token = mail.token_for("/email/verify").unwrap();
    let done = app
        .post_form("/api/email/verify", &[("token", &token)])
        .await;
    assert_eq!(done.status(), StatusCode::OK);
}

/// The status and the error code of an answer.
pub async fn code(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or_default();
    (
        status,
        body["code"].as_str().unwrap_or_default().to_string(),
    )
}

/// `browser` follows the link to `page` with `token`: the token must go
/// into the session and the browser on to the page without it.
pub async fn follow(app: &TestApp, browser: &Browser<'_>, page: &str, token: &str) {
    let followed = browser
        .client
        .get(app.url(&format!("{page}?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&followed).as_deref(), Some(page));
    let html = browser.page(page).await;
    assert!(!html.contains(token), "the token is not in the page");
}

/// The kinds on the first page of `browser`'s activity, newest first.
pub async fn activity_kinds(browser: &Browser<'_>) -> Vec<String> {
    let activity: Value = browser
        .post("/api/activity", &[])
        .await
        .json()
        .await
        .unwrap();
    activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap().to_string())
        .collect()
}
