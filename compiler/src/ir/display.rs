//! A stable text form of the IR, for golden tests and `routec check --emit ir`.

use super::*;
use std::fmt;

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Slot(s) => write!(f, "s{s}"),
            Val::Const(c) => write!(f, "{c}"),
            Val::Priority => write!(f, "priority"),
        }
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cond::Const(b) => write!(f, "{b}"),
            Cond::And(parts) | Cond::Or(parts) => {
                let word = if matches!(self, Cond::And(_)) { "and" } else { "or" };
                write!(f, "({word}")?;
                for p in parts {
                    write!(f, " {p}")?;
                }
                write!(f, ")")
            }
            Cond::Not(inner) => write!(f, "(not {inner})"),
            Cond::Cmp { lhs, op, rhs } => write!(f, "({} {lhs} {rhs})", op.symbol()),
        }
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "slots:")?;
        for (i, s) in self.slots.iter().enumerate() {
            writeln!(f, "  s{i} = {s:?}")?;
        }
        writeln!(f, "priority (default {}):", self.default_priority)?;
        for p in &self.priority_rules {
            writeln!(f, "  {} <- {}", p.level, p.cond)?;
        }
        writeln!(f, "branches:")?;
        for (i, b) in self.branches.iter().enumerate() {
            let shadow = if b.shadow { " shadow" } else { "" };
            writeln!(f, "  b{i} {:?}#{:x}{shadow}: {}", b.stage, b.source, b.cond)?;
        }
        Ok(())
    }
}
