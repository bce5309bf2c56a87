//! Bearer tokens for clients that are not browsers: `POST /api/token` gives
//! one for a username and password, `GET /api/me` answers who holds it, and
//! "sign out everywhere" or a password change refuses every older one. The
//! tests know the server's key, so they can also forge the tokens an attacker
//! would try.

use crate::helpers::{
    client_with, cookie_pair, session_set_cookie, spawn_app_with, test_settings, Browser, TestApp,
    TestStorage, PASSWORD,
};
use base64::{engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use persistent_login::server::{
    config::{Environment, SecretText, Settings},
    startup,
};
use reqwest::{header, Response, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

const SECRET: [u8; 32] = [7; 32];
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";

fn keys(pairs: &[(&str, [u8; 32])]) -> SecretText {
    let text: Vec<String> = pairs
        .iter()
        .map(|(kid, secret)| format!("{kid}={}", STANDARD.encode(secret)))
        .collect();
    SecretText::from(text.join(","))
}

async fn settings_with_key() -> (Settings, Arc<TestStorage>) {
    let (mut settings, dir) = test_settings().await;
    settings.tokens.keys = Some(keys(&[("k1", SECRET)]));
    (settings, Arc::new(dir))
}

async fn app_with_key() -> TestApp {
    let (settings, dir) = settings_with_key().await;
    spawn_app_with(settings, dir).await
}

async fn issue(app: &TestApp, username: &str, password: &str) -> Response {
    client_with(Arc::default())
        .post(app.url("/api/token"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn token_for(app: &TestApp, username: &str) -> String {
    let response = issue(app, username, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// How many tokens the browser's user holds, as the account page shows.
async fn outstanding(browser: &Browser<'_>) -> i64 {
    let response = browser.post("/api/tokens", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn me(app: &TestApp, token: &str) -> Response {
    client_with(Arc::default())
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The `error_description` of a refusal, after checking its form.
async fn refusal(response: Response) -> String {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .to_string();
    let prefix = "Bearer realm=\"persistent-login\", error=\"invalid_token\", error_description=\"";
    assert!(challenge.starts_with(prefix), "{challenge}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "invalid_token");
    challenge[prefix.len()..challenge.len() - 1].to_string()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Claims as the server writes them for user 1, at `at`, valid one day.
fn claims(at: i64) -> Value {
    json!({
        "sub": "1", "iat": at, "nbf": at, "exp": at + 86_400, "jti": "forged",
        "iss": "persistent-login", "aud": "persistent-login-api", "gen": 0,
    })
}

fn forge(algorithm: Algorithm, kid: &str, secret: &[u8], claims: &Value) -> String {
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn payload_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn a_right_password_gets_a_one_day_token_that_opens_api_me_and_no_session() {
    let app = app_with_key().await;
    app.register("alice", PASSWORD).await;
    let response = issue(&app, "alice", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        session_set_cookie(&response, "session").is_none(),
        "a token request must not start a browser session"
    );
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 86_400);
    let token = answer["token"].as_str().unwrap();

    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(
        (header.alg, header.kid.as_deref()),
        (Algorithm::HS256, Some("k1"))
    );
    let claims = payload_of(token);
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["iss"], "persistent-login");
    assert_eq!(claims["aud"], "persistent-login-api");
    assert_eq!(claims["gen"], 0);
    let iat = claims["iat"].as_i64().unwrap();
    assert!((now() - iat).abs() < 60);
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    assert_eq!(claims["exp"].as_i64(), Some(iat + 86_400));
    assert_eq!(claims["jti"].as_str().unwrap().len(), 32);

    let response = me(&app, token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "alice");
    assert_eq!(body["user_id"], 1);
    assert_eq!(body["authenticated_by"], "token");
    assert_eq!(body["expires_at"].as_i64(), Some(iat + 86_400));
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_get_one_401_and_meet_the_sign_in_throttle() {
    let app = app_with_key().await;
    app.register("alice", PASSWORD).await;
    let unknown = issue(&app, "nobody", PASSWORD).await;
    let wrong = issue(&app, "alice", "not the password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.text().await.unwrap(), wrong.text().await.unwrap());

    // The account's sign-in counter: 5 failures in all, then even the right
    // password is refused for a while, with no hash computed.
    for _ in 0..4 {
        assert_eq!(
            issue(&app, "alice", "not the password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let throttled = issue(&app, "alice", PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key(header::RETRY_AFTER));
    // Sign-in through the browser form counts on the same throttle.
    assert_eq!(
        app.login("alice", PASSWORD, false).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn every_bad_token_gets_401_with_the_reason_in_www_authenticate() {
    let app = app_with_key().await;
    app.register("alice", PASSWORD).await;
    let genuine = token_for(&app, "alice").await;
    assert_eq!(me(&app, &genuine).await.status(), StatusCode::OK);
    let at = now();
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut claims = claims(at);
        edit(&mut claims);
        forge(Algorithm::HS256, "k1", &SECRET, &claims)
    };
    // The forgery helper itself makes tokens the server accepts.
    assert_eq!(me(&app, &edited(&|_| {})).await.status(), StatusCode::OK);

    let b64 = |value: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap());
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": "k1"})),
        b64(&claims(at))
    );
    let forged_payload = {
        let parts: Vec<&str> = genuine.split('.').collect();
        let mut claims = payload_of(&genuine);
        claims["sub"] = json!("2");
        format!("{}.{}.{}", parts[0], b64(&claims), parts[2])
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed", "not-a-jwt".into(), "the token is malformed"),
        (
            "expired",
            edited(&|c| {
                c["nbf"] = json!(at - 90_000);
                c["exp"] = json!(at - 3_600)
            }),
            "the token has expired",
        ),
        (
            "not yet valid",
            edited(&|c| c["nbf"] = json!(at + 3_600)),
            "the token is not valid yet",
        ),
        (
            "wrong iss",
            edited(&|c| c["iss"] = json!("someone-else")),
            "the token has another issuer",
        ),
        (
            "wrong aud",
            edited(&|c| c["aud"] = json!("another-api")),
            "the token is meant for another audience",
        ),
        (
            "another key, same kid",
            forge(Algorithm::HS256, "k1", &[8; 32], &claims(at)),
            "the token's signature does not verify",
        ),
        (
            "forged payload",
            forged_payload,
            "the token's signature does not verify",
        ),
        (
            "alg none",
            alg_none,
            "the token's algorithm is not accepted",
        ),
        (
            "HS512",
            forge(Algorithm::HS512, "k1", &SECRET, &claims(at)),
            "the token's algorithm is not accepted",
        ),
        (
            "unknown kid",
            forge(Algorithm::HS256, "k9", &SECRET, &claims(at)),
            "the token's key is unknown",
        ),
        (
            "missing claim",
            forge(
                Algorithm::HS256,
                "k1",
                &SECRET,
                &json!({"sub": "1", "exp": at + 60}),
            ),
            "the token is malformed",
        ),
    ];
    for (case, token, reason) in cases {
        assert_eq!(refusal(me(&app, &token).await).await, reason, "{case}");
    }

    // An Authorization header without a usable bearer token.
    for value in ["Bearer", "Basic YWxpY2U6cGFzcw==", "Bearer a b"] {
        let response = client_with(Arc::default())
            .get(app.url("/api/me"))
            .header(header::AUTHORIZATION, value)
            .send()
            .await
            .unwrap();
        assert_eq!(refusal(response).await, "no bearer token", "{value}");
    }
    // No credentials at all: a bare challenge (RFC 6750, 3.1).
    let anonymous = client_with(Arc::default())
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()[header::WWW_AUTHENTICATE],
        "Bearer realm=\"persistent-login\""
    );
}

#[tokio::test]
async fn sixty_seconds_of_clock_skew_are_allowed_at_either_end_and_no_more() {
    let app = app_with_key().await;
    app.register("alice", PASSWORD).await;
    let at = now();
    let with = |nbf: i64, exp: i64| {
        let mut claims = claims(at);
        claims["nbf"] = json!(nbf);
        claims["exp"] = json!(exp);
        forge(Algorithm::HS256, "k1", &SECRET, &claims)
    };
    // Not before: 55 s ahead passes, 65 s ahead does not.
    assert_eq!(
        me(&app, &with(at + 55, at + 600)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        refusal(me(&app, &with(at + 65, at + 600)).await).await,
        "the token is not valid yet"
    );

    // Expiry: 55 s after `exp` passes, 65 s after does not (the server's
    // clock moves; the margins absorb a slow request).
    let token = with(at, at + 100);
    app.clock.advance(155);
    assert_eq!(me(&app, &token).await.status(), StatusCode::OK);
    app.clock.advance(10);
    assert_eq!(
        refusal(me(&app, &token).await).await,
        "the token has expired"
    );
}

#[tokio::test]
async fn a_session_cookie_also_works_on_api_me() {
    let app = app_with_key().await;
    app.signed_in_as("alice", true).await;
    let response = app.get("/api/me").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "alice");
    assert_eq!(body["authenticated_by"], "session");
    assert!(body["expires_at"].as_i64().unwrap() > now());
}

#[tokio::test]
async fn sign_out_everywhere_and_a_password_change_refuse_every_older_token_on_every_instance() {
    let (settings, dir) = settings_with_key().await;
    let a = spawn_app_with(settings.clone(), dir.clone()).await;
    // A second instance on the same database: it must not trust a revoked
    // token that it saw valid a moment before.
    let b = spawn_app_with(settings, dir).await;
    a.register("alice", PASSWORD).await;
    let browser = Browser::new(&a, UA);
    browser.sign_in("alice", PASSWORD).await;
    let first = token_for(&a, "alice").await;
    let second = token_for(&b, "alice").await;
    assert_eq!(me(&b, &first).await.status(), StatusCode::OK);
    assert_eq!(me(&a, &second).await.status(), StatusCode::OK);
    assert_eq!(outstanding(&browser).await, 2);

    let revoked = browser
        .post("/api/sessions/revoke", &[("others", "on")])
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    for (token, instance) in [(&first, &a), (&first, &b), (&second, &a), (&second, &b)] {
        assert_eq!(
            refusal(me(instance, token).await).await,
            "the token has been revoked"
        );
    }
    assert_eq!(outstanding(&browser).await, 0);

    // A token issued after the revocation works, until the password changes.
    let third = token_for(&b, "alice").await;
    assert_eq!(me(&a, &third).await.status(), StatusCode::OK);
    let changed = browser
        .post(
            "/api/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "plum trombone glacier sunset"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(
        refusal(me(&b, &third).await).await,
        "the token has been revoked"
    );
    assert_eq!(outstanding(&browser).await, 0);
}

#[tokio::test]
async fn the_account_page_makes_counts_and_revokes_the_users_tokens() {
    let app = app_with_key().await;
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let alice = Browser::new(&app, UA);
    alice.sign_in("alice", PASSWORD).await;
    let bobs_token = token_for(&app, "bob").await;

    let made = alice.post("/api/tokens/new", &[]).await;
    assert_eq!(made.status(), StatusCode::OK);
    let answer: Value = made.json().await.unwrap();
    let token = answer["token"].as_str().unwrap().to_string();
    let body: Value = me(&app, &token).await.json().await.unwrap();
    assert_eq!(body["username"], "alice");
    assert_eq!(outstanding(&alice).await, 1);

    let revoked = alice.post("/api/tokens/revoke", &[]).await;
    assert_eq!(revoked.json::<i64>().await.unwrap(), 1);
    assert_eq!(
        refusal(me(&app, &token).await).await,
        "the token has been revoked"
    );
    // Bob's token is his own business.
    assert_eq!(me(&app, &bobs_token).await.status(), StatusCode::OK);

    // Without a session these answer as every account call does, and a
    // bearer token is no session: a leaked one cannot mint more, or change
    // the password.
    let stranger = Browser::new(&app, UA);
    for path in [
        "/api/tokens",
        "/api/tokens/new",
        "/api/tokens/revoke",
        "/api/password",
    ] {
        let fields: &[(&str, &str)] = if path == "/api/password" {
            &[
                ("current_password", PASSWORD),
                ("new_password", "a whole new passphrase"),
            ]
        } else {
            &[]
        };
        let anonymous = stranger.post(path, fields).await;
        let by_token = client_with(Arc::default())
            .post(app.url(path))
            .bearer_auth(&bobs_token)
            .form(fields)
            .send()
            .await
            .unwrap();
        for response in [anonymous, by_token] {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "session_ended", "{path}");
        }
    }
    assert_eq!(me(&app, &bobs_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_bearer_request_needs_no_origin_check_and_no_cookie_rides_along() {
    let app = app_with_key().await;
    app.register("bob", PASSWORD).await;
    let bobs_token = token_for(&app, "bob").await;
    let alice = Browser::new(&app, UA);
    app.register("alice", PASSWORD).await;
    let signed_in = alice.sign_in("alice", PASSWORD).await;
    let alices_cookie = cookie_pair(&session_set_cookie(&signed_in, "session").unwrap());

    // A cross-origin POST with Alice's cookie is refused, as before.
    let cross = alice
        .client
        .post(app.url("/api/logout"))
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    // With a bearer token it is not refused, but Alice's cookie is dropped:
    // her session survives the sign-out it tried.
    let bearer = client_with(Arc::default())
        .post(app.url("/api/logout"))
        .header(header::ORIGIN, "https://evil.example")
        .header(header::COOKIE, &alices_cookie)
        .bearer_auth(&bobs_token)
        .send()
        .await
        .unwrap();
    assert_ne!(bearer.status(), StatusCode::FORBIDDEN);
    assert_eq!(alice.dashboard().await, StatusCode::OK);

    // A bearer token and a cookie together: the token alone decides.
    let both = client_with(Arc::default())
        .get(app.url("/api/me"))
        .header(header::COOKIE, &alices_cookie)
        .bearer_auth(&bobs_token)
        .send()
        .await
        .unwrap();
    assert_eq!(both.json::<Value>().await.unwrap()["username"], "bob");
    let bad = client_with(Arc::default())
        .get(app.url("/api/me"))
        .header(header::COOKIE, &alices_cookie)
        .bearer_auth("not-a-jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(refusal(bad).await, "the token is malformed");
}

#[tokio::test]
async fn a_key_is_rotated_without_signing_anyone_out() {
    let (mut settings, dir) = settings_with_key().await;
    let app = spawn_app_with(settings.clone(), dir.clone()).await;
    app.register("alice", PASSWORD).await;
    let old = token_for(&app, "alice").await;

    // Add key k2 and sign with it; k1 still verifies.
    settings.tokens.keys = Some(keys(&[("k1", SECRET), ("k2", [9; 32])]));
    settings.tokens.signing_key = Some("k2".into());
    let mut app = {
        let mut app = app;
        app.stop().await;
        spawn_app_with(settings.clone(), dir.clone()).await
    };
    let new = token_for(&app, "alice").await;
    assert_eq!(
        jsonwebtoken::decode_header(&new).unwrap().kid.as_deref(),
        Some("k2")
    );
    assert_eq!(me(&app, &old).await.status(), StatusCode::OK);
    assert_eq!(me(&app, &new).await.status(), StatusCode::OK);

    // Drop k1: its tokens end, k2's go on.
    settings.tokens.keys = Some(keys(&[("k2", [9; 32])]));
    settings.tokens.signing_key = None;
    app.stop().await;
    let app = spawn_app_with(settings, dir).await;
    assert_eq!(
        refusal(me(&app, &old).await).await,
        "the token's key is unknown"
    );
    assert_eq!(me(&app, &new).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn eddsa_signs_on_one_instance_and_a_public_key_verifies_on_another() {
    let (mut settings, dir) = test_settings().await;
    let dir = Arc::new(dir);
    let seed = [3u8; 32];
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    settings.tokens.algorithm = "EdDSA".parse().unwrap();
    settings.tokens.keys = Some(SecretText::from(format!("ed1={}", STANDARD.encode(seed))));
    let signer = spawn_app_with(settings.clone(), dir.clone()).await;
    settings.tokens.keys = Some(SecretText::from(format!(
        "ed1=public:{}",
        STANDARD.encode(public.as_bytes())
    )));
    let verifier = spawn_app_with(settings, dir).await;
    signer.register("alice", PASSWORD).await;

    let token = token_for(&signer, "alice").await;
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().alg,
        Algorithm::EdDSA
    );
    let body: Value = me(&verifier, &token).await.json().await.unwrap();
    assert_eq!(body["username"], "alice");
    // An HS256 token made with the public key as its secret: refused.
    let confused = forge(Algorithm::HS256, "ed1", public.as_bytes(), &claims(now()));
    assert_eq!(
        refusal(me(&verifier, &confused).await).await,
        "the token's algorithm is not accepted"
    );
    // The verifier holds no signing key, so it issues none.
    let refused = issue(&verifier, "alice", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["code"],
        "no_tokens_here"
    );
}

#[tokio::test]
async fn production_refuses_to_start_without_a_long_enough_key() {
    let options = || {
        leptos::config::LeptosOptions::builder()
            .output_name("persistent-login")
            .site_root("target/site")
            .site_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .build()
    };
    let (mut settings, _dir) = test_settings().await;
    settings.server.environment = Environment::Production;
    let error = startup::build(&settings, options())
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("TOKENS_KEYS"), "{error}");

    settings.tokens.keys = Some(SecretText::from(format!(
        "k={}",
        STANDARD.encode([1u8; 31])
    )));
    let error = startup::build(&settings, options())
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("at least 32"), "{error}");

    settings.tokens.keys = Some(keys(&[("k", SECRET)]));
    assert!(startup::build(&settings, options()).await.is_ok());

    // Development starts without a key, and its tokens work.
    let (settings, dir) = test_settings().await;
    let app = spawn_app_with(settings, Arc::new(dir)).await;
    app.register("alice", PASSWORD).await;
    let token = token_for(&app, "alice").await;
    assert_eq!(me(&app, &token).await.status(), StatusCode::OK);
}

/// An app whose users may hold `max` tokens at once.
async fn app_with_token_limit(max: usize) -> TestApp {
    let (mut settings, dir) = settings_with_key().await;
    settings.tokens.max_outstanding = max;
    spawn_app_with(settings, dir).await
}

#[tokio::test]
async fn past_the_token_limit_a_user_gets_429_and_nothing_changes_until_one_expires_or_all_are_revoked(
) {
    let app = app_with_token_limit(3).await;
    app.register("alice", PASSWORD).await;
    app.register("bob", PASSWORD).await;
    let alice = Browser::new(&app, UA);
    alice.sign_in("alice", PASSWORD).await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(token_for(&app, "alice").await);
    }

    // By password and from the account page alike: 429, a clear message,
    // when to try again, and no fourth token.
    let refused = issue(&app, "alice", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = refused.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((86_000..=86_400).contains(&retry_after), "{retry_after}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "too_many_tokens");
    assert!(
        body["message"].as_str().unwrap().contains("3 API tokens"),
        "{body}"
    );
    let from_page = alice.post("/api/tokens/new", &[]).await;
    assert_eq!(from_page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(outstanding(&alice).await, 3);
    for token in &tokens {
        assert_eq!(me(&app, token).await.status(), StatusCode::OK);
    }
    // Another user is not held by alice's tokens.
    token_for(&app, "bob").await;

    // Revoking them frees the way at once.
    alice.post("/api/tokens/revoke", &[]).await;
    for _ in 0..3 {
        token_for(&app, "alice").await;
    }
    assert_eq!(
        issue(&app, "alice", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // And so does the first one's expiry (a day later: alice signs in anew).
    app.clock.advance(86_401);
    token_for(&app, "alice").await;
    let next_day = Browser::new(&app, UA);
    next_day.sign_in("alice", PASSWORD).await;
    assert_eq!(outstanding(&next_day).await, 1);
}

#[tokio::test]
async fn concurrent_token_requests_never_pass_the_limit() {
    let app = app_with_token_limit(3).await;
    // Several rounds, each a new user and twelve requests at once: without
    // one issue at a time across instances, PostgreSQL let four or more
    // through in some rounds.
    for round in 0..4 {
        let username = format!("alice{round}");
        app.register(&username, PASSWORD).await;
        let url = app.url("/api/token");
        let requests: Vec<_> = (0..12)
            .map(|_| {
                let (url, username) = (url.clone(), username.clone());
                tokio::spawn(async move {
                    client_with(Arc::default())
                        .post(url)
                        .form(&[("username", username.as_str()), ("password", PASSWORD)])
                        .send()
                        .await
                        .unwrap()
                        .status()
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for request in requests {
            statuses.push(request.await.unwrap());
        }
        let count = |status| statuses.iter().filter(|got| **got == status).count();
        let answers = (count(StatusCode::OK), count(StatusCode::TOO_MANY_REQUESTS));
        assert_eq!(answers, (3, 9), "round {round}");
        let browser = Browser::new(&app, UA);
        browser.sign_in(&username, PASSWORD).await;
        assert_eq!(outstanding(&browser).await, 3, "round {round}");
    }
}

#[tokio::test]
async fn the_account_page_tells_the_configured_token_lifetime() {
    let (mut settings, storage) = test_settings().await;
    settings.tokens.lifetime_secs = 7_200;
    let app = spawn_app_with(settings, Arc::new(storage)).await;
    app.register("alice", PASSWORD).await;
    let alice = Browser::new(&app, UA);
    alice.sign_in("alice", PASSWORD).await;

    let page = alice.client.get(app.url("/account")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(
        html.contains("act as you for 2 hours"),
        "the page should say what the server issues: {html}"
    );
    assert!(!html.contains("one day"), "{html}");
}
