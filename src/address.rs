//! The page's address as both halves read it, and leaving for another page.
//!
//! Islands hydrate without the router, so what a page reads of its address
//! (its query) is read here: on the server from the router's URL, in the
//! browser from `location`. Both read the same address, so an island renders
//! alike in both and hydrates without a mismatch. Moving on is a page load:
//! the server renders the next page from the session.

use leptos::prelude::*;

/// The query parameter `name` of the page's address, decoded.
pub fn query_value(name: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let search = window().location().search().ok()?;
        web_sys::UrlSearchParams::new_with_str(&search)
            .ok()?
            .get(name)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        leptos_router::hooks::use_query_map()
            .read_untracked()
            .get(name)
    }
}

/// Loads `path` (a path on this site) in place of the page. Only the browser
/// moves; on the server this does nothing.
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Loads the page again, rendered afresh from the session.
pub fn reload() {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().reload();
    }
}
