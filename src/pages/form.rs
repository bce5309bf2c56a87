//! Forms. Every form is a plain HTML POST to its server function, so it
//! works without JavaScript: the server answers with the page to go on to,
//! or sends the browser back with the error in the address (`__path`,
//! `__err`), shown under the form. With JavaScript the same form is an
//! island ([`PostForm`]): the page's script sends it, and the answer comes
//! back in place: the error under the form, focused, with what was typed
//! kept; or, done, the page the server names.

use crate::{
    address::query_value,
    auth::{AppError, FormLimits},
};
use leptos::{
    prelude::*,
    server_fn::{error::ServerFnUrlError, ServerFn},
};

/// The form posting `fields` to the server function `S`, with its error.
/// Called on the server only (a page, or an island's children): the error a
/// plain post was sent back with is read from the address here, and reaches
/// the island as a prop.
pub fn post_form<S>(fields: impl IntoView + 'static) -> impl IntoView
where
    S: ServerFn<Error = AppError>,
{
    let failed = query_value("__err")
        .filter(|_| query_value("__path").as_deref() == Some(S::PATH))
        .map(|error| ServerFnUrlError::<AppError>::decode_err(&error));
    view! { <PostForm action=S::PATH.to_string() failed>{fields}</PostForm> }
}

/// A form posted to `action` (a server function's path) and its error:
/// `failed`, the one a plain post came back with, then the script's.
#[island]
fn PostForm(action: String, failed: Option<AppError>, children: Children) -> impl IntoView {
    let failed = RwSignal::new(failed);
    let busy = RwSignal::new(false);
    let submit = {
        let action = action.clone();
        move |event: leptos::ev::SubmitEvent| {
            #[cfg(feature = "hydrate")]
            {
                event.prevent_default();
                if busy.get_untracked() {
                    return;
                }
                let Some(form) = event.target().and_then(|target| {
                    wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlFormElement>(target).ok()
                }) else {
                    return;
                };
                busy.set(true);
                let action = action.clone();
                leptos::task::spawn_local(async move {
                    match browser::send(&action, &form).await {
                        Ok(next) => crate::address::go_to(&next),
                        Err(error) => {
                            failed.set(Some(error));
                            busy.set(false);
                        }
                    }
                });
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (event, &action, busy, failed);
        }
    };
    view! {
        <form method="post" action=action on:submit=submit>{children()}</form>
        {error_message(move || failed.get())}
    }
}

/// The label of a field for a new password: `what`, and the shortest the
/// server takes ("Password (at least 8 characters)").
pub fn new_password_label(what: &str, limits: FormLimits) -> String {
    format!("{what} (at least {} characters)", limits.password_min_chars)
}

/// "Keep me signed in", as every form that signs in asks it (`remember`).
pub fn keep_me_signed_in() -> impl IntoView {
    view! {
        <label class="remember">
            <input type="checkbox" name="remember" value="on"/>
            "Keep me signed in"
        </label>
    }
}

/// The message of a failed action, shown under its form. It is announced
/// (`role="alert"`) and takes the keyboard focus when it appears (`autofocus`
/// on a page load, a focus call after a script's submit), so the reader
/// hears it and goes on from the form.
pub fn error_message(
    failed: impl Fn() -> Option<AppError> + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        failed().map(|error| {
            let node = NodeRef::<leptos::html::P>::new();
            #[cfg(feature = "hydrate")]
            Effect::new(move |_| {
                if let Some(message) = node.get() {
                    let _ = message.focus();
                }
            });
            view! {
                <p class="error" role="alert" tabindex="-1" autofocus node_ref=node>
                    {error.to_string()}
                </p>
            }
        })
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use crate::auth::AppError;
    use leptos::{
        prelude::*,
        server_fn::{error::FromServerFnError, redirect::REDIRECT_HEADER, Bytes, Decodes},
    };
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{FormData, HtmlFormElement, RequestInit, Response, UrlSearchParams};

    /// Posts `form` to `action` as the browser would, but asking for the
    /// server function's answer: the page to go on to (its `Location`), or
    /// the error. No answer at all (offline) is an error too.
    pub async fn send(action: &str, form: &HtmlFormElement) -> Result<String, AppError> {
        let response = post(action, form).await.map_err(|_| AppError::Internal)?;
        let headers = response.headers();
        if headers.has(REDIRECT_HEADER).unwrap_or(false) {
            if let Ok(Some(next)) = headers.get("location") {
                return Ok(next);
            }
        }
        if response.ok() {
            // Done, and the server names no page: this one, afresh.
            return Ok(window().location().href().unwrap_or_default());
        }
        let body = match response.text() {
            Ok(text) => JsFuture::from(text)
                .await
                .ok()
                .and_then(|text| text.as_string()),
            Err(_) => None,
        };
        // An answer that is not an error of ours (a proxy's page, say):
        // something went wrong, nothing more is known.
        Err(
            <AppError as FromServerFnError>::Encoder::decode(Bytes::from(body.unwrap_or_default()))
                .unwrap_or(AppError::Internal),
        )
    }

    async fn post(action: &str, form: &HtmlFormElement) -> Result<Response, JsValue> {
        let fields = UrlSearchParams::new_with_str_sequence_sequence(
            &FormData::new_with_form(form)?.into(),
        )?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&fields);
        let headers = web_sys::Headers::new()?;
        headers.set("accept", "application/json")?;
        init.set_headers(&headers);
        let response = JsFuture::from(window().fetch_with_str_and_init(action, &init)).await?;
        response.dyn_into()
    }
}
