//! Row-parallel execution that gives the same answer whatever the thread count.
//!
//! Every metric is a pure function of one row, so determinism only needs two things: results are
//! written to the row's own slot, and when several rows fail the error reported is the one of the
//! lowest row. Rows are cut into fixed blocks (not per-thread shares), so the blocks, and the first
//! error of each block, do not depend on how many threads run them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{RescoreError, RescoreResult};

/// Rows per work item. Small enough that work stealing evens out skewed row lengths on two cores,
/// large enough that per-block scratch set-up is noise (see benches/test_bench_peers.py).
pub const ROWS_PER_BLOCK: usize = 2048;

/// Below this many rows the work stays on the calling thread: waking the pool costs more than the
/// rows do.
pub const PARALLEL_THRESHOLD: usize = 4096;

/// Sequence elements (tokens, bytes) per block for row lengths well above typical generations:
/// as many as 2048 rows of 64, so a few long rows still make enough blocks to share.
pub const ELEMENTS_PER_BLOCK: usize = ROWS_PER_BLOCK * 64;

/// How rows are cut into blocks: fixed by the input alone (never by the thread count), so the
/// lowest failing row, and every result, is the same whatever the number of threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocks {
    /// Rows per block.
    pub rows: usize,
    /// Whether the work is worth waking the pool for.
    pub parallel: bool,
}

impl Blocks {
    /// Blocks for rows of cheap, bounded work (labels, probabilities).
    pub fn uniform(rows: usize) -> Self {
        Self {
            rows: ROWS_PER_BLOCK,
            parallel: rows >= PARALLEL_THRESHOLD,
        }
    }

    /// Blocks for `rows` sequences holding `elements` elements in all: long rows get smaller
    /// blocks (both cores busy on a file of a few thousand long generations) and are worth the
    /// pool even when few.
    pub fn for_sequences(rows: usize, elements: usize) -> Self {
        let mean = elements / rows.max(1) + 1;
        Self {
            rows: (ELEMENTS_PER_BLOCK / mean).clamp(16, ROWS_PER_BLOCK),
            parallel: rows >= PARALLEL_THRESHOLD || elements >= PARALLEL_THRESHOLD * 64,
        }
    }
}

/// How many threads a call may use: RapidFuzz's convention, `-1` for all cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// Rayon's global pool (one thread per core, or `RAYON_NUM_THREADS`).
    All,
    /// Exactly this many threads (1 = run on the calling thread).
    Exactly(usize),
}

impl Workers {
    /// Parse RapidFuzz-style `workers`: `-1` means all cores, a positive count means that many.
    pub fn from_count(workers: i64) -> RescoreResult<Self> {
        match workers {
            -1 => Ok(Self::All),
            n if n >= 1 => Ok(Self::Exactly(n as usize)),
            n => Err(RescoreError::InvalidOption {
                option: "workers",
                message: format!("got {n}, expected -1 (all cores) or a positive thread count"),
            }),
        }
    }
}

/// Name the threads of rayon's global pool (the one `workers=-1` runs on) `rescore-N`, as the
/// sized pools are, so profilers and the batch job's per-thread CPU accounting can tell kernel
/// threads from Arrow's. Called once when the module loads; if the global pool already exists it
/// keeps its threads and their names.
pub fn name_global_pool() {
    // The only error is "already initialised", which leaves a working pool: nothing to report.
    let _ = ThreadPoolBuilder::new()
        .thread_name(|i| format!("rescore-{i}"))
        .build_global();
}

fn pool_with(threads: usize) -> RescoreResult<Arc<ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let pools = POOLS.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned lock only means another thread panicked while inserting; the map is still valid.
    let mut pools = pools
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(pool) = pools.get(&threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("rescore-{i}"))
        .build()
        .map_err(|e| RescoreError::InvalidOption {
            option: "workers",
            message: format!("cannot start {threads} threads: {e}"),
        })?;
    let pool = Arc::new(pool);
    pools.insert(threads, Arc::clone(&pool));
    Ok(pool)
}

/// What to do with a row that cannot be scored (a NaN probability, a label out of range, ...).
/// Errors about the whole call (types, options, lengths) are always raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Fail the call, naming the first bad row.
    #[default]
    Raise,
    /// Give that row a null result and go on (the batch job counts such rows).
    Null,
}

impl OnError {
    /// Parse the Python option.
    pub fn parse(name: &str) -> RescoreResult<Self> {
        match name {
            "raise" => Ok(Self::Raise),
            "null" => Ok(Self::Null),
            other => Err(RescoreError::InvalidOption {
                option: "on_error",
                message: format!("got {other:?}, expected \"raise\" or \"null\""),
            }),
        }
    }
}

/// Compute `row_fn(scratch, i)` for every row `i < n`, in parallel, and return the values in row
/// order with a validity flag per row (`None` from `row_fn` means a null result).
///
/// `S` is per-block scratch (buffers reused across the rows of a block), so the hot loop does not
/// allocate per row. On error, the error of the lowest failing row is returned.
pub fn map_rows<T, S, F>(
    n: usize,
    workers: Workers,
    on_error: OnError,
    row_fn: F,
) -> RescoreResult<(Vec<T>, Vec<bool>)>
where
    T: Copy + Default + Send,
    S: Default,
    F: Fn(&mut S, usize) -> RescoreResult<Option<T>> + Sync,
{
    map_blocks(n, Blocks::uniform(n), workers, on_error, row_fn)
}

/// [`map_rows`] with rows cut into `blocks`.
pub fn map_blocks<T, S, F>(
    n: usize,
    blocks: Blocks,
    workers: Workers,
    on_error: OnError,
    row_fn: F,
) -> RescoreResult<(Vec<T>, Vec<bool>)>
where
    T: Copy + Default + Send,
    S: Default,
    F: Fn(&mut S, usize) -> RescoreResult<Option<T>> + Sync,
{
    map_blocks_prepared(n, blocks, workers, on_error, |_: &mut S, _| {}, row_fn)
}

/// [`map_blocks`] with `prepare(scratch, rows)` called on each block's fresh scratch before its
/// rows are scored: work that pays off over many rows at once (scoring short pairs in SIMD
/// lanes) goes there, and `row_fn` reads its results. `prepare` must not change any row's
/// result, only how fast it comes: blocks depend on the input alone, so results stay the same
/// whatever the thread count.
pub fn map_blocks_prepared<T, S, P, F>(
    n: usize,
    blocks: Blocks,
    workers: Workers,
    on_error: OnError,
    prepare: P,
    row_fn: F,
) -> RescoreResult<(Vec<T>, Vec<bool>)>
where
    T: Copy + Default + Send,
    S: Default,
    P: Fn(&mut S, std::ops::Range<usize>) + Sync,
    F: Fn(&mut S, usize) -> RescoreResult<Option<T>> + Sync,
{
    let block_rows = blocks.rows;
    let mut values = vec![T::default(); n];
    let mut valid = vec![false; n];
    let run_block = |block: usize, values: &mut [T], valid: &mut [bool]| -> RescoreResult<()> {
        let mut scratch = S::default();
        let start = block * block_rows;
        prepare(&mut scratch, start..start + values.len());
        for (k, (value, ok)) in values.iter_mut().zip(valid.iter_mut()).enumerate() {
            let outcome = match row_fn(&mut scratch, start + k) {
                Err(_) if on_error == OnError::Null => None,
                other => other?,
            };
            if let Some(v) = outcome {
                *value = v;
                *ok = true;
            }
        }
        Ok(())
    };

    let sequential = !blocks.parallel || workers == Workers::Exactly(1);
    let outcomes: Vec<RescoreResult<()>> = if sequential {
        values
            .chunks_mut(block_rows)
            .zip(valid.chunks_mut(block_rows))
            .enumerate()
            .map(|(b, (v, ok))| run_block(b, v, ok))
            // Stop at the first failing block: no point scoring the rest.
            .find(Result::is_err)
            .into_iter()
            .collect()
    } else {
        let mut par = || -> Vec<RescoreResult<()>> {
            values
                .par_chunks_mut(block_rows)
                .zip(valid.par_chunks_mut(block_rows))
                .enumerate()
                .map(|(b, (v, ok))| run_block(b, v, ok))
                .collect()
        };
        match workers {
            Workers::All => par(),
            Workers::Exactly(t) => pool_with(t)?.install(par),
        }
    };
    // Blocks are in row order, and each block stops at its own first error: the first error found
    // here is the lowest failing row, whatever the scheduling was.
    outcomes.into_iter().collect::<RescoreResult<()>>()?;
    Ok((values, valid))
}

/// [`map_rows`] for rows of `width` values each (per-row statistics): `row_fn(scratch, i, out)`
/// fills `out` (`width` values, zeroed) and returns whether the row is valid. Values come back
/// row-major, `n * width` long.
pub fn map_rows_wide<T, S, F>(
    n: usize,
    width: usize,
    workers: Workers,
    on_error: OnError,
    row_fn: F,
) -> RescoreResult<(Vec<T>, Vec<bool>)>
where
    T: Copy + Default + Send,
    S: Default,
    F: Fn(&mut S, usize, &mut [T]) -> RescoreResult<bool> + Sync,
{
    let blocks = Blocks::uniform(n);
    let block_rows = blocks.rows;
    let width = width.max(1);
    let mut values = vec![T::default(); n * width];
    let mut valid = vec![false; n];
    let run_block = |block: usize, values: &mut [T], valid: &mut [bool]| -> RescoreResult<()> {
        let mut scratch = S::default();
        let start = block * block_rows;
        for (k, (out, ok)) in values.chunks_mut(width).zip(valid.iter_mut()).enumerate() {
            match row_fn(&mut scratch, start + k, out) {
                Ok(v) => *ok = v,
                Err(_) if on_error == OnError::Null => {}
                Err(e) => return Err(e),
            }
            if !*ok {
                out.fill(T::default());
            }
        }
        Ok(())
    };
    let sequential = !blocks.parallel || workers == Workers::Exactly(1);
    let outcomes: Vec<RescoreResult<()>> = if sequential {
        values
            .chunks_mut(block_rows * width)
            .zip(valid.chunks_mut(block_rows))
            .enumerate()
            .map(|(b, (v, ok))| run_block(b, v, ok))
            .find(Result::is_err)
            .into_iter()
            .collect()
    } else {
        let mut par = || -> Vec<RescoreResult<()>> {
            values
                .par_chunks_mut(block_rows * width)
                .zip(valid.par_chunks_mut(block_rows))
                .enumerate()
                .map(|(b, (v, ok))| run_block(b, v, ok))
                .collect()
        };
        match workers {
            Workers::All => par(),
            Workers::Exactly(t) => pool_with(t)?.install(par),
        }
    };
    outcomes.into_iter().collect::<RescoreResult<()>>()?;
    Ok((values, valid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square_or_fail(
        n: usize,
        workers: Workers,
        fail_at: &[usize],
    ) -> RescoreResult<Vec<Option<u64>>> {
        let (v, ok) = map_rows::<u64, (), _>(n, workers, OnError::Raise, |(), i| {
            if fail_at.contains(&i) {
                return Err(RescoreError::EmptyChoices {
                    argument: "x",
                    row: i,
                });
            }
            Ok((i % 7 != 0).then_some((i * i) as u64))
        })?;
        Ok(v.into_iter()
            .zip(ok)
            .map(|(v, ok)| ok.then_some(v))
            .collect())
    }

    #[test]
    fn same_result_for_every_thread_count() {
        let n = 3 * ROWS_PER_BLOCK * 5 + 17;
        let one = square_or_fail(n, Workers::Exactly(1), &[]).unwrap();
        for w in [Workers::All, Workers::Exactly(2), Workers::Exactly(3)] {
            assert_eq!(square_or_fail(n, w, &[]).unwrap(), one);
        }
        assert_eq!(one[7], None);
        assert_eq!(one[8], Some(64));
    }

    #[test]
    fn lowest_failing_row_is_reported() {
        let n = 10 * ROWS_PER_BLOCK;
        let fails = [
            9 * ROWS_PER_BLOCK + 3,
            2 * ROWS_PER_BLOCK + 5,
            2 * ROWS_PER_BLOCK + 9,
        ];
        for w in [Workers::All, Workers::Exactly(1), Workers::Exactly(4)] {
            let err = square_or_fail(n, w, &fails).unwrap_err();
            assert_eq!(
                err,
                RescoreError::EmptyChoices {
                    argument: "x",
                    row: 2 * ROWS_PER_BLOCK + 5
                }
            );
        }
    }

    #[test]
    fn null_policy_turns_row_errors_into_nulls() {
        let (v, ok) = map_rows::<u8, (), _>(3, Workers::All, OnError::Null, |(), i| {
            if i == 1 {
                Err(RescoreError::EmptyChoices {
                    argument: "x",
                    row: i,
                })
            } else {
                Ok(Some(7))
            }
        })
        .unwrap();
        assert_eq!((v, ok), (vec![7, 0, 7], vec![true, false, true]));
    }

    #[test]
    fn long_sequences_get_smaller_blocks_and_the_pool() {
        // Typical generations: the row-count rules.
        assert_eq!(
            Blocks::for_sequences(100_000, 100_000 * 40).rows,
            ROWS_PER_BLOCK
        );
        assert!(!Blocks::for_sequences(1_000, 1_000 * 40).parallel);
        // 3,000 rows of 7,500 characters: many blocks, in parallel.
        let long = Blocks::for_sequences(3_000, 3_000 * 7_500);
        assert!(long.parallel && long.rows < 32, "{long:?}");
    }

    #[test]
    fn lowest_failing_row_is_reported_with_small_blocks() {
        let blocks = Blocks::for_sequences(5_000, 5_000 * 2_000);
        for w in [Workers::All, Workers::Exactly(1), Workers::Exactly(3)] {
            let err = map_blocks::<u8, (), _>(5_000, blocks, w, OnError::Raise, |(), i| {
                if i == 4_321 || i == 77 {
                    return Err(RescoreError::EmptyChoices {
                        argument: "x",
                        row: i,
                    });
                }
                Ok(Some(1))
            })
            .unwrap_err();
            assert_eq!(
                err,
                RescoreError::EmptyChoices {
                    argument: "x",
                    row: 77
                }
            );
        }
    }

    #[test]
    fn wide_rows_are_the_same_for_every_thread_count() {
        let n = 3 * ROWS_PER_BLOCK + 5;
        let run = |w| {
            map_rows_wide::<u64, (), _>(n, 3, w, OnError::Null, |(), i, out| {
                if i % 11 == 0 {
                    out[0] = 9; // written, then the row fails: zeroed
                    return Err(RescoreError::EmptyChoices {
                        argument: "x",
                        row: i,
                    });
                }
                out.copy_from_slice(&[i as u64, 2, 3]);
                Ok(i % 5 != 0)
            })
            .unwrap()
        };
        let one = run(Workers::Exactly(1));
        assert_eq!(run(Workers::Exactly(3)), one);
        assert_eq!(&one.0[0..6], &[0, 0, 0, 1, 2, 3]);
        assert_eq!(&one.1[0..2], &[false, true]);
    }

    #[test]
    fn workers_parsing() {
        assert_eq!(Workers::from_count(-1).unwrap(), Workers::All);
        assert_eq!(Workers::from_count(3).unwrap(), Workers::Exactly(3));
        assert!(Workers::from_count(0).is_err());
        assert!(Workers::from_count(-2).is_err());
    }
}
