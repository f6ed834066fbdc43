//! Test support: where the shared vectors live.

use std::path::PathBuf;

/// Read a file of `../shared/vectors/`, relative to the repository root
/// (override with `MOBILITY_VECTORS_DIR`).
pub fn vector(name: &str) -> String {
    let dir = std::env::var_os("MOBILITY_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    let path = dir.join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
