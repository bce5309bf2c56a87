//! The client behind trusted reverse proxies (`X-Forwarded-For`).

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The reverse proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Arc<[IpAddr]>);

impl TrustedProxies {
    /// The client behind `peer`: `peer` itself unless it is a trusted proxy;
    /// then, reading `X-Forwarded-For` from the right (the nearest hop
    /// first), the first address that is not a trusted proxy. Addresses left
    /// of it were written by the client and prove nothing.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.0.contains(&peer) {
            return peer;
        }
        let mut client = peer;
        let hops = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(address) => {
                    client = address;
                    if !self.0.contains(&address) {
                        break;
                    }
                }
                // Garbage from the client side: stop at the last good hop.
                Err(_) => break,
            }
        }
        client
    }
}

/// Makes the request's client address (`ConnectInfo`, which throttling, the
/// session list and the audit log read) the one behind trusted proxies.
pub async fn forwarded_client(
    State(proxies): State<TrustedProxies>,
    mut request: Request,
    next: Next,
) -> Response {
    if !proxies.0.is_empty() {
        if let Some(ConnectInfo(peer)) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
        {
            let client = proxies.client(peer.ip(), request.headers());
            if client != peer.ip() {
                request
                    .extensions_mut()
                    .insert(ConnectInfo(SocketAddr::new(client, 0)));
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn only_a_trusted_proxy_names_the_client_and_only_its_own_hop_counts() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let proxies = TrustedProxies(vec![proxy].into());
        let forwarded = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(X_FORWARDED_FOR, HeaderValue::from_str(value).unwrap());
            headers
        };
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        // The proxy appends the address it saw; what the client wrote before
        // it (a spoofed hop) is not believed.
        assert_eq!(
            proxies.client(proxy, &forwarded("198.51.100.1, 203.0.113.7")),
            ip("203.0.113.7")
        );
        // Not from a trusted proxy: the header is the client's own words.
        assert_eq!(
            proxies.client(ip("203.0.113.9"), &forwarded("198.51.100.1")),
            ip("203.0.113.9")
        );
        // Two trusted hops in a row are both skipped.
        assert_eq!(
            proxies.client(proxy, &forwarded("203.0.113.7, 10.0.0.5")),
            ip("203.0.113.7")
        );
        // No header, or garbage: the proxy itself.
        assert_eq!(proxies.client(proxy, &HeaderMap::new()), proxy);
        assert_eq!(proxies.client(proxy, &forwarded("not-an-address")), proxy);
        // None trusted: never read.
        assert_eq!(
            TrustedProxies::default().client(proxy, &forwarded("203.0.113.7")),
            proxy
        );
    }
}
