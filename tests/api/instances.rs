//! Two instances of the built binary, each its own process on its own port,
//! against one PostgreSQL database, with the sessions in PostgreSQL and then
//! in Redis: whatever a user does through one, the other knows at once.

use crate::authenticator;
use crate::instance;

use instance::{client, named_cookie, session_cookie, Instance};
use persistent_login::server::store::scratch::{ScratchDatabase, ScratchPrefix};
use reqwest::{header, Client, Response, StatusCode};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

/// Sessions expire after this long idle; each page view slides them.
const IDLE_SECS: u64 = 6;

async fn post(
    client: &Client,
    url: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> Response {
    let mut request = client.post(url).form(fields);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.send().await.unwrap()
}

async fn get(client: &Client, url: &str, cookie: &str) -> Response {
    client
        .get(url)
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

/// The settings of both instances: one PostgreSQL database, and the sessions
/// in it or in Redis under the test's own prefix.
fn shared<'a>(
    database: &'a ScratchDatabase,
    prefix: &'a ScratchPrefix,
    sessions_in_redis: bool,
    more: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("DATABASE_URL", database.url()),
        ("THROTTLE_SIGN_UPS_PER_ADDRESS", "100"),
    ];
    if sessions_in_redis {
        env.extend([
            ("SESSION_STORE", "redis"),
            ("REDIS_URL", prefix.url()),
            ("SESSION_KEY_PREFIX", prefix.prefix()),
        ]);
    }
    env.extend_from_slice(more);
    env
}

async fn two_instances_are_one_site(sessions_in_redis: bool) {
    let database = ScratchDatabase::create().await;
    let prefix = ScratchPrefix::create().await;
    let idle = IDLE_SECS.to_string();
    let env = shared(
        &database,
        &prefix,
        sessions_in_redis,
        &[
            ("SESSION_IDLE_TIMEOUT_SECS", &idle),
            ("SESSION_REFRESH_INTERVAL_SECS", "1"),
        ],
    );
    // Both start at once on the empty database: their migrations take turns.
    let (a, b) = (Instance::spawn(&env), Instance::spawn(&env));
    let (a, b) = (a.ready(), b.ready());
    let client = client();

    // Sign in through A; the dashboard through B shows the user.
    let fields = [("username", "alice"), ("password", PASSWORD)];
    let registered = post(&client, &a.url("/api/register"), None, &fields).await;
    assert_eq!(registered.status(), StatusCode::OK);
    let signed_in = post(
        &client,
        &a.url("/api/login"),
        None,
        &[
            ("username", "alice"),
            ("password", PASSWORD),
            ("remember", "on"),
        ],
    )
    .await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookie = session_cookie(&signed_in).expect("sign-in sets the session cookie");
    let dashboard = get(&client, &b.url("/dashboard"), &cookie).await;
    assert_eq!(dashboard.status(), StatusCode::OK);
    assert!(dashboard.text().await.unwrap().contains("alice"));

    // A session started through A keeps sliding when its requests go
    // through B: longer than the idle timeout in all, none of it idle.
    let slides = IDLE_SECS / 2 + 2;
    for _ in 0..slides {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let page = get(&client, &b.url("/dashboard"), &cookie).await;
        assert_eq!(page.status(), StatusCode::OK, "slid through B");
    }
    assert_eq!(
        get(&client, &a.url("/dashboard"), &cookie).await.status(),
        StatusCode::OK,
        "still signed in through A after {} s",
        slides * 2
    );

    // Sign out through B: the same cookie through A is anonymous.
    let signed_out = post(&client, &b.url("/api/logout"), Some(&cookie), &[]).await;
    assert_eq!(signed_out.status(), StatusCode::OK);
    let after = get(&client, &a.url("/dashboard"), &cookie).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(after.headers()[header::LOCATION], "/login?next=/dashboard");

    // Failed sign-ins through A and through B add up in one throttle: five
    // in all, and the sixth, right or wrong, is refused on either.
    let fields = [("username", "bob"), ("password", PASSWORD)];
    post(&client, &a.url("/api/register"), None, &fields).await;
    for instance in [&a, &b, &a, &b, &a] {
        let wrong = post(
            &client,
            &instance.url("/api/login"),
            None,
            &[("username", "bob"), ("password", "wrong password here")],
        )
        .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    for instance in [&b, &a] {
        let right = post(&client, &instance.url("/api/login"), None, &fields).await;
        assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn two_instances_with_sessions_in_postgresql_are_one_site() {
    two_instances_are_one_site(false).await;
}

#[tokio::test]
async fn two_instances_with_sessions_in_redis_are_one_site() {
    two_instances_are_one_site(true).await;
}

/// A session's id rotated through one instance is known as replaced to the
/// other: within the grace it leads there to the same new id, and a copy
/// presented after the grace, once the new id was used, ends the session
/// for both.
async fn a_rotation_through_one_instance_holds_on_the_other(sessions_in_redis: bool) {
    const INTERVAL_SECS: u64 = 5;
    const GRACE_SECS: u64 = 2;
    let database = ScratchDatabase::create().await;
    let prefix = ScratchPrefix::create().await;
    let (interval, grace) = (INTERVAL_SECS.to_string(), GRACE_SECS.to_string());
    let env = shared(
        &database,
        &prefix,
        sessions_in_redis,
        &[
            ("SESSION_ROTATION_INTERVAL_SECS", &interval),
            ("SESSION_ROTATION_GRACE_SECS", &grace),
        ],
    );
    let (a, b) = (Instance::spawn(&env), Instance::spawn(&env));
    let (a, b) = (a.ready(), b.ready());
    let client = client();
    let fields = [("username", "alice"), ("password", PASSWORD)];
    post(&client, &a.url("/api/register"), None, &fields).await;
    let signed_in = post(&client, &a.url("/api/login"), None, &fields).await;
    let first = session_cookie(&signed_in).expect("sign-in sets the session cookie");

    tokio::time::sleep(Duration::from_millis(INTERVAL_SECS * 1000 + 100)).await;
    let rotated = get(&client, &a.url("/dashboard"), &first).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let second = session_cookie(&rotated).expect("a new id through A");
    assert_ne!(second, first);
    // Through B, the replaced id leads to the same new id.
    let led = get(&client, &b.url("/dashboard"), &first).await;
    assert_eq!(led.status(), StatusCode::OK);
    assert_eq!(session_cookie(&led).as_deref(), Some(second.as_str()));
    assert_eq!(
        get(&client, &b.url("/dashboard"), &second).await.status(),
        StatusCode::OK
    );

    // After the grace a copy of the first id comes back through A.
    tokio::time::sleep(Duration::from_millis(GRACE_SECS * 1000 + 100)).await;
    let copy = get(&client, &a.url("/dashboard"), &first).await;
    assert_eq!(copy.status(), StatusCode::SEE_OTHER);
    let owner = get(&client, &b.url("/dashboard"), &second).await;
    assert_eq!(
        owner.status(),
        StatusCode::SEE_OTHER,
        "ended for the owner too"
    );
}

#[tokio::test]
async fn a_rotation_through_one_instance_holds_on_the_other_with_sessions_in_postgresql() {
    a_rotation_through_one_instance_holds_on_the_other(false).await;
}

#[tokio::test]
async fn a_rotation_through_one_instance_holds_on_the_other_with_sessions_in_redis() {
    a_rotation_through_one_instance_holds_on_the_other(true).await;
}

/// How many sign-ins are answered before the instance is killed.
const KILL_AFTER: usize = 12;

/// Sign-ins (and page loads beside them) through `target` until it is killed
/// with SIGKILL after some have been answered: the cookies of those answered.
async fn sign_ins_until_killed(target: &Instance, users: &[String]) -> Vec<String> {
    let kill = std::sync::Arc::new(target.killer());
    let answered = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for username in users {
        let (client, login, page) = (client(), target.url("/api/login"), target.url("/"));
        let (username, answered, kill) = (username.clone(), answered.clone(), kill.clone());
        tasks.push(tokio::spawn(async move {
            // Page loads beside the sign-ins.
            let _ = client.get(&page).send().await;
            let fields = [
                ("username", username.as_str()),
                ("password", PASSWORD),
                ("remember", "on"),
            ];
            let Ok(response) = client.post(&login).form(&fields).send().await else {
                return; // refused or cut off by the kill: never answered
            };
            if response.status() == StatusCode::OK {
                if let Some(cookie) = session_cookie(&response) {
                    let mut answered = answered.lock().await;
                    answered.push(cookie);
                    if answered.len() == KILL_AFTER {
                        kill();
                    }
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let answered = answered.lock().await.clone();
    assert!(
        answered.len() >= KILL_AFTER && answered.len() < users.len(),
        "{} of {} sign-ins answered: the kill came too late to cut any off",
        answered.len(),
        users.len()
    );
    answered
}

async fn register_all(client: &Client, instance: &Instance, count: usize) -> Vec<String> {
    let mut users = Vec::new();
    for n in 0..count {
        let username = format!("user{n}");
        let fields = [("username", username.as_str()), ("password", PASSWORD)];
        let registered = post(client, &instance.url("/api/register"), None, &fields).await;
        assert_eq!(registered.status(), StatusCode::OK);
        users.push(username);
    }
    users
}

async fn kill_9_loses_no_answered_sign_in(sessions_in_redis: bool) {
    let database = ScratchDatabase::create().await;
    let prefix = ScratchPrefix::create().await;
    let env = shared(
        &database,
        &prefix,
        sessions_in_redis,
        &[("THROTTLE_ADDRESS_MAX_FAILURES", "100")],
    );
    let (a, b) = (Instance::spawn(&env), Instance::spawn(&env));
    let (a, b) = (a.ready(), b.ready());
    let client = client();
    let users = register_all(&client, &b, 60).await;
    let answered = sign_ins_until_killed(&a, &users).await;
    for cookie in &answered {
        let page = get(&client, &b.url("/dashboard"), cookie).await;
        assert_eq!(
            page.status(),
            StatusCode::OK,
            "an answered sign-in was lost"
        );
    }
}

#[tokio::test]
async fn kill_9_of_an_instance_loses_no_answered_sign_in_with_sessions_in_postgresql() {
    kill_9_loses_no_answered_sign_in(false).await;
}

#[tokio::test]
async fn kill_9_of_an_instance_loses_no_answered_sign_in_with_sessions_in_redis() {
    kill_9_loses_no_answered_sign_in(true).await;
}

#[tokio::test]
async fn kill_9_on_sqlite_loses_no_answered_sign_in_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("app.db").display());
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("THROTTLE_SIGN_UPS_PER_ADDRESS", "100"),
        ("THROTTLE_ADDRESS_MAX_FAILURES", "100"),
    ];
    let first = Instance::spawn(&env).ready();
    let client = client();
    let users = register_all(&client, &first, 60).await;
    let answered = sign_ins_until_killed(&first, &users).await;
    drop(first);
    let restarted = Instance::spawn(&env).ready();
    for cookie in &answered {
        let page = get(&client, &restarted.url("/dashboard"), cookie).await;
        assert_eq!(
            page.status(),
            StatusCode::OK,
            "an answered sign-in was lost"
        );
    }
}

/// "Sign out everywhere else" through `instance`: a sensitive action.
async fn sign_out_others(client: &Client, instance: &Instance, cookie: &str) -> Response {
    let url = instance.url("/api/sessions/revoke");
    post(client, &url, Some(cookie), &[("others", "on")]).await
}

/// Two instances on one PostgreSQL database (and one Redis prefix, for the
/// sessions there), ready, with alice registered through the first.
struct TwoInstances {
    a: Instance,
    b: Instance,
    client: Client,
    _database: ScratchDatabase,
    _prefix: ScratchPrefix,
}

impl TwoInstances {
    async fn with_alice(sessions_in_redis: bool) -> Self {
        let database = ScratchDatabase::create().await;
        let prefix = ScratchPrefix::create().await;
        let env = shared(&database, &prefix, sessions_in_redis, &[]);
        let (a, b) = (Instance::spawn(&env), Instance::spawn(&env));
        let site = Self {
            a: a.ready(),
            b: b.ready(),
            client: client(),
            _database: database,
            _prefix: prefix,
        };
        let fields = [("username", "alice"), ("password", PASSWORD)];
        post(&site.client, &site.a.url("/api/register"), None, &fields).await;
        site
    }

    /// Alice's session cookie from a sign-in through `instance`.
    async fn sign_in(&self, instance: &Instance) -> String {
        let fields = [("username", "alice"), ("password", PASSWORD)];
        let signed_in = post(&self.client, &instance.url("/api/login"), None, &fields).await;
        session_cookie(&signed_in).expect("sign-in sets the session cookie")
    }
}

/// The re-authentication window is in the shared session: ended through
/// one instance, the other asks for the password; confirmed through that
/// one, the first lets the sensitive action through.
async fn the_reauth_window_is_one_for_both_instances(sessions_in_redis: bool) {
    let site = TwoInstances::with_alice(sessions_in_redis).await;
    let (a, b, client) = (&site.a, &site.b, &site.client);
    let cookie = site.sign_in(a).await;

    let ended = post(client, &a.url("/api/confirm/end"), Some(&cookie), &[]).await;
    assert_eq!(ended.status(), StatusCode::OK);
    let refused = sign_out_others(client, b, &cookie).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "B asks too");

    let confirmed = post(
        client,
        &b.url("/api/confirm"),
        Some(&cookie),
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let cookie = session_cookie(&confirmed).expect("a new session id");
    let allowed = sign_out_others(client, a, &cookie).await;
    assert_eq!(allowed.status(), StatusCode::OK, "A lets it through");
}

#[tokio::test]
async fn the_reauth_window_is_one_for_both_instances_with_sessions_in_postgresql() {
    the_reauth_window_is_one_for_both_instances(false).await;
}

#[tokio::test]
async fn the_reauth_window_is_one_for_both_instances_with_sessions_in_redis() {
    the_reauth_window_is_one_for_both_instances(true).await;
}

/// A passkey ceremony begun through one instance is finished through the
/// other: its challenge is in the shared database (adding one: in the shared
/// session), not in either process.
async fn a_passkey_ceremony_begun_on_one_instance_finishes_on_the_other(sessions_in_redis: bool) {
    let site = TwoInstances::with_alice(sessions_in_redis).await;
    let (a, b, client) = (&site.a, &site.b, &site.client);
    let cookie = site.sign_in(a).await;
    let mut device = authenticator::Authenticator::new("http://localhost:3000");

    let options = post(
        client,
        &a.url("/api/passkeys/new/options"),
        Some(&cookie),
        &[],
    )
    .await;
    assert_eq!(options.status(), StatusCode::OK);
    let options: String = options.json().await.unwrap();
    let credential = device.create(&options).await.unwrap();
    let fields = [("credential", credential.as_str()), ("name", "Phone")];
    let added = post(client, &b.url("/api/passkeys/new"), Some(&cookie), &fields).await;
    assert_eq!(added.status(), StatusCode::OK, "B adds what A began");

    let options = post(client, &b.url("/api/passkeys/sign-in/options"), None, &[]).await;
    assert_eq!(options.status(), StatusCode::OK);
    let visitor = named_cookie(&options, "passkey").expect("the challenge's cookie");
    let options: String = options.json().await.unwrap();
    let credential = device.get(&options).await.unwrap();
    let fields = [("credential", credential.as_str())];
    let signed_in = post(
        client,
        &a.url("/api/passkeys/sign-in"),
        Some(&visitor),
        &fields,
    )
    .await;
    assert_eq!(
        signed_in.status(),
        StatusCode::OK,
        "A signs in what B began"
    );
    let cookie = session_cookie(&signed_in).expect("a new session id");
    let me = get(client, &b.url("/api/me"), &cookie).await;
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["username"], "alice");
    // The answer was used: replayed through B, it signs in nobody.
    let replayed = post(
        client,
        &b.url("/api/passkeys/sign-in"),
        Some(&visitor),
        &fields,
    )
    .await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_passkey_ceremony_finishes_on_the_other_instance_with_sessions_in_postgresql() {
    a_passkey_ceremony_begun_on_one_instance_finishes_on_the_other(false).await;
}

#[tokio::test]
async fn a_passkey_ceremony_finishes_on_the_other_instance_with_sessions_in_redis() {
    a_passkey_ceremony_begun_on_one_instance_finishes_on_the_other(true).await;
}

/// Alice deletes her account through A while her phone signs in through B
/// again and again: once the deletion has answered, no session of hers opens
/// anything on either instance, and B signs nobody in as her.
async fn a_deletion_through_one_instance_ends_the_user_on_both(sessions_in_redis: bool) {
    let site = TwoInstances::with_alice(sessions_in_redis).await;
    let (a, b, client) = (&site.a, &site.b, &site.client);
    let fields = [("username", "alice"), ("password", PASSWORD)];
    let laptop = site.sign_in(a).await;
    let phone = site.sign_in(b).await;

    let racing = {
        let (client, url) = (client.clone(), b.url("/api/login"));
        tokio::spawn(async move {
            let mut cookies = Vec::new();
            for _ in 0..6 {
                let answer = post(&client, &url, None, &fields).await;
                assert!(
                    !answer.status().is_server_error(),
                    "a sign-in racing the deletion answered {}",
                    answer.status()
                );
                cookies.extend(session_cookie(&answer));
            }
            cookies
        })
    };
    let deleted = post(
        client,
        &a.url("/api/account/delete"),
        Some(&laptop),
        &[("username", "alice")],
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let raced = racing.await.unwrap();
    for cookie in [laptop, phone].iter().chain(&raced) {
        for instance in [a, b] {
            let page = get(client, &instance.url("/dashboard"), cookie).await;
            assert_eq!(page.status(), StatusCode::SEE_OTHER, "{cookie} still opens");
        }
    }
    // Refused (401), or throttled by now (429): the racing sign-ins failed.
    let again = post(client, &b.url("/api/login"), None, &fields).await;
    assert!(
        [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&again.status()),
        "{}",
        again.status()
    );
}

#[tokio::test]
async fn a_deletion_through_one_instance_ends_the_user_on_both_with_sessions_in_postgresql() {
    a_deletion_through_one_instance_ends_the_user_on_both(false).await;
}

#[tokio::test]
async fn a_deletion_through_one_instance_ends_the_user_on_both_with_sessions_in_redis() {
    a_deletion_through_one_instance_ends_the_user_on_both(true).await;
}
