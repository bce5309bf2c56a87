use crate::helpers::{cookie_attributes, location, session_set_cookie, spawn_app, PASSWORD};
use reqwest::StatusCode;

#[tokio::test]
async fn a_new_account_is_signed_in_at_once_and_its_password_works_later() {
    let app = spawn_app().await;
    let response = app.sign_up("alice", PASSWORD, true).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(location(&response).as_deref(), Some("/dashboard"));
    let cookie = session_set_cookie(&response, &app.settings.cookie.name).expect("a session");
    assert!(
        cookie_attributes(&cookie)
            .iter()
            .any(|a| a.starts_with("max-age=")),
        "kept: {cookie}"
    );
    let me = app.get("/api/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["username"], "alice");
    assert_eq!(app.logout().await.status(), StatusCode::OK);
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_javascript_a_sign_up_lands_on_the_dashboard_signed_in() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/register"))
        .header("accept", "text/html")
        .form(&[("username", "bob"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    assert_eq!(location(&response).as_deref(), Some("/dashboard"));
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK);
    // Not kept beyond the browser session unless asked.
    let cookie = session_set_cookie(&response, &app.settings.cookie.name).expect("a session");
    assert!(
        !cookie_attributes(&cookie)
            .iter()
            .any(|a| a.starts_with("max-age=")),
        "{cookie}"
    );
}

#[tokio::test]
async fn a_taken_username_is_409_even_in_another_case() {
    let app = spawn_app().await;
    assert_eq!(
        app.register("alice", PASSWORD).await.status(),
        StatusCode::OK
    );
    let again = app.register("alice", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("already taken"));
    assert_eq!(
        app.register("Alice", PASSWORD).await.status(),
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn bad_usernames_and_passwords_are_422_with_a_reason() {
    let app = spawn_app().await;
    let long_name = "n".repeat(65);
    let long_password = "p".repeat(257);
    let cases = [
        ("", PASSWORD, "Username must not be empty"),
        (long_name.as_str(), PASSWORD, "at most 64"),
        ("bob", "seven77", "at least 8"),
        ("bob", long_password.as_str(), "at most 256"),
        ("bob", "password123", "too easy to guess"),
        (
            "bob",
            "bob-the-builder-99",
            "must not contain your username",
        ),
    ];
    for (username, password, reason) in cases {
        let response = app.register(username, password).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{reason}"
        );
        let body = response.text().await.unwrap();
        assert!(body.contains(reason), "{reason}: {body}");
    }
}

#[tokio::test]
async fn a_missing_field_is_400_not_500() {
    let app = spawn_app().await;
    let response = app
        .post_form("/api/register", &[("username", "carol")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = spawn_app().await;
    let huge = "x".repeat(64 * 1024);
    let response = app.register("dave", &huge).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// RFC 8265: a name that only looks like another (an invisible or
/// direction-changing character added) is refused, not a second account.
#[tokio::test]
async fn a_lookalike_username_with_an_invisible_character_is_refused() {
    let app = spawn_app().await;
    assert_eq!(
        app.register("admin", PASSWORD).await.status(),
        StatusCode::OK
    );
    for lookalike in ["admin\u{200B}", "adm\u{200D}in", "\u{202E}admin"] {
        let response = app.register(lookalike, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{lookalike:?}"
        );
        assert!(response.text().await.unwrap().contains("invisible"));
    }
}

#[tokio::test]
async fn the_forms_show_the_configured_password_minimum_and_the_lengths_the_server_takes() {
    let (mut settings, storage) = crate::helpers::test_settings().await;
    settings.password.min_length = 12;
    let app = crate::helpers::spawn_app_with(settings, std::sync::Arc::new(storage)).await;

    // The form as the server renders it (the only rendering: a script
    // sends the same form, it draws none).
    let page = app.get("/register").await.text().await.unwrap();
    assert!(page.contains("Password (at least 12 characters)"), "{page}");
    assert!(!page.contains("at least 8"), "{page}");
    assert!(page.contains(r#"name="username" autocomplete="username" required maxlength="64""#));
    assert!(page.contains(r#"autocomplete="new-password" required maxlength="256""#));

    // The hint and the rule agree.
    let refused = app.register("bob", "eleven char").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("at least 12"));
    assert_eq!(
        app.register("bob", "twelve chars").await.status(),
        StatusCode::OK
    );

    let login = app.get("/login").await.text().await.unwrap();
    assert!(login.contains(r#"autocomplete="current-password" required maxlength="256""#));
}

/// A username shaped like an email address is refused (#35): it would
/// shadow that address in "Forgot your password?", where a reset asked for
/// by the address went to the squatter instead of the address's owner.
#[tokio::test]
async fn a_username_shaped_like_an_email_address_is_refused() {
    let app = spawn_app().await;
    for name in ["tv01@example.com", "a@b", "@alice"] {
        let response = app.register(name, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["rule"], "username_looks_like_email", "{name}");
        assert_eq!(
            app.login(name, PASSWORD, false).await.status(),
            StatusCode::UNAUTHORIZED,
            "{name}: no account made"
        );
    }
}
