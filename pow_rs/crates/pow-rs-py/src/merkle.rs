//! TIP-4 Merkle roots and inclusion proofs for Python.

use pow_core::merkle::{self, to_hash, to_hashes};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::Result;

/// TIP-4 inclusion Merkle root over 32-byte block IDs, in the given order.
#[pyfunction]
pub fn merkle_root<'py>(py: Python<'py>, ids: Vec<Vec<u8>>) -> Result<Bound<'py, PyBytes>> {
    Ok(PyBytes::new(py, &merkle::root(&to_hashes("block id", &ids)?)))
}

/// Audit path (sibling hashes, leaf to root) proving `ids[index]` under `merkle_root(ids)`.
#[pyfunction]
pub fn merkle_proof<'py>(
    py: Python<'py>,
    ids: Vec<Vec<u8>>,
    index: usize,
) -> Result<Vec<Bound<'py, PyBytes>>> {
    let path = merkle::proof(&to_hashes("block id", &ids)?, index)?;
    Ok(path.iter().map(|h| PyBytes::new(py, h)).collect())
}

/// Whether `proof` shows block `id` is leaf `index` of a `count`-leaf tree with `root`.
#[pyfunction]
pub fn merkle_verify(
    root: &[u8],
    id: &[u8],
    index: usize,
    count: usize,
    proof: Vec<Vec<u8>>,
) -> Result<bool> {
    Ok(merkle::verify(
        &to_hash("root", root)?,
        &to_hash("block id", id)?,
        index,
        count,
        &to_hashes("proof hash", &proof)?,
    )?)
}
