//! The account's email address: the verified one (with new-device alerts),
//! the one waiting for its link (which can be sent again), and the form to
//! set or change it (a sensitive action). Whatever the address, the answer
//! is the same: a message is on its way.

use crate::{
    address::query_value,
    auth::{AppError, EmailStatus, ResendEmail, SetAlerts, SetEmail, EMAIL_MAX_CHARS},
    pages::{post_form, unreadable},
};
use leptos::prelude::*;

pub(super) fn email_address(status: Result<EmailStatus, AppError>) -> impl IntoView {
    let addresses = status.map(|status| {
        let verified = match status.verified {
            Some(address) => view! {
                <p data-testid="email-verified-address">"Verified: " <strong>{address}</strong></p>
                {post_form::<SetAlerts>(view! {
                    <label class="remember">
                        <input type="checkbox" name="enabled" value="on" checked=status.new_device_alerts data-testid="alerts-enabled"/>
                        "Email me when my account is signed in from a new device"
                    </label>
                    <button type="submit" class="secondary" data-testid="save-alerts">"Save"</button>
                })}
            }
            .into_any(),
            None => view! {
                <p data-testid="no-email">
                    "No verified address yet: a forgotten password cannot be reset by mail."
                </p>
            }
            .into_any(),
        };
        let pending = status.pending.map(|address| view! {
            <p data-testid="email-pending">
                "Waiting for its link: " <strong>{address}</strong>
            </p>
            {post_form::<ResendEmail>(view! {
                <button type="submit" class="secondary" data-testid="resend-email">"Send the link again"</button>
            })}
        });
        view! { {verified} {pending} }.into_any()
    });
    view! {
        <section aria-labelledby="email-heading" data-testid="email">
            <h2 id="email-heading">"Email address"</h2>
            {query_value("email_sent").is_some().then(|| view! {
                <p class="notice" role="status" data-testid="email-sent">
                    "A message is on its way to that address. Open the link in it to verify the address."
                </p>
            })}
            {addresses.unwrap_or_else(unreadable)}
            {query_value("alerts_saved").is_some().then(|| view! {
                <p class="notice" role="status" data-testid="alerts-saved">"Saved."</p>
            })}
            {post_form::<SetEmail>(view! {
                <label>
                    "New email address"
                    <input type="email" name="email" autocomplete="email" required maxlength=EMAIL_MAX_CHARS data-testid="email-input"/>
                </label>
                <button type="submit" data-testid="set-email">"Send a verification link"</button>
            })}
        </section>
    }
}
