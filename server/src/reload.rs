//! Hot reload: the served policy and how it is replaced while the service
//! runs. A new version is loaded on SIGHUP, on `POST /v1/admin/reload`
//! ([`Reloader::reload`]), and when the policy file, a file it imports or its
//! classifier model changes on disk (watched through their directories,
//! debounced, following the import list of the version on disk now).
//!
//! A version is compiled with its proofs on a blocking thread, recorded in
//! the store's `policy_versions`, and swapped in whole: handlers take an
//! `Arc<Policy>` per request ([`Reloader::current`]), so a request in flight
//! finishes on the version it started with. A version that does not compile
//! is refused, the old one keeps serving, and the error is logged, counted
//! in the metrics and shown by [`Reloader::info`] (`GET /v1/policy`,
//! `/readyz`) until a later reload succeeds.

use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use arc_swap::ArcSwap;
use routec_runtime::{Policy, PolicyError, Proofs};
use routec_store::Store;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Changes closer together than this are one change (an editor writes a
/// temporary file, renames it over the policy and touches it again).
pub const DEBOUNCE: Duration = Duration::from_millis(200);
/// At most this many files are followed through imports (a cycle or a
/// runaway generator must not make the watcher read forever).
const MAX_WATCHED_FILES: usize = 256;
/// At most this many diagnostics are kept with a refused version.
const MAX_DIAGNOSTICS: usize = 20;

/// What asked for a version to be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The version loaded when the service started.
    Start,
    /// SIGHUP.
    Signal,
    /// `POST /v1/admin/reload`.
    Api,
    /// A watched file changed.
    File,
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Trigger::Start => "start",
            Trigger::Signal => "signal",
            Trigger::Api => "api",
            Trigger::File => "file",
        })
    }
}

/// A version that was refused; the previous one kept serving.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReloadFailure {
    pub at: jiff::Timestamp,
    pub trigger: Trigger,
    pub message: String,
    /// `file:line:column: error[code]: message`, the first few.
    pub diagnostics: Vec<String>,
}

impl std::fmt::Display for ReloadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        for d in &self.diagnostics {
            write!(f, "\n  {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ReloadFailure {}

/// The loaded version and the reload history: the body of `GET /v1/policy`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PolicyInfo {
    pub name: String,
    /// The `version` the policy declares.
    pub version: u64,
    /// SHA-256 of its source files (as in every decision's `policy.hash`).
    pub hash: String,
    pub path: String,
    pub loaded_at: jiff::Timestamp,
    /// What loaded it.
    pub trigger: Trigger,
    /// Successful reloads since start (the start itself not counted).
    pub reloads: u64,
    /// Refused versions since start.
    pub reload_failures: u64,
    /// Why the latest reload was refused; `None` once a later one succeeded.
    pub last_reload_error: Option<ReloadFailure>,
}

/// How a policy is (re)loaded.
#[derive(Clone, Debug)]
pub struct ReloadOptions {
    /// [`Proofs::Check`] in the service: a version whose proofs fail is refused.
    pub proofs: Proofs,
}

impl Default for ReloadOptions {
    fn default() -> ReloadOptions {
        ReloadOptions { proofs: Proofs::Check }
    }
}

/// The served policy, swapped whole on reload. Shared by every handler.
pub struct Reloader {
    path: PathBuf,
    options: ReloadOptions,
    store: Store,
    metrics: Arc<Metrics>,
    policy: ArcSwap<Policy>,
    info: Mutex<PolicyInfo>,
    /// One reload at a time: two racing reloads could otherwise swap in the older version last.
    reloading: tokio::sync::Mutex<()>,
}

/// Why the service could not start with its policy.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Policy(ReloadFailure),
    #[error("cannot record the policy version in the decision log: {0}")]
    Store(routec_store::StoreError),
}

impl Reloader {
    /// Load the policy at `path` (with proofs, off the async threads) and
    /// record its version. Reloads are counted in `metrics`, which also
    /// carries the served policy's hash.
    pub async fn start(
        path: &Path,
        options: ReloadOptions,
        store: Store,
        metrics: Arc<Metrics>,
    ) -> Result<Arc<Reloader>, StartError> {
        let policy = compile(path, &options).await.map_err(|f| StartError::Policy(f.at(Trigger::Start)))?;
        let loaded_at = jiff::Timestamp::now();
        record_version(&store, &policy, loaded_at).await.map_err(StartError::Store)?;
        let info = PolicyInfo {
            name: policy.name().to_string(),
            version: policy.version(),
            hash: policy.hash().to_string(),
            path: path.display().to_string(),
            loaded_at,
            trigger: Trigger::Start,
            reloads: 0,
            reload_failures: 0,
            last_reload_error: None,
        };
        metrics.policy_loaded(&info.name, info.version, &info.hash);
        Ok(Arc::new(Reloader {
            path: path.to_path_buf(),
            options,
            store,
            metrics,
            policy: ArcSwap::from_pointee(policy),
            info: Mutex::new(info),
            reloading: tokio::sync::Mutex::new(()),
        }))
    }

    /// The version to decide with. Keep the `Arc` for the whole request.
    pub fn current(&self) -> Arc<Policy> {
        self.policy.load_full()
    }

    /// The policy file the service was started with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The served version and the last reload error.
    pub fn info(&self) -> PolicyInfo {
        self.info.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Load the version on disk now and swap it in; on failure the served
    /// version stays and the failure is remembered. `POST /v1/admin/reload`
    /// calls this and answers with the result.
    pub async fn reload(&self, trigger: Trigger) -> Result<PolicyInfo, ReloadFailure> {
        let _one_at_a_time = self.reloading.lock().await;
        let started = Instant::now();
        let result = match compile(&self.path, &self.options).await {
            Ok(policy) => {
                let loaded_at = jiff::Timestamp::now();
                match record_version(&self.store, &policy, loaded_at).await {
                    Ok(()) => Ok((policy, loaded_at)),
                    Err(e) => Err(Failure {
                        message: format!("cannot record the policy version in the decision log: {e}"),
                        diagnostics: Vec::new(),
                    }),
                }
            }
            Err(failure) => Err(failure),
        };
        match result {
            Ok((policy, loaded_at)) => {
                let (name, version, hash) = (policy.name().to_string(), policy.version(), policy.hash().to_string());
                self.policy.store(Arc::new(policy));
                self.metrics.reloaded(true);
                self.metrics.policy_loaded(&name, version, &hash);
                let info = self.update_info(|info| {
                    info.name = name;
                    info.version = version;
                    info.hash = hash;
                    info.loaded_at = loaded_at;
                    info.trigger = trigger;
                    info.reloads += 1;
                    info.last_reload_error = None;
                });
                tracing::info!(
                    %trigger,
                    policy = %info.name,
                    version = info.version,
                    hash = %info.hash,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "policy reloaded"
                );
                Ok(info)
            }
            Err(failure) => {
                let failure = failure.at(trigger);
                self.metrics.reloaded(false);
                self.update_info(|info| {
                    info.reload_failures += 1;
                    info.last_reload_error = Some(failure.clone());
                });
                tracing::error!(%trigger, error = %failure, "policy reload refused; the served version stays");
                Err(failure)
            }
        }
    }

    fn update_info(&self, change: impl FnOnce(&mut PolicyInfo)) -> PolicyInfo {
        let mut info = self.info.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut info);
        info.clone()
    }
}

/// A failure before it is stamped with its time and trigger.
struct Failure {
    message: String,
    diagnostics: Vec<String>,
}

impl Failure {
    fn at(self, trigger: Trigger) -> ReloadFailure {
        ReloadFailure { at: jiff::Timestamp::now(), trigger, message: self.message, diagnostics: self.diagnostics }
    }
}

async fn compile(path: &Path, options: &ReloadOptions) -> Result<Policy, Failure> {
    let owned = path.to_path_buf();
    let proofs = options.proofs;
    // Proofs can take seconds on a large policy: never on the threads that serve requests.
    let joined = tokio::task::spawn_blocking(move || Policy::load_with(&owned, proofs)).await;
    match joined {
        Ok(Ok(policy)) => Ok(policy),
        Ok(Err(e)) => Err(describe(path, e)),
        Err(e) => {
            Err(Failure { message: format!("loading `{}` failed: {e}", path.display()), diagnostics: Vec::new() })
        }
    }
}

fn describe(path: &Path, error: PolicyError) -> Failure {
    match error {
        PolicyError::Compile(analysis) => {
            let errors: Vec<_> = analysis.diagnostics.iter().filter(|d| d.is_error()).collect();
            let diagnostics = errors
                .iter()
                .take(MAX_DIAGNOSTICS)
                .map(|d| {
                    let place = d.span().map(|span| {
                        let file = analysis.db.file(span.file);
                        let lc = file.lines.line_col(span.start as usize);
                        format!("{}:{}:{}: ", file.name, lc.line + 1, lc.col_chars)
                    });
                    format!("{}error[{}]: {}", place.unwrap_or_default(), d.code.as_str(), d.message)
                })
                .collect();
            Failure {
                message: format!("`{}` does not compile: {} error(s)", path.display(), errors.len()),
                diagnostics,
            }
        }
        other => Failure { message: other.to_string(), diagnostics: Vec::new() },
    }
}

/// Record a version in the store's `policy_versions` (its hash is the key:
/// loading the same version again writes nothing), so every decision's
/// `policy_hash` can be looked up there.
async fn record_version(
    store: &Store,
    policy: &Policy,
    loaded_at: jiff::Timestamp,
) -> Result<(), routec_store::StoreError> {
    // Every file of the version, imports included, so an audit reads exactly what decided.
    let sources: BTreeMap<&str, &str> = policy.source_files().collect();
    store
        .record_policy_version(routec_store::PolicyVersion {
            policy_hash: policy.hash().to_string(),
            policy_name: policy.name().to_string(),
            version: policy.version(),
            loaded_at,
            source: serde_json::to_string(&sources).ok(),
        })
        .await
}

/// The files a change of which reloads the policy at `root`: the policy,
/// what it imports (followed through the text on disk, so a version that
/// does not compile is still followed, and a file it starts importing is
/// watched at once), and its classifier model when `policy` (the loaded
/// version) has one. Absolute, normalised paths; missing files included, so
/// creating one is noticed.
pub fn watch_list(root: &Path, policy: Option<&Policy>) -> BTreeSet<PathBuf> {
    let absolute = |p: &Path| {
        PathBuf::from(routec_compiler::workspace::normalise(
            &std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()),
        ))
    };
    let root = absolute(root);
    let mut files = BTreeSet::new();
    let mut pending = vec![root.clone()];
    while let Some(path) = pending.pop() {
        if files.len() >= MAX_WATCHED_FILES || !files.insert(path.clone()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let importer = path.display().to_string();
        for import in routec_compiler::workspace::imports(&text) {
            pending.push(PathBuf::from(routec_compiler::workspace::resolve_import(&importer, &import)));
        }
    }
    if let Some(classifier) = policy.and_then(|p| p.classifier_model()) {
        files.insert(absolute(&routec_compiler::workspace::relative_to(&root.display().to_string(), classifier)));
    }
    files
}

/// The background tasks that reload: on SIGHUP and on file changes.
pub struct Watchers {
    pub signal: tokio::task::JoinHandle<()>,
    pub files: tokio::task::JoinHandle<()>,
}

/// Install the SIGHUP handler now (before the service announces itself, so
/// an early SIGHUP reloads instead of killing the process) and start
/// watching the policy's files. Both stop at `shutdown`.
pub fn spawn(reloader: Arc<Reloader>, shutdown: Shutdown) -> std::io::Result<Watchers> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup())?;
    let on_signal = reloader.clone();
    let stop = shutdown.clone();
    let signal = tokio::spawn(async move {
        let stopped = stop.wait();
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                () = &mut stopped => return,
                got = hangups.recv() => {
                    if got.is_none() {
                        return;
                    }
                    tracing::info!("SIGHUP: reloading the policy");
                    // The outcome is logged and kept in the reloader's info.
                    let _ = on_signal.reload(Trigger::Signal).await;
                }
            }
        }
    });
    let files = tokio::spawn(watch_files(reloader, shutdown));
    Ok(Watchers { signal, files })
}

async fn watch_files(reloader: Arc<Reloader>, shutdown: Shutdown) {
    let (events, mut changes) = tokio::sync::mpsc::unbounded_channel::<notify::Event>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            // The receiver only goes away when the task ends.
            let _ = events.send(event);
        }
    });
    let mut watcher = match watcher {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the policy files; reload with SIGHUP or the API");
            return;
        }
    };
    let mut files = BTreeSet::new();
    let mut dirs = BTreeSet::new();
    follow(&mut watcher, &mut files, &mut dirs, watch_list(reloader.path(), Some(&reloader.current())));
    let stopped = shutdown.wait();
    tokio::pin!(stopped);
    loop {
        let event = tokio::select! {
            () = &mut stopped => return,
            event = changes.recv() => event,
        };
        let Some(event) = event else { return };
        if !is_change(&event) || !event.paths.iter().any(|p| files.contains(&normalised(p))) {
            continue;
        }
        // Debounce: wait until the files have been quiet for a while.
        loop {
            tokio::select! {
                () = &mut stopped => return,
                more = changes.recv() => if more.is_none() { return },
                () = tokio::time::sleep(DEBOUNCE) => break,
            }
        }
        tracing::info!("a policy file changed: reloading");
        // The outcome is logged and kept in the reloader's info.
        let _ = reloader.reload(Trigger::File).await;
        // Follow the import list of the version on disk now, loaded or not:
        // fixing a broken import must be noticed too. (A SIGHUP or API reload
        // cannot change the list without a file change this task sees.)
        follow(&mut watcher, &mut files, &mut dirs, watch_list(reloader.path(), Some(&reloader.current())));
    }
}

fn is_change(event: &notify::Event) -> bool {
    use notify::EventKind;
    // Reading the files to reload them is an access, and must not trigger another reload.
    matches!(event.kind, EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_))
}

fn normalised(path: &Path) -> PathBuf {
    PathBuf::from(routec_compiler::workspace::normalise(path))
}

/// Watch the directories of `wanted` (a file replaced by rename is only
/// seen through its directory), and stop watching those no longer needed.
fn follow(
    watcher: &mut impl notify::Watcher,
    files: &mut BTreeSet<PathBuf>,
    dirs: &mut BTreeSet<PathBuf>,
    wanted: BTreeSet<PathBuf>,
) {
    let wanted_dirs: BTreeSet<PathBuf> = wanted.iter().filter_map(|f| f.parent().map(Path::to_path_buf)).collect();
    for gone in dirs.difference(&wanted_dirs) {
        let _ = watcher.unwatch(gone);
    }
    let mut watched = BTreeSet::new();
    for dir in &wanted_dirs {
        if dirs.contains(dir) {
            watched.insert(dir.clone());
            continue;
        }
        match watcher.watch(dir, notify::RecursiveMode::NonRecursive) {
            Ok(()) => {
                watched.insert(dir.clone());
            }
            // A directory that does not exist yet is tried again at the next reload.
            Err(e) => tracing::debug!(dir = %dir.display(), error = %e, "cannot watch"),
        }
    }
    *dirs = watched;
    *files = wanted;
}

#[cfg(test)]
mod tests {
    use super::*;
    use routec_store::StoreOptions;

    const POLICY: &str = r#"policy "demo" version 1
import "teams.route"
ticket { subject: text  tier: free | pro }
rule invoices when subject has ["invoice", "refund"] -> billing
otherwise -> general
"#;
    const TEAMS: &str = "queue general\nteam billing\n";

    struct Site {
        dir: tempfile::TempDir,
        store: Store,
        metrics: Arc<Metrics>,
    }

    impl Site {
        async fn new() -> Site {
            let dir = tempfile::tempdir().expect("a temporary directory");
            std::fs::write(dir.path().join("policy.route"), POLICY).expect("write the policy");
            std::fs::write(dir.path().join("teams.route"), TEAMS).expect("write the module");
            let url = format!("sqlite:{}", dir.path().join("routec.db").display());
            let store = Store::open(&url, StoreOptions::default()).await.expect("the store opens");
            Site { dir, store, metrics: Arc::new(Metrics::new()) }
        }

        fn policy(&self) -> PathBuf {
            self.dir.path().join("policy.route")
        }

        fn write(&self, name: &str, text: &str) {
            // As editors do: a new file renamed over the old one.
            let tmp = self.dir.path().join(format!(".{name}.tmp"));
            std::fs::write(&tmp, text).expect("write");
            std::fs::rename(&tmp, self.dir.path().join(name)).expect("rename");
        }

        async fn reloader(&self) -> Arc<Reloader> {
            Reloader::start(&self.policy(), ReloadOptions::default(), self.store.clone(), self.metrics.clone())
                .await
                .expect("the first version loads")
        }
    }

    #[tokio::test]
    async fn a_good_version_is_swapped_in_and_recorded_while_old_requests_keep_theirs() {
        let site = Site::new().await;
        let reloader = site.reloader().await;
        let in_flight = reloader.current();
        let first = reloader.info();
        assert_eq!((first.version, first.trigger, first.reloads), (1, Trigger::Start, 0));

        site.write("policy.route", &POLICY.replace("version 1", "version 2"));
        let info = reloader.reload(Trigger::Api).await.expect("the new version loads");
        assert_eq!((info.version, info.trigger, info.reloads, info.reload_failures), (2, Trigger::Api, 1, 0));
        assert_ne!(info.hash, first.hash);
        assert_eq!(reloader.current().hash(), info.hash);
        assert_eq!(in_flight.hash(), first.hash, "a request's Arc keeps the version it started with");

        let versions = site.store.policy_versions().await.expect("versions");
        let hashes: BTreeSet<&str> = versions.iter().map(|v| v.policy_hash.as_str()).collect();
        assert_eq!(hashes, BTreeSet::from([first.hash.as_str(), info.hash.as_str()]));
        let sources = versions.iter().find_map(|v| v.source.clone()).expect("the sources are kept");
        assert!(sources.contains("teams.route") && sources.contains("team billing"), "{sources}");
        let metrics = site.metrics.render();
        assert!(metrics.contains(r#"routec_policy_reloads_total{result="success"} 1"#), "{metrics}");
        assert!(metrics.contains(&format!(r#"hash="{}""#, info.hash)), "{metrics}");
    }

    #[tokio::test]
    async fn a_broken_version_is_refused_and_the_old_one_keeps_serving() {
        let site = Site::new().await;
        let reloader = site.reloader().await;
        let first = reloader.info();

        site.write("teams.route", "queue general\n");
        let failure = reloader.reload(Trigger::Signal).await.expect_err("billing is gone");
        assert_eq!(failure.trigger, Trigger::Signal);
        assert!(failure.message.contains("does not compile"), "{failure}");
        assert!(failure.diagnostics.iter().any(|d| d.contains("billing")), "{failure}");
        assert_eq!(reloader.current().hash(), first.hash);
        let info = reloader.info();
        assert_eq!((info.hash.as_str(), info.reloads, info.reload_failures), (first.hash.as_str(), 0, 1));
        assert_eq!(info.last_reload_error, Some(failure));
        assert!(site.metrics.render().contains(r#"routec_policy_reloads_total{result="failure"} 1"#));

        // Fixed: served again, and the error is forgotten.
        site.write("teams.route", TEAMS);
        let info = reloader.reload(Trigger::Api).await.expect("fixed");
        assert_eq!(info.last_reload_error, None);
        assert_eq!(info.reload_failures, 1);
    }

    #[tokio::test]
    async fn a_policy_that_does_not_compile_cannot_start() {
        let site = Site::new().await;
        site.write("policy.route", "policy \"demo\" version 1\nrule x when -> nowhere\n");
        let err = Reloader::start(&site.policy(), ReloadOptions::default(), site.store.clone(), site.metrics.clone())
            .await
            .err()
            .expect("refused");
        assert!(
            matches!(&err, StartError::Policy(f) if f.trigger == Trigger::Start && !f.diagnostics.is_empty()),
            "{err}"
        );
    }

    #[test]
    fn the_watch_list_follows_imports_through_the_text_on_disk() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().join("policy.route");
        std::fs::create_dir(dir.path().join("shared")).expect("mkdir");
        std::fs::write(&root, "policy \"p\" version 1\nimport \"shared/teams.route\"\n").expect("write");
        // A module importing back (a cycle) and a file that does not exist yet.
        std::fs::write(dir.path().join("shared/teams.route"), "import \"../policy.route\"\nimport \"hours.route\"\n")
            .expect("write");
        let list = watch_list(&root, None);
        let names: Vec<String> =
            list.iter().map(|p| p.strip_prefix(dir.path()).unwrap_or(p).display().to_string()).collect();
        assert_eq!(names, ["policy.route", "shared/hours.route", "shared/teams.route"]);
        assert!(list.iter().all(|p| p.is_absolute()));
    }

    #[test]
    fn the_watch_list_has_the_classifier_model() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/saas-b2b/policy.route");
        let policy = Policy::load_with(&example, Proofs::Skip).expect("the example loads");
        let list = watch_list(&example, Some(&policy));
        assert!(list.iter().any(|p| p.ends_with("examples/saas-b2b/models/intent.model")), "{list:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_change_on_disk_reloads_and_stops_at_shutdown() {
        let site = Site::new().await;
        let reloader = site.reloader().await;
        let shutdown = Shutdown::new();
        let watchers = spawn(reloader.clone(), shutdown.clone()).expect("the watchers start");
        // Inotify watches are in place once `spawn`'s task has run: give it a moment, bounded.
        tokio::time::sleep(Duration::from_millis(100)).await;
        // A change in the imported module, not the policy file.
        site.write("teams.route", "queue general\nteam billing\nteam sales\n");
        let mut waited = Duration::ZERO;
        while reloader.info().reloads == 0 && waited < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(25)).await;
            waited += Duration::from_millis(25);
        }
        let info = reloader.info();
        assert_eq!((info.reloads, info.trigger), (1, Trigger::File), "{info:?}");
        // Reading the files to reload them is not a change: no second reload.
        tokio::time::sleep(DEBOUNCE * 3).await;
        assert_eq!(reloader.info().reloads, 1);
        shutdown.trigger();
        watchers.files.await.expect("the watcher stops");
        watchers.signal.await.expect("the signal task stops");
    }
}
