use crate::app::use_auth;
use leptos::prelude::*;
use leptos_router::components::A;

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
                            <A href="/dashboard">"Go to your dashboard"</A>
                        </p>
                    }
                        .into_any(),
                    None => view! {
                        <p>
                            <A href="/login">"Sign in"</A> " or "
                            <A href="/register">"create an account"</A>
                        </p>
                    }
                        .into_any(),
                }
            })}
        </Suspense>
    }
}
