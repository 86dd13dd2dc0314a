//! `dashget --check`: the checks of `mp4dump --check` on each file of a mirror as it lands,
//! from the bytes the download had at hand (a file already complete, or resumed from a part,
//! is read from disk once). Downloads finish in any order; each representation's rules see
//! its files in plan order, the facts of a file that came early kept (not its bytes) until
//! the files before it are in.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::facts::{FileFacts, facts_of_bytes, facts_of_file};
use super::{
    Boundaries, CheckEvents, CheckSummary, Finding, ManifestFacts, RepresentationChecker,
    duplicate_ids, misalignments,
};
use crate::discover::{declared_non_mp4, display_path};
use crate::plan::{Plan, RepresentationPlan};
use crate::render::WalkSink;

/// The caller's events and the counts, shared by the representations' checkers.
struct Shared {
    events: Box<dyn CheckEvents>,
    summary: CheckSummary,
}

/// What each representation's checker reports to.
struct Forward(Arc<Mutex<Shared>>);

impl CheckEvents for Forward {
    fn finding(&mut self, finding: &Finding) {
        let mut shared = lock(&self.0);
        shared.summary.count(finding);
        shared.events.finding(finding);
    }
    fn progress(&mut self, _: u64, _: u64) {}
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A file of a representation, arrived before its turn.
enum Arrival {
    Read(u64, FileFacts),
    Missing(String),
}

impl Arrival {
    fn duplicate(&self) -> Arrival {
        match self {
            Arrival::Read(size, facts) => Arrival::Read(*size, facts.clone()),
            Arrival::Missing(reason) => Arrival::Missing(reason.clone()),
        }
    }
}

/// One representation: its checker, its files in plan order, and those arrived early.
struct Stream {
    id: String,
    parts: Vec<Arc<RepresentationPlan>>,
    checker: RepresentationChecker<'static>,
    order: Vec<String>,
    next: usize,
    early: HashMap<String, Arrival>,
}

impl Stream {
    /// Feeds the files whose turn has come.
    fn drain(&mut self) {
        while let Some(path) = self.order.get(self.next) {
            let Some(arrival) = self.early.remove(path) else {
                return;
            };
            match arrival {
                Arrival::Read(size, facts) => self.checker.feed(path, size, facts),
                Arrival::Missing(reason) => {
                    let _ = self.checker.missing_segment(path, &reason);
                }
            }
            self.next += 1;
        }
    }
}

struct State {
    root: PathBuf,
    streams: Vec<Stream>,
    /// Which streams each file (display path) belongs to.
    by_path: HashMap<String, Vec<usize>>,
    manifest: ManifestFacts,
}

/// The checks of a mirror, fed as its files complete.
pub struct MirrorCheck {
    state: Mutex<State>,
    shared: Arc<Mutex<Shared>>,
}

impl MirrorCheck {
    /// Checks for the fMP4 representations of `plan` (WebM, TS and text are not checked), whose
    /// files are under `root` at their plan paths; `manifest` is the manifest's bytes.
    /// Manifest-level findings (`duplicate-id`) are reported at once.
    pub fn new(
        plan: &Plan,
        manifest: &[u8],
        manifest_name: &str,
        root: &Path,
        events: Box<dyn CheckEvents>,
    ) -> MirrorCheck {
        let facts = ManifestFacts::read(manifest);
        let shared = Arc::new(Mutex::new(Shared {
            events,
            summary: CheckSummary {
                manifest: root.join(manifest_name),
                ..CheckSummary::default()
            },
        }));
        {
            let mut forward = Forward(shared.clone());
            for finding in duplicate_ids(&plan.representations, manifest_name) {
                forward.finding(&finding);
            }
        }
        let mut ids: Vec<&str> = Vec::new();
        for rep in &plan.representations {
            if !ids.contains(&rep.id.as_str()) {
                ids.push(&rep.id);
            }
        }
        let mut streams = Vec::new();
        let mut by_path: HashMap<String, Vec<usize>> = HashMap::new();
        let mut skipped = Vec::new();
        for id in ids {
            let parts: Vec<Arc<RepresentationPlan>> = plan
                .representations
                .iter()
                .filter(|r| r.id == id)
                .map(|r| Arc::new(r.clone()))
                .collect();
            if let Some(reason) = declared_non_mp4(&parts[0]) {
                skipped.push((id.to_string(), reason));
                continue;
            }
            let mut seen = HashSet::new();
            let order: Vec<String> = parts
                .iter()
                .flat_map(|p| p.segments())
                .map(|s| display_path(&s.path))
                .filter(|p| seen.insert(p.clone()))
                .collect();
            for path in &order {
                by_path.entry(path.clone()).or_default().push(streams.len());
            }
            let checker = RepresentationChecker::new(
                id,
                &parts,
                &facts,
                Box::new(Forward(shared.clone())),
            );
            streams.push(Stream {
                id: id.to_string(),
                parts,
                checker,
                order,
                next: 0,
                early: HashMap::new(),
            });
        }
        {
            let mut s = lock(&shared);
            s.summary.representations = streams.len() as u64;
            s.summary.skipped = skipped;
        }
        MirrorCheck {
            state: Mutex::new(State {
                root: root.to_path_buf(),
                streams,
                by_path,
                manifest: facts,
            }),
            shared,
        }
    }

    /// A file is complete at `path` (relative to the root); `body` its bytes when the download
    /// held them (else it is read from disk, once).
    pub fn file_done(&self, path: &Path, body: Option<&[u8]>) {
        let key = display_path(path);
        let mut state = lock(&self.state);
        let Some(streams) = state.by_path.get(&key).cloned() else {
            return;
        };
        let arrival = match body {
            Some(bytes) => Arrival::Read(bytes.len() as u64, facts_of_bytes(bytes)),
            None => match facts_of_file(&state.root.join(path)) {
                Ok((size, facts)) => Arrival::Read(size, facts),
                Err(e) => Arrival::Missing(e.to_string()),
            },
        };
        lock(&self.shared).summary.segments += 1;
        self.arrive(&mut state, &key, &streams, arrival);
    }

    /// A file failed for good: for the checks, a missing segment.
    pub fn file_failed(&self, path: &Path, reason: &str) {
        let key = display_path(path);
        let mut state = lock(&self.state);
        let Some(streams) = state.by_path.get(&key).cloned() else {
            return;
        };
        self.arrive(
            &mut state,
            &key,
            &streams,
            Arrival::Missing(format!("not downloaded: {reason}")),
        );
    }

    fn arrive(&self, state: &mut State, key: &str, streams: &[usize], arrival: Arrival) {
        let mut arrival = Some(arrival);
        for (k, &s) in streams.iter().enumerate() {
            let this = if k + 1 == streams.len() {
                arrival.take()
            } else {
                arrival.as_ref().map(Arrival::duplicate)
            };
            if let Some(this) = this {
                let stream = &mut state.streams[s];
                stream.early.insert(key.to_string(), this);
                stream.drain();
            }
        }
    }

    /// After the last file: the checks over whole representations and across them. Files that
    /// neither arrived nor failed (an interrupted run) are not reported.
    pub fn finish(self) -> CheckSummary {
        let state = self.state.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut starts: BTreeMap<(usize, usize), Vec<(String, Boundaries)>> = BTreeMap::new();
        for stream in state.streams {
            let Stream {
                id, parts, checker, ..
            } = stream;
            for b in checker.conclude() {
                if let Some(plan) = parts.get(b.part) {
                    starts
                        .entry((plan.period_index, plan.adaptation_set_index))
                        .or_default()
                        .push((id.clone(), b));
                }
            }
        }
        let mut forward = Forward(self.shared.clone());
        for ((period, set), reps) in &starts {
            let aligned = reps.first().is_some_and(|(id, _)| {
                state.manifest.representation(*period, *set, id).promises.aligned
            });
            if aligned {
                for finding in misalignments(reps) {
                    forward.finding(&finding);
                }
            }
        }
        drop(forward);
        let shared = Arc::try_unwrap(self.shared)
            .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .map(|s| s.summary);
        match shared {
            Ok(summary) => summary,
            Err(arc) => lock(&arc).summary.clone(),
        }
    }
}
