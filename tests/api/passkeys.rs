//! Passkeys (#25), with a software authenticator as the user's device: Alice
//! adds one on her account page and signs in with it on another browser,
//! without her password. Each challenge answers once, in the browser it was
//! given to, from an allowed origin, for this relying party; a passkey whose
//! signature counter goes backwards (a copied device) is refused, and so is
//! one presented for another account. Failures answer the same and count
//! toward the client address's sign-in throttle.

use crate::authenticator::Authenticator;
use crate::helpers::{
    session_set_cookie, spawn_app, spawn_app_with, test_settings, Browser, TestApp, PASSWORD,
};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use std::sync::Arc;

pub const ORIGIN: &str = "http://localhost:3000";
const LAPTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

async fn code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["code"].as_str().unwrap_or_default().to_string()
}

/// The ceremony options the server hands a page at `path`.
async fn options(browser: &Browser<'_>, path: &str) -> String {
    let response = browser.post(path, &[]).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// `username` signed up on a laptop (which signs in, inside the
/// re-authentication window).
async fn signed_up<'a>(app: &'a TestApp, username: &str) -> Browser<'a> {
    let laptop = Browser::new(app, LAPTOP);
    let response = laptop
        .post(
            "/api/register",
            &[("username", username), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "sign-up of {username}");
    laptop
}

/// Adds the passkey `device` makes, named `name`; the account page's answer.
pub async fn add_passkey(
    browser: &Browser<'_>,
    device: &mut Authenticator,
    name: &str,
) -> Response {
    let options = options(browser, "/api/passkeys/new/options").await;
    let credential = device
        .create(&options)
        .await
        .expect("the device makes a passkey");
    browser
        .post(
            "/api/passkeys/new",
            &[("credential", &credential), ("name", name)],
        )
        .await
}

async fn passkeys(browser: &Browser<'_>) -> Vec<Value> {
    let response = browser.post("/api/passkeys", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// `device`'s answer to a sign-in ceremony begun on `browser`.
pub async fn assertion(browser: &Browser<'_>, device: &mut Authenticator) -> String {
    let options = options(browser, "/api/passkeys/sign-in/options").await;
    device.get(&options).await.expect("the device signs")
}

pub async fn sign_in_with(browser: &Browser<'_>, credential: &str) -> Response {
    browser
        .post(
            "/api/passkeys/sign-in",
            &[("credential", credential), ("remember", "on")],
        )
        .await
}

/// The `Set-Cookie` headers of an answer.
fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .collect()
}

async fn who(browser: &Browser<'_>) -> Value {
    let response = browser
        .client
        .get(browser.url("/api/me"))
        .send()
        .await
        .unwrap();
    if response.status() != StatusCode::OK {
        return Value::Null;
    }
    response.json().await.unwrap()
}

/// `browser`'s answer `credential` is refused, with the one answer every
/// failure gets, and signs nobody in.
async fn refused(browser: &Browser<'_>, credential: &str, what: &str) {
    let response = sign_in_with(browser, credential).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(code(response).await, "passkey_refused", "{what}");
    assert_eq!(who(browser).await, Value::Null, "{what}");
}

/// Alice, signed up on her laptop, with a passkey on `device`.
async fn alice_with_a_passkey(app: &TestApp) -> (Browser<'_>, Authenticator) {
    let laptop = signed_up(app, "alice").await;
    let mut device = Authenticator::new(ORIGIN);
    let added = add_passkey(&laptop, &mut device, "Laptop").await;
    assert_eq!(added.status(), StatusCode::OK);
    (laptop, device)
}

#[tokio::test]
async fn a_passkey_added_on_the_account_page_signs_in_on_another_browser_without_a_password() {
    let app = spawn_app().await;
    let laptop = signed_up(&app, "alice").await;
    let mut device = Authenticator::new(ORIGIN);
    let added = add_passkey(&laptop, &mut device, "  My phone ").await;
    assert_eq!(added.status(), StatusCode::OK);
    let added: Value = added.json().await.unwrap();
    assert_eq!(added["name"], "My phone");

    let listed = passkeys(&laptop).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "My phone");
    assert_eq!(listed[0]["backed_up"], true, "the software device syncs");
    assert_eq!(listed[0]["last_used_at"], Value::Null);

    let phone = Browser::new(&app, PHONE);
    let credential = assertion(&phone, &mut device).await;
    let signed_in = sign_in_with(&phone, &credential).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookies: Vec<String> = signed_in
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|cookie| cookie.starts_with("device=")),
        "the browser is trusted for the account: {cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|cookie| cookie.starts_with("session=") && cookie.contains("Max-Age")),
        "\"keep me signed in\" gives a lasting cookie: {cookies:?}"
    );
    let me = who(&phone).await;
    assert_eq!(me["username"], "alice");
    assert_eq!(me["authenticated_by"], "session");

    let listed = passkeys(&laptop).await;
    assert!(listed[0]["last_used_at"].as_i64().is_some(), "{listed:?}");
    let activity: Value = phone.post("/api/activity", &[]).await.json().await.unwrap();
    let kinds: Vec<&str> = activity["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| event["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"signed_in_with_passkey_new_device"),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"passkey_added"), "{kinds:?}");
}

#[tokio::test]
async fn a_challenge_answers_once_even_when_two_answers_race() {
    let app = spawn_app().await;
    let (_laptop, mut device) = alice_with_a_passkey(&app).await;

    let phone = Browser::new(&app, PHONE);
    let credential = assertion(&phone, &mut device).await;
    let (first, second) = tokio::join!(
        sign_in_with(&phone, &credential),
        sign_in_with(&phone, &credential)
    );
    let statuses = [first.status(), second.status()];
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::OK)
            .count(),
        1,
        "one of two racing answers signs in: {statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::UNAUTHORIZED), "{statuses:?}");

    // Replayed later, from a browser that was handed no challenge.
    let stranger = Browser::new(&app, LAPTOP);
    refused(&stranger, &credential, "a replay").await;
}

#[tokio::test]
async fn an_answer_to_another_browsers_challenge_is_refused() {
    let app = spawn_app().await;
    let (_laptop, mut device) = alice_with_a_passkey(&app).await;

    let victim = Browser::new(&app, PHONE);
    let attacker = Browser::new(&app, LAPTOP);
    let stolen = assertion(&victim, &mut device).await;
    // The attacker has a ceremony of their own, but the answer is to the victim's.
    options(&attacker, "/api/passkeys/sign-in/options").await;
    refused(&attacker, &stolen, "another browser's challenge").await;
}

#[tokio::test]
async fn a_challenge_expires_after_five_minutes() {
    let app = spawn_app().await;
    let (_laptop, mut device) = alice_with_a_passkey(&app).await;

    let phone = Browser::new(&app, PHONE);
    let credential = assertion(&phone, &mut device).await;
    app.clock.advance(301);
    refused(&phone, &credential, "an expired challenge").await;
}

#[tokio::test]
async fn an_answer_from_an_origin_not_allowed_is_refused() {
    let app = spawn_app().await;
    let (laptop, mut device) = alice_with_a_passkey(&app).await;

    let phone = Browser::new(&app, PHONE);
    device.origin = url::Url::parse("http://localhost:4000").unwrap();
    let credential = assertion(&phone, &mut device).await;
    refused(&phone, &credential, "a wrong origin").await;
    // Nor can a passkey be added from there.
    let mut elsewhere = Authenticator::new("http://localhost:4000");
    let added = add_passkey(&laptop, &mut elsewhere, "Elsewhere").await;
    assert_eq!(added.status(), StatusCode::BAD_REQUEST);
    assert_eq!(code(added).await, "passkey_not_added");
}

#[tokio::test]
async fn an_answer_for_another_relying_party_id_is_refused() {
    // login.example.com is an allowed origin, but the passkeys are for example.com.
    let (mut settings, storage) = test_settings().await;
    settings.webauthn.rp_id = "example.com".into();
    settings.webauthn.origins = "https://example.com, https://login.example.com".into();
    let app = spawn_app_with(settings, Arc::new(storage)).await;
    let laptop = signed_up(&app, "alice").await;
    let mut device = Authenticator::new("https://example.com");
    let added = add_passkey(&laptop, &mut device, "Laptop").await;
    assert_eq!(added.status(), StatusCode::OK);

    let phone = Browser::new(&app, PHONE);
    let options = options(&phone, "/api/passkeys/sign-in/options").await;
    let options = options.replace("\"rpId\":\"example.com\"", "\"rpId\":\"login.example.com\"");
    assert!(options.contains("login.example.com"), "{options}");
    device.origin = url::Url::parse("https://login.example.com").unwrap();
    let credential = device.get(&options).await.unwrap();
    refused(&phone, &credential, "a wrong rp id").await;

    // The right one, from the same allowed origin, signs in.
    let credential = assertion(&phone, &mut device).await;
    assert_eq!(
        sign_in_with(&phone, &credential).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_signature_counter_that_goes_backwards_is_refused() {
    let app = spawn_app().await;
    let (_laptop, mut device) = alice_with_a_passkey(&app).await;
    let copied = device.passkey().expect("a passkey");

    let phone = Browser::new(&app, PHONE);
    let credential = assertion(&phone, &mut device).await;
    assert_eq!(
        sign_in_with(&phone, &credential).await.status(),
        StatusCode::OK
    );

    // A copy of the device made before that sign-in: its counter is behind.
    let mut clone = Authenticator::new(ORIGIN);
    clone.hold(copied);
    let thief = Browser::new(&app, LAPTOP);
    let credential = assertion(&thief, &mut clone).await;
    refused(&thief, &credential, "a counter gone back").await;
}

#[tokio::test]
async fn a_passkey_presented_for_another_account_is_refused() {
    let app = spawn_app().await;
    let alice = signed_up(&app, "alice").await;
    let mut alices = Authenticator::new(ORIGIN);
    add_passkey(&alice, &mut alices, "Alice's").await;
    let bob = signed_up(&app, "bob").await;
    let mut bobs = Authenticator::new(ORIGIN);
    add_passkey(&bob, &mut bobs, "Bob's").await;

    // Alice's credential, claiming Bob's account (his user handle).
    let mut forged = alices.passkey().unwrap();
    forged.user_handle = bobs.passkey().unwrap().user_handle;
    let mut device = Authenticator::new(ORIGIN);
    device.hold(forged);
    let stranger = Browser::new(&app, PHONE);
    let credential = assertion(&stranger, &mut device).await;
    refused(&stranger, &credential, "another account's handle").await;

    // An unknown passkey answers the same.
    let mut unknown = Authenticator::new(ORIGIN);
    let other_app = spawn_app().await;
    let carol = signed_up(&other_app, "carol").await;
    add_passkey(&carol, &mut unknown, "Elsewhere").await;
    let credential = assertion(&stranger, &mut unknown).await;
    refused(&stranger, &credential, "an unknown passkey").await;
}

#[tokio::test]
async fn failed_passkey_sign_ins_count_toward_the_address_throttle() {
    let (mut settings, storage) = test_settings().await;
    settings.throttle.address_max_failures = 3;
    let app = spawn_app_with(settings, Arc::new(storage)).await;
    alice_with_a_passkey(&app).await;

    let attacker = Browser::new(&app, PHONE);
    for _ in 0..3 {
        refused(&attacker, "{}", "a malformed answer").await;
    }
    let throttled = sign_in_with(&attacker, "{}").await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled
        .headers()
        .contains_key(reqwest::header::RETRY_AFTER));
    // No new challenge either, and a password sign-in from there waits too.
    let options = attacker.post("/api/passkeys/sign-in/options", &[]).await;
    assert_eq!(options.status(), StatusCode::TOO_MANY_REQUESTS);
    let password = attacker
        .post(
            "/api/login",
            &[("username", "alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(password.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn adding_renaming_and_removing_a_passkey_are_sensitive_actions() {
    let app = spawn_app().await;
    let laptop = signed_up(&app, "alice").await;
    let mut device = Authenticator::new(ORIGIN);
    let added: Value = add_passkey(&laptop, &mut device, "Laptop")
        .await
        .json()
        .await
        .unwrap();
    let id = added["id"].as_i64().unwrap().to_string();

    assert_eq!(
        laptop.post("/api/confirm/end", &[]).await.status(),
        StatusCode::OK
    );
    for (path, fields) in [
        ("/api/passkeys/new/options", vec![]),
        (
            "/api/passkeys/rename",
            vec![("id", id.as_str()), ("name", "Work")],
        ),
        ("/api/passkeys/remove", vec![("id", id.as_str())]),
    ] {
        let response = laptop.post(path, &fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(code(response).await, "reauth_required", "{path}");
    }
    assert_eq!(passkeys(&laptop).await[0]["name"], "Laptop");

    let confirmed = laptop.post("/api/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let renamed = laptop
        .post(
            "/api/passkeys/rename",
            &[("id", &id), ("name", "Work laptop")],
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(passkeys(&laptop).await[0]["name"], "Work laptop");
    let too_long = "x".repeat(65);
    let refused_name = laptop
        .post("/api/passkeys/rename", &[("id", &id), ("name", &too_long)])
        .await;
    assert_eq!(refused_name.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Bob can neither rename nor remove it: to him it does not exist.
    let bob = signed_up(&app, "bob").await;
    let response = bob.post("/api/passkeys/remove", &[("id", &id)]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(code(response).await, "unknown_passkey");

    let removed = laptop.post("/api/passkeys/remove", &[("id", &id)]).await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert!(passkeys(&laptop).await.is_empty());
    let phone = Browser::new(&app, PHONE);
    let credential = assertion(&phone, &mut device).await;
    refused(&phone, &credential, "a removed passkey").await;
}

#[tokio::test]
async fn an_account_has_at_most_its_limit_of_passkeys_and_each_is_its_own() {
    let (mut settings, storage) = test_settings().await;
    settings.webauthn.max_per_user = 2;
    let app = spawn_app_with(settings, Arc::new(storage)).await;
    let laptop = signed_up(&app, "alice").await;
    for name in ["One", "Two"] {
        let mut device = Authenticator::new(ORIGIN);
        let added = add_passkey(&laptop, &mut device, name).await;
        assert_eq!(added.status(), StatusCode::OK, "{name}");
    }
    let third = laptop.post("/api/passkeys/new/options", &[]).await;
    assert_eq!(third.status(), StatusCode::CONFLICT);
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["code"], "too_many_passkeys");
    assert_eq!(body["limit"], 2);
    let names: Vec<Value> = passkeys(&laptop)
        .await
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, ["One", "Two"]);
}

#[tokio::test]
async fn a_sign_in_pages_challenge_writes_no_session_and_cannot_undo_a_password_sign_in() {
    let app = spawn_app().await;
    let _alice = signed_up(&app, "alice").await;
    let visitor = Browser::new(&app, PHONE);
    let response = visitor.post("/api/passkeys/sign-in/options", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookies = set_cookies(&response);
    assert!(
        matches!(&cookies[..], [cookie] if cookie.starts_with("passkey=")
            && cookie.contains("Max-Age=300") && cookie.contains("HttpOnly")),
        "only the ceremony's own cookie, for its 5 minutes: {cookies:?}"
    );
    let options: Value = serde_json::from_str(&response.json::<String>().await.unwrap()).unwrap();
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert_eq!(
        options["publicKey"]["allowCredentials"],
        serde_json::json!([])
    );

    // The sign-in page's password form is sent while the autofill's request
    // for a challenge is under way, and its answer comes first. The
    // challenge's answer sets no session cookie, so it cannot put back the
    // one the sign-in replaced: the browser stays signed in.
    visitor.sign_in("alice", PASSWORD).await;
    let late = visitor.post("/api/passkeys/sign-in/options", &[]).await;
    assert_eq!(late.status(), StatusCode::OK);
    let set = session_set_cookie(&late, "session");
    assert!(set.is_none(), "{set:?}");
    assert_eq!(who(&visitor).await["username"], "alice");

    // The site opened at an address the passkeys are not for (here its IP
    // address): refused before anything is stored or counted.
    let elsewhere = Browser::new(&app, PHONE);
    let page = format!("http://{}", app.address);
    let refused = elsewhere
        .client
        .post(app.url("/api/passkeys/sign-in/options"))
        .header(reqwest::header::ORIGIN, &page)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.headers().get(reqwest::header::SET_COOKIE).is_none());
    assert_eq!(code(refused).await, "passkey_wrong_site");
    let allowed = elsewhere
        .client
        .post(app.url("/api/passkeys/sign-in/options"))
        .header(reqwest::header::ORIGIN, ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.status(),
        StatusCode::FORBIDDEN,
        "another origin than the request's host is refused first"
    );
}
