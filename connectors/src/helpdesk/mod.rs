//! Helpdesks as sources and write-back targets: one module per vendor
//! (webhook verification, ticket fetch, field mapping, write-back, outcome
//! capture, open-ticket counts).
