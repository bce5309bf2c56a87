//! What every handler may read: Leptos's options and the authentication
//! service.

use crate::auth::ssr::AuthService;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// One shared value: axum clones the state for every handler and layer a
/// request passes, many times a page.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of [`AppState`].
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub auth: AuthService,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, auth: AuthService) -> Self {
        Self(Arc::new(Shared {
            leptos_options,
            auth,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
