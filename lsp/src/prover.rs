//! The prover thread: runs the analysis proofs (`ide::proofs`) off the
//! main loop, which can take seconds on a large policy, so typing, hover
//! and completion never wait for them.
//!
//! Jobs are analyses to complete. Only the newest job per policy matters:
//! a job starts once no newer one has arrived for [`QUIET`] (so a burst of
//! typing does not start proofs that the next keystroke makes stale, and
//! does not take a core away from the main loop), older ones are skipped,
//! and a result is used only if its analysis is still the current one when
//! it arrives (the main loop checks). A proof that is already running
//! cannot be interrupted; it finishes and its result is dropped if stale.

use crate::transport::Incoming;
use routec_compiler::ide::{self, Snapshot};
use std::collections::BTreeMap;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// How long the jobs must stop coming before the proofs start.
pub(crate) const QUIET: Duration = Duration::from_millis(150);

/// One analysis to complete: the root policy's name and its snapshot.
pub(crate) type Job = (String, Arc<Snapshot>);

/// Start the prover; it reports finished jobs on `done`.
pub(crate) fn spawn(done: mpsc::Sender<Incoming>) -> io::Result<mpsc::Sender<Job>> {
    let (jobs, receiver) = mpsc::channel::<Job>();
    std::thread::Builder::new().name("routec-lsp-prover".into()).spawn(move || {
        while let Ok(first) = receiver.recv() {
            // Keep only the newest job of each root, once the jobs stop coming.
            let mut newest: BTreeMap<String, Arc<Snapshot>> = BTreeMap::new();
            newest.insert(first.0, first.1);
            loop {
                match receiver.recv_timeout(QUIET) {
                    Ok((root, snap)) => {
                        newest.insert(root, snap);
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
            for (root, snap) in newest {
                // A panic in a proof leaves the snapshot without proofs; the
                // diagnostics of names and types stay published.
                let proofs = catch_unwind(AssertUnwindSafe(|| ide::proofs(&snap.analysis))).unwrap_or_default();
                snap.set_proofs(proofs);
                if done.send(Incoming::Proved { root }).is_err() {
                    return;
                }
            }
        }
    })?;
    Ok(jobs)
}
