//! Black-box tests, one binary: the real server on a random port with a fresh
//! SQLite file, driven over HTTP (each file reads as a user story); the built
//! binary on the command line, as several instances, under outages and in the
//! README's example; the audit log; the settings table; fuzzing. cargo-nextest
//! runs each test in a process of its own.

/// A software passkey device, shared by the passkey stories.
mod authenticator;
mod helpers;
/// The built binary as a process of its own (instances, outages, README).
mod instance;
/// Shared by the mail stories.
mod mail;
/// Throwaway PostgreSQL and Redis servers (outages).
mod services;
mod smtp;

mod account_deletion;
mod accounts;
mod activity;
mod aimed_mail;
mod alerts;
mod audit_log;
mod busy;
mod cli;
mod connection_slots;
mod dashboard;
mod email;
mod fuzz_http;
mod health;
mod instances;
mod intruder;
mod login;
mod logout;
mod notices;
mod outages;
mod passkeys;
mod readme_api;
mod reauth;
mod recovery;
mod register;
mod security;
mod session_lifetime;
mod session_limit;
mod session_rotation;
mod settings_table;
mod slow_clients;
mod throttling;
mod tokens;
