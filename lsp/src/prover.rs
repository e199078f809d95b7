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
//!    `routec check` would, or keep a verdict where a fresh search gives up.
//!    When the last proofs of the policy were slow ([`CHEAP`]), it waits
//!    until no job has come for [`QUIET`], so a burst of typing does not
//!    start long proofs that the next keystroke makes stale;
//! 2. once no job has come for [`QUIET`], an *exact* pass ([`Reuse::Exact`])
//!    when the sound one carried anything over: its findings are those of
//!    `routec check`, published again only where they differ. It stops as
//!    soon as a new job is sent, and resumes after the next quiet spell.
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
use std::time::{Duration, Instant};

/// How long the jobs must stop coming before slow proofs start.
pub(crate) const QUIET: Duration = Duration::from_millis(150);
/// Proofs that took at most this long last time start without waiting.
pub(crate) const CHEAP: Duration = Duration::from_millis(100);

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
    /// Work sent so far: an exact pass stops when it changes.
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
    /// How long its last sound pass took (what the next one will cost);
    /// `None` before the first.
    last: Option<Duration>,
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
    loop {
        let unconfirmed = roots.values().any(|r| r.unconfirmed.is_some());
        let first = match receiver.recv_timeout(if unconfirmed { QUIET } else { Duration::MAX }) {
            Ok(work) => work,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if confirm(&mut roots, sent, done).is_err() {
                    return;
                }
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        // Keep only the newest job of each root: of the jobs queued now
        // when the proofs are cheap, else once the jobs stop coming.
        let mut newest: BTreeMap<String, Arc<Snapshot>> = BTreeMap::new();
        let mut next = Ok(first);
        loop {
            match next {
                Ok(Work::Prove((root, snap))) => {
                    newest.insert(root, snap);
                }
                Ok(Work::Forget(root)) => {
                    newest.remove(&root);
                    roots.remove(&root);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            let cheap = newest.keys().all(|r| roots.get(r).and_then(|r| r.last).is_some_and(|t| t <= CHEAP));
            next = if cheap {
                receiver.try_recv().map_err(|e| match e {
                    mpsc::TryRecvError::Empty => mpsc::RecvTimeoutError::Timeout,
                    mpsc::TryRecvError::Disconnected => mpsc::RecvTimeoutError::Disconnected,
                })
            } else {
                receiver.recv_timeout(QUIET)
            };
        }
        for (root, snap) in newest {
            let state = roots.entry(root.clone()).or_default();
            // Freed once the new proofs are out.
            let retired = state.unconfirmed.take();
            let started = Instant::now();
            let never: Stop = Arc::new(|| false);
            let (proofs, ran) = match prove(&snap, &mut state.cache, Reuse::Sound, never) {
                Proved::Done(proofs, ran) => (proofs, ran),
                Proved::Stopped | Proved::Panicked => (Vec::new(), Ran::Exact),
            };
            state.last = Some(started.elapsed());
            snap.set_proofs(proofs);
            if ran == Ran::Sound {
                state.unconfirmed = Some(snap);
            }
            if done.send(Incoming::Proved { root }).is_err() {
                return;
            }
            drop(retired);
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
