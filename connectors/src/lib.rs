//! routec's connectors to the rest of a support stack: helpdesks as ticket
//! sources (webhook in, fetch, map into the policy's schema) and as sinks
//! (write-back), action sinks (Slack, e-mail, Jira, Linear) and CRM
//! enrichment. Every connector is an HTTP client of the vendor's documented
//! API; the service (`routec-server`) decides and records, this crate talks
//! to vendors.

pub mod delivery;
pub mod enrich;
pub mod helpdesk;
pub mod http;
pub mod secret;
pub mod sink;

pub use delivery::{BoxFuture, Delivery, DeliveryOutcome, Sink};
pub use secret::{Secret, SecretSource};
