//! stub
use super::flow::Flow;
use crate::diagnostic::Diagnostics;
use crate::hir::Policy;
pub(crate) fn check(_policy: &Policy, _flow: &mut Flow, _diagnostics: &mut Diagnostics) {}
