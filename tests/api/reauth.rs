//! Re-authentication for sensitive actions (#23): creating a token, revoking
//! them and signing out everywhere else need the password entered on this
//! session within `session.reauth_window_secs` (900 s by default), from the
//! sign-in or `/confirm`; each such action renews it. Outside it they answer
//! 403 `reauth_required` and change nothing; a plain form is sent to
//! `/confirm` and back. A bearer token never does them.

use crate::helpers::{
    client_with, cookie_pair, location, session_set_cookie, spawn_app_with, test_settings, Browser,
    TestApp, PASSWORD,
};
use persistent_login::server::config::SecretText;
use reqwest::{header, Response, StatusCode};
use serde_json::Value;
use std::sync::Arc;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const WINDOW: i64 = 900;

async fn app() -> TestApp {
    let (mut settings, storage) = test_settings().await;
    settings.tokens.keys = Some(SecretText::from(
        "k1=BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=".to_string(),
    ));
    spawn_app_with(settings, Arc::new(storage)).await
}

async fn code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["code"].as_str().unwrap_or_default().to_string()
}

async fn tokens_held(browser: &Browser<'_>) -> i64 {
    let response = browser.post("/api/tokens", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Alice, signed in on her laptop and her phone.
async fn alice_on_two_devices(app: &TestApp) -> (Browser<'_>, Browser<'_>) {
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(app, UA);
    let phone = Browser::new(app, PHONE);
    laptop.sign_in("alice", PASSWORD).await;
    phone.sign_in("alice", PASSWORD).await;
    (laptop, phone)
}

/// Every sensitive action refused as it must be: 403, `reauth_required`,
/// and the browser sent to `/confirm`.
async fn assert_refused(response: Response, what: &str) {
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "{what}");
    let to = location(&response).unwrap_or_default();
    assert!(
        to.starts_with("/confirm?for=/api/") && to.ends_with("&next=/account"),
        "{what}: to /confirm for this action, then back: {to}"
    );
    assert_eq!(code(response).await, "reauth_required", "{what}");
}

#[tokio::test]
async fn outside_the_window_every_sensitive_action_gets_403_and_changes_nothing_until_the_password_is_entered(
) {
    let app = app().await;
    let (laptop, phone) = alice_on_two_devices(&app).await;
    // Right after the sign-in the password was just entered.
    let made = laptop.post("/api/tokens/new", &[]).await;
    assert_eq!(made.status(), StatusCode::OK);

    // A quarter of an hour later someone at the open laptop tries them all.
    app.clock.advance(WINDOW + 1);
    assert_refused(laptop.post("/api/tokens/new", &[]).await, "a new token").await;
    assert_refused(
        laptop.post("/api/tokens/revoke", &[]).await,
        "revoking tokens",
    )
    .await;
    assert_refused(
        laptop
            .post("/api/sessions/revoke", &[("others", "on")])
            .await,
        "signing out everywhere else",
    )
    .await;
    // Nor one by one: the phone's session by its handle.
    let phone_handle = crate::helpers::handle_of(&laptop.sessions().await, false);
    assert_refused(
        laptop
            .post("/api/sessions/revoke", &[("session", &phone_handle)])
            .await,
        "signing the phone out",
    )
    .await;
    assert_eq!(tokens_held(&laptop).await, 1, "no token made or revoked");
    assert_eq!(
        laptop.sessions().await.len(),
        2,
        "the phone is still signed in"
    );
    assert_eq!(phone.dashboard().await, StatusCode::OK);
    // The rest of the account works as before: it is not a sign-out.
    assert_eq!(laptop.dashboard().await, StatusCode::OK);

    // A wrong password opens nothing.
    let wrong = laptop
        .post("/api/confirm", &[("password", "not the password at all")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(wrong).await, "wrong_password");
    assert_refused(
        laptop.post("/api/tokens/new", &[]).await,
        "after a wrong password",
    )
    .await;

    // The right one does, under a new session id as at sign-in.
    let confirmed = laptop.post("/api/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert!(
        session_set_cookie(&confirmed, "session").is_some(),
        "a new session id"
    );
    assert_eq!(confirmed.json::<String>().await.unwrap(), "/account");
    assert_eq!(
        laptop.post("/api/tokens/new", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(tokens_held(&laptop).await, 2);
    let others = laptop
        .post("/api/sessions/revoke", &[("others", "on")])
        .await;
    assert_eq!(others.status(), StatusCode::OK);
    assert_ne!(
        phone.dashboard().await,
        StatusCode::OK,
        "the phone is signed out"
    );
    assert_eq!(tokens_held(&laptop).await, 0, "and every token revoked");
}

#[tokio::test]
async fn each_sensitive_action_renews_the_window_and_ending_it_early_asks_again() {
    let app = app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, UA);
    laptop.sign_in("alice", PASSWORD).await;
    for _ in 0..3 {
        app.clock.advance(WINDOW - 100);
        assert_eq!(
            laptop.post("/api/tokens/new", &[]).await.status(),
            StatusCode::OK,
            "inside the window, renewed by the last action"
        );
    }
    // What `/api/me` and the account page say: confirmed, until when.
    let me: Value = laptop.post("/api/me", &[]).await.json().await.unwrap();
    let until = me["confirmed_until"].as_i64().expect("confirmed");
    let account = laptop.page("/account").await;
    assert!(account.contains("data-testid=\"confirmed\""), "{account}");

    let ended = laptop.post("/api/confirm/end", &[]).await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert_refused(laptop.post("/api/tokens/new", &[]).await, "after ending it").await;
    let me: Value = laptop.post("/api/me", &[]).await.json().await.unwrap();
    assert!(me["confirmed_until"].is_null(), "{me} (was until {until})");
    let account = laptop.page("/account").await;
    assert!(
        account.contains("data-testid=\"not-confirmed\""),
        "{account}"
    );
}

#[tokio::test]
async fn without_javascript_a_sensitive_form_leads_to_confirm_and_back_to_the_page() {
    let app = app().await;
    let (laptop, phone) = alice_on_two_devices(&app).await;
    app.clock.advance(WINDOW + 1);

    let refused = laptop
        .form_post("/api/sessions/revoke", &[("others", "on")])
        .await;
    assert_eq!(refused.status(), StatusCode::FOUND);
    assert_eq!(
        location(&refused).as_deref(),
        Some("/confirm?for=/api/sessions/revoke&next=/account")
    );
    assert_eq!(phone.dashboard().await, StatusCode::OK, "nothing changed");

    // The page names the user, who only types the password.
    let page = laptop
        .page("/confirm?for=/api/sessions/revoke&next=/account")
        .await;
    assert!(page.contains("Signing out your other sessions needs your password"));
    assert!(page.contains("Confirm it"), "{page}");
    assert!(page.contains("value=\"alice\""), "{page}");
    let confirmed = laptop
        .form_post(
            "/api/confirm",
            &[("password", PASSWORD), ("next", "/account")],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    assert_eq!(location(&confirmed).as_deref(), Some("/account"));

    let done = laptop
        .form_post("/api/sessions/revoke", &[("others", "on")])
        .await;
    assert_eq!(done.status(), StatusCode::FOUND);
    assert_eq!(
        location(&done).as_deref(),
        Some("/account?signed_out=others#sessions-heading")
    );
    assert_ne!(phone.dashboard().await, StatusCode::OK);

    // `next` leads only to a path on this site.
    for elsewhere in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let answer = laptop
            .form_post(
                "/api/confirm",
                &[("password", PASSWORD), ("next", elsewhere)],
            )
            .await;
        assert_eq!(
            location(&answer).as_deref(),
            Some("/account"),
            "{elsewhere}"
        );
    }
    // And an anonymous visitor is sent to sign in first.
    let anonymous = app.get("/confirm").await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&anonymous).as_deref(),
        Some("/login?next=/confirm")
    );
}

#[tokio::test]
async fn failed_confirmations_count_toward_the_accounts_sign_in_throttle() {
    let app = app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, UA);
    laptop.sign_in("alice", PASSWORD).await;
    app.clock.advance(WINDOW + 1);
    let mut throttled = None;
    for attempt in 0..20 {
        let answer = laptop
            .post("/api/confirm", &[("password", "a wrong guess, again")])
            .await;
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(attempt);
            break;
        }
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    assert!(throttled.is_some(), "guessing on /confirm is throttled");
    // While throttled even the right password opens nothing.
    let right = laptop.post("/api/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_refused(laptop.post("/api/tokens/new", &[]).await, "while throttled").await;
}

#[tokio::test]
async fn a_bearer_token_can_never_do_a_sensitive_action() {
    let app = app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, UA);
    let signed_in = laptop.sign_in("alice", PASSWORD).await;
    let cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());
    let issued = client_with(Arc::default())
        .post(app.url("/api/token"))
        .form(&[("username", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let token: Value = issued.json().await.unwrap();
    let token = token["token"].as_str().unwrap();
    for path in [
        "/api/tokens/new",
        "/api/tokens/revoke",
        "/api/confirm",
        "/api/sessions/revoke",
    ] {
        // Even with a fresh session cookie riding along, the token alone is judged.
        let answer = client_with(Arc::default())
            .post(app.url(path))
            .bearer_auth(token)
            .header(header::COOKIE, &cookie)
            .form(&[("others", "on"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(tokens_held(&laptop).await, 1, "no token made or revoked");
    assert_eq!(laptop.sessions().await.len(), 1);
}

/// `/confirm` leads only to this site: a `next` that is not a local path
/// (another host, escaped or not) becomes the account page, in its way back
/// and in its form; `for=` only picks a name from the app's own table.
#[tokio::test]
async fn the_confirm_page_leads_only_to_this_site() {
    let app = app().await;
    let (laptop, _phone) = alice_on_two_devices(&app).await;
    for hostile in [
        "//evil.example/account",
        "/%2F%2Fevil.example",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let escaped: String = hostile.bytes().map(|byte| format!("%{byte:02X}")).collect();
        let page = laptop
            .page(&format!("/confirm?for=/api/account/delete&next={escaped}"))
            .await;
        assert!(!page.contains("evil.example"), "{hostile}: {page}");
        assert!(
            page.contains(r##"href="/account#deletion-heading""##),
            "{hostile}: back to this site's account page"
        );
    }
    let page = laptop
        .page("/confirm?for=%3Cscript%3Ealert(1)%3C/script%3E&next=/account")
        .await;
    assert!(
        !page.contains("<script>alert"),
        "an unknown action names nothing"
    );
    assert!(page.contains("sensitive actions need your password again"));
}
