//! The pest parser generated from `grammar/route.pest` (the one grammar).

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/route.pest"]
pub struct RouteParser;
