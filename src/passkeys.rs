//! Passkey ceremonies in the browser (#25): asking it to make a passkey
//! (`navigator.credentials.create`) or to sign with one
//! (`navigator.credentials.get`), with the options the server sends as JSON
//! and its answer sent back as JSON (`PublicKeyCredential.parse…FromJSON`,
//! `toJSON`).
//!
//! The sign-in page's island renders the button disabled, saying that it
//! needs JavaScript; once the island is live the button works and the
//! username field's autofill offers passkeys. Adding one is the account
//! page's. One ceremony runs at a time: a new one (the button) cancels the
//! one waiting (the autofill's).

use crate::auth::AppError;
use leptos::prelude::*;

/// Why a ceremony gave no passkey.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// This browser has no WebAuthn with JSON options.
    Unsupported,
    /// The user closed the prompt, or it timed out.
    Cancelled,
    /// A newer ceremony took this one's place.
    Superseded,
    /// This device already holds a passkey for the account.
    Known,
    /// The page's address is not one the passkeys are for.
    WrongSite,
    /// The browser refused for another reason.
    Failed,
    /// The server refused.
    Server(AppError),
}

impl Failure {
    /// What the page tells the user; `None` when there is nothing to tell
    /// (a ceremony replaced by a newer one).
    pub fn message(&self) -> Option<String> {
        let text = match self {
            Failure::Superseded => return None,
            Failure::Server(error) => return Some(error.to_string()),
            Failure::Unsupported => "This browser cannot use passkeys.",
            Failure::Cancelled => {
                "The passkey prompt closed before it finished. Try again when you are ready."
            }
            Failure::Known => "This device already holds a passkey for your account.",
            Failure::WrongSite => return Some(AppError::PasskeyWrongSite.to_string()),
            Failure::Failed => "The passkey could not be used. Try again.",
        };
        Some(text.to_string())
    }
}

/// What a passkey control (a button and its messages) shows.
#[derive(Clone, Copy)]
pub struct Control {
    /// `None` until the page is interactive; then whether this browser can.
    pub usable: RwSignal<Option<bool>>,
    /// A ceremony the button began is under way.
    pub busy: RwSignal<bool>,
    /// Why the last attempt gave nothing, for the user.
    pub error: RwSignal<Option<String>>,
}

impl Control {
    pub fn new() -> Self {
        Self {
            usable: RwSignal::new(None),
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
        }
    }

    /// Whether the button waits (not yet usable here, or already busy).
    pub fn disabled(self) -> bool {
        self.usable.get() != Some(true) || self.busy.get()
    }

    /// Why the button cannot be used yet: `needs_script` until the page is
    /// interactive (always, without JavaScript), `unable` in a browser
    /// without passkeys.
    pub fn hint(self, needs_script: &'static str, unable: &'static str) -> Option<&'static str> {
        match self.usable.get() {
            None => Some(needs_script),
            Some(false) => Some(unable),
            Some(true) => None,
        }
    }
}

impl Default for Control {
    fn default() -> Self {
        Self::new()
    }
}

/// A passkey button's hint (see [`Control::hint`]) and its last error.
#[component]
pub fn ControlMessages(
    control: Control,
    /// The `data-testid`s of the hint and of the error.
    testids: (&'static str, &'static str),
    needs_script: &'static str,
    unable: &'static str,
) -> impl IntoView {
    let (hint_id, error_id) = testids;
    view! {
        {move || control.hint(needs_script, unable).map(|hint| view! {
            <p class="hint" data-testid=hint_id>{hint}</p>
        })}
        {move || control.error.get().map(|message| view! {
            <p class="error" role="alert" data-testid=error_id>{message}</p>
        })}
    }
}

const SIGN_IN_NEEDS_SCRIPT: &str = "Signing in with a passkey needs JavaScript.";
const SIGN_IN_UNABLE: &str = "This browser cannot sign in with a passkey.";

/// "Sign in with a passkey", and the username field's autofill offering this
/// site's passkeys: an island beside the sign-in form, whose fields it reads.
/// Signed in, the browser goes on to the page the server names.
#[island]
pub fn PasskeySignIn() -> impl IntoView {
    let control = Control::new();
    #[cfg(feature = "hydrate")]
    ceremony::offer_sign_in(control);
    let ask = move |_| {
        #[cfg(feature = "hydrate")]
        ceremony::sign_in_by_button(control);
    };
    view! {
        <div class="passkey-sign-in" data-testid="passkey-sign-in">
            <button type="button" class="secondary" on:click=ask
                disabled=move || control.disabled() data-testid="passkey-button">
                "Sign in with a passkey"
            </button>
            <ControlMessages control testids=("passkey-hint", "passkey-error")
                needs_script=SIGN_IN_NEEDS_SCRIPT unable=SIGN_IN_UNABLE/>
        </div>
    }
}

pub use ceremony::{make, supported};

#[cfg(feature = "hydrate")]
mod ceremony {
    use crate::{
        address::go_to,
        auth::{passkey_registration_options, passkey_sign_in, passkey_sign_in_options},
        passkeys::{Control, Failure},
    };
    use js_sys::{Function, Object, Promise, Reflect, JSON};
    use leptos::{prelude::*, task::spawn_local};
    use std::cell::RefCell;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{AbortController, HtmlInputElement};

    thread_local! {
        /// The ceremony waiting for the browser, to cancel when another begins.
        static WAITING: RefCell<Option<AbortController>> = const { RefCell::new(None) };
    }

    fn property(target: &JsValue, name: &str) -> Option<JsValue> {
        Reflect::get(target, &JsValue::from_str(name))
            .ok()
            .filter(|value| !value.is_undefined() && !value.is_null())
    }

    fn method(target: &JsValue, name: &str) -> Option<Function> {
        property(target, name).and_then(|value| value.dyn_into().ok())
    }

    fn credential_class() -> Option<JsValue> {
        property(&js_sys::global(), "PublicKeyCredential")
    }

    fn credentials() -> Option<JsValue> {
        property(&js_sys::global(), "navigator")
            .and_then(|navigator| property(&navigator, "credentials"))
    }

    /// Whether this browser can run a ceremony with JSON options.
    pub fn supported() -> bool {
        credentials().is_some()
            && credential_class().is_some_and(|class| {
                method(&class, "parseCreationOptionsFromJSON").is_some()
                    && method(&class, "parseRequestOptionsFromJSON").is_some()
            })
    }

    /// Whether the autofill of a field marked `webauthn` can offer passkeys
    /// (conditional mediation).
    async fn autofill_available() -> bool {
        let Some(class) = credential_class() else {
            return false;
        };
        let Some(check) = method(&class, "isConditionalMediationAvailable") else {
            return false;
        };
        match check
            .call0(&class)
            .map(|answer| answer.dyn_into::<Promise>())
        {
            Ok(Ok(promise)) => JsFuture::from(promise)
                .await
                .is_ok_and(|available| available.as_bool() == Some(true)),
            _ => false,
        }
    }

    /// Cancels the ceremony waiting for the browser, if any.
    fn cancel() {
        if let Some(waiting) = WAITING.take() {
            waiting.abort();
        }
    }

    /// A new passkey for the signed-in user: the server's options, the
    /// browser's prompt, and its answer as JSON for `add_passkey`.
    pub async fn make() -> Result<String, Failure> {
        let options = passkey_registration_options()
            .await
            .map_err(Failure::Server)?;
        run(options, false, true).await
    }

    /// Once the sign-in page's island is live: the button becomes usable
    /// where the browser can, and the autofill offers passkeys until the
    /// page is left.
    pub fn offer_sign_in(control: Control) {
        Effect::new(move |_| {
            let supported = supported();
            control.usable.set(Some(supported));
            if supported {
                spawn_local(async move {
                    if autofill_available().await {
                        // Until the user picks a passkey nothing was asked of
                        // them, so a failure to offer one (this address is not
                        // the passkeys' site, the button took over) is not told.
                        if let Ok(credential) = request(true).await {
                            finish(control, Ok(credential)).await;
                        }
                    }
                });
            }
        });
        on_cleanup(cancel);
    }

    /// The button: a ceremony of its own, in place of the autofill's.
    pub fn sign_in_by_button(control: Control) {
        control.error.set(None);
        control.busy.set(true);
        spawn_local(async move {
            finish(control, request(false).await).await;
            control.busy.set(false);
        });
    }

    /// A passkey's signature for a sign-in: the server's options, the
    /// browser's prompt (or, `conditional`, its autofill, which waits until
    /// the user picks a passkey), and its answer as JSON.
    async fn request(conditional: bool) -> Result<String, Failure> {
        let options = passkey_sign_in_options().await.map_err(Failure::Server)?;
        run(options, conditional, false).await
    }

    /// Sends the browser's answer to the server with what the password form
    /// would send ("Keep me signed in", read now, and where to go next: its
    /// fields, so that the first load holds no state for passkeys) and,
    /// signed in, goes on to the page the server names.
    async fn finish(control: Control, asked: Result<String, Failure>) {
        let credential = match asked {
            Ok(credential) => credential,
            Err(failure) => return control.error.set(failure.message()),
        };
        let field = |selector: &str| {
            document()
                .query_selector(selector)
                .ok()
                .flatten()
                .and_then(|field| field.dyn_into::<HtmlInputElement>().ok())
        };
        let remember = field("form input[name=remember]")
            .is_some_and(|field| field.checked())
            .then(|| "on".to_string());
        let next = field("form input[name=next]").map(|field| field.value());
        match passkey_sign_in(credential, remember, next).await {
            Ok(page) => go_to(&page),
            Err(refused) => control.error.set(Some(refused.to_string())),
        }
    }

    /// Runs one ceremony.
    async fn run(options: String, conditional: bool, create: bool) -> Result<String, Failure> {
        let class = credential_class().ok_or(Failure::Unsupported)?;
        let container = credentials().ok_or(Failure::Unsupported)?;
        let (parse, call) = if create {
            ("parseCreationOptionsFromJSON", "create")
        } else {
            ("parseRequestOptionsFromJSON", "get")
        };
        let options = JSON::parse(&options).map_err(|_| Failure::Failed)?;
        let public_key = property(&options, "publicKey").ok_or(Failure::Failed)?;
        let public_key = method(&class, parse)
            .ok_or(Failure::Unsupported)?
            .call1(&class, &public_key)
            .map_err(|_| Failure::Failed)?;
        let request = Object::new();
        let set =
            |name: &str, value: &JsValue| Reflect::set(&request, &JsValue::from_str(name), value);
        let _ = set("publicKey", &public_key);
        if conditional {
            let _ = set("mediation", &JsValue::from_str("conditional"));
        }
        cancel();
        let waiting = AbortController::new().map_err(|_| Failure::Failed)?;
        let _ = set("signal", &waiting.signal());
        WAITING.set(Some(waiting));
        let answer = method(&container, call)
            .ok_or(Failure::Unsupported)?
            .call1(&container, &request)
            .and_then(|promise| promise.dyn_into::<Promise>())
            .map_err(refusal)?;
        let credential = JsFuture::from(answer).await.map_err(refusal)?;
        let json = method(&credential, "toJSON")
            .ok_or(Failure::Unsupported)?
            .call0(&credential)
            .map_err(|_| Failure::Failed)?;
        JSON::stringify(&json)
            .map(String::from)
            .map_err(|_| Failure::Failed)
    }

    /// What the browser's refusal (a `DOMException`) means.
    fn refusal(error: JsValue) -> Failure {
        match property(&error, "name")
            .and_then(|name| name.as_string())
            .as_deref()
        {
            Some("NotAllowedError") => Failure::Cancelled,
            Some("AbortError") => Failure::Superseded,
            Some("InvalidStateError") => Failure::Known,
            Some("SecurityError") => Failure::WrongSite,
            _ => Failure::Failed,
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod ceremony {
    use crate::passkeys::Failure;

    pub fn supported() -> bool {
        false
    }

    pub async fn make() -> Result<String, Failure> {
        Err(Failure::Unsupported)
    }
}
