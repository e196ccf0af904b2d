//! Group commit: many threads that each need "my write is on disk" share one fsync.
//!
//! A caller first commits its write in memory, then calls [`GroupCommit::wait_durable`]. The first
//! waiter becomes the leader and flushes; everyone who registered before the leader started is
//! covered by that flush and returns without flushing again. Waiters that arrive during a flush
//! are covered by the next one, which one of them leads. Plain std `Mutex` + `Condvar`, no async
//! runtime: the async server calls this through `spawn_blocking`.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::error::StoreError;

#[derive(Debug, Default)]
struct State {
    /// Tickets handed out: each is a write that waits to become durable.
    issued: u64,
    /// Every ticket up to this one is durable.
    durable: u64,
    /// A leader is flushing right now.
    flushing: bool,
    /// Flushes run, for diagnostics and the benchmark.
    flushes: u64,
}

#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few counters that are never left half-updated: a panic elsewhere
        // does not make them invalid.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// (durable writes requested, flushes run) so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        let st = self.lock();
        (st.issued, st.flushes)
    }

    /// Returns once everything written before the call is durable, running `flush` at most
    /// once per group of concurrent callers.
    pub(crate) fn wait_durable(
        &self,
        flush: impl Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut st = self.lock();
        st.issued += 1;
        let ticket = st.issued;
        loop {
            if st.durable >= ticket {
                return Ok(());
            }
            if st.flushing {
                st = self.done.wait(st).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Lead: this flush covers every ticket issued so far.
            st.flushing = true;
            let covers = st.issued;
            drop(st);
            let result = flush();
            st = self.lock();
            st.flushing = false;
            st.flushes += 1;
            if result.is_ok() {
                st.durable = st.durable.max(covers);
            }
            self.done.notify_all();
            // On failure the leader reports it; waiters retry and lead a flush of their own.
            result?;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn concurrent_waiters_share_flushes() {
        let gc = Arc::new(GroupCommit::default());
        let flushes = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gc, flushes) = (gc.clone(), flushes.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        gc.wait_durable(|| {
                            flushes.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(1));
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let n = flushes.load(Ordering::SeqCst);
        assert!(n < 400, "400 waits needed {n} flushes");
    }

    #[test]
    fn a_failed_flush_is_reported_and_the_next_caller_retries() {
        let gc = GroupCommit::default();
        assert!(
            gc.wait_durable(|| Err(StoreError::Storage("disk".into())))
                .is_err()
        );
        assert!(gc.wait_durable(|| Ok(())).is_ok());
    }
}
