//! The account page's passkeys: the list (name, when added and last used,
//! whether the provider syncs it), renaming and removing (plain forms), and
//! adding one with the browser's prompt, an island (which needs JavaScript,
//! as the section says until the page is interactive). Each change is a
//! sensitive action.

use crate::{
    address::{go_to, query_value},
    auth::{
        add_passkey, AddPasskey, AppError, PasskeyInfo, RemovePasskey, RenamePasskey,
        PASSKEY_NAME_MAX_CHARS,
    },
    pages::{confirm_if_asked, post_form, unreadable, Moment},
    passkeys::{self, Control, ControlMessages, Failure},
    routes::passkey_added_page,
};
use leptos::{prelude::*, server_fn::ServerFn, task::spawn_local};

pub(super) fn passkeys(passkeys: Result<Vec<PasskeyInfo>, AppError>) -> impl IntoView {
    let just_added = query_value("passkey_added").and_then(|id| id.parse::<i64>().ok());
    let list = passkeys.map(|passkeys| {
        let added = just_added
            .and_then(|id| passkeys.iter().find(|passkey| passkey.id == id))
            .map(|passkey| view! {
                <p class="notice" role="status" data-testid="passkey-added">
                    "Passkey added as " <strong>{passkey.name.clone()}</strong> ". You can rename it in the list."
                </p>
            });
        let list = if passkeys.is_empty() {
            view! { <p data-testid="no-passkeys">"No passkeys yet."</p> }.into_any()
        } else {
            view! {
                <ul class="sessions passkeys">
                    {passkeys.into_iter().map(passkey_item).collect_view()}
                </ul>
            }
            .into_any()
        };
        view! { {added} {list} }.into_any()
    });
    view! {
        <section aria-labelledby="passkeys-heading" data-testid="passkeys">
            <h2 id="passkeys-heading">"Passkeys"</h2>
            <p>
                "A passkey signs you in with your fingerprint, face or screen lock instead of "
                "your password. It works only on this site, so it cannot be phished or reused."
            </p>
            {list.unwrap_or_else(unreadable)}
            {query_value("passkeys_saved").is_some().then(|| view! {
                <p class="notice" role="status" data-testid="passkeys-saved">"Saved."</p>
            })}
            <AddPasskey/>
        </section>
    }
}

fn passkey_item(passkey: PasskeyInfo) -> impl IntoView {
    let last_used = match passkey.last_used_at {
        Some(at) => view! { <Moment at/> }.into_any(),
        None => "never".into_any(),
    };
    let kept = if passkey.backed_up {
        "Synced to your other devices by its provider"
    } else {
        "On one device only"
    };
    let id = passkey.id.to_string();
    view! {
        <li class="session passkey" data-testid="passkey">
            <p class="device"><strong data-testid="passkey-name">{passkey.name.clone()}</strong></p>
            <dl>
                <dt>"Added"</dt>
                <dd><Moment at=passkey.created_at/></dd>
                <dt>"Last used"</dt>
                <dd data-testid="passkey-last-used">{last_used}</dd>
                <dt>"Kept"</dt>
                <dd data-testid="passkey-kept">{kept}</dd>
            </dl>
            {post_form::<RenamePasskey>(view! {
                <input type="hidden" name="id" value=id.clone()/>
                <label>
                    "New name"
                    <input type="text" name="name" required maxlength=PASSKEY_NAME_MAX_CHARS
                        value=passkey.name data-testid="passkey-new-name"/>
                </label>
                <button type="submit" class="secondary" data-testid="rename-passkey">"Rename"</button>
            })}
            {post_form::<RemovePasskey>(view! {
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="secondary" data-testid="remove-passkey">"Remove"</button>
            })}
        </li>
    }
}

/// "Add a passkey": the browser's prompt, then the passkey under the name
/// of this device, and the page again, saying so. Outside the
/// re-authentication window, to `/confirm` first.
#[island]
fn AddPasskey() -> impl IntoView {
    let control = Control::new();
    Effect::new(move |_| control.usable.set(Some(passkeys::supported())));
    let add = move |_| {
        control.error.set(None);
        control.busy.set(true);
        spawn_local(async move {
            let made = match passkeys::make().await {
                Ok(credential) => add_passkey(credential, None).await.map_err(Failure::Server),
                Err(failure) => Err(failure),
            };
            match made {
                Ok(passkey) => go_to(&passkey_added_page(passkey.id)),
                Err(Failure::Server(refused)) => {
                    confirm_if_asked(&refused, AddPasskey::PATH);
                    control.error.set(Some(refused.to_string()));
                }
                Err(failure) => control.error.set(failure.message()),
            }
            control.busy.set(false);
        });
    };
    view! {
        <button type="button" on:click=add disabled=move || control.disabled()
            data-testid="add-passkey">
            "Add a passkey"
        </button>
        <ControlMessages control testids=("add-passkey-hint", "add-passkey-error")
            needs_script="Adding a passkey needs JavaScript."
            unable="This browser cannot make passkeys."/>
    }
}
