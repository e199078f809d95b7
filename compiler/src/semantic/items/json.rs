//! Literals as the JSON the runtime would receive for a ticket field or a
//! signal: what `set` actions and `test` blocks hold.

use crate::diagnostic::{Code, Diagnostic};
use crate::semantic::schema::describe;
use crate::semantic::{hir, Checker};
use crate::syntax::ast::{self, LiteralKind};

impl Checker<'_> {
    /// A literal for a ticket field, as the JSON the runtime would receive.
    pub(super) fn field_value_json(&mut self, path: &ast::Path, value: &ast::Literal) -> Option<serde_json::Value> {
        let Some(field) = self.policy.field_by_path(&path.dotted()) else {
            self.unknown_path(path);
            return None;
        };
        if let Some((whole, part)) = self.policy.field(field).url_part {
            let whole = self.policy.field(whole).path.clone();
            self.error(
                Diagnostic::error(Code::TypeMismatch, format!("`{}` is read from `{whole}`", path.dotted()))
                    .primary(path.span, format!("the {} of the URL in `{whole}`", part.name()))
                    .help(format!(
                        "give `{whole}` a URL instead, e.g. `{whole}: \"https://app.example.com/settings?tab=1\"`"
                    )),
            );
            return None;
        }
        let ty = self.policy.field(field).ty.clone();
        self.literal_json(&ty, value, path)
    }

    pub(super) fn literal_json(
        &mut self,
        ty: &hir::Ty,
        value: &ast::Literal,
        path: &ast::Path,
    ) -> Option<serde_json::Value> {
        use serde_json::Value;
        match (ty, &value.kind) {
            (hir::Ty::Text | hir::Ty::String | hir::Ty::Url, LiteralKind::Str(s)) => Some(Value::String(s.clone())),
            (hir::Ty::Duration, LiteralKind::Duration(d)) => {
                self.literal_const(ty, value, path)?;
                Some(Value::String(d.clone()))
            }
            (hir::Ty::Time, LiteralKind::Str(s)) => {
                self.literal_const(ty, value, path)?;
                Some(Value::String(s.clone()))
            }
            (hir::Ty::Enum(e), _) => {
                let v = self.literal_const(ty, value, path)?;
                Some(Value::String(self.policy.enum_def(*e).values[v as usize].name.clone()))
            }
            (hir::Ty::Bool, _) => Some(Value::Bool(self.literal_const(ty, value, path)? == 1.0)),
            (hir::Ty::Int, _) => Some(Value::from(self.literal_const(ty, value, path)? as i64)),
            (hir::Ty::Number, _) => {
                serde_json::Number::from_f64(self.literal_const(ty, value, path)?).map(Value::Number)
            }
            (hir::Ty::List(inner), LiteralKind::List(items)) => {
                let items: Vec<Value> = items.iter().filter_map(|i| self.literal_json(inner, i, path)).collect();
                Some(Value::Array(items))
            }
            _ => {
                let shown = describe(&self.policy, ty);
                self.error(
                    Diagnostic::error(Code::TypeMismatch, format!("`{}` is {shown}", path.dotted()))
                        .primary(value.span, "a value of another type")
                        .help(format!("give {shown}")),
                );
                None
            }
        }
    }
}
