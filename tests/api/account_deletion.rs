//! Deleting one's own account (#23): from the account page or `POST
//! /api/account/delete`, inside the re-authentication window, with the
//! username typed again. Every session of the user ends, every token and
//! trusted browser goes, the user row is erased, and the name can be
//! registered again; a sign-in racing the deletion stores no session.

use crate::helpers::{location, spawn_app, Browser, TestApp, PASSWORD};
use reqwest::{Response, StatusCode};
use serde_json::Value;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const WINDOW: i64 = 900;

async fn code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["code"].as_str().unwrap_or_default().to_string()
}

async fn rows(app: &TestApp, query: &str) -> i64 {
    sqlx::query_scalar(query)
        .fetch_one(&app.database().await)
        .await
        .unwrap()
}

#[tokio::test]
async fn deleting_the_account_ends_everything_of_it_and_frees_the_username() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let laptop = Browser::new(&app, UA);
    let phone = Browser::new(&app, PHONE);
    laptop.sign_in("alice", PASSWORD).await;
    phone.sign_in("alice", PASSWORD).await;
    let bobs = Browser::new(&app, UA);
    bobs.sign_in("bob", PASSWORD).await;
    let token = app.token_for("alice").await;
    assert_eq!(app.bearer_status(&token).await, StatusCode::OK);
    assert_eq!(
        rows(&app, "SELECT count(*) FROM trusted_devices").await,
        3,
        "each browser that signed in is trusted for its account"
    );

    // The sign-in was a moment ago: inside the window. The name is compared
    // as sign-in compares it.
    let deleted = laptop
        .post("/api/account/delete", &[("username", " ALICE ")])
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(deleted.json::<u64>().await.unwrap(), 2, "both sessions");

    assert_ne!(laptop.dashboard().await, StatusCode::OK);
    assert_ne!(phone.dashboard().await, StatusCode::OK);
    assert_eq!(app.bearer_status(&token).await, StatusCode::UNAUTHORIZED);
    let again = app.login("alice", PASSWORD, false).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(again).await, "invalid_credentials");
    assert_eq!(
        rows(
            &app,
            "SELECT count(*) FROM users WHERE username_key = 'alice'"
        )
        .await,
        0
    );
    assert_eq!(
        rows(
            &app,
            "SELECT count(*) FROM trusted_devices WHERE username_key = 'alice'"
        )
        .await,
        0
    );
    assert_eq!(rows(&app, "SELECT count(*) FROM api_tokens").await, 0);
    // Bob is untouched.
    assert_eq!(bobs.dashboard().await, StatusCode::OK);
    assert_eq!(
        rows(&app, "SELECT count(*) FROM trusted_devices").await,
        1,
        "bob's browser"
    );

    // The name is free; the old token opens nothing of the new account.
    let registered = app.register("alice", "a different passphrase 42").await;
    assert!(registered.status().is_success(), "{registered:?}");
    let newcomer = Browser::new(&app, UA);
    newcomer.sign_in("alice", "a different passphrase 42").await;
    assert_eq!(newcomer.sessions().await.len(), 1, "only the new sign-in");
    assert_eq!(app.bearer_status(&token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn deleting_needs_the_window_and_the_right_name_and_a_form_goes_home_after() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, UA);
    laptop.sign_in("alice", PASSWORD).await;

    for typed in ["bob", "", "alic"] {
        let refused = laptop
            .post("/api/account/delete", &[("username", typed)])
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{typed:?}"
        );
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["rule"], "username_mismatch", "{body}");
    }
    let missing = laptop.post("/api/account/delete", &[]).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);

    // A bearer token never deletes the account.
    let token = app.token_for("alice").await;
    let by_token = reqwest::Client::new()
        .post(app.url("/api/account/delete"))
        .bearer_auth(&token)
        .form(&[("username", "alice")])
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.status(), StatusCode::UNAUTHORIZED);

    // Outside the window: 403, and a plain form goes to /confirm first.
    app.clock.advance(WINDOW + 1);
    let refused = laptop
        .post("/api/account/delete", &[("username", "alice")])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(code(refused).await, "reauth_required");
    let form = laptop
        .form_post("/api/account/delete", &[("username", "alice")])
        .await;
    assert_eq!(form.status(), StatusCode::FOUND);
    assert_eq!(
        location(&form).as_deref(),
        Some("/confirm?for=/api/account/delete&next=/account")
    );
    let page = laptop
        .page("/confirm?for=/api/account/delete&next=/account")
        .await;
    assert!(
        page.contains("Deleting your account needs your password again"),
        "the page names the action"
    );
    assert!(
        page.contains(r##"href="/account#deletion-heading""##)
            && page.contains(r##"name="next" value="/account#deletion-heading""##),
        "and leads back to the deletion form, confirmed or not"
    );
    assert_eq!(laptop.dashboard().await, StatusCode::OK, "nothing changed");
    assert_eq!(app.bearer_status(&token).await, StatusCode::OK);

    let confirmed = laptop
        .form_post(
            "/api/confirm",
            &[("password", PASSWORD), ("next", "/account")],
        )
        .await;
    assert_eq!(location(&confirmed).as_deref(), Some("/account"));
    let done = laptop
        .form_post("/api/account/delete", &[("username", "alice")])
        .await;
    assert_eq!(done.status(), StatusCode::FOUND);
    assert_eq!(location(&done).as_deref(), Some("/?deleted=1"));
    let home = laptop.page("/?deleted=1").await;
    assert!(home.contains("data-testid=\"account-deleted\""), "{home}");
    assert!(home.contains("href=\"/login\""), "signed out: {home}");
    assert_eq!(app.bearer_status(&token).await, StatusCode::UNAUTHORIZED);
}

/// Sign-ins of the user that run while the account is deleted: whichever
/// finishes first, no session of the deleted user is left, nothing answers
/// 500, and every browser that raced ends signed out.
#[tokio::test]
async fn sign_ins_racing_the_deletion_leave_no_session_behind() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let laptop = Browser::new(&app, UA);
    laptop.sign_in("alice", PASSWORD).await;
    let racers: Vec<Browser> = (0..8).map(|_| Browser::new(&app, PHONE)).collect();

    let url = app.url("/api/login");
    let sign_ins: Vec<_> = racers
        .iter()
        .map(|browser| {
            let (client, url) = (browser.client.clone(), url.clone());
            tokio::spawn(async move {
                let form = [("username", "alice"), ("password", PASSWORD)];
                client.post(url).form(&form).send().await.unwrap().status()
            })
        })
        .collect();
    let deleted = laptop
        .post("/api/account/delete", &[("username", "alice")])
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    for sign_in in sign_ins {
        let status = sign_in.await.unwrap();
        // Signed in before the deletion (its session then ended), refused
        // after it, or throttled: failed sign-ins from one address count.
        assert!(
            [
                StatusCode::OK,
                StatusCode::UNAUTHORIZED,
                StatusCode::TOO_MANY_REQUESTS
            ]
            .contains(&status),
            "a racing sign-in answered {status}"
        );
    }
    for browser in &racers {
        assert_ne!(
            browser.dashboard().await,
            StatusCode::OK,
            "a session of the deleted user is left"
        );
    }
}
