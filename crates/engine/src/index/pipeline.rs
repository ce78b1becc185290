//! An ordered parallel map for the writer thread: jobs produced in order on the calling thread
//! are worked on by a few helper threads, and their results consumed on the calling thread in
//! the order the jobs were produced. Documents are parsed and analyzed this way while
//! everything that depends on the order of documents (which ids exist, field first-seen order,
//! updates merging into earlier versions) stays on the writer thread.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;

use crate::error::{EngineError, Result};

/// Runs `work` on every job `produce` returns (until it returns `None`) on `workers` threads,
/// and `consume` on each result in production order, at most `window` jobs ahead. `produce` and
/// `consume` run on the calling thread and share `state`. With no worker, everything runs on
/// the calling thread. The first error (from `produce` or `consume`) stops the run; jobs not yet
/// started are dropped. A panic in `work` is resumed on the calling thread.
pub(super) fn ordered_parallel<S, J: Send, R: Send>(
    state: &mut S,
    workers: usize,
    window: usize,
    mut produce: impl FnMut(&mut S) -> Result<Option<J>>,
    work: impl Fn(J) -> R + Sync,
    mut consume: impl FnMut(&mut S, R) -> Result<()>,
) -> Result<()> {
    if workers == 0 {
        while let Some(job) = produce(state)? {
            consume(state, work(job))?;
        }
        return Ok(());
    }
    let window = window.max(1) as u64;
    let (job_tx, job_rx) = mpsc::sync_channel::<(u64, J)>(window as usize);
    let job_rx = Mutex::new(job_rx);
    let (result_tx, result_rx) = mpsc::channel::<(u64, std::thread::Result<R>)>();
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let job_tx = job_tx;
        for i in 0..workers {
            let (job_rx, result_tx, work, stop) = (&job_rx, result_tx.clone(), &work, &stop);
            std::thread::Builder::new()
                .name(format!("quarry-build-{i}"))
                .spawn_scoped(scope, move || loop {
                    let next = job_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((seq, job))) = next else {
                        break;
                    };
                    if stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    let result =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(job)));
                    if result_tx.send((seq, result)).is_err() {
                        break;
                    }
                })
                .map_err(EngineError::Io)?;
        }
        drop(result_tx);
        let mut run = || -> Result<()> {
            let mut waiting: BTreeMap<u64, std::thread::Result<R>> = BTreeMap::new();
            let (mut sent, mut next, mut exhausted) = (0u64, 0u64, false);
            loop {
                while !exhausted && sent - next < window {
                    match produce(state)? {
                        Some(job) => {
                            job_tx.send((sent, job)).map_err(|_| {
                                EngineError::Corrupted("every indexing helper stopped".into())
                            })?;
                            sent += 1;
                        }
                        None => exhausted = true,
                    }
                }
                if next == sent {
                    return Ok(());
                }
                let result = loop {
                    if let Some(result) = waiting.remove(&next) {
                        break result;
                    }
                    let (seq, result) = result_rx.recv().map_err(|_| {
                        EngineError::Corrupted("every indexing helper stopped".into())
                    })?;
                    waiting.insert(seq, result);
                };
                next += 1;
                match result {
                    Ok(result) => consume(state, result)?,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        };
        let outcome = run();
        stop.store(true, Ordering::Relaxed);
        drop(job_tx);
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::ordered_parallel;
    use crate::error::{EngineError, Result};

    fn squares(workers: usize, window: usize, n: u64, fail_at: Option<u64>) -> Result<Vec<u64>> {
        let mut state = (0u64, Vec::new());
        ordered_parallel(
            &mut state,
            workers,
            window,
            |(next, _)| {
                Ok((*next < n).then(|| {
                    *next += 1;
                    *next - 1
                }))
            },
            |x| {
                // Uneven work, so that results come back out of order.
                std::thread::sleep(std::time::Duration::from_micros((x * 7919) % 500));
                x * x
            },
            |(_, out), square| {
                if Some(square) == fail_at.map(|f| f * f) {
                    return Err(EngineError::Corrupted(format!("stop at {square}")));
                }
                out.push(square);
                Ok(())
            },
        )?;
        Ok(state.1)
    }

    #[test]
    fn results_come_in_production_order() {
        let expected: Vec<u64> = (0..300).map(|x| x * x).collect();
        for (workers, window) in [(0, 1), (1, 1), (2, 1), (2, 3), (3, 8)] {
            assert_eq!(squares(workers, window, 300, None).unwrap(), expected);
        }
        assert!(squares(2, 4, 0, None).unwrap().is_empty());
    }

    #[test]
    fn the_first_error_stops_the_run() {
        for workers in [0, 2] {
            let err = squares(workers, 4, 300, Some(120)).unwrap_err();
            assert!(err.to_string().contains("stop at 14400"), "{err}");
        }
    }

    #[test]
    #[should_panic(expected = "boom")]
    fn a_panic_in_a_helper_reaches_the_caller() {
        let mut state = 0u32;
        let _ = ordered_parallel(
            &mut state,
            2,
            2,
            |n| {
                *n += 1;
                Ok((*n < 10).then_some(*n))
            },
            |x| {
                if x == 5 {
                    panic!("boom");
                }
                x
            },
            |_, _| Ok(()),
        );
    }
}
