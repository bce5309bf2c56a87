//! Black-box tests: the real server on a random port with a fresh SQLite file,
//! driven over HTTP. Each file reads as a user story.

/// A software passkey device, shared by the passkey stories.
#[path = "../common/authenticator.rs"]
mod authenticator;
mod helpers;
/// Shared by the mail stories.
mod mail;
#[path = "../common/smtp.rs"]
mod smtp;

mod account_deletion;
mod accounts;
mod activity;
mod aimed_mail;
mod alerts;
mod busy;
mod connection_slots;
mod dashboard;
mod email;
mod health;
mod intruder;
mod login;
mod logout;
mod notices;
mod passkeys;
mod reauth;
mod recovery;
mod register;
mod security;
mod session_lifetime;
mod session_limit;
mod session_rotation;
mod slow_clients;
mod throttling;
mod tokens;
