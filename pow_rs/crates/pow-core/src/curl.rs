//! Curl-P-81, the ternary sponge of the TIP-12 proof of work, for one state at a time.
//!
//! The textbook round computes `new[i] = g(S[364 i], S[364 (i + 1)])` (indices mod 729), a
//! gather that costs a table look-up per trit. Here the state is two 729-bit vectors (the +1
//! trits and the -1 trits) and a round is `S' = g(S, rot(S, r))`: the S-box applied to whole
//! words. The trits then sit at permuted positions (after round k, true trit i is at
//! `364^k i mod 729`), so the rotation of round k is `364^k` and one gather at the end of the
//! 81 rounds puts them back. `tests::reference_transform` is the textbook form it is checked
//! against.

use crate::error::{Error, Result};
use crate::ternary::{Trit, trits_to_trytes, trytes_to_trits};

pub const HASH_TRITS: usize = 243;
pub const STATE_TRITS: usize = 3 * HASH_TRITS;
pub const ROUNDS: usize = 81;
const WORDS: usize = STATE_TRITS.div_ceil(64);
const LAST_WORD_MASK: u64 = (1u64 << (STATE_TRITS % 64)) - 1;

type Bits = [u64; WORDS];

/// `364^k mod 729` for k = 1..=81: the rotation of each round.
const ROTATIONS: [usize; ROUNDS] = {
    let mut table = [0; ROUNDS];
    let mut r = 1;
    let mut k = 0;
    while k < ROUNDS {
        r = r * 364 % STATE_TRITS;
        table[k] = r;
        k += 1;
    }
    table
};

/// Where true trit i sits after 81 rounds: `364^81 i mod 729`.
const FINAL_POSITION: [u16; STATE_TRITS] = {
    let m = ROTATIONS[ROUNDS - 1];
    let mut table = [0; STATE_TRITS];
    let mut i = 0;
    while i < STATE_TRITS {
        table[i] = (m * i % STATE_TRITS) as u16;
        i += 1;
    }
    table
};

#[inline(always)]
fn bit(v: &Bits, i: usize) -> bool {
    v[i / 64] >> (i % 64) & 1 == 1
}

#[inline(always)]
fn set_bit(v: &mut Bits, i: usize, on: bool) {
    let mask = 1u64 << (i % 64);
    if on {
        v[i / 64] |= mask;
    } else {
        v[i / 64] &= !mask;
    }
}

/// `out[j] = v[(j + r) mod 729]` for 0 < r < 729.
#[inline(always)]
fn rotate_down(v: &Bits, r: usize) -> Bits {
    let mut out = shift_right(v, r);
    let high = shift_left(v, STATE_TRITS - r);
    for (o, h) in out.iter_mut().zip(high) {
        *o |= h;
    }
    out[WORDS - 1] &= LAST_WORD_MASK;
    out
}

#[inline(always)]
fn shift_right(v: &Bits, s: usize) -> Bits {
    let (words, bits) = (s / 64, s % 64);
    let mut out = [0; WORDS];
    for i in 0..WORDS - words {
        out[i] = v[i + words] >> bits;
        if bits != 0 && i + words + 1 < WORDS {
            out[i] |= v[i + words + 1] << (64 - bits);
        }
    }
    out
}

#[inline(always)]
fn shift_left(v: &Bits, s: usize) -> Bits {
    let (words, bits) = (s / 64, s % 64);
    let mut out = [0; WORDS];
    for i in words..WORDS {
        out[i] = v[i - words] << bits;
        if bits != 0 && i > words {
            out[i] |= v[i - words - 1] >> (64 - bits);
        }
    }
    out
}

/// The Curl S-box on 64 trit pairs at once, with trits as (+1 bit, -1 bit).
///
/// `g(x, y)` is the truth table `[1, 0, -1, 2, 1, -1, 0, 2, -1, 1, 0][x + 4 y + 5]`.
#[inline(always)]
fn sbox(x_p: u64, x_n: u64, y_p: u64, y_n: u64) -> (u64, u64) {
    let t = x_n ^ y_p;
    (t & !x_p, !t & !(x_p ^ y_n))
}

/// A Curl-P-81 sponge.
#[derive(Clone)]
pub struct CurlP81 {
    plus: Bits,
    minus: Bits,
    squeezing: bool,
}

impl Default for CurlP81 {
    fn default() -> Self {
        Self::new()
    }
}

impl CurlP81 {
    pub fn new() -> Self {
        CurlP81 {
            plus: [0; WORDS],
            minus: [0; WORDS],
            squeezing: false,
        }
    }

    /// The 81 rounds of the permutation.
    pub fn transform(&mut self) {
        let (mut p, mut n) = (self.plus, self.minus);
        for &r in &ROTATIONS {
            let (p2, n2) = (rotate_down(&p, r), rotate_down(&n, r));
            for w in 0..WORDS {
                (p[w], n[w]) = sbox(p[w], n[w], p2[w], n2[w]);
            }
            p[WORDS - 1] &= LAST_WORD_MASK;
            n[WORDS - 1] &= LAST_WORD_MASK;
        }
        for (i, &from) in FINAL_POSITION.iter().enumerate() {
            set_bit(&mut self.plus, i, bit(&p, from as usize));
            set_bit(&mut self.minus, i, bit(&n, from as usize));
        }
    }

    fn write_rate(&mut self, trits: &[Trit]) {
        for (i, &t) in trits.iter().enumerate() {
            set_bit(&mut self.plus, i, t == 1);
            set_bit(&mut self.minus, i, t == -1);
        }
    }

    fn trit(&self, i: usize) -> Trit {
        bit(&self.plus, i) as Trit - bit(&self.minus, i) as Trit
    }

    /// Absorb trits in chunks of 243, transforming after each chunk.
    pub fn absorb(&mut self, trits: &[Trit]) {
        assert!(!self.squeezing, "absorb after squeeze");
        for chunk in trits.chunks(HASH_TRITS) {
            self.write_rate(chunk);
            self.transform();
        }
    }

    /// Squeeze trits in chunks of 243, transforming between chunks.
    pub fn squeeze(&mut self, out: &mut [Trit]) {
        for chunk in out.chunks_mut(HASH_TRITS) {
            if self.squeezing {
                self.transform();
            }
            self.squeezing = true;
            for (i, t) in chunk.iter_mut().enumerate() {
                *t = self.trit(i);
            }
        }
    }
}

/// Curl-P-81 of `trits` with an output of `out_trits` trits.
pub fn hash(trits: &[Trit], out_trits: usize) -> Vec<Trit> {
    let mut curl = CurlP81::new();
    curl.absorb(trits);
    let mut out = vec![0; out_trits];
    curl.squeeze(&mut out);
    out
}

/// Curl-P-81 hash of a tryte string whose length is a positive multiple of 81 trytes (243
/// trits); `hash_trytes` (a positive multiple of 81) trytes are squeezed.
pub fn hash_trytes(trytes: &str, hash_trytes: usize) -> Result<String> {
    let chunk = HASH_TRITS / 3;
    let trits = trytes_to_trits(trytes)?;
    for (what, count) in [("trytes", trits.len() / 3), ("hash_trytes", hash_trytes)] {
        if count == 0 || count % chunk != 0 {
            return Err(Error::InvalidLength {
                what,
                expected: format!("a positive multiple of {chunk}"),
                actual: count,
            });
        }
    }
    Ok(trits_to_trytes(&hash(&trits, hash_trytes * 3)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The textbook Curl-P transform, one trit at a time.
    pub(crate) fn reference_transform(state: &mut [Trit; STATE_TRITS]) {
        const TRUTH_TABLE: [Trit; 11] = [1, 0, -1, 2, 1, -1, 0, 2, -1, 1, 0];
        for _ in 0..ROUNDS {
            let copy = *state;
            let mut index = 0usize;
            for slot in state.iter_mut() {
                let prev = index;
                index = (index + 364) % STATE_TRITS;
                *slot = TRUTH_TABLE[(copy[prev] + 4 * copy[index] + 5) as usize];
            }
        }
    }

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn sbox_matches_truth_table() {
        const TRUTH_TABLE: [Trit; 11] = [1, 0, -1, 2, 1, -1, 0, 2, -1, 1, 0];
        for x in -1..=1i8 {
            for y in -1..=1i8 {
                let (p, n) = sbox(
                    (x == 1) as u64,
                    (x == -1) as u64,
                    (y == 1) as u64,
                    (y == -1) as u64,
                );
                let got = (p & 1) as i8 - (n & 1) as i8;
                assert_eq!(got, TRUTH_TABLE[(x + 4 * y + 5) as usize], "g({x}, {y})");
            }
        }
    }

    #[test]
    fn transform_matches_reference_on_random_states() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20 {
            let mut state = [0 as Trit; STATE_TRITS];
            for t in state.iter_mut() {
                *t = (xorshift(&mut seed) % 3) as Trit - 1;
            }
            let mut curl = CurlP81::new();
            for (i, &t) in state.iter().enumerate() {
                set_bit(&mut curl.plus, i, t == 1);
                set_bit(&mut curl.minus, i, t == -1);
            }
            reference_transform(&mut state);
            curl.transform();
            for (i, &t) in state.iter().enumerate() {
                assert_eq!(curl.trit(i), t, "trit {i}");
            }
        }
    }

    #[test]
    fn rotation_helpers() {
        let mut v = [0u64; WORDS];
        set_bit(&mut v, 728, true);
        set_bit(&mut v, 5, true);
        let r = rotate_down(&v, 6);
        assert!(bit(&r, 722) && bit(&r, 728));
        assert_eq!(r.iter().map(|w| w.count_ones()).sum::<u32>(), 2);
    }

    #[test]
    fn iota_go_vectors() {
        let doc: serde_json::Value = serde_json::from_str(&crate::testing::vector("curlp81.json")).unwrap();
        let cases = doc["vectors"].as_array().unwrap();
        assert_eq!(cases.len(), 300);
        let mut multi_squeeze = 0;
        for case in cases {
            let input = case["in"].as_str().unwrap();
            let expected = case["hash"].as_str().unwrap();
            multi_squeeze += usize::from(expected.len() > 81);
            assert_eq!(
                hash_trytes(input, expected.len()).unwrap(),
                expected,
                "input {input}"
            );
        }
        assert!(multi_squeeze > 0, "the vectors exercise multi-squeeze");
    }

    #[test]
    fn tryte_lengths_must_be_whole_hashes() {
        let one = "9".repeat(81);
        assert!(hash_trytes(&one, 81).is_ok());
        assert!(matches!(hash_trytes("", 81), Err(Error::InvalidLength { .. })));
        assert!(matches!(
            hash_trytes(&one[..80], 81),
            Err(Error::InvalidLength { .. })
        ));
        assert!(matches!(hash_trytes(&one, 0), Err(Error::InvalidLength { .. })));
        assert!(matches!(hash_trytes(&one, 82), Err(Error::InvalidLength { .. })));
        assert!(matches!(
            hash_trytes("a".repeat(81).as_str(), 81),
            Err(Error::InvalidTrytes(_))
        ));
    }
}
