//! Checking of declarations other than the schema, one module per kind:
//! schedules, destinations, keyword sets, the classifier, the priority
//! block, SLAs, routing items (escalations, rules, matrices, `otherwise`)
//! and tests. `json` turns literals into the JSON the runtime receives, for
//! `set` actions and `test` blocks.

mod classifier;
mod destination;
mod json;
mod keywords;
mod priority;
mod routing;
mod schedule;
mod sla;
mod test_block;
