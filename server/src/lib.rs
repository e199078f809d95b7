//! # routec-server
//!
//! `routec serve`: the HTTP API a helpdesk calls for every ticket. Requests
//! go through auth, limits and timeouts (tower layers), one route-and-record
//! function decides with the loaded policy and commits the decision to the
//! store before answering; hot reload swaps the policy whole.
