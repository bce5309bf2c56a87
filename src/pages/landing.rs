use crate::app::use_auth;
use leptos::prelude::*;

#[component]
pub fn LandingPage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <h1>"Persistent login"</h1>
        <p>"Sign in once and stay signed in, even after the browser closes."</p>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.viewer().await {
                    Some(user) => view! {
                        <p>"Signed in as " <strong>{user.username}</strong> ". "
                            <a href="/dashboard">"Go to your dashboard"</a>
                        </p>
                    }
                        .into_any(),
                    None => view! {
                        <p>
                            <a href="/login">"Sign in"</a> " or "
                            <a href="/register">"create an account"</a>
                        </p>
                    }
                        .into_any(),
                }
            })}
        </Suspense>
    }
}
