use super::services::default_hash_concurrency;
use super::*;
use std::collections::HashMap;
use std::net::IpAddr;

#[test]
fn hashing_leaves_a_core_for_pages_unless_configured() {
    assert_eq!(default_hash_concurrency(0, 1), 1);
    assert_eq!(default_hash_concurrency(0, 2), 1);
    assert_eq!(default_hash_concurrency(0, 8), 7);
    assert_eq!(default_hash_concurrency(3, 2), 3);
}

#[test]
fn defaults_keep_a_remembered_user_for_one_day_within_thirty() {
    let settings = Settings::default();
    assert_eq!(settings.session.idle_timeout_secs, 86_400);
    assert_eq!(settings.session.absolute_lifetime_secs, 30 * 86_400);
    assert_eq!(settings.database.url, "sqlite://data/app.db");
    assert!(!settings.cookie.secure);
    settings.validate().unwrap();
}

#[test]
fn the_shipped_leptos_toml_parses_and_equals_the_defaults() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml")).unwrap();
    assert_eq!(Settings::from_toml(&text).unwrap(), Settings::default());
}

#[test]
fn every_key_has_its_variable_by_one_rule_and_the_old_names_still_work() {
    let keys = Settings::keys();
    assert!(keys.contains(&"server.header_timeout_secs".to_string()));
    assert_eq!(
        env_name("session.idle_timeout_secs"),
        "SESSION_IDLE_TIMEOUT_SECS"
    );
    for (_, key) in RENAMED {
        assert!(keys.contains(&key.to_string()), "{key}");
    }
    // Another program's variable that shares a prefix is not a setting.
    let settings = Settings::layered(None, None, |name| {
        (name == "SESSION_MANAGER").then(|| "local/host:@/tmp/.ICE-unix/1".to_string())
    })
    .unwrap();
    assert_eq!(settings, Settings::default());
    // The old name works; the new one wins over it.
    let old = Settings::layered(None, None, |name| {
        (name == "APP_ENV").then(|| "production".to_string())
    })
    .unwrap();
    assert_eq!(old.server.environment, Environment::Production);
    let both = Settings::layered(None, None, |name| match name {
        "APP_ENV" => Some("production".into()),
        "SERVER_ENVIRONMENT" => Some("development".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(both.server.environment, Environment::Development);
}

#[test]
fn a_file_overrides_defaults_and_unknown_keys_are_refused() {
    let settings = Settings::from_toml("[session]\nidle_timeout_secs = 60\n").unwrap();
    assert_eq!(settings.session.idle_timeout_secs, 60);
    assert_eq!(settings.session.absolute_lifetime_secs, 30 * 86_400);
    assert!(Settings::from_toml("[session]\nidle_timeout = 60\n").is_err());
}

#[test]
fn environment_variables_override_the_file() {
    let env: HashMap<&str, &str> = [
        ("DATABASE_URL", "sqlite://elsewhere.db"),
        ("SESSION_IDLE_TIMEOUT_SECS", "5"),
        ("SESSION_COOKIE_SECURE", "true"),
        ("TRUSTED_PROXIES", "10.0.0.5, ::1"),
    ]
    .into();
    let settings =
        Settings::layered(None, None, |name| env.get(name).map(|v| v.to_string())).unwrap();
    assert_eq!(settings.database.url, "sqlite://elsewhere.db");
    assert_eq!(settings.session.idle_timeout_secs, 5);
    assert!(settings.cookie.secure);
    assert_eq!(
        settings.server.trusted_proxies,
        [
            "10.0.0.5".parse::<IpAddr>().unwrap(),
            "::1".parse().unwrap()
        ]
    );
    assert!(
        Settings::layered(None, None, |name| (name == "TRUSTED_PROXIES")
            .then(|| "10.0.0.5, proxy".to_string()))
        .is_err()
    );
}

#[test]
fn sessions_go_to_redis_only_with_a_redis_url_which_is_never_printed() {
    let env: HashMap<&str, &str> = [
        ("SESSION_STORE", "redis"),
        ("REDIS_URL", "redis://:s3cret@cache.internal:6379/2"),
        ("SESSION_KEY_PREFIX", "app1:session:"),
    ]
    .into();
    let mut settings =
        Settings::layered(None, None, |name| env.get(name).map(|v| v.to_string())).unwrap();
    assert_eq!(settings.session.store, SessionStoreKind::Redis);
    assert_eq!(settings.session.key_prefix, "app1:session:");
    settings.validate().unwrap();
    assert!(!format!("{settings:?}").contains("s3cret"));

    settings.session.redis_url = None;
    let error = settings.validate().unwrap_err();
    assert!(error.to_string().contains("REDIS_URL"), "{error}");
    settings.session.redis_url = Some(SecretText::from("localhost:6379".to_string()));
    assert!(settings.validate().is_err());

    let mut settings = Settings::default();
    settings.session.key_prefix = "has space:".into();
    assert!(settings.validate().is_err());
    assert!(
        Settings::layered(None, None, |name| (name == "SESSION_STORE")
            .then(|| "memcached".to_string()))
        .is_err()
    );
}

#[test]
fn a_malformed_environment_value_is_a_clear_error() {
    let error = Settings::layered(None, None, |name| {
        (name == "SESSION_IDLE_TIMEOUT_SECS").then(|| "soon".to_string())
    })
    .unwrap_err();
    assert!(
        error.to_string().contains("SESSION_IDLE_TIMEOUT_SECS"),
        "{error}"
    );
}

#[test]
fn inconsistent_lifetimes_are_refused() {
    let mut settings = Settings::default();
    settings.session.absolute_lifetime_secs = 10;
    assert!(settings.validate().is_err());
    let mut settings = Settings::default();
    settings.cookie.name = "__Host-session".into();
    assert!(settings.validate().is_err());
    settings.cookie.secure = true;
    settings.validate().unwrap();
}

#[test]
fn a_database_url_this_build_cannot_serve_is_refused_without_showing_it() {
    let with_url = |url: &str| {
        let mut settings = Settings::default();
        settings.database.url = url.into();
        settings.validate()
    };
    assert!(with_url("sqlite://data/app.db").is_ok());
    assert!(with_url("sqlite::memory:").is_ok());
    assert!(with_url("postgres://app:s3cret@db.internal/app").is_ok());
    assert!(with_url("postgresql://db.internal/app").is_ok());
    let mysql = with_url("mysql://root:s3cret@localhost/app").unwrap_err();
    assert!(mysql.to_string().contains("\"mysql\""), "{mysql}");
    assert!(!mysql.to_string().contains("s3cret"), "{mysql}");
    assert!(with_url("data/app.db").is_err());
}
