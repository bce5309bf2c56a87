//! The audit log: sign-up, sign-in success and failure, throttling, sign-out,
//! session revocation and password changes are logged with user id, client address and outcome, and nothing
//! in the log (at any level) holds a password, a password hash, a session id
//! or a bearer token. Bearer tokens issued are logged as sign-ins `via="token"`;
//! a session ended to make room for a sign-in past the limit per user, with
//! its reason; passkeys added and signed in with `via="passkey"`, and a
//! passkey whose signature counter went backwards.

use crate::authenticator;
use crate::helpers;

use helpers::{cookie_pair, session_set_cookie, spawn_app_with, test_settings, Browser, PASSWORD};
use std::{
    io::Write,
    sync::{Arc, Mutex},
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn audit_events_are_logged_without_any_secret_even_at_trace_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        // Everything the server logs; the test client's own crates are left out.
        .with_env_filter("trace,cookie_store=off,reqwest=off")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let (mut settings, storage) = test_settings().await;
    settings.session.max_per_user = 2;
    let app = spawn_app_with(settings, Arc::new(storage)).await;
    let wrong_password = "a wrong guess 123";
    app.register("alice", PASSWORD).await;
    for _ in 0..5 {
        app.login("alice", wrong_password, false).await;
    }
    let throttled = app.login("alice", PASSWORD, true).await;
    assert_eq!(throttled.status(), 429);

    app.register("bob", PASSWORD).await;
    let signed_in = app.login("bob", PASSWORD, true).await;
    assert_eq!(signed_in.status(), 200);
    let session_id = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap())
        .trim_start_matches("session=")
        .to_string();
    // Bob takes a bearer token for a script, and uses it.
    let issued: serde_json::Value = app
        .post_form("/api/token", &[("username", "bob"), ("password", PASSWORD)])
        .await
        .json()
        .await
        .unwrap();
    let token = issued["token"].as_str().unwrap().to_string();
    let me = app
        .client
        .get(app.url("/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // Bob changes his password (once wrongly), ends his other sessions, signs out.
    let new_password = "plum trombone glacier sunset";
    for (current, status) in [(wrong_password, 401), (PASSWORD, 200)] {
        let fields = [
            ("current_password", current),
            ("new_password", new_password),
        ];
        let changed = app.post_form("/api/password", &fields).await;
        assert_eq!(changed.status(), status);
    }
    let revoked = app
        .post_form("/api/sessions/revoke", &[("others", "on")])
        .await;
    assert_eq!(revoked.status(), 200);
    app.logout().await;
    // Carol signs in on a third device past her limit of two.
    app.register("carol", PASSWORD).await;
    for _ in 0..3 {
        Browser::new(&app, "curl/8.5.0")
            .sign_in("carol", PASSWORD)
            .await;
    }

    // Dave's cookie is copied; after a rotation and its grace the copy comes back.
    let dave = app.signed_in_as("dave", true).await;
    let copied = cookie_pair(&session_set_cookie(&dave, "session").unwrap());
    app.clock
        .advance(app.settings.session.rotation_interval_secs as i64 + 1);
    let rotated = app.get_with_cookie("/dashboard", &copied).await;
    let owners = cookie_pair(&session_set_cookie(&rotated, "session").unwrap());
    assert_eq!(
        app.get_with_cookie("/dashboard", &owners).await.status(),
        200
    );
    app.clock
        .advance(app.settings.session.rotation_grace_secs as i64 + 1);
    let reused = app.get_with_cookie("/dashboard", &copied).await;
    assert_eq!(reused.status(), 303);

    // Erin confirms her password, then deletes her account.
    let erin = Browser::new(&app, "curl/8.5.0");
    app.register("erin", PASSWORD).await;
    erin.sign_in("erin", PASSWORD).await;
    let confirmed = erin.post("/api/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(confirmed.status(), 200);
    let deleted = erin
        .post("/api/account/delete", &[("username", "erin")])
        .await;
    assert_eq!(deleted.status(), 200);

    // Frank adds a passkey and signs in with it; a copy of it made before
    // that sign-in (its counter behind) is refused.
    let frank = Browser::new(&app, "curl/8.5.0");
    let signed_up = frank
        .post(
            "/api/register",
            &[("username", "frank"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_up.status(), 200);
    let mut device = authenticator::Authenticator::new("http://localhost:3000");
    let options: String = frank
        .post("/api/passkeys/new/options", &[])
        .await
        .json()
        .await
        .unwrap();
    let credential = device.create(&options).await.unwrap();
    let added = frank
        .post("/api/passkeys/new", &[("credential", &credential)])
        .await;
    assert_eq!(added.status(), 200);
    let mut clone = authenticator::Authenticator::new("http://localhost:3000");
    clone.hold(device.passkey().unwrap());
    for holder in [&mut device, &mut clone] {
        let browser = Browser::new(&app, "curl/8.5.0");
        let options: String = browser
            .post("/api/passkeys/sign-in/options", &[])
            .await
            .json()
            .await
            .unwrap();
        let answer = holder.get(&options).await.unwrap();
        browser
            .post("/api/passkeys/sign-in", &[("credential", &answer)])
            .await;
    }

    let pool = app.database().await;
    let hashes: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_all(&pool)
        .await
        .unwrap();
    let log = captured.text();

    for expected in [
        r#"event="register" user_id=1 client="127.0.0.1" outcome="created""#,
        r#"event="sign_in" via="session" user_id="1" client="127.0.0.1" outcome="failure""#,
        r#"event="sign_in" via="session" client="127.0.0.1" throttled_by=AccountSignIn"#,
        r#"event="sign_in" via="session" user_id=2 client="127.0.0.1" remember=true known_device=false outcome="success""#,
        r#"event="sign_in" via="token" user_id=2 client="127.0.0.1" outcome="success""#,
        r#"event="token_issued" user_id=2 client="127.0.0.1" jti="#,
        r#"event="password_change" user_id=2 client="127.0.0.1" outcome="wrong_password""#,
        r#"event="password_change" user_id=2 client="127.0.0.1" sessions_ended=0 tokens_ended=1 outcome="success""#,
        r#"event="sessions_revoked" user_id=2 client="127.0.0.1" ended=0 tokens_ended=0 outcome="success""#,
        r#"event="sign_out" user_id=2 client="127.0.0.1" outcome="success""#,
        r#"event="session_ended" reason="session_limit" user_id=3 max_per_user=2 ended_device=""#,
        r#"event="session_reused" user_id=4 owner_device="#,
        r#"event="confirm" user_id=5 client="127.0.0.1" outcome="success""#,
        r#"event="account_deleted" user_id=5 client="127.0.0.1" by="owner" sessions_ended=1 outcome="success""#,
        r#"event="passkey_added" user_id=6 client="127.0.0.1" passkey_id=1 backed_up=true outcome="success""#,
        r#"event="sign_in" via="passkey" user_id=6 client="127.0.0.1" remember=false known_device=false outcome="success""#,
        r#"event="passkey_counter_went_back" user_id=6 passkey_id=1 client="127.0.0.1" outcome="refused""#,
        r#"event="sign_in" via="passkey" user_id="6" client="127.0.0.1" reason="signature counter went backwards" outcome="failure""#,
    ] {
        assert!(log.contains(expected), "missing {expected}");
    }
    let deletion = log
        .lines()
        .find(|line| line.contains("account_deleted"))
        .unwrap();
    assert!(
        !deletion.contains("erin"),
        "the deleted user's name: {deletion}"
    );
    assert!(!log.contains(PASSWORD), "a password is in the log");
    let signature = token.rsplit('.').next().unwrap();
    assert!(!log.contains(signature), "a bearer token is in the log");
    assert!(!log.contains(new_password), "a new password is in the log");
    assert!(
        !log.contains(wrong_password),
        "a wrong password is in the log"
    );
    assert!(!session_id.is_empty());
    if let Some(line) = log.lines().find(|line| line.contains(&session_id)) {
        panic!("a session id is in the log: {line}");
    }
    for hash in hashes {
        let digest = hash.rsplit('$').next().unwrap();
        assert!(!log.contains(digest), "a password hash is in the log");
    }
}
