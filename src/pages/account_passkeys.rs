//! The account page's passkeys (#25): the list (name, when added and last
//! used, whether the provider syncs it), renaming and removing (plain forms
//! that work without JavaScript), and adding one with the browser's prompt
//! (which needs JavaScript, as the section says until the page is
//! interactive). Each change is a sensitive action.

use super::{confirm_if_asked, error_message, Moment};
use crate::address::query_value;
use crate::{
    auth::{
        add_passkey, list_passkeys, PasskeyInfo, RemovePasskey, RenamePasskey,
        PASSKEY_NAME_MAX_CHARS,
    },
    passkeys::{self, Control, ControlMessages, Failure},
    routes::CONFIRM_FOR_ACCOUNT_PAGE,
};
use leptos::{prelude::*, task::spawn_local};

#[component]
pub fn Passkeys() -> impl IntoView {
    let rename = ServerAction::<RenamePasskey>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let added = RwSignal::new(None::<PasskeyInfo>);
    let passkeys = Resource::new(
        move || {
            (
                rename.version().get(),
                remove.version().get(),
                added.with(|added| added.as_ref().map(|passkey| passkey.id)),
            )
        },
        |_| list_passkeys(),
    );
    Effect::new(move |_| {
        confirm_if_asked(rename.value().get(), CONFIRM_FOR_ACCOUNT_PAGE);
        confirm_if_asked(remove.value().get(), CONFIRM_FOR_ACCOUNT_PAGE);
    });
    let saved_before = query_value("passkeys_saved").is_some();
    let saved = move || match (rename.value().get(), remove.value().get()) {
        (Some(Ok(())), _) | (_, Some(Ok(()))) => true,
        (None, None) => saved_before,
        _ => false,
    };
    view! {
        <section aria-labelledby="passkeys-heading" data-testid="passkeys">
            <h2 id="passkeys-heading">"Passkeys"</h2>
            <p>
                "A passkey signs you in with your fingerprint, face or screen lock instead of "
                "your password. It works only on this site, so it cannot be phished or reused."
            </p>
            <Transition fallback=|| view! { <p>"Loading your passkeys…"</p> }>
                {move || Suspend::new(async move {
                    let passkeys = passkeys.await.unwrap_or_default();
                    if passkeys.is_empty() {
                        return view! { <p data-testid="no-passkeys">"No passkeys yet."</p> }.into_any();
                    }
                    view! {
                        <ul class="sessions passkeys">
                            {passkeys.into_iter().map(|passkey| view! {
                                <PasskeyItem passkey rename remove/>
                            }).collect_view()}
                        </ul>
                    }
                    .into_any()
                })}
            </Transition>
            <Show when=saved>
                <p class="notice" role="status" data-testid="passkeys-saved">"Saved."</p>
            </Show>
            {error_message::<RenamePasskey>(move || rename.value().get())}
            {error_message::<RemovePasskey>(move || remove.value().get())}
            <AddPasskey added/>
        </section>
    }
}

#[component]
fn PasskeyItem(
    passkey: PasskeyInfo,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
) -> impl IntoView {
    let (rename_id, remove_id) = (passkey.id.to_string(), passkey.id.to_string());
    let last_used = match passkey.last_used_at {
        Some(at) => view! { <Moment at/> }.into_any(),
        None => "never".into_any(),
    };
    let kept = if passkey.backed_up {
        "Synced to your other devices by its provider"
    } else {
        "On one device only"
    };
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
            <ActionForm action=rename attr:class="inline">
                <input type="hidden" name="id" value=rename_id/>
                <label>
                    "New name"
                    <input type="text" name="name" required maxlength=PASSKEY_NAME_MAX_CHARS
                        value=passkey.name data-testid="passkey-new-name"/>
                </label>
                <button type="submit" class="secondary" data-testid="rename-passkey">"Rename"</button>
            </ActionForm>
            <ActionForm action=remove attr:class="inline">
                <input type="hidden" name="id" value=remove_id/>
                <button type="submit" class="secondary" data-testid="remove-passkey">"Remove"</button>
            </ActionForm>
        </li>
    }
}

/// "Add a passkey": the browser's prompt, then the passkey under the name
/// of this device (renamed in the list). Outside the re-authentication
/// window, to `/confirm` first.
#[component]
fn AddPasskey(added: RwSignal<Option<PasskeyInfo>>) -> impl IntoView {
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
                Ok(passkey) => added.set(Some(passkey)),
                Err(Failure::Server(refused)) => {
                    confirm_if_asked(
                        Some(Err::<(), _>(refused.clone())),
                        CONFIRM_FOR_ACCOUNT_PAGE,
                    );
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
        {move || added.get().map(|passkey| view! {
            <p class="notice" role="status" data-testid="passkey-added">
                "Passkey added as " <strong>{passkey.name}</strong> ". You can rename it above."
            </p>
        })}
        <ControlMessages control testids=("add-passkey-hint", "add-passkey-error")
            needs_script="Adding a passkey needs JavaScript."
            unable="This browser cannot make passkeys."/>
    }
}
