//! Bearer-token auth as a layer: every `/v1` route belongs to a [`Scope`];
//! a request without a known token gets 401, one whose client may not use
//! the route 403. The presented token is compared in constant time against
//! every configured token (their SHA-256 digests, so lengths leak nothing),
//! and no token is ever logged.

use crate::config::{Client, Scope};
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The client a request was authenticated as (a request extension).
#[derive(Clone, Debug)]
pub struct ClientName(pub Arc<str>);

struct Known {
    name: Arc<str>,
    digest: [u8; 32],
    scopes: Vec<Scope>,
}

/// The configured clients, ready to check tokens against.
pub struct Clients {
    known: Vec<Known>,
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

impl Clients {
    pub fn new(clients: &[Client]) -> Clients {
        Clients {
            known: clients
                .iter()
                .map(|c| Known {
                    name: c.name.as_str().into(),
                    digest: digest(c.token.as_bytes()),
                    scopes: c.scopes.clone(),
                })
                .collect(),
        }
    }

    /// The client holding `token`. Every configured token is compared, so the
    /// time taken does not say which one (or whether any) matched.
    fn find(&self, token: &[u8]) -> Option<&Known> {
        let presented = digest(token);
        let mut found = None;
        for known in &self.known {
            if bool::from(known.digest.ct_eq(&presented)) {
                found = Some(known);
            }
        }
        found
    }

    /// Check a request's `Authorization` header for `scope`.
    pub fn check(&self, authorization: Option<&[u8]>, scope: Scope) -> Result<ClientName, ApiError> {
        let header = authorization
            .ok_or_else(|| ApiError::unauthorized("this route needs a bearer token: `Authorization: Bearer TOKEN`"))?;
        let token = header
            .strip_prefix(b"Bearer ")
            .or_else(|| header.strip_prefix(b"bearer "))
            .ok_or_else(|| ApiError::unauthorized("the `Authorization` header is not `Bearer TOKEN`"))?;
        let client = self.find(token.trim_ascii()).ok_or_else(|| ApiError::unauthorized("unknown token"))?;
        if !client.scopes.contains(&scope) {
            return Err(ApiError::forbidden(format!(
                "client `{}` may not use the `{}` routes",
                client.name,
                scope.name()
            ))
            .with("scope", scope.name()));
        }
        Ok(ClientName(client.name.clone()))
    }
}

/// What one layer instance checks: the clients and the scope of its routes.
#[derive(Clone)]
pub struct Guard {
    pub clients: Arc<Clients>,
    pub scope: Scope,
}

/// The middleware behind `axum::middleware::from_fn_with_state(Guard, require)`.
pub async fn require(State(guard): State<Guard>, mut request: Request, next: Next) -> Response {
    let header = request.headers().get(axum::http::header::AUTHORIZATION).map(|v| v.as_bytes());
    match guard.clients.check(header, guard.scope) {
        Ok(client) => {
            tracing::Span::current().record("client", &*client.0);
            request.extensions_mut().insert(client);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Clients {
        Clients::new(&[
            Client { name: "desk".into(), token: "desk-token".into(), scopes: vec![Scope::Route, Scope::Outcomes] },
            Client { name: "ops".into(), token: "ops-token".into(), scopes: vec![Scope::Admin] },
        ])
    }

    #[test]
    fn known_tokens_get_their_scopes_only() {
        let c = clients();
        assert_eq!(&*c.check(Some(b"Bearer desk-token"), Scope::Route).expect("allowed").0, "desk");
        assert_eq!(&*c.check(Some(b"Bearer ops-token"), Scope::Admin).expect("allowed").0, "ops");
        let e = c.check(Some(b"Bearer desk-token"), Scope::Admin).expect_err("not allowed");
        assert_eq!((e.status.as_u16(), e.code), (403, "forbidden"));
    }

    #[test]
    fn missing_malformed_and_unknown_tokens_are_401() {
        let c = clients();
        for header in [None, Some(&b"desk-token"[..]), Some(b"Basic ZGVzaw=="), Some(b"Bearer nope"), Some(b"Bearer ")]
        {
            let e = c.check(header, Scope::Route).expect_err("refused");
            assert_eq!((e.status.as_u16(), e.code), (401, "unauthorized"), "{header:?}");
            assert!(!e.message.contains("desk-token"));
        }
    }
}
