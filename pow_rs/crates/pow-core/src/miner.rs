//! The nonce search: Curl-P-81 over many nonces at once, on every core, cancellable.
//!
//! Nonces are bitsliced: trit i of 64·W candidate hashes lives in two W-word bit vectors
//! (`lo`, `hi`), so one S-box evaluation on words advances 64·W hashes. W is 4 (256 lanes) when
//! the CPU has AVX2, else 2 (128 lanes, SSE2). Lanes of one batch differ only in the nonce's
//! low byte, so per batch only the higher nonce bytes are re-encoded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::blake2b;
use crate::curl::{HASH_TRITS, ROUNDS, STATE_TRITS};
use crate::error::{Error, Result};
use crate::pow::{self, NONCE_BYTES, NONCE_OFFSET, curl_input};
use crate::ternary::{Trit, b1t6_trits};

/// One trit of 64·W lanes: -1 is (lo 1, hi 0), +1 is (0, 1), 0 is (1, 1).
#[derive(Clone, Copy)]
struct Lanes<const W: usize> {
    lo: [u64; W],
    hi: [u64; W],
}

impl<const W: usize> Lanes<W> {
    const fn splat(trit: Trit) -> Self {
        let lo = if trit == 1 { 0 } else { u64::MAX };
        let hi = if trit == -1 { 0 } else { u64::MAX };
        Lanes {
            lo: [lo; W],
            hi: [hi; W],
        }
    }

    fn set_lane(&mut self, lane: usize, trit: Trit) {
        let (word, mask) = (lane / 64, 1u64 << (lane % 64));
        self.lo[word] = if trit == 1 {
            self.lo[word] & !mask
        } else {
            self.lo[word] | mask
        };
        self.hi[word] = if trit == -1 {
            self.hi[word] & !mask
        } else {
            self.hi[word] | mask
        };
    }

    /// Lanes whose trit is zero.
    #[inline(always)]
    fn zero_mask(&self) -> [u64; W] {
        std::array::from_fn(|w| self.lo[w] & self.hi[w])
    }
}

/// The Curl S-box `g(x, y)` on every lane.
#[inline(always)]
fn sbox<const W: usize>(x: &Lanes<W>, y: &Lanes<W>) -> Lanes<W> {
    let mut out = Lanes {
        lo: [0; W],
        hi: [0; W],
    };
    for w in 0..W {
        let d = x.hi[w] ^ y.lo[w];
        out.lo[w] = !(d & x.lo[w]);
        out.hi[w] = d | (x.lo[w] ^ y.hi[w]);
    }
    out
}

type State<const W: usize> = [Lanes<W>; STATE_TRITS];

/// One textbook round, `dst[i] = g(src[364 i], src[364 (i + 1)])`, walking the indices by
/// alternating +364 and -365 instead of computing them mod 729.
#[inline(always)]
fn round<const W: usize>(src: &State<W>, dst: &mut State<W>) {
    dst[0] = sbox(&src[0], &src[364]);
    let mut j = 364;
    for i in (1..STATE_TRITS).step_by(2) {
        dst[i] = sbox(&src[j], &src[j + 364]);
        j += 364;
        dst[i + 1] = sbox(&src[j], &src[j - 365]);
        j -= 365;
    }
}

/// Search state of one thread for one width.
struct Searcher<const W: usize> {
    template: Box<State<W>>,
    state: Box<State<W>>,
    scratch: Box<State<W>>,
    /// Trits of the nonce's low byte in each lane, one entry per batch position within 256.
    low_byte: Vec<[Lanes<W>; 6]>,
    zeros: usize,
}

impl<const W: usize> Searcher<W> {
    const LANES: usize = 64 * W;

    fn new(digest: &[u8; 32], zeros: usize) -> Self {
        let input = curl_input(digest, &[0; NONCE_BYTES]);
        let mut template = Box::new([Lanes::splat(0); STATE_TRITS]);
        for (slot, &t) in template.iter_mut().zip(input.iter()) {
            *slot = Lanes::splat(t);
        }
        let low_byte = (0..256 / Self::LANES)
            .map(|batch| {
                let mut trits = [Lanes::splat(0); 6];
                for lane in 0..Self::LANES {
                    let mut t = Vec::with_capacity(6);
                    b1t6_trits(&[(batch * Self::LANES + lane) as u8], &mut t);
                    for (slot, &trit) in trits.iter_mut().zip(&t) {
                        slot.set_lane(lane, trit);
                    }
                }
                trits
            })
            .collect();
        Searcher {
            state: template.clone(),
            scratch: template.clone(),
            template,
            low_byte,
            zeros,
        }
    }

    /// Hash the nonces `base..base + LANES` (base a multiple of LANES) and return the first
    /// that has `zeros` trailing zero trits.
    #[inline(always)]
    fn search(&mut self, base: u64) -> Option<u64> {
        self.state.copy_from_slice(&self.template[..]);
        let low = (base % 256) as usize / Self::LANES;
        self.state[NONCE_OFFSET..NONCE_OFFSET + 6].copy_from_slice(&self.low_byte[low]);
        let mut high = Vec::with_capacity(42);
        b1t6_trits(&base.to_le_bytes()[1..], &mut high);
        for (slot, &t) in self.state[NONCE_OFFSET + 6..].iter_mut().zip(&high) {
            *slot = Lanes::splat(t);
        }
        for r in 0..ROUNDS {
            if r % 2 == 0 {
                round(&self.state, &mut self.scratch);
            } else {
                round(&self.scratch, &mut self.state);
            }
        }
        // 81 rounds is odd: the result is in `scratch`.
        let mut found = [u64::MAX; W];
        for trit in &self.scratch[HASH_TRITS - self.zeros..HASH_TRITS] {
            let zero = trit.zero_mask();
            for w in 0..W {
                found[w] &= zero[w];
            }
        }
        found
            .iter()
            .enumerate()
            .find(|(_, m)| **m != 0)
            .map(|(w, m)| base + (64 * w + m.trailing_zeros() as usize) as u64)
    }
}

/// What one worker thread does: batches `first, first + stride, ...` until found or stopped.
#[inline(always)]
fn work<const W: usize>(
    digest: &[u8; 32],
    zeros: usize,
    first: u64,
    stride: u64,
    max_batches: u64,
    stop: &AtomicBool,
) -> Option<u64> {
    let mut searcher = Searcher::<W>::new(digest, zeros);
    let lanes = Searcher::<W>::LANES as u64;
    let mut batch = first;
    for _ in 0..max_batches {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        if let Some(nonce) = searcher.search(batch * lanes) {
            return Some(nonce);
        }
        batch += stride;
    }
    None
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn work_avx2(
    digest: &[u8; 32],
    zeros: usize,
    first: u64,
    stride: u64,
    max_batches: u64,
    stop: &AtomicBool,
) -> Option<u64> {
    work::<4>(digest, zeros, first, stride, max_batches, stop)
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Nonces hashed per batch on this CPU.
pub fn lanes() -> usize {
    if has_avx2() { 256 } else { 128 }
}

/// Search batches `first, first + stride, ...` (at most `max_batches`) of [`lanes`] nonces each
/// for one whose hash has `zeros` trailing zero trits. Public for the benchmarks.
pub fn search_batches(
    digest: &[u8; 32],
    zeros: usize,
    first: u64,
    stride: u64,
    max_batches: u64,
    stop: &AtomicBool,
) -> Option<u64> {
    assert!(zeros <= HASH_TRITS);
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { work_avx2(digest, zeros, first, stride, max_batches, stop) };
    }
    work::<2>(digest, zeros, first, stride, max_batches, stop)
}

/// Why [`mine`] returned without a nonce.
#[derive(Debug, PartialEq)]
pub enum Stopped {
    /// `interrupted` asked to stop.
    Interrupted,
}

/// Find a nonce such that `body || nonce` scores at least `target`, on `threads` threads.
///
/// `interrupted` is polled every `poll` on the calling thread (the Python binding checks for
/// signals there); when it returns true every worker stops within one batch.
pub fn mine(
    body: &[u8],
    target: f64,
    threads: usize,
    timeout: Option<Duration>,
    poll: Duration,
    interrupted: &mut dyn FnMut() -> bool,
) -> Result<std::result::Result<u64, Stopped>> {
    let length = body.len() + NONCE_BYTES;
    let zeros = pow::required_zeros(target, length)? as usize;
    let digest = blake2b::hash_256(body);
    let threads = threads.max(1);
    let started = Instant::now();
    let stop = AtomicBool::new(false);
    let (found_tx, found_rx) = mpsc::channel();
    let outcome = std::thread::scope(|scope| {
        for t in 0..threads {
            let found_tx = found_tx.clone();
            let (digest, stop) = (&digest, &stop);
            scope.spawn(move || {
                if let Some(nonce) = search_batches(digest, zeros, t as u64, threads as u64, u64::MAX, stop) {
                    let _ = found_tx.send(nonce);
                }
            });
        }
        drop(found_tx);
        let outcome = loop {
            match found_rx.recv_timeout(poll) {
                Ok(nonce) => break Ok(Ok(nonce)),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    unreachable!("workers search the whole nonce space")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if interrupted() {
                break Ok(Err(Stopped::Interrupted));
            }
            if let Some(limit) = timeout
                && started.elapsed() >= limit
            {
                break Err(Error::MiningTimeout {
                    target,
                    seconds: limit.as_secs_f64(),
                });
            }
        };
        stop.store(true, Ordering::Relaxed);
        outcome
    });
    if let Ok(Ok(nonce)) = outcome {
        let mut block = body.to_vec();
        block.extend_from_slice(&nonce.to_le_bytes());
        debug_assert!(pow::score(&block).expect("block has a nonce") >= target);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curl::tests::reference_transform;

    #[test]
    fn sbox_matches_truth_table() {
        const TRUTH_TABLE: [Trit; 11] = [1, 0, -1, 2, 1, -1, 0, 2, -1, 1, 0];
        for x in -1..=1i8 {
            for y in -1..=1i8 {
                let out = sbox::<1>(&Lanes::splat(x), &Lanes::splat(y));
                let zero = out.zero_mask()[0] == u64::MAX;
                let got = if zero {
                    0
                } else if out.lo[0] == u64::MAX {
                    -1
                } else {
                    1
                };
                assert_eq!(got, TRUTH_TABLE[(x + 4 * y + 5) as usize], "g({x}, {y})");
            }
        }
    }

    #[test]
    fn every_lane_matches_the_scalar_hash() {
        let digest = blake2b::hash_256(b"lanes");
        let mut searcher = Searcher::<2>::new(&digest, 0);
        let base = 0x0102_0304_0506_0780u64;
        searcher.search(base);
        for lane in [0usize, 1, 63, 64, 127] {
            let nonce = (base + lane as u64).to_le_bytes();
            let mut state = [0 as Trit; STATE_TRITS];
            state[..HASH_TRITS].copy_from_slice(&curl_input(&digest, &nonce));
            reference_transform(&mut state);
            for (i, &expected) in state[..HASH_TRITS].iter().enumerate() {
                let t = &searcher.scratch[i];
                let (w, bit) = (lane / 64, lane % 64);
                let (lo, hi) = (t.lo[w] >> bit & 1, t.hi[w] >> bit & 1);
                let got = if lo == hi {
                    0
                } else if lo == 1 {
                    -1
                } else {
                    1
                };
                assert_eq!(got, expected, "lane {lane} trit {i}");
            }
        }
    }

    fn mined_score(body: &[u8], target: f64, threads: usize) -> f64 {
        let nonce = mine(body, target, threads, None, Duration::from_millis(5), &mut || {
            false
        })
        .unwrap()
        .unwrap();
        let mut block = body.to_vec();
        block.extend_from_slice(&nonce.to_le_bytes());
        pow::score(&block).unwrap()
    }

    #[test]
    fn mined_nonces_reach_the_target() {
        for (i, target) in [1.0, 10.0, 100.0, 1000.0].into_iter().enumerate() {
            let body = vec![i as u8; 50];
            assert!(mined_score(&body, target, 1 + i % 2) >= target);
        }
    }

    #[test]
    fn both_widths_find_the_same_first_nonce() {
        let digest = blake2b::hash_256(b"widths");
        let stop = AtomicBool::new(false);
        let narrow = work::<2>(&digest, 6, 0, 1, 1000, &stop).unwrap();
        let wide = work::<4>(&digest, 6, 0, 1, 1000, &stop).unwrap();
        assert_eq!(narrow, wide);
    }

    #[test]
    fn timeout_and_interrupt() {
        let body = [7u8; 40];
        let timed_out = mine(
            &body,
            1e30,
            2,
            Some(Duration::from_millis(50)),
            Duration::from_millis(5),
            &mut || false,
        );
        assert!(matches!(timed_out, Err(Error::MiningTimeout { .. })));
        let mut polls = 0;
        let interrupted = mine(&body, 1e30, 2, None, Duration::from_millis(5), &mut || {
            polls += 1;
            polls == 3
        });
        assert_eq!(interrupted, Ok(Err(Stopped::Interrupted)));
    }

    #[test]
    fn unreachable_target() {
        assert!(matches!(
            mine(
                &[0; 10],
                f64::INFINITY,
                1,
                None,
                Duration::from_millis(5),
                &mut || false
            ),
            Err(Error::UnreachableTarget { .. })
        ));
    }
}
