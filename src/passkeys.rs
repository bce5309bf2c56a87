//! Passkey ceremonies in the browser (#25): asking it to make a passkey
//! (`navigator.credentials.create`) or to sign with one
//! (`navigator.credentials.get`), with the options the server sends as JSON
//! and its answer sent back as JSON (`PublicKeyCredential.parse…FromJSON`,
//! `toJSON`).
//!
//! None of it is in the first load (#25: the sign-in page grows by at most
//! 3 kB). The sign-in page renders a placeholder (a disabled button saying
//! that it needs JavaScript); once the page is interactive a wasm chunk of
//! its own (`#[lazy]`) puts the working button in its place and offers
//! passkeys in the username field's autofill. Adding a passkey is in the
//! account page's chunk. One ceremony runs at a time: a new one (the button)
//! cancels the one waiting (the autofill's).

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

#[cfg(feature = "hydrate")]
pub use ceremony::start;
pub use ceremony::{make, offer_sign_in, supported};

#[cfg(feature = "hydrate")]
mod ceremony {
    use crate::{
        auth::{passkey_registration_options, passkey_sign_in, passkey_sign_in_options},
        passkeys::{Control, ControlMessages, Failure},
        session_ui::Auth,
    };
    use js_sys::{Function, Object, Promise, Reflect, JSON};
    use leptos::{mount::mount_to, prelude::*, task::spawn_local};
    use leptos_router::hooks::use_navigate;
    use std::{
        any::Any,
        cell::{Cell, RefCell},
    };
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{AbortController, HtmlElement, HtmlInputElement};

    thread_local! {
        /// The ceremony waiting for the browser, to cancel when another begins.
        static WAITING: RefCell<Option<AbortController>> = const { RefCell::new(None) };

        /// The sign-in page's working passkey controls until it is left, with
        /// the number of the page they were made for.
        static SIGN_IN_CONTROLS: RefCell<Option<(u64, Box<dyn Any>)>> = const { RefCell::new(None) };

        /// How many sign-in pages have had their controls.
        static SIGN_IN_PAGES: Cell<u64> = const { Cell::new(0) };

        /// Whether the app has hydrated; until then, the sign-in page
        /// waiting for its chunk.
        static INTERACTIVE: Cell<bool> = const { Cell::new(false) };
        static PENDING: RefCell<Option<WeakOwner>> = const { RefCell::new(None) };
    }

    /// Where the sign-in page's passkey controls go: its placeholder's id
    /// (`pages/login.rs`).
    const SIGN_IN_ID: &str = "passkey-sign-in";
    const SIGN_IN_NEEDS_SCRIPT: &str = "Signing in with a passkey needs JavaScript.";
    const SIGN_IN_UNABLE: &str = "This browser cannot sign in with a passkey.";

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

    /// Called while the sign-in page is built, under its owner: fetches the
    /// chunk that signs in with a passkey once the page is interactive (at
    /// once after a navigation; after hydration, from `start`). The chunk
    /// runs when this task is done, with the page in the document.
    pub fn offer_sign_in() {
        let Some(page) = Owner::current() else {
            return;
        };
        if INTERACTIVE.get() {
            spawn_local(sign_in_controls(page.downgrade()));
        } else {
            PENDING.set(Some(page.downgrade()));
        }
    }

    /// Called once the first page is interactive (see `crate::hydrate`).
    pub fn start() {
        INTERACTIVE.set(true);
        if let Some(page) = PENDING.take() {
            spawn_local(sign_in_controls(page));
        }
    }

    /// The sign-in page's working passkey controls, in place of its
    /// placeholder until the page is left, and the autofill's offer.
    #[lazy]
    async fn sign_in_controls(page: WeakOwner) {
        // The page may have been left while the chunk was fetched.
        let Some(page) = page.upgrade() else {
            return;
        };
        let Some(auth) = page.with(use_context::<Auth>) else {
            return;
        };
        let Some(place) = document()
            .get_element_by_id(SIGN_IN_ID)
            .and_then(|place| place.dyn_into::<HtmlElement>().ok())
        else {
            return;
        };
        let navigate = page.with(use_navigate);
        let signed_in = move |next: String| {
            auth.session_changed();
            navigate(&next, Default::default());
        };
        let control = page.with(Control::new);
        let supported = supported();
        control.usable.set(Some(supported));
        place.replace_children_with_node_0();
        let controls = page.with(|| {
            let signed_in = signed_in.clone();
            mount_to(place, move || {
                let ask = move |_| {
                    let signed_in = signed_in.clone();
                    control.error.set(None);
                    control.busy.set(true);
                    spawn_local(async move {
                        finish(control, &signed_in, request(false).await).await;
                        control.busy.set(false);
                    });
                };
                view! {
                    <button type="button" class="secondary" on:click=ask
                        disabled=move || control.disabled() data-testid="passkey-button">
                        "Sign in with a passkey"
                    </button>
                    <ControlMessages control testids=("passkey-hint", "passkey-error")
                        needs_script=SIGN_IN_NEEDS_SCRIPT unable=SIGN_IN_UNABLE/>
                }
            })
        });
        // A page left takes only its own controls (and ceremony) away: the
        // next sign-in page may have set up its own before.
        let number = SIGN_IN_PAGES.get() + 1;
        SIGN_IN_PAGES.set(number);
        SIGN_IN_CONTROLS.set(Some((number, Box::new(controls))));
        page.with(|| {
            on_cleanup(move || {
                if SIGN_IN_PAGES.get() == number {
                    cancel();
                    SIGN_IN_CONTROLS.take();
                }
            })
        });
        if supported && autofill_available().await {
            // Until the user picks a passkey nothing was asked of them, so a
            // failure to offer one (this address is not the passkeys' site,
            // the button took over, the page was left) is not told.
            if let Ok(credential) = request(true).await {
                finish(control, &signed_in, Ok(credential)).await;
            }
        }
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
    async fn finish(control: Control, signed_in: &dyn Fn(String), asked: Result<String, Failure>) {
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
            Ok(page) => signed_in(page),
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

    pub fn offer_sign_in() {}
}
