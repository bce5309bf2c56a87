//! The page's address as both halves read it, and leaving for another page.
//!
//! What a page reads of its address (its path, its query) is read here: on
//! the server from the request, in the browser from `location`. Both read
//! the same address, so an island renders alike in both and hydrates
//! without a mismatch. Moving on is a page load: the server renders the next
//! page from the session.

use leptos::prelude::*;

/// The path of the page's address ("/account").
pub fn path() -> String {
    #[cfg(feature = "hydrate")]
    {
        window().location().pathname().unwrap_or_default()
    }
    #[cfg(feature = "ssr")]
    {
        with_context::<axum::http::request::Parts, _>(|request| request.uri.path().to_string())
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "hydrate", feature = "ssr")))]
    {
        String::new()
    }
}

/// The query parameter `name` of the page's address, decoded.
pub fn query_value(name: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let search = window().location().search().ok()?;
        web_sys::UrlSearchParams::new_with_str(&search)
            .ok()?
            .get(name)
    }
    #[cfg(feature = "ssr")]
    {
        with_context::<axum::http::request::Parts, _>(|request| {
            let query = request.uri.query()?;
            form_urlencoded::parse(query.as_bytes())
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        })
        .flatten()
    }
    #[cfg(not(any(feature = "hydrate", feature = "ssr")))]
    {
        let _ = name;
        None
    }
}

/// Loads `path` (a path on this site) in place of the page: in the browser,
/// a page load; while the server renders a page, its answer becomes a
/// redirect there.
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href(path);
    }
    #[cfg(feature = "ssr")]
    leptos_axum::redirect(path);
    #[cfg(not(any(feature = "hydrate", feature = "ssr")))]
    let _ = path;
}

/// Loads the page again, rendered afresh from the session.
pub fn reload() {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().reload();
    }
}
