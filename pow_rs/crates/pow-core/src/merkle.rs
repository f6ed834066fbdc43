//! The TIP-4 inclusion Merkle tree over block IDs (RFC 6962 shape, BLAKE2b-256), and audit
//! paths that let a fleet check a settlement's inclusion in a milestone with nothing else.

use crate::blake2b::{hash_256, hash_256_parts};
use crate::error::{Error, Result};

pub type Hash = [u8; 32];

const LEAF_PREFIX: &[u8] = &[0x00];
const NODE_PREFIX: &[u8] = &[0x01];

fn leaf_hash(id: &Hash) -> Hash {
    hash_256_parts(&[LEAF_PREFIX, id])
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    hash_256_parts(&[NODE_PREFIX, left, right])
}

/// The largest power of two strictly smaller than `n` (n >= 2).
fn split_point(n: usize) -> usize {
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// Root over `ids`; the empty tree's root is BLAKE2b-256 of nothing.
pub fn root(ids: &[Hash]) -> Hash {
    match ids.len() {
        0 => hash_256(&[]),
        1 => leaf_hash(&ids[0]),
        n => {
            let k = split_point(n);
            node_hash(&root(&ids[..k]), &root(&ids[k..]))
        }
    }
}

/// Audit path of leaf `index`: sibling hashes from the leaf up to the root.
pub fn proof(ids: &[Hash], index: usize) -> Result<Vec<Hash>> {
    if index >= ids.len() {
        return Err(Error::IndexOutOfRange {
            index,
            count: ids.len(),
        });
    }
    let mut path = Vec::new();
    let (mut lo, mut hi, mut at) = (0, ids.len(), index);
    // Walk down, collecting siblings root-first, then reverse.
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if at < k {
            path.push(root(&ids[lo + k..hi]));
            hi = lo + k;
        } else {
            path.push(root(&ids[lo..lo + k]));
            lo += k;
            at -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// Whether `path` proves leaf `id` at `index` of a `count`-leaf tree with root `root`.
pub fn verify(root_hash: &Hash, id: &Hash, index: usize, count: usize, path: &[Hash]) -> Result<bool> {
    if index >= count {
        return Err(Error::IndexOutOfRange { index, count });
    }
    // Recompute the sides root-first (the shape depends only on index and count).
    let mut sides = Vec::new();
    let (mut size, mut at) = (count, index);
    while size > 1 {
        let k = split_point(size);
        if at < k {
            sides.push(false); // our subtree is the left child
            size = k;
        } else {
            sides.push(true);
            at -= k;
            size -= k;
        }
    }
    if sides.len() != path.len() {
        return Ok(false);
    }
    let mut hash = leaf_hash(id);
    for (sibling, we_are_right) in path.iter().zip(sides.iter().rev()) {
        hash = if *we_are_right {
            node_hash(sibling, &hash)
        } else {
            node_hash(&hash, sibling)
        };
    }
    Ok(&hash == root_hash)
}

/// A 32-byte hash from a slice; `what` names it in the length error.
pub fn to_hash(what: &'static str, bytes: &[u8]) -> Result<Hash> {
    bytes.try_into().map_err(|_| Error::length(what, 32, bytes.len()))
}

/// 32-byte hashes from byte strings, each checked as [`to_hash`] does.
pub fn to_hashes<B: AsRef<[u8]>>(what: &'static str, items: &[B]) -> Result<Vec<Hash>> {
    items.iter().map(|b| to_hash(what, b.as_ref())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<Hash> {
        (0..n).map(|i| hash_256(&i.to_le_bytes())).collect()
    }

    #[test]
    fn tip4_vector() {
        let doc: serde_json::Value =
            serde_json::from_str(&crate::testing::vector("merkle_tip4.json")).unwrap();
        let leaves: Vec<Hash> = doc["leaves_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex::decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
            .collect();
        assert_eq!(hex::encode(root(&leaves)), doc["root_hex"].as_str().unwrap());
        assert_eq!(hex::encode(root(&[])), doc["empty_root_hex"].as_str().unwrap());
        assert_eq!(
            hex::encode(leaf_hash(&leaves[0])),
            doc["first_leaf_hash_hex"].as_str().unwrap()
        );
    }

    #[test]
    fn every_proof_of_every_size_verifies_and_only_there() {
        for n in 1..=33 {
            let leaves = ids(n);
            let r = root(&leaves);
            for i in 0..n {
                let path = proof(&leaves, i).unwrap();
                assert!(verify(&r, &leaves[i], i, n, &path).unwrap(), "n={n} i={i}");
                let other = (i + 1) % n;
                if other != i {
                    assert!(!verify(&r, &leaves[other], i, n, &path).unwrap());
                    assert!(!verify(&r, &leaves[i], other, n, &path).unwrap() || leaves[i] == leaves[other]);
                }
                if let Some(first) = path.first() {
                    let mut tampered = path.clone();
                    tampered[0][0] ^= 1;
                    assert!(!verify(&r, &leaves[i], i, n, &tampered).unwrap(), "{first:?}");
                }
            }
        }
    }

    #[test]
    fn out_of_range() {
        assert!(matches!(proof(&ids(3), 3), Err(Error::IndexOutOfRange { .. })));
        assert!(matches!(
            verify(&[0; 32], &[0; 32], 5, 5, &[]),
            Err(Error::IndexOutOfRange { .. })
        ));
    }
}
