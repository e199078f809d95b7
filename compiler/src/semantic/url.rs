//! `url` fields in conditions: `page starts_with "/settings/billing"` tests
//! the URL's path segment by segment, whatever the scheme and host in
//! front of it. The parts themselves (`page.host`, `page.path`,
//! `page.query`) are fields the schema adds beside each `url` field
//! (`schema`), filled by the runtime from the field's value.

use super::hir::{ExprKind, StringTest, Ty, UrlPart};
use super::Checker;
use crate::syntax::ast::{self, StringOp};

impl Checker<'_> {
    /// `URL_FIELD starts_with "/…"` as a path-prefix test on the field's
    /// path; `None` for every other string test, which reads the whole text.
    pub(super) fn url_path_prefix(
        &mut self,
        lhs: &ast::Operand,
        op: StringOp,
        value: &ast::StrLit,
    ) -> Option<ExprKind> {
        let ast::Operand::Path(path) = lhs else { return None };
        if op != StringOp::StartsWith || !value.value.starts_with('/') {
            return None;
        }
        let field = self.policy.field_by_path(&path.dotted())?;
        if self.policy.field(field).ty != Ty::Url {
            return None;
        }
        let path_part = self.policy.fields.iter().position(|f| f.url_part == Some((field, UrlPart::Path)))?;
        Some(ExprKind::StringTest {
            field: super::hir::FieldId(path_part as u32),
            test: StringTest::PathPrefix,
            value: value.value.clone(),
        })
    }
}
