//! The TIP-12 score and the nonce miner for Python.

use std::time::Duration;

use pow_core::miner::{self, Stopped};
use pow_core::pow;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::error::{Error, Result};

/// TIP-12 PoW score of `block`, which ends with its 8-byte nonce.
#[pyfunction]
pub fn pow_score(block: &[u8]) -> Result<f64> {
    Ok(pow::score(block)?)
}

/// Trailing zero trits of the Curl hash behind `block`'s PoW score.
#[pyfunction]
pub fn pow_trailing_zeros(block: &[u8]) -> Result<u32> {
    Ok(pow::trailing_zeros(block)?)
}

/// Find a nonce for `block_without_nonce` reaching `target_score`.
///
/// Runs on `threads` threads (default: every core) without the GIL; raises
/// `MiningTimeoutError` after `timeout` seconds, `UnreachableTargetError` for a target no nonce
/// can reach, and honours KeyboardInterrupt.
#[pyfunction]
#[pyo3(name = "mine", signature = (block_without_nonce, target_score, threads = None, timeout = None))]
pub fn mine_nonce(
    py: Python<'_>,
    block_without_nonce: &[u8],
    target_score: f64,
    threads: Option<usize>,
    timeout: Option<f64>,
) -> Result<u64> {
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let timeout = match timeout {
        Some(t) if !(t >= 0.0 && t.is_finite()) => {
            return Err(PyValueError::new_err(format!(
                "timeout must be a finite number of seconds >= 0, got {t}"
            ))
            .into());
        }
        t => t.map(Duration::from_secs_f64),
    };
    let body = block_without_nonce.to_vec();
    let mut pending: Option<PyErr> = None;
    let outcome = py.detach(|| {
        miner::mine(
            &body,
            target_score,
            threads,
            timeout,
            Duration::from_millis(20),
            &mut || {
                pending = Python::attach(|py| py.check_signals().err());
                pending.is_some()
            },
        )
    })?;
    match outcome {
        Ok(nonce) => Ok(nonce),
        Err(Stopped::Interrupted) => Err(Error::Python(
            pending.expect("interrupted with a pending exception"),
        )),
    }
}
