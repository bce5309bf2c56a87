//! See Cargo.toml: one of the two apps, chosen by feature.
#![forbid(unsafe_code)]

use leptos::prelude::*;

#[server(prefix = "/api", endpoint = "me")]
pub async fn who() -> Result<Option<String>, ServerFnError> {
    Ok(None)
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(username: String, password: String) -> Result<(), ServerFnError> {
    let _ = (username, password);
    Ok(())
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    Ok(())
}

#[cfg(feature = "hydrated")]
mod app {
    use super::*;
    use leptos_router::{
        components::{Route, Router, Routes},
        path,
    };

    #[component]
    fn Page() -> impl IntoView {
        let login = ServerAction::<Login>::new();
        let user = Resource::new(move || login.version().get(), |_| who());
        view! {
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    view! { <p>{user.await.ok().flatten().unwrap_or_default()}</p> }
                })}
            </Transition>
            <ActionForm action=login>
                <input type="text" name="username"/>
                <input type="password" name="password"/>
                <button type="submit">"Sign in"</button>
            </ActionForm>
        }
    }

    #[component]
    pub fn App() -> impl IntoView {
        view! {
            <Router>
                <Routes fallback=|| ()>
                    <Route path=path!("/") view=Page/>
                </Routes>
            </Router>
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    pub fn hydrate() {
        leptos::mount::hydrate_body(App);
    }
}

#[cfg(feature = "islands")]
mod app {
    use super::*;

    #[island]
    pub fn SignIn() -> impl IntoView {
        let login = ServerAction::<Login>::new();
        view! {
            <ActionForm action=login>
                <input type="text" name="username"/>
                <input type="password" name="password"/>
                <button type="submit">"Sign in"</button>
            </ActionForm>
            {move || login.value().get().and_then(Result::err).map(|error| view! { <p>{error.to_string()}</p> })}
        }
    }

    #[island]
    pub fn SignOut() -> impl IntoView {
        let logout = ServerAction::<Logout>::new();
        view! {
            <ActionForm action=logout>
                <button type="submit">"Sign out"</button>
            </ActionForm>
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    pub fn hydrate() {
        leptos::mount::hydrate_islands();
    }
}
