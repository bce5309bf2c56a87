//! The HTTP layers, one file each, in the order a request meets them:
//!
//! 1. `forwarded`: the client behind trusted proxies;
//! 2. `headers`: security headers and the page's Content-Security-Policy;
//! 3. `body_limit`: 413 for a body too large, 408 for one too slow;
//! 4. `same_origin`: 403 for a state change from another origin;
//! 5. `no_store`: no caching of anything that can carry user data;
//! 6. `session_layer`: the session cookie and its record;
//! 7. `signed_in`: who is signed in, and the protected pages;
//! 8. `mail_links`: a followed mail link's token moved into the session.
//!
//! Then the route (a page, a server function, `GET /api/me`), whose error
//! answer gets its status from `server::errors`. `server::startup` stacks
//! them.

pub mod body_limit;
pub mod forwarded;
pub mod headers;
pub mod mail_links;
pub mod no_store;
pub mod rotation;
pub mod same_origin;
pub mod session_layer;
pub mod signed_in;
