//! The prover thread: runs the analysis proofs (`ide::proofs`) off the
//! main loop, which can take seconds on a large policy, so typing, hover
//! and completion never wait for them.
//!
//! Jobs are analyses to complete. Only the newest job per policy matters:
//! older ones are skipped, and a result is used only if its analysis is
//! still the current one when it arrives (the main loop checks). A proof
//! that is already running cannot be interrupted; it finishes and its
//! result is dropped if stale.
//!
//! The prover keeps a [`ProofCache`] per policy, so after an edit only the
//! searches the edit affects run again, and usually the proofs take a few
//! milliseconds. When the last proofs of a policy were that cheap ([`CHEAP`])
//! a job starts at once, so the complete diagnostics follow the first ones
//! immediately; otherwise it starts once no newer job has arrived for
//! [`QUIET`], so a burst of typing does not start long proofs that the next
//! keystroke makes stale, and they do not take a core away from the main loop.

use crate::transport::Incoming;
use routec_compiler::ide::{self, ProofCache, Snapshot};
use std::collections::BTreeMap;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How long the jobs must stop coming before slow proofs start.
pub(crate) const QUIET: Duration = Duration::from_millis(150);
/// Proofs that took at most this long last time start without waiting.
pub(crate) const CHEAP: Duration = Duration::from_millis(100);

/// What the prover remembers of one policy.
#[derive(Default)]
struct Root {
    cache: ProofCache,
    /// How long its last proofs took; `None` before the first.
    last: Option<Duration>,
}

/// One analysis to complete: the root policy's name and its snapshot.
pub(crate) type Job = (String, Arc<Snapshot>);

/// Start the prover; it reports finished jobs on `done`.
pub(crate) fn spawn(done: mpsc::Sender<Incoming>) -> io::Result<mpsc::Sender<Job>> {
    let (jobs, receiver) = mpsc::channel::<Job>();
    std::thread::Builder::new().name("routec-lsp-prover".into()).spawn(move || {
        let mut roots: BTreeMap<String, Root> = BTreeMap::new();
        while let Ok(first) = receiver.recv() {
            // Keep only the newest job of each root: of the jobs queued now
            // when the proofs are cheap, else once the jobs stop coming.
            let mut newest: BTreeMap<String, Arc<Snapshot>> = BTreeMap::new();
            newest.insert(first.0, first.1);
            loop {
                let cheap = newest.keys().all(|r| roots.get(r).and_then(|r| r.last).is_some_and(|t| t <= CHEAP));
                let next = if cheap {
                    receiver.try_recv().map_err(|e| match e {
                        mpsc::TryRecvError::Empty => mpsc::RecvTimeoutError::Timeout,
                        mpsc::TryRecvError::Disconnected => mpsc::RecvTimeoutError::Disconnected,
                    })
                } else {
                    receiver.recv_timeout(QUIET)
                };
                match next {
                    Ok((root, snap)) => {
                        newest.insert(root, snap);
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
            for (root, snap) in newest {
                let state = roots.entry(root.clone()).or_default();
                let started = Instant::now();
                // A panic in a proof leaves the snapshot without proofs (the
                // diagnostics of names and types stay published) and the
                // cache empty.
                let cache = &mut state.cache;
                let proofs = catch_unwind(AssertUnwindSafe(|| ide::proofs_cached(&snap.analysis, cache)));
                let proofs = proofs.unwrap_or_else(|_| {
                    state.cache = ProofCache::default();
                    Vec::new()
                });
                state.last = Some(started.elapsed());
                snap.set_proofs(proofs);
                if done.send(Incoming::Proved { root }).is_err() {
                    return;
                }
            }
        }
    })?;
    Ok(jobs)
}
