//! Test support: where the test vectors live.

use std::path::PathBuf;

/// Read a file of the repository's `tests/vectors/` (see its README for provenance).
pub fn vector(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/vectors")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}
