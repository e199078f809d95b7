//! Rename: a destination, schedule, keyword set, regex, SLA, rule or
//! escalation, with every reference to it. Ticket fields, enum values,
//! intents and priorities are refused: their names are part of the tickets
//! and decisions other systems exchange with the policy.

use super::index::{DefKey, DefKind};
use super::{Snapshot, TextEdit};
use crate::source::{FileId, Span};
use std::fmt;

/// Why a rename cannot be done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenameError {
    /// No declared name at the position.
    NoName,
    /// The name is not one rename changes; the text says why.
    NotRenamable(String),
    /// The new name is not an identifier.
    InvalidName(String),
    /// Another declaration already has the new name.
    Conflict(String),
}

impl fmt::Display for RenameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenameError::NoName => f.write_str("there is no name to rename here"),
            RenameError::NotRenamable(why) | RenameError::InvalidName(why) | RenameError::Conflict(why) => {
                f.write_str(why)
            }
        }
    }
}

impl std::error::Error for RenameError {}

fn renamable(kind: DefKind) -> Result<(), RenameError> {
    let why = match kind {
        DefKind::Destination
        | DefKind::Schedule
        | DefKind::KeywordSet
        | DefKind::Regex
        | DefKind::Sla
        | DefKind::Rule
        | DefKind::Escalation => return Ok(()),
        DefKind::Field | DefKind::Record => "ticket fields are named by the tickets the helpdesk sends",
        DefKind::EnumValue => "enum values are the values tickets carry",
        DefKind::Intent | DefKind::Classifier => "intent labels are the labels the classifier model predicts",
        DefKind::Priority => "priority names appear in every decision",
        DefKind::Test => "rename a test by editing its string",
    };
    Err(RenameError::NotRenamable(format!("cannot rename this {}: {why}", kind.word())))
}

pub(super) fn prepare(snap: &Snapshot, file: FileId, offset: usize) -> Result<Span, RenameError> {
    let (def, span) = snap.index().at(file, offset).ok_or(RenameError::NoName)?;
    renamable(snap.index().defs[def].kind)?;
    Ok(span)
}

fn check_name(new_name: &str) -> Result<(), RenameError> {
    let mut chars = new_name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && new_name != "_";
    if !valid {
        return Err(RenameError::InvalidName(format!(
            "`{new_name}` is not a name: use letters, digits and `_`, starting with a letter"
        )));
    }
    if crate::syntax::RESERVED_WORDS.contains(&new_name) {
        return Err(RenameError::InvalidName(format!("`{new_name}` is a reserved word")));
    }
    Ok(())
}

pub(super) fn rename(snap: &Snapshot, key: &DefKey, new_name: &str) -> Result<Vec<TextEdit>, RenameError> {
    check_name(new_name)?;
    renamable(key.kind)?;
    let def = snap.index().find_key(key, |f| snap.file_name(f).to_string()).ok_or(RenameError::NoName)?;
    if let Some(other) = snap.index().lookup(key.kind, key.owner.as_deref(), new_name) {
        if other != def {
            let kind = snap.index().defs[other].kind.word();
            return Err(RenameError::Conflict(format!("a {kind} named `{new_name}` already exists")));
        }
    }
    let spans = std::iter::once(snap.index().defs[def].name_span).chain(snap.index().refs_of(def));
    Ok(spans.map(|span| TextEdit { span, new_text: new_name.to_string() }).collect())
}
