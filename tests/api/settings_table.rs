//! The README's settings table is the truth: every row's environment
//! variable reaches the key it names, every key of the settings has a row,
//! and the default each row shows is the code's.

use persistent_login::server::config::{env_name, Settings};
use std::collections::BTreeSet;

struct Row {
    key: String,
    default: String,
    variable: String,
}

/// The rows of the table under "## Configuration".
fn rows() -> Vec<Row> {
    let readme = include_str!("../../README.md");
    let section = &readme[readme
        .find("## Configuration")
        .expect("a Configuration section")..];
    section
        .lines()
        .skip_while(|line| !line.starts_with("| Key |"))
        .skip(2)
        .take_while(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            let code = |cell: &str| cell.split('`').nth(1).unwrap_or("").to_string();
            Row {
                key: code(cells[0]),
                default: cells[1].to_string(),
                variable: code(cells[2]),
            }
        })
        .collect()
}

/// A value for `key` other than its default, as the environment gives it
/// and as the file would write it.
fn other_value(row: &Row) -> (String, String) {
    let text = |value: &str| (value.to_string(), format!("{value:?}"));
    match row.key.as_str() {
        "database.url" => text("postgres://app@db.internal/app"),
        "session.store" => text("redis"),
        "session.redis_url" => text("redis://cache.internal:6379"),
        "session.key_prefix" => text("app1:session:"),
        "cookie.name" => text("sid"),
        "server.environment" => text("production"),
        "server.trusted_proxies" => ("10.0.0.5".into(), r#"["10.0.0.5"]"#.into()),
        "tokens.keys" => text("k1=c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"),
        "tokens.signing_key" => text("k1"),
        "tokens.algorithm" => text("EdDSA"),
        "tokens.issuer" | "tokens.audience" => text("another-site"),
        "mail.smtp_url" => text("smtps://app:secret@mail.internal:465"),
        "mail.from" => text("Example <no-reply@example.com>"),
        "mail.dir" => text("/var/spool/app-mail"),
        "mail.site_url" => text("https://accounts.example.com"),
        "webauthn.rp_id" => text("example.com"),
        "webauthn.origins" => text("https://example.com,https://login.example.com"),
        "webauthn.rp_name" => text("Example"),
        _ => {
            let default = row.default.trim_matches('`');
            match default {
                "true" => ("false".into(), "false".into()),
                "false" => ("true".into(), "true".into()),
                number => {
                    let number: u64 = number
                        .parse()
                        .unwrap_or_else(|_| panic!("give {} a test value", row.key));
                    let other = (number + 1).to_string();
                    (other.clone(), other)
                }
            }
        }
    }
}

/// `[section]\nfield = value`.
fn file_with(key: &str, value: &str) -> String {
    let (section, field) = key.split_once('.').unwrap();
    format!("[{section}]\n{field} = {value}\n")
}

#[test]
fn every_documented_variable_reaches_its_key() {
    let rows = rows();
    assert!(rows.len() > 30, "the table was not found");
    for row in &rows {
        assert_eq!(row.variable, env_name(&row.key), "the one naming rule");
        let (env_value, file_value) = other_value(row);
        let from_env = Settings::layered(None, None, |name| {
            (name == row.variable).then(|| env_value.clone())
        })
        .unwrap_or_else(|error| panic!("{}: {error}", row.variable));
        let from_file = Settings::from_toml(&file_with(&row.key, &file_value)).unwrap();
        assert_ne!(
            from_env,
            Settings::default(),
            "{} changed nothing",
            row.variable
        );
        assert_eq!(from_env, from_file, "{} reaches {}", row.variable, row.key);
    }
}

#[test]
fn every_key_has_a_row_and_each_row_shows_the_codes_default() {
    let rows = rows();
    let documented: BTreeSet<String> = rows.iter().map(|row| row.key.clone()).collect();
    let keys: BTreeSet<String> = Settings::keys().into_iter().collect();
    assert_eq!(documented, keys);
    for row in &rows {
        if !row.default.starts_with('`') || row.default == "`[]`" {
            continue; // "none", "the first key", an empty list
        }
        let default = row.default.trim_matches('`');
        let value = if default.parse::<u64>().is_ok() || default == "true" || default == "false" {
            default.to_string()
        } else {
            format!("{default:?}")
        };
        assert_eq!(
            Settings::from_toml(&file_with(&row.key, &value)).unwrap(),
            Settings::default(),
            "the README's default of {}",
            row.key
        );
    }
}
