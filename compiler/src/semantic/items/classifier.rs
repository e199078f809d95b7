//! The classifier: its labels, feature fields, thresholds, and the labels of
//! the model file it names.

use crate::diagnostic::{Code, Diagnostic};
use crate::semantic::{duplicate, hir, Checker};
use crate::source::Span;
use crate::syntax::ast;

impl Checker<'_> {
    pub(in crate::semantic) fn classifier(&mut self, items: &[(&ast::Policy, &ast::Item)]) {
        let mut first: Option<Span> = None;
        for (file, item) in items {
            let ast::ItemKind::Classifier(c) = &item.kind else { continue };
            if let Some(first) = first {
                self.error(duplicate("classifier", &c.name.name, c.name.span, first));
                continue;
            }
            first = Some(c.name.span);
            let mut labels: Vec<ast::Ident> = Vec::new();
            let mut features = Vec::new();
            for e in &c.entries {
                match e {
                    ast::ClassifierEntry::Labels(ls) => labels.extend(ls.iter().cloned()),
                    ast::ClassifierEntry::Features(fs) => {
                        for f in fs {
                            let dotted = f.dotted();
                            let known = self.policy.field_by_path(&dotted).is_some()
                                || self.policy.fields.iter().any(|x| x.path.starts_with(&format!("{dotted}.")));
                            if known {
                                features.push(dotted);
                            } else {
                                let names: Vec<&str> = self.policy.fields.iter().map(|x| x.path.as_str()).collect();
                                let d =
                                    Diagnostic::error(Code::UnknownField, format!("unknown feature field `{dotted}`"))
                                        .primary(f.span, "not in the ticket schema")
                                        .did_you_mean("field", &dotted, &names);
                                self.error(d);
                            }
                        }
                    }
                    ast::ClassifierEntry::Threshold { .. } => {}
                }
            }
            if labels.is_empty() {
                self.error(
                    Diagnostic::error(Code::MissingItem, "the classifier declares no labels")
                        .primary(c.name.span, "which intents does it predict?")
                        .help("add `labels billing, technical, …`"),
                );
            }
            let labels_enum = match self.enum_type(&c.name.name, &labels) {
                hir::Ty::Enum(e) => e,
                _ => continue,
            };
            let n_labels = self.policy.enum_def(labels_enum).values.len();
            let mut default_threshold = None;
            let mut thresholds: Vec<Option<f64>> = vec![None; n_labels];
            for e in &c.entries {
                let ast::ClassifierEntry::Threshold { label, value } = e else { continue };
                let Some(v) = self.threshold_value(value) else { continue };
                match label {
                    None => default_threshold = Some(v),
                    Some(l) => match self.policy.enum_def(labels_enum).position(&l.name) {
                        Some(i) => thresholds[i as usize] = Some(v),
                        None => {
                            let names: Vec<String> =
                                self.policy.enum_def(labels_enum).values.iter().map(|v| v.name.clone()).collect();
                            let names: Vec<&str> = names.iter().map(String::as_str).collect();
                            let d = Diagnostic::error(
                                Code::UnknownName,
                                format!("threshold for unknown label `{}`", l.name),
                            )
                            .primary(l.span, "not one of the classifier's labels")
                            .did_you_mean("label", &l.name, &names);
                            self.error(d);
                        }
                    },
                }
            }
            let default_threshold = default_threshold.unwrap_or(0.5);
            self.policy.classifier = Some(hir::Classifier {
                name: c.name.name.clone(),
                model: c.model.value.clone(),
                labels: labels_enum,
                features,
                default_threshold,
                thresholds: thresholds.into_iter().map(|t| t.unwrap_or(default_threshold)).collect(),
                span: c.name.span,
                model_span: c.model.span,
            });
            let importer = self.db.file(file.file).name.clone();
            if let Some(result) = self.loader.model_labels(&importer, &c.model.value) {
                self.model_labels(result, labels_enum, c);
            } else if self.loader.model_missing(&importer, &c.model.value) {
                self.diags.push(
                    Diagnostic::warning(Code::MissingModel, format!("the model file `{}` does not exist", c.model.value))
                        .primary(c.model.span, "no file here (the path is relative to this file)")
                        .help("train it with `routec train`; until then tickets without their own `signals` are not classified, and `routec route` refuses the policy unless given `--signals-in-tickets`"),
                );
            }
        }
    }

    fn model_labels(&mut self, result: Result<Vec<String>, String>, labels_enum: hir::EnumId, c: &ast::ClassifierDecl) {
        match result {
            Err(reason) => self.error(
                Diagnostic::error(Code::ClassifierLabels, format!("cannot read the model `{}`", c.model.value))
                    .primary(c.model.span, reason)
                    .help("train one with `routec train`, or fix the path (relative to this file)"),
            ),
            Ok(model_labels) => {
                let declared: Vec<(String, Span)> =
                    self.policy.enum_def(labels_enum).values.iter().map(|v| (v.name.clone(), v.span)).collect();
                let missing: Vec<&String> =
                    model_labels.iter().filter(|m| !declared.iter().any(|(d, _)| d == *m)).collect();
                for (name, span) in &declared {
                    if !model_labels.contains(name) {
                        self.error(
                            Diagnostic::error(Code::ClassifierLabels, format!("the model never predicts `{name}`"))
                                .primary(*span, "declared here but not a label of the model")
                                .secondary(c.model.span, "model file")
                                .help(format!("the model's labels are: {}", model_labels.join(", "))),
                        );
                    }
                }
                if !missing.is_empty() {
                    let list = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
                    self.error(
                        Diagnostic::error(
                            Code::ClassifierLabels,
                            format!("the model predicts labels the policy does not declare: {list}"),
                        )
                        .primary(c.name.span, "missing labels")
                        .secondary(c.model.span, "model file")
                        .help("add them to `labels`, or retrain the model without them"),
                    );
                }
            }
        }
    }

    fn threshold_value(&mut self, value: &ast::Number) -> Option<f64> {
        match value.text.parse::<f64>() {
            Ok(v) if (0.0..=1.0).contains(&v) => Some(v),
            _ => {
                let hint = match value.text.parse::<f64>() {
                    Ok(v) if v > 1.0 && v <= 100.0 => format!("write it as a fraction: `{}`", v / 100.0),
                    _ => "a threshold is a probability between 0 and 1, e.g. `0.7`".to_string(),
                };
                self.error(
                    Diagnostic::error(Code::BadThreshold, format!("threshold `{}` is outside 0..1", value.text))
                        .primary(value.span, "not a probability")
                        .help(hint),
                );
                None
            }
        }
    }
}
