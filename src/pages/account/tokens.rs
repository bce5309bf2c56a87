//! Bearer tokens for the user's scripts and apps: how many are outstanding,
//! a new one (shown once, so made by the page's script: an island), and
//! revoking them all (a plain form). "Sign out everywhere else" and a
//! password change revoke them too.

use crate::{
    auth::{
        count_tokens, create_token, AppError, CreateToken, RevokeTokens, TokenAnswer, TokenLifetime,
    },
    pages::{confirm_if_asked, error_message, post_form, unreadable},
    session_ui::session_ended,
};
use leptos::{prelude::*, server_fn::ServerFn, task::spawn_local};

pub(super) fn api_tokens(
    outstanding: Result<i64, AppError>,
    lifetime: TokenLifetime,
) -> impl IntoView {
    view! {
        <section aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"API tokens"</h2>
            <p>
                {format!("A token lets a script or an app act as you for {}, with ", lasting(lifetime.0))}
                <code>"Authorization: Bearer …"</code>
                ". Signing out everywhere else or changing your password revokes every token."
            </p>
            {match outstanding {
                Ok(outstanding) => view! {
                    <Tokens outstanding>
                        {post_form::<RevokeTokens>(view! {
                            <button type="submit" class="secondary" data-testid="revoke-tokens">"Revoke all tokens"</button>
                        })}
                    </Tokens>
                }
                .into_any(),
                Err(error) => unreadable(error),
            }}
            <noscript>
                <p>"Creating a token here needs JavaScript; without it, send your username and password to "
                    <code>"POST /api/token"</code> " (see the README)."</p>
            </noscript>
        </section>
    }
}

/// The count, "Create a token" (which needs the page's script: a plain form
/// post would be answered with a redirect, and the token lost) and, as
/// `children` rendered on the server, "Revoke all tokens" (a form: the page
/// again, without the token shown).
#[island]
fn Tokens(outstanding: i64, children: Children) -> impl IntoView {
    let outstanding = RwSignal::new(outstanding);
    let made = RwSignal::new(None::<Result<TokenAnswer, AppError>>);
    let scripted = RwSignal::new(false);
    Effect::new(move |_| scripted.set(true));
    let create = move |_| {
        spawn_local(async move {
            let answer = create_token().await;
            match &answer {
                Ok(_) => {
                    if let Ok(now) = count_tokens().await {
                        outstanding.set(now);
                    }
                }
                Err(error) if error.sign_in_again_page().is_some() => session_ended(),
                Err(refused) => confirm_if_asked(refused, CreateToken::PATH),
            }
            made.set(Some(answer));
        });
    };
    view! {
        <p data-testid="token-count">
            {move || match outstanding.get() {
                0 => "No token is outstanding.".to_string(),
                1 => "1 token is outstanding.".to_string(),
                n => format!("{n} tokens are outstanding."),
            }}
        </p>
        <div class="actions">
            <Show when=move || scripted.get()>
                <button type="button" on:click=create data-testid="create-token">"Create a token"</button>
            </Show>
            {children()}
        </div>
        {move || made.get().and_then(Result::ok).map(|answer| view! { <NewToken answer/> })}
        {error_message(move || made.get().and_then(Result::err))}
    }
}

/// A token just made: shown this once, with a copy button and the command
/// that uses it.
#[component]
fn NewToken(answer: TokenAnswer) -> impl IntoView {
    let origin = {
        #[cfg(feature = "hydrate")]
        {
            window().location().origin().unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            String::new()
        }
    };
    let command = format!(
        "curl -H \"Authorization: Bearer {}\" {origin}/api/me",
        answer.token
    );
    let copied = RwSignal::new(false);
    let token = answer.token.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window().navigator().clipboard().write_text(&token);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &token;
        copied.set(true);
    };
    let lasts = lasting(answer.expires_in);
    view! {
        <div class="new-token" data-testid="new-token">
            <p class="notice" role="status">
                {format!("Your new token, valid for {lasts}. Copy it now: it is not shown again.")}
            </p>
            <label>
                "Token"
                <input type="text" readonly value=answer.token.clone() data-testid="token" autocomplete="off" spellcheck="false"/>
            </label>
            <button type="button" class="secondary" on:click=copy>"Copy the token"</button>
            <Show when=move || copied.get()>
                <span role="status">" Copied."</span>
            </Show>
            <p>"Try it:"</p>
            // It scrolls sideways: focusable, so that the keyboard can scroll it.
            <pre tabindex="0" aria-label="Example command" data-testid="token-example">
                <code data-testid="token-command">{command}</code>
            </pre>
        </div>
    }
}

/// A length of time as the page says it: "one day", "2 days", "12 hours",
/// "an hour", "30 minutes", "a minute" (rounded down to the largest unit it
/// fills; seconds under a minute read as "a minute").
fn lasting(seconds: i64) -> String {
    let (count, one, many) = match seconds {
        s if s >= 86_400 => (s / 86_400, "one day", "days"),
        s if s >= 3_600 => (s / 3_600, "an hour", "hours"),
        s => ((s / 60).max(1), "a minute", "minutes"),
    };
    if count == 1 {
        one.to_string()
    } else {
        format!("{count} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::lasting;

    #[test]
    fn a_lifetime_reads_in_the_largest_unit_it_fills() {
        assert_eq!(lasting(86_400), "one day");
        assert_eq!(lasting(2 * 86_400 + 5), "2 days");
        assert_eq!(lasting(43_200), "12 hours");
        assert_eq!(lasting(3_600), "an hour");
        assert_eq!(lasting(1_800), "30 minutes");
        assert_eq!(lasting(60), "a minute");
        assert_eq!(lasting(5), "a minute");
    }
}
