//! The Merkle tree over records: RFC 6962 / RFC 9162 §2.1 with SM3 in place of SHA-256.
//!
//! Leaf hash = SM3(0x00 || leaf data), interior node = SM3(0x01 || left || right), empty
//! tree = SM3(""). A record's leaf data is `previous leaf hash || canonical record`, so the
//! leaf hash is also the hash chain (哈希链) entry stored beside the record.

use crate::hash::{Hash, Hasher};

/// SM3(0x00 || prev || body): the record's chain hash and Merkle leaf hash.
pub fn leaf_hash(prev: &Hash, body: &[u8]) -> Hash {
    let mut h = Hasher::new();
    h.update(&[0]);
    h.update(prev);
    h.update(body);
    h.finalize()
}

/// [`leaf_hash`] of every `(prev, body)`, into `out` (as long as `leaves`), hashed side by
/// side in vector lanes where the CPU allows (verify checks whole blocks of records).
pub fn leaf_hashes(leaves: &[(&Hash, &[u8])], out: &mut [Hash]) {
    let prefixes: Vec<[u8; 33]> = leaves
        .iter()
        .map(|(prev, _)| {
            let mut p = [0u8; 33];
            p[1..].copy_from_slice(*prev);
            p
        })
        .collect();
    let inputs: Vec<[&[u8]; 2]> = prefixes
        .iter()
        .zip(leaves)
        .map(|(p, (_, body))| [&p[..], *body])
        .collect();
    crate::hash::sm3_many(&inputs, out);
}

/// SM3(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    crate::hash::sm3(&buf)
}

/// The root of the empty tree, SM3 of nothing.
pub fn empty_root() -> Hash {
    crate::hash::sm3(b"")
}

/// The roots of the perfect subtrees that make up a tree of `size` leaves, largest first
/// (one per set bit of `size`): enough to append leaves and compute the root in O(log n).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuilds a frontier from its parts; `None` if the count does not match `size`.
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Option<Self> {
        (size.count_ones() as usize == nodes.len()).then_some(Frontier { size, nodes })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect subtree roots, largest first.
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        self.nodes.push(leaf);
        self.size += 1;
        let mut s = self.size;
        while s & 1 == 0 {
            let right = self.nodes.pop().expect("frontier invariant");
            let left = self.nodes.pop().expect("frontier invariant");
            self.nodes.push(node_hash(&left, &right));
            s >>= 1;
        }
    }

    /// The tree head (Merkle root) of all leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        match it.next() {
            None => empty_root(),
            Some(last) => it.fold(*last, |acc, n| node_hash(n, &acc)),
        }
    }
}

fn split(n: u64) -> u64 {
    // Largest power of two strictly less than n (n >= 2).
    1 << (63 - (n - 1).leading_zeros())
}

/// The leaf ranges `[start, end)` whose subtree hashes form the inclusion proof of leaf
/// `index` in a tree of `size` leaves, in proof order (RFC 9162 §2.1.3.1).
pub fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    fn path(m: u64, lo: u64, hi: u64, out: &mut Vec<(u64, u64)>) {
        let n = hi - lo;
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            path(m, lo, lo + k, out);
            out.push((lo + k, hi));
        } else {
            path(m - k, lo + k, hi, out);
            out.push((lo, lo + k));
        }
    }
    if index < size {
        path(index, 0, size, &mut out);
    }
    out
}

/// The leaf ranges whose subtree hashes form the consistency proof from a tree of `old`
/// leaves to one of `new` leaves, in proof order (RFC 9162 §2.1.4.1).
pub fn consistency_ranges(old: u64, new: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    fn sub(m: u64, lo: u64, hi: u64, whole: bool, out: &mut Vec<(u64, u64)>) {
        let n = hi - lo;
        if m == n {
            if !whole {
                out.push((lo, hi));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            sub(m, lo, lo + k, whole, out);
            out.push((lo + k, hi));
        } else {
            sub(m - k, lo + k, hi, false, out);
            out.push((lo, lo + k));
        }
    }
    if old > 0 && old < new {
        sub(old, 0, new, true, &mut out);
    }
    out
}

/// Computes the subtree hash of each range (disjoint ranges, any order) from the leaf
/// hashes streamed in order from leaf 0. Memory stays O(ranges × log n).
pub fn range_hashes<E>(
    ranges: &[(u64, u64)],
    leaves: impl IntoIterator<Item = Result<Hash, E>>,
) -> Result<Option<Vec<Hash>>, E> {
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| ranges[i].0);
    let mut out = vec![[0u8; 32]; ranges.len()];
    let mut done = 0;
    let mut cur = 0usize; // index into `order`
    let mut acc = Frontier::new();
    if order.is_empty() {
        return Ok(Some(out));
    }
    for (i, leaf) in leaves.into_iter().enumerate() {
        let i = i as u64;
        let leaf = leaf?;
        let (start, end) = ranges[order[cur]];
        if i >= start && i < end {
            acc.push(leaf);
            if i + 1 == end {
                out[order[cur]] = acc.root();
                acc = Frontier::new();
                done += 1;
                cur += 1;
                if cur == order.len() {
                    return Ok(Some(out));
                }
            }
        }
    }
    Ok((done == ranges.len()).then_some(out))
}

/// RFC 9162 §2.1.3.2: does `proof` show leaf `index` with hash `leaf` in the tree of
/// `size` leaves with root `root`?
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: does `proof` show the tree of `old` leaves with root `old_root` is
/// a prefix of the tree of `new` leaves with root `new_root`?
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        return proof.is_empty() && *old_root == empty_root();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (old - 1, new - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *old_root && sr == *new_root && snode == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_hashes_equal_leaf_hash() {
        let prevs: Vec<Hash> = (0..40u8).map(|i| [i; 32]).collect();
        let bodies: Vec<Vec<u8>> = (0..40usize).map(|i| vec![b'r'; i * 11]).collect();
        let leaves: Vec<(&Hash, &[u8])> = prevs
            .iter()
            .zip(&bodies)
            .map(|(p, b)| (p, b.as_slice()))
            .collect();
        let mut out = vec![[0u8; 32]; leaves.len()];
        leaf_hashes(&leaves, &mut out);
        for ((p, b), h) in leaves.iter().zip(&out) {
            assert_eq!(*h, leaf_hash(p, b));
        }
    }

    // Independent, literal transcription of RFC 6962 §2.1 MTH.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&[0; 32], &(i as u64).to_le_bytes()))
            .collect()
    }

    fn proof_of(ranges: &[(u64, u64)], l: &[Hash]) -> Vec<Hash> {
        range_hashes::<()>(ranges, l.iter().map(|h| Ok(*h)))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn frontier_root_matches_rfc_definition() {
        let l = leaves(70);
        let mut f = Frontier::new();
        assert_eq!(f.root(), mth(&[]));
        for (i, h) in l.iter().enumerate() {
            f.push(*h);
            assert_eq!(f.root(), mth(&l[..=i]), "size {}", i + 1);
            let g = Frontier::from_parts(f.size(), f.nodes().to_vec()).unwrap();
            assert_eq!(g, f);
        }
    }

    #[test]
    fn inclusion_proofs_verify_and_detect_changes() {
        let l = leaves(40);
        for n in 1..=40u64 {
            let root = mth(&l[..n as usize]);
            for m in 0..n {
                let p = proof_of(&inclusion_ranges(m, n), &l);
                assert!(verify_inclusion(m, n, &l[m as usize], &p, &root), "{m}/{n}");
                assert!(!verify_inclusion(
                    m,
                    n,
                    &l[(m as usize + 1) % 40],
                    &p,
                    &root
                ));
                if !p.is_empty() {
                    let mut bad = p.clone();
                    bad[0][3] ^= 1;
                    assert!(!verify_inclusion(m, n, &l[m as usize], &bad, &root));
                    assert!(!verify_inclusion(m + n, n, &l[m as usize], &p, &root));
                }
            }
        }
    }

    #[test]
    fn consistency_proofs_verify_and_detect_changes() {
        let l = leaves(40);
        for n in 1..=40u64 {
            let new_root = mth(&l[..n as usize]);
            for m in 1..=n {
                let old_root = mth(&l[..m as usize]);
                let p = proof_of(&consistency_ranges(m, n), &l);
                assert!(
                    verify_consistency(m, n, &old_root, &new_root, &p),
                    "{m}->{n}"
                );
                if m < n {
                    let mut bad = p.clone();
                    let last = bad.len() - 1;
                    bad[last][0] ^= 1;
                    assert!(!verify_consistency(m, n, &old_root, &new_root, &bad));
                    let wrong_old = mth(&l[1..m as usize + 1]);
                    assert!(!verify_consistency(m, n, &wrong_old, &new_root, &p));
                }
            }
        }
    }
}
