//! Request handlers: decode the parameters, ask the compiler's `ide`
//! queries through a [`View`](crate::world::View), encode the answer. One
//! module per group of features; none of them re-implements a pass.

mod edit;
mod info;
mod navigation;
mod outline;

use crate::world::World;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A JSON-RPC error to answer with.
#[derive(Debug)]
pub(crate) struct LspError {
    pub code: i32,
    pub message: String,
}

pub(crate) const INVALID_PARAMS: i32 = -32602;
pub(crate) const METHOD_NOT_FOUND: i32 = -32601;
pub(crate) const INTERNAL_ERROR: i32 = -32603;
/// The request is valid but cannot be served (LSP `RequestFailed`).
pub(crate) const REQUEST_FAILED: i32 = -32803;

impl LspError {
    pub(crate) fn invalid_params(message: impl Into<String>) -> LspError {
        LspError { code: INVALID_PARAMS, message: message.into() }
    }
    pub(crate) fn failed(message: impl Into<String>) -> LspError {
        LspError { code: REQUEST_FAILED, message: message.into() }
    }
}

impl From<String> for LspError {
    /// Errors about the request's document or position.
    fn from(message: String) -> LspError {
        LspError::invalid_params(message)
    }
}

pub(crate) type Answer = Result<Value, LspError>;

fn params<P: DeserializeOwned>(value: Value) -> Result<P, LspError> {
    serde_json::from_value(value).map_err(|e| LspError::invalid_params(format!("invalid parameters: {e}")))
}

fn json(value: impl serde::Serialize) -> Answer {
    serde_json::to_value(value).map_err(|e| LspError { code: INTERNAL_ERROR, message: e.to_string() })
}

/// Answer one request (the world is up to date).
pub(crate) fn request(world: &mut World, method: &str, value: Value) -> Answer {
    match method {
        "textDocument/hover" => info::hover(world, params(value)?),
        "textDocument/completion" => info::completion(world, params(value)?),
        "textDocument/definition" => navigation::definition(world, params(value)?),
        "textDocument/references" => navigation::references(world, params(value)?),
        "textDocument/prepareRename" => navigation::prepare_rename(world, params(value)?),
        "textDocument/rename" => navigation::rename(world, params(value)?),
        "textDocument/documentSymbol" => outline::document_symbols(world, params(value)?),
        "workspace/symbol" => outline::workspace_symbols(world, params(value)?),
        "textDocument/foldingRange" => outline::folding_ranges(world, params(value)?),
        "textDocument/semanticTokens/full" => outline::semantic_tokens(world, params(value)?),
        "textDocument/formatting" => edit::formatting(world, params(value)?),
        "textDocument/codeAction" => edit::code_actions(world, params(value)?),
        _ => Err(LspError { code: METHOD_NOT_FOUND, message: format!("unknown method `{method}`") }),
    }
}
