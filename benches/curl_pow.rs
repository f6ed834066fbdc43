//! Curl-P-81 proof of work: hashes per second per thread against iota-crypto's
//! `CurlPBatchHasher` in the same run, the miner's 1 -> 2 thread speed-up, and the cost of one
//! TIP-12 score. Run with `cargo bench --bench curl_pow`; the summary at the end prints ratios.

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use criterion::{BatchSize, Criterion, Throughput};
use crypto::encoding::ternary::{T1B1Buf, TritBuf};
use crypto::hashes::ternary::curl_p::{BATCH_SIZE, CurlPBatchHasher};

use pow_core::{blake2b, miner, pow};

/// More trailing zeros than any hash has in practice: the search never stops early.
const NEVER: usize = 200;
const BATCHES: u64 = 8;

fn curl_throughput(c: &mut Criterion) {
    let digest = blake2b::hash_256(b"benchmark block");
    let stop = AtomicBool::new(false);
    let mut group = c.benchmark_group("curl_hashes_one_thread");
    group.throughput(Throughput::Elements(BATCHES * miner::lanes() as u64));
    group.bench_function("pow_rs_miner", |b| {
        b.iter(|| miner::search_batches(black_box(&digest), NEVER, 0, 1, BATCHES, &stop))
    });

    let input: Vec<i8> = pow::curl_input(&digest, &[7; 8]).to_vec();
    group.throughput(Throughput::Elements(BATCH_SIZE as u64));
    group.bench_function("iota_crypto_CurlPBatchHasher", |b| {
        b.iter_batched(
            || {
                let mut hasher = CurlPBatchHasher::<T1B1Buf>::new(243);
                for _ in 0..BATCH_SIZE {
                    hasher.add(TritBuf::<T1B1Buf>::from_i8s(&input).unwrap());
                }
                hasher
            },
            |mut hasher| hasher.hash().count(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn miner_threads(c: &mut Criterion) {
    let digest = blake2b::hash_256(b"benchmark block");
    let mut group = c.benchmark_group("miner_threads");
    for threads in [1u64, 2] {
        group.throughput(Throughput::Elements(threads * BATCHES * miner::lanes() as u64));
        group.bench_function(format!("{threads}"), |b| {
            b.iter(|| {
                let stop = AtomicBool::new(false);
                std::thread::scope(|s| {
                    for t in 0..threads {
                        let (digest, stop) = (&digest, &stop);
                        s.spawn(move || miner::search_batches(digest, NEVER, t, threads, BATCHES, stop));
                    }
                });
            })
        });
    }
    group.finish();
}

fn score(c: &mut Criterion) {
    let block: Vec<u8> = (0..300u32).map(|i| (i * 31 % 251) as u8).collect();
    c.bench_function("pow_score_300_bytes", |b| {
        b.iter(|| pow::score(black_box(&block)))
    });
}

/// Mean time of one iteration of a finished benchmark, from criterion's saved estimates.
fn mean_ns(id: &str) -> Option<f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../target/criterion")
        .join(id)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["mean"]["point_estimate"].as_f64()
}

fn summary() {
    let lanes = miner::lanes() as f64;
    let rate = |id: &str, hashes: f64| mean_ns(id).map(|ns| hashes / ns * 1e9);
    let ours = rate("curl_hashes_one_thread/pow_rs_miner", BATCHES as f64 * lanes);
    let theirs = rate(
        "curl_hashes_one_thread/iota_crypto_CurlPBatchHasher",
        BATCH_SIZE as f64,
    );
    let one = rate("miner_threads/1", BATCHES as f64 * lanes);
    let two = rate("miner_threads/2", 2.0 * BATCHES as f64 * lanes);
    println!("\n== summary ({} lanes per batch) ==", lanes);
    if let (Some(ours), Some(theirs)) = (ours, theirs) {
        println!(
            "Curl-P-81 hashes/s/thread: pow_rs {ours:.0}, iota-crypto {theirs:.0}, ratio {:.2}x",
            ours / theirs
        );
    }
    if let (Some(one), Some(two)) = (one, two) {
        println!(
            "miner: 1 thread {one:.0} H/s, 2 threads {two:.0} H/s, speed-up {:.2}x",
            two / one
        );
    }
    if let Some(ns) = mean_ns("pow_score_300_bytes") {
        println!("pow_score of a 300-byte block: {:.2} us", ns / 1e3);
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    curl_throughput(&mut criterion);
    miner_threads(&mut criterion);
    score(&mut criterion);
    criterion.final_summary();
    summary();
}
