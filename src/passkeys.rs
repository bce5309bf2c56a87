//! Passkey ceremonies in the browser (#25): asking it to make a passkey
//! (`navigator.credentials.create`) or to sign with one
//! (`navigator.credentials.get`), with the options the server sends as JSON
//! and its answer sent back as JSON (`PublicKeyCredential.parse…FromJSON`,
//! `toJSON`).
//!
//! The code that talks to the browser is a wasm chunk of its own (`#[lazy]`),
//! fetched when a page first needs it: the sign-in page once it is
//! interactive, the account page when "Add a passkey" is pressed. One
//! ceremony runs at a time: a new one (the button) cancels the one waiting
//! (the autofill's). On the server these answer that nothing can be done.

use crate::auth::AppError;

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

pub use ceremony::{autofill_available, cancel, make, request, supported};

#[cfg(feature = "hydrate")]
mod ceremony {
    use crate::auth::{passkey_registration_options, passkey_sign_in_options};
    use crate::passkeys::Failure;
    use js_sys::{Function, Object, Promise, Reflect, JSON};
    use leptos::prelude::*;
    use std::cell::RefCell;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::AbortController;

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
    pub async fn autofill_available() -> bool {
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

    /// Cancels the ceremony waiting for the browser, if any (a page left).
    pub fn cancel() {
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

    /// A passkey's signature for a sign-in: the server's options, the
    /// browser's prompt (or, `conditional`, its autofill, which waits until
    /// the user picks a passkey), and its answer as JSON for
    /// `passkey_sign_in`.
    pub async fn request(conditional: bool) -> Result<String, Failure> {
        let options = passkey_sign_in_options().await.map_err(Failure::Server)?;
        run(options, conditional, false).await
    }

    /// Runs one ceremony (in its own chunk).
    #[lazy]
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

    pub async fn autofill_available() -> bool {
        false
    }

    pub fn cancel() {}

    pub async fn make() -> Result<String, Failure> {
        Err(Failure::Unsupported)
    }

    pub async fn request(_conditional: bool) -> Result<String, Failure> {
        Err(Failure::Unsupported)
    }
}
