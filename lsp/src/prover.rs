//! The prover thread: runs the analysis proofs off the main loop, which can
//! take seconds on a large policy, so typing, hover and completion never
//! wait for them.
//!
//! Jobs are analyses to complete. Only the newest job per policy matters:
//! older ones are skipped, and a result is used only if its analysis is
//! still the current one when it arrives (the main loop checks).
//!
//! The prover keeps a [`ProofCache`] per policy and proves each new version
//! in two passes:
//! 1. at once, a *sound* pass ([`Reuse::Sound`]): every answer of the last
//!    version that still holds after the edit is kept, so after most edits,
//!    conditions included, it takes milliseconds. Its findings are all true,
//!    but it may name other rules as the ones that shadow a rule than
//!    `routec check` would, or keep a verdict where a fresh search gives up;
//! 2. once no job has come for [`QUIET`], an *exact* pass ([`Reuse::Exact`])
//!    when the sound one carried anything over: its findings are those of
//!    `routec check`, published again only where they differ.
//!
//! Either pass stops as soon as new work is sent (the answers it found stay
//! in the cache), so a long one (the first proofs of a large policy, or
//! after its keyword sets changed) never delays the proofs of a newer
//! version: the newest job of each policy runs next.
//!
//! A closed policy's cache is dropped ([`Work::Forget`]).

use crate::transport::Incoming;
use routec_compiler::ide::{self, ProofCache, Ran, Reuse, Snapshot, Stop};
use routec_compiler::Diagnostic;
use std::collections::BTreeMap;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// How long the jobs must stop coming before an exact pass starts.
pub(crate) const QUIET: Duration = Duration::from_millis(150);

/// One analysis to complete: the root policy's name and its snapshot.
pub(crate) type Job = (String, Arc<Snapshot>);

/// What the main loop asks of the prover.
pub(crate) enum Work {
    Prove(Job),
    /// The policy is no longer open: drop what is kept for it.
    Forget(String),
}

/// The main loop's end of the prover.
pub(crate) struct Prover {
    work: mpsc::Sender<Work>,
    /// Work sent so far: a running pass stops when it changes.
    sent: Arc<AtomicU64>,
}

impl Prover {
    /// Hand `work` to the prover; `false` once the prover has stopped.
    pub(crate) fn send(&self, work: Work) -> bool {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.work.send(work).is_ok()
    }
}

/// What the prover remembers of one policy.
#[derive(Default)]
struct Root {
    cache: ProofCache,
    /// A snapshot whose proofs came from a sound pass, awaiting the exact one.
    unconfirmed: Option<Arc<Snapshot>>,
}

/// Start the prover; it reports finished proofs on `done`.
pub(crate) fn spawn(done: mpsc::Sender<Incoming>) -> io::Result<Prover> {
    let (work, receiver) = mpsc::channel::<Work>();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    std::thread::Builder::new().name("routec-lsp-prover".into()).spawn(move || run(&receiver, &counter, &done))?;
    Ok(Prover { work, sent })
}

fn run(receiver: &mpsc::Receiver<Work>, sent: &Arc<AtomicU64>, done: &mpsc::Sender<Incoming>) {
    let mut roots: BTreeMap<String, Root> = BTreeMap::new();
    // The newest job of each root not yet proved.
    let mut pending: BTreeMap<String, Arc<Snapshot>> = BTreeMap::new();
    // Snapshots no longer needed, freed once the next proofs are out
    // (freeing a large analysis takes milliseconds).
    let mut retired: Vec<Arc<Snapshot>> = Vec::new();
    loop {
        if pending.is_empty() {
            let unconfirmed = roots.values().any(|r| r.unconfirmed.is_some());
            match receiver.recv_timeout(if unconfirmed { QUIET } else { Duration::MAX }) {
                Ok(work) => take(work, &mut pending, &mut roots, &mut retired),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if confirm(&mut roots, sent, done).is_err() {
                        return;
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        loop {
            match receiver.try_recv() {
                Ok(work) => take(work, &mut pending, &mut roots, &mut retired),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        }
        let Some((root, snap)) = pending.pop_first() else { continue };
        let state = roots.entry(root.clone()).or_default();
        let mark = sent.load(Ordering::SeqCst);
        let counter = sent.clone();
        let stop: Stop = Arc::new(move || counter.load(Ordering::SeqCst) != mark);
        let (proofs, ran) = match prove(&snap, &mut state.cache, Reuse::Sound, stop) {
            Proved::Done(proofs, ran) => (proofs, ran),
            // New work came: take it in, then this job again unless a
            // newer version replaced it.
            Proved::Stopped => {
                pending.entry(root).or_insert(snap);
                continue;
            }
            Proved::Panicked => (Vec::new(), Ran::Exact),
        };
        retired.extend(std::mem::replace(&mut state.unconfirmed, (ran == Ran::Sound).then(|| snap.clone())));
        snap.set_proofs(proofs);
        if done.send(Incoming::Proved { root }).is_err() {
            return;
        }
        retired.clear();
    }
}

/// Take in one piece of work from the main loop.
fn take(
    work: Work,
    pending: &mut BTreeMap<String, Arc<Snapshot>>,
    roots: &mut BTreeMap<String, Root>,
    retired: &mut Vec<Arc<Snapshot>>,
) {
    match work {
        Work::Prove((root, snap)) => {
            // A newer version makes the exact pass of an older one moot.
            retired.extend(roots.get_mut(&root).and_then(|state| state.unconfirmed.take()));
            retired.extend(pending.insert(root, snap));
        }
        Work::Forget(root) => {
            retired.extend(pending.remove(&root));
            retired.extend(roots.remove(&root).and_then(|state| state.unconfirmed));
        }
    }
}

/// Run the exact pass for every policy whose proofs came from a sound one,
/// until a new job is sent. `Err` once the main loop is gone.
fn confirm(roots: &mut BTreeMap<String, Root>, sent: &Arc<AtomicU64>, done: &mpsc::Sender<Incoming>) -> Result<(), ()> {
    let mark = sent.load(Ordering::SeqCst);
    let counter = sent.clone();
    let stop: Stop = Arc::new(move || counter.load(Ordering::SeqCst) != mark);
    for (root, state) in roots.iter_mut() {
        let Some(snap) = state.unconfirmed.clone() else { continue };
        let proofs = match prove(&snap, &mut state.cache, Reuse::Exact, stop.clone()) {
            Proved::Done(proofs, _) => proofs,
            // The next quiet spell tries again, unless a newer version
            // replaces this one first.
            Proved::Stopped => return Ok(()),
            // The sound proofs stay published.
            Proved::Panicked => {
                state.unconfirmed = None;
                continue;
            }
        };
        state.unconfirmed = None;
        if snap.set_exact_proofs(proofs) {
            done.send(Incoming::Proved { root: root.clone() }).map_err(|_| ())?;
        }
    }
    Ok(())
}

enum Proved {
    Done(Vec<Diagnostic>, Ran),
    Stopped,
    Panicked,
}

/// The proofs of `snap`. A panic in a proof leaves the cache empty (and
/// the snapshot without proofs: the diagnostics of names and types stay
/// published).
fn prove(snap: &Snapshot, cache: &mut ProofCache, reuse: Reuse, stop: Stop) -> Proved {
    match catch_unwind(AssertUnwindSafe(|| ide::proofs_with(&snap.analysis, cache, reuse, stop))) {
        Ok(Some((proofs, ran))) => Proved::Done(proofs, ran),
        Ok(None) => Proved::Stopped,
        Err(_) => {
            *cache = ProofCache::default();
            Proved::Panicked
        }
    }
}
