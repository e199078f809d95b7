//! The model file format (version 1).
//!
//! Owns the byte layout and its validation. Layout, all integers little-endian:
//!
//! ```text
//! magic      8 bytes  "RTCMODEL"
//! version    u32      1
//! header_len u32      length of the JSON header
//! header     JSON     serde `ModelInfo` (labels, features, training, metrics, temperature, n_rows)
//! payload    n_rows x (bucket u32, idf f32, n_labels x weight f32), then n_labels x intercept f32
//! checksum   u64      FNV-1a 64 of every byte before it
//! ```
//!
//! The header is JSON so it stays readable (`head -c 4000 model | tail -c +17`)
//! and can grow optional fields without a version bump; the weights are raw
//! floats because JSON would make files ~4x larger and slower to load.

use crate::error::ModelError;
use crate::hash::fnv1a;
use crate::model::{Model, ModelInfo};

/// The file magic.
pub const MAGIC: &[u8; 8] = b"RTCMODEL";
/// The only format version this build reads and writes.
pub const VERSION: u32 = 1;

/// Serialises a model.
pub(crate) fn encode(model: &Model) -> Vec<u8> {
    // Serialising plain data structs to JSON cannot fail.
    let header = serde_json::to_vec(&model.info).unwrap_or_default();
    let n_labels = model.info.labels.len();
    let mut out = Vec::with_capacity(16 + header.len() + model.weights.len() * 4 + model.buckets.len() * 8 + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    for (row, (&bucket, &idf)) in model.buckets.iter().zip(&model.idf).enumerate() {
        out.extend_from_slice(&bucket.to_le_bytes());
        out.extend_from_slice(&idf.to_le_bytes());
        for weight in &model.weights[row * n_labels..(row + 1) * n_labels] {
            out.extend_from_slice(&weight.to_le_bytes());
        }
    }
    for bias in &model.intercept {
        out.extend_from_slice(&bias.to_le_bytes());
    }
    let checksum = fnv1a(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// Little-endian reader over a byte slice that reports truncation.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self.pos.checked_add(n).filter(|&end| end <= self.bytes.len());
        let Some(end) = end else {
            return Err(ModelError::Corrupt("file is truncated".into()));
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array4(&mut self) -> Result<[u8; 4], ModelError> {
        let slice = self.take(4)?;
        Ok([slice[0], slice[1], slice[2], slice[3]])
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.array4()?))
    }

    fn f32(&mut self) -> Result<f32, ModelError> {
        let value = f32::from_le_bytes(self.array4()?);
        if value.is_finite() {
            Ok(value)
        } else {
            Err(ModelError::Corrupt("a weight is not a finite number".into()))
        }
    }
}

/// Parses and validates a model file.
pub(crate) fn decode(bytes: &[u8]) -> Result<Model, ModelError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(ModelError::NotAModel);
    }
    let mut reader = Reader { bytes, pos: MAGIC.len() };
    let version = reader.u32()?;
    if version != VERSION {
        return Err(ModelError::UnknownVersion { found: version, supported: VERSION });
    }
    if bytes.len() < MAGIC.len() + 16 {
        return Err(ModelError::Corrupt("file is truncated".into()));
    }
    let (body, tail) = bytes.split_at(bytes.len() - 8);
    let mut stored = [0u8; 8];
    stored.copy_from_slice(tail);
    if u64::from_le_bytes(stored) != fnv1a(body) {
        return Err(ModelError::Corrupt("checksum mismatch (the file was truncated or modified)".into()));
    }
    let mut reader = Reader { bytes: body, pos: reader.pos };
    let header_len = reader.u32()? as usize;
    let header = reader.take(header_len)?;
    let info: ModelInfo =
        serde_json::from_slice(header).map_err(|err| ModelError::Corrupt(format!("header is not valid: {err}")))?;
    let n_labels = info.labels.len();
    let expected = info.n_rows.checked_mul(8 + 4 * n_labels).and_then(|n| n.checked_add(4 * n_labels));
    if expected != Some(body.len() - reader.pos) {
        return Err(ModelError::Corrupt("weight table size does not match the header's label and row counts".into()));
    }
    let mut buckets = Vec::with_capacity(info.n_rows);
    let mut idf = Vec::with_capacity(info.n_rows);
    let mut weights = Vec::with_capacity(info.n_rows * n_labels);
    for _ in 0..info.n_rows {
        buckets.push(reader.u32()?);
        idf.push(reader.f32()?);
        for _ in 0..n_labels {
            weights.push(reader.f32()?);
        }
    }
    let mut intercept = Vec::with_capacity(n_labels);
    for _ in 0..n_labels {
        intercept.push(reader.f32()?);
    }
    Model::from_parts(info, buckets, idf, weights, intercept)
}
