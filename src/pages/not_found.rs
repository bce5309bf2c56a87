use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    // Answer 404, not 200, for unknown pages rendered on the server.
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <h1>"Page not found"</h1>
        <p><a href="/">"Back to the start"</a></p>
    }
}
