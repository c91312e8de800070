//! Reading a git repository with gitoxide: refs, commits, tags, the index,
//! the HEAD tree, and every blob reachable from any ref (for the secret scan).

use crate::secrets::{SecretHit, SecretScanner};
use gix::hashtable::HashSet as OidSet;
use gix::objs::Find;
use gix::ObjectId;
use portcullis_model::Diagnostic;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Blobs larger than this are not scanned for secrets.
pub const MAX_BLOB: u64 = 2 * 1024 * 1024;
/// At most this many commits are read (bounds memory on huge histories).
pub const MAX_COMMITS: usize = 2_000_000;
/// Commits counted as "recent" for signing and review ratios.
pub const RECENT: usize = 100;

/// One commit, as far as the checks need it.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    /// Full hex id.
    pub id: String,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// Number of parents.
    pub parents: usize,
    /// Has a `gpgsig` (or `gpgsig-sha256`) header.
    pub signed: bool,
    /// Carries a review trail: a merge, `Reviewed-by:`/`Co-authored-by:`/
    /// `Approved-by:` trailers, or a pull/merge-request merge message.
    pub reviewed: bool,
    /// First line of the message.
    pub summary: String,
    tree: ObjectId,
    first_parent: Option<ObjectId>,
    oid: ObjectId,
}

/// One tag.
#[derive(Debug, Clone)]
pub struct TagInfo {
    /// The tag name (without `refs/tags/`).
    pub name: String,
    /// The tag object's id (annotated) or the target's id (lightweight).
    pub id: String,
    /// Annotated (a tag object) rather than lightweight.
    pub annotated: bool,
    /// The tag object carries a signature.
    pub signed: bool,
}

/// A secret found in a blob of the history.
#[derive(Debug, Clone)]
pub struct HistorySecret {
    /// What was found, where in the file, redacted.
    pub hit: SecretHit,
    /// Path of the file in the first commit that held the blob.
    pub path: String,
    /// The blob id.
    pub blob: String,
    /// The first commit (oldest by committer time) whose tree holds the blob.
    pub commit: String,
    /// The blob is still in the HEAD tree.
    pub in_head: bool,
}

/// A file of the HEAD tree.
#[derive(Debug, Clone)]
pub struct HeadFile {
    /// Path with `/` separators.
    pub path: String,
    /// The blob id.
    pub blob: ObjectId,
    /// The mode is executable.
    pub executable: bool,
}

/// Everything read from git.
#[derive(Debug, Default)]
pub struct GitFacts {
    /// Commits reachable from any ref.
    pub commit_count: usize,
    /// The first-parent line of HEAD, newest first, at most [`RECENT`]
    /// (the newest commits by time when there is no HEAD).
    pub recent: Vec<CommitInfo>,
    /// Every tag.
    pub tags: Vec<TagInfo>,
    /// Paths in the index (tracked files).
    pub tracked: HashSet<String>,
    /// Files of the HEAD tree.
    pub head_files: Vec<HeadFile>,
    /// Secrets in any blob reachable from any ref.
    pub secrets: Vec<HistorySecret>,
    /// Distinct blobs scanned.
    pub blobs_scanned: usize,
    /// Blobs skipped as binary.
    pub blobs_binary: usize,
    /// Blobs skipped as larger than [`MAX_BLOB`].
    pub blobs_large: usize,
    /// Problems met (unreadable objects and so on).
    pub diagnostics: Vec<Diagnostic>,
}

/// Open `path` as a git repository (the work tree root or the `.git` dir).
/// `None` when it is not one.
pub fn open(path: &Path) -> Option<gix::Repository> {
    if !path.join(".git").exists() && !path.join("HEAD").is_file() {
        return None;
    }
    let mut repo = gix::open(path).ok()?;
    with_pack_cache(&mut repo, 64 * 1024 * 1024);
    Some(repo)
}

fn hash_kind(repo: &gix::Repository) -> gix::hash::Kind {
    repo.object_hash()
}

/// Read a git repository: history, tags, index, HEAD tree, and (when
/// `scan_secrets`) every reachable blob.
pub fn read(repo: &gix::Repository, scan_secrets: bool) -> GitFacts {
    let mut facts = GitFacts::default();
    let disp = repo.git_dir().display().to_string();
    let kind = hash_kind(repo);
    let mut buf = Vec::new();

    // Tips: every ref, peeled through tag objects.
    let mut tips: Vec<ObjectId> = Vec::new();
    match repo.references() {
        Ok(platform) => match platform.all() {
            Ok(iter) => {
                for r in iter.flatten() {
                    let name = r.name().as_bstr().to_string();
                    let Some(id) = r.try_id().map(gix::Id::detach) else {
                        continue;
                    };
                    peel(repo, &name, id, kind, &mut buf, &mut tips, &mut facts);
                }
            }
            Err(e) => facts
                .diagnostics
                .push(Diagnostic::error(&disp, format!("cannot list refs: {e}"))),
        },
        Err(e) => facts
            .diagnostics
            .push(Diagnostic::error(&disp, format!("cannot list refs: {e}"))),
    }
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }

    // Every commit reachable from the tips.
    let mut seen = OidSet::default();
    let mut stack: Vec<ObjectId> = tips;
    let mut commits: Vec<CommitInfo> = Vec::new();
    while let Some(id) = stack.pop() {
        if commits.len() >= MAX_COMMITS {
            facts.diagnostics.push(Diagnostic::warning(
                &disp,
                format!("more than {MAX_COMMITS} commits; the rest of the history is not read"),
            ));
            break;
        }
        if !seen.insert(id) {
            continue;
        }
        let data = match repo.objects.try_find(&id, &mut buf) {
            Ok(Some(d)) if d.kind == gix::objs::Kind::Commit => d,
            Ok(_) => continue,
            Err(e) => {
                facts.diagnostics.push(Diagnostic::error(
                    &disp,
                    format!("cannot read commit {id}: {e}"),
                ));
                continue;
            }
        };
        let c = match gix::objs::CommitRef::from_bytes(data.data, kind) {
            Ok(c) => c,
            Err(e) => {
                facts.diagnostics.push(Diagnostic::error(
                    &disp,
                    format!("commit {id} does not parse: {e}"),
                ));
                continue;
            }
        };
        let parents: Vec<ObjectId> = c.parents().collect();
        let time = c
            .committer()
            .ok()
            .and_then(|s| s.time().ok())
            .map_or(0, |t| t.seconds);
        let signed = c.extra_headers().pgp_signature().is_some()
            || c.extra_headers().find("gpgsig-sha256").is_some();
        let msg = c.message;
        let summary = msg
            .split(|&b| b == b'\n')
            .next()
            .map(|l| String::from_utf8_lossy(l).trim().to_string())
            .unwrap_or_default();
        let reviewed = parents.len() >= 2 || review_trail(msg);
        commits.push(CommitInfo {
            id: id.to_string(),
            time,
            parents: parents.len(),
            signed,
            reviewed,
            summary,
            tree: c.tree(),
            first_parent: parents.first().copied(),
            oid: id,
        });
        stack.extend(parents);
    }
    facts.commit_count = commits.len();
    commits.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));

    // Index (tracked paths).
    match repo.index_or_empty() {
        Ok(index) => {
            for e in index.entries() {
                facts.tracked.insert(e.path(&index).to_string());
            }
        }
        Err(e) => facts.diagnostics.push(Diagnostic::warning(
            &disp,
            format!("cannot read the index: {e}"),
        )),
    }

    // HEAD tree.
    let mut head_blobs: HashSet<ObjectId> = HashSet::new();
    if let Ok(tree) = repo.head_tree_id() {
        let mut files = Vec::new();
        walk_tree(
            repo,
            tree.detach(),
            kind,
            &mut buf,
            None,
            &mut |path, oid, exe| {
                files.push(HeadFile {
                    path,
                    blob: oid,
                    executable: exe,
                });
            },
            &mut facts.diagnostics,
            &disp,
        );
        head_blobs.extend(files.iter().map(|f| f.blob));
        facts.head_files = files;
    }

    if scan_secrets {
        scan_history(repo, &commits, &head_blobs, &mut facts);
    }

    // Recent history: the first-parent line of HEAD (the changes as they
    // landed), else the newest commits by time.
    let by_id: std::collections::HashMap<ObjectId, usize> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.oid, i))
        .collect();
    let mut mainline = Vec::new();
    let mut cur = repo.head_id().ok().map(gix::Id::detach);
    while let Some(id) = cur {
        if mainline.len() >= RECENT {
            break;
        }
        let Some(&i) = by_id.get(&id) else { break };
        let Some(c) = commits.get(i) else { break };
        mainline.push(c.clone());
        cur = c.first_parent;
    }
    if mainline.is_empty() {
        commits.reverse();
        commits.truncate(RECENT);
        mainline = commits;
    }
    facts.recent = mainline;
    facts
}

fn peel(
    repo: &gix::Repository,
    name: &str,
    mut id: ObjectId,
    kind: gix::hash::Kind,
    buf: &mut Vec<u8>,
    tips: &mut Vec<ObjectId>,
    facts: &mut GitFacts,
) {
    let tag_name = name.strip_prefix("refs/tags/").map(str::to_string);
    let mut first = true;
    for _ in 0..16 {
        let Ok(Some(d)) = repo.objects.try_find(&id, buf) else {
            return;
        };
        match d.kind {
            gix::objs::Kind::Tag => {
                let Ok(t) = gix::objs::TagRef::from_bytes(d.data, kind) else {
                    return;
                };
                if first {
                    if let Some(n) = &tag_name {
                        facts.tags.push(TagInfo {
                            name: n.clone(),
                            id: id.to_string(),
                            annotated: true,
                            signed: t.signature.is_some(),
                        });
                    }
                }
                first = false;
                let Ok(target) = ObjectId::from_hex(t.target) else {
                    return;
                };
                id = target;
            }
            gix::objs::Kind::Commit => {
                if first {
                    if let Some(n) = &tag_name {
                        facts.tags.push(TagInfo {
                            name: n.clone(),
                            id: id.to_string(),
                            annotated: false,
                            signed: false,
                        });
                    }
                }
                tips.push(id);
                return;
            }
            _ => return,
        }
    }
}

/// True when a commit message shows review: trailers or a PR/MR merge.
pub fn review_trail(msg: &[u8]) -> bool {
    let text = String::from_utf8_lossy(msg);
    text.lines().any(|l| {
        let l = l.trim_start();
        let lower = l.to_ascii_lowercase();
        lower.starts_with("reviewed-by:")
            || lower.starts_with("co-authored-by:")
            || lower.starts_with("approved-by:")
            || lower.starts_with("acked-by:")
            || lower.starts_with("merge pull request #")
            || lower.starts_with("merged in ")
            || lower.contains("see merge request ")
            || lower.starts_with("reviewed-on:")
    })
}

/// Give a handle a delta-base cache: without gix's `max-performance`
/// feature none is set, and every object at the end of a delta chain would
/// inflate the whole chain again.
pub fn with_pack_cache(repo: &mut gix::Repository, bytes: usize) {
    repo.objects.set_pack_cache(move || {
        Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(bytes))
    });
}

/// Walk a tree. With `seen`, trees and blobs met before are skipped (and a
/// path is only built for a new blob).
#[allow(clippy::too_many_arguments)]
fn walk_tree(
    repo: &gix::Repository,
    root: ObjectId,
    kind: gix::hash::Kind,
    buf: &mut Vec<u8>,
    mut seen: Option<(&mut OidSet, &mut OidSet)>,
    on_blob: &mut dyn FnMut(String, ObjectId, bool),
    diags: &mut Vec<Diagnostic>,
    disp: &str,
) {
    if let Some((trees, _)) = seen.as_mut() {
        if !trees.insert(root) {
            return;
        }
    }
    let mut stack: Vec<(ObjectId, String)> = vec![(root, String::new())];
    while let Some((id, prefix)) = stack.pop() {
        let data = match repo.objects.try_find(&id, buf) {
            Ok(Some(d)) if d.kind == gix::objs::Kind::Tree => d,
            Ok(_) => continue,
            Err(e) => {
                diags.push(Diagnostic::error(
                    disp,
                    format!("cannot read tree {id}: {e}"),
                ));
                continue;
            }
        };
        for entry in gix::objs::TreeRefIter::from_bytes(data.data, kind) {
            let Ok(e) = entry else {
                diags.push(Diagnostic::error(disp, format!("tree {id} does not parse")));
                break;
            };
            let oid = e.oid.to_owned();
            let is_tree = e.mode.is_tree();
            if !is_tree && !e.mode.is_blob() {
                continue; // symlinks and submodules
            }
            if let Some((trees, blobs)) = seen.as_mut() {
                let new = if is_tree {
                    trees.insert(oid)
                } else {
                    blobs.insert(oid)
                };
                if !new {
                    continue;
                }
            }
            let name = String::from_utf8_lossy(e.filename);
            let path = if prefix.is_empty() {
                name.into_owned()
            } else {
                format!("{prefix}/{name}")
            };
            if is_tree {
                stack.push((oid, path));
            } else {
                on_blob(path, oid, e.mode.is_executable());
            }
        }
    }
}

type Blob = (ObjectId, String, usize);

/// Bound on one object the pack traversal may decode (bases included):
/// a pack holding a larger object is left to the per-blob path, which
/// reads object headers and skips blobs over [`MAX_BLOB`] unread.
const TRAVERSAL_ALLOC_LIMIT: usize = 256 * 1024 * 1024;

/// Every blob, once, attributed to the oldest commit holding it: the trees
/// are walked oldest commit first (recording each blob the first time it is
/// met), then every pack is traversed once in pack order — each object
/// inflated once, deltas applied against their already decoded base — and
/// the wanted blobs are handed to scanner threads. Blobs no pack gave
/// (loose objects, alternates, a pack the traversal could not read) are
/// then looked up one by one.
fn scan_history(
    repo: &gix::Repository,
    commits: &[CommitInfo],
    head: &HashSet<ObjectId>,
    facts: &mut GitFacts,
) {
    let kind = hash_kind(repo);
    let disp = repo.git_dir().display().to_string();
    let mut seen_trees = OidSet::default();
    let mut seen_blobs = OidSet::default();
    let mut blobs: Vec<Blob> = Vec::new();
    let mut buf = Vec::new();
    for (ci, c) in commits.iter().enumerate() {
        walk_tree(
            repo,
            c.tree,
            kind,
            &mut buf,
            Some((&mut seen_trees, &mut seen_blobs)),
            &mut |path, oid, _| blobs.push((oid, path, ci)),
            &mut facts.diagnostics,
            &disp,
        );
    }
    drop((seen_trees, seen_blobs));
    let wanted: gix::hashtable::HashMap<ObjectId, usize> =
        blobs.iter().enumerate().map(|(i, b)| (b.0, i)).collect();
    let done: Vec<AtomicBool> = blobs.iter().map(|_| AtomicBool::new(false)).collect();
    let shared = Shared {
        blobs: &blobs,
        wanted: &wanted,
        done: &done,
        scanned: AtomicUsize::new(0),
        large: AtomicUsize::new(0),
        binary: AtomicUsize::new(0),
        hits: Mutex::new(Vec::new()),
    };
    let scanner = SecretScanner::new();
    for idx in pack_indices(repo.objects.store_ref().path()) {
        // gix should return errors on a damaged pack; should it panic
        // instead, the blobs it did not give go to the per-blob path.
        let run = std::panic::AssertUnwindSafe(|| traverse_pack(&idx, kind, &shared, &scanner));
        if std::panic::catch_unwind(run).is_err() {
            facts.diagnostics.push(Diagnostic::warning(
                idx.display().to_string(),
                "the pack could not be traversed; its blobs were read one by one",
            ));
        }
    }
    let mut out = ChunkResult {
        scanned: shared.scanned.into_inner(),
        large: shared.large.into_inner(),
        binary: shared.binary.into_inner(),
        hits: shared.hits.into_inner().unwrap_or_default(),
        diagnostics: Vec::new(),
    };
    // What the packs did not give: one lookup per blob.
    let scanner_for_rest = scanner;
    for (blob, d) in blobs.iter().zip(&done) {
        if !d.load(Ordering::Relaxed) {
            scan_blob(repo, &scanner_for_rest, blob, &mut buf, &mut out);
        }
    }
    {
        let r = out;
        facts.blobs_scanned += r.scanned;
        facts.blobs_binary += r.binary;
        facts.blobs_large += r.large;
        facts.diagnostics.extend(r.diagnostics);
        for ((oid, path, ci), hit) in r.hits {
            facts.secrets.push(HistorySecret {
                hit,
                path,
                blob: oid.to_string(),
                commit: commits.get(ci).map(|c| c.id.clone()).unwrap_or_default(),
                in_head: head.contains(&oid),
            });
        }
    }
    facts.secrets.sort_by(|a, b| {
        (&a.path, a.hit.line, a.hit.column, &a.commit).cmp(&(
            &b.path,
            b.hit.line,
            b.hit.column,
            &b.commit,
        ))
    });
}

/// The `.idx` files of `objects/pack`, sorted.
fn pack_indices(objects: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(objects.join("pack"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .collect();
    out.sort();
    out
}

/// What the traversal threads share.
struct Shared<'a> {
    blobs: &'a [Blob],
    wanted: &'a gix::hashtable::HashMap<ObjectId, usize>,
    /// Per blob of `blobs`: read (scanned or skipped) already.
    done: &'a [AtomicBool],
    scanned: AtomicUsize,
    large: AtomicUsize,
    binary: AtomicUsize,
    hits: Mutex<Vec<(Blob, SecretHit)>>,
}

/// Decode every object of one pack once, in pack order (each object
/// inflated once, each delta applied to its already decoded base), on every
/// core, and scan the wanted text blobs (not yet seen, at most
/// [`MAX_BLOB`], no NUL in the first 8,000 bytes) as they come. A pack that
/// cannot be opened or traversed is left, for the blobs it did not give, to
/// the per-blob path.
fn traverse_pack(idx: &Path, kind: gix::hash::Kind, shared: &Shared<'_>, scanner: &SecretScanner) {
    use gix::odb::pack::index::traverse::{with_index, SafetyCheck};
    let Ok(bundle) = gix::odb::pack::Bundle::at(idx, kind) else {
        return;
    };
    let scanner = scanner.clone();
    let processor = move |k: gix::objs::Kind,
                          data: &[u8],
                          entry: &gix::odb::pack::index::Entry,
                          _: &dyn gix::progress::Progress| {
        if k != gix::objs::Kind::Blob {
            return Ok(());
        }
        let Some(&i) = shared.wanted.get(&entry.oid) else {
            return Ok(());
        };
        let (Some(d), Some(blob)) = (shared.done.get(i), shared.blobs.get(i)) else {
            return Ok(());
        };
        if d.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        if data.len() as u64 > MAX_BLOB {
            shared.large.fetch_add(1, Ordering::Relaxed);
        } else if memchr::memchr(0, data.get(..8000).unwrap_or(data)).is_some() {
            shared.binary.fetch_add(1, Ordering::Relaxed);
        } else {
            shared.scanned.fetch_add(1, Ordering::Relaxed);
            let hits = scanner.scan(data);
            if !hits.is_empty() {
                if let Ok(mut all) = shared.hits.lock() {
                    all.extend(
                        hits.into_iter()
                            .map(|h| ((blob.0, blob.1.clone(), blob.2), h)),
                    );
                }
            }
        }
        Ok(())
    };
    let interrupt = AtomicBool::new(false);
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4);
    let _ = bundle.index.traverse_with_index(
        &bundle.pack,
        processor,
        &mut gix::progress::Discard,
        &interrupt,
        with_index::Options {
            check: SafetyCheck::SkipFileAndObjectChecksumVerification,
            thread_limit: Some(threads),
            alloc_limit_bytes: Some(TRAVERSAL_ALLOC_LIMIT),
        },
    );
}

#[derive(Default)]
struct ChunkResult {
    scanned: usize,
    binary: usize,
    large: usize,
    hits: Vec<(Blob, SecretHit)>,
    diagnostics: Vec<Diagnostic>,
}

fn scan_blob(
    repo: &gix::Repository,
    scanner: &SecretScanner,
    blob: &Blob,
    buf: &mut Vec<u8>,
    out: &mut ChunkResult,
) {
    use gix::objs::FindHeader;
    let oid = blob.0;
    if let Ok(Some(h)) = repo.objects.try_header(&oid) {
        if h.size > MAX_BLOB {
            out.large += 1;
            return;
        }
    }
    let data = match repo.objects.try_find(&oid, buf) {
        Ok(Some(d)) => d,
        Ok(None) => return,
        Err(e) => {
            out.diagnostics.push(Diagnostic::error(
                &blob.1,
                format!("cannot read blob {oid}: {e}"),
            ));
            return;
        }
    };
    let head = &data.data[..data.data.len().min(8000)];
    if memchr::memchr(0, head).is_some() {
        out.binary += 1;
        return;
    }
    out.scanned += 1;
    for hit in scanner.scan(data.data) {
        out.hits.push(((blob.0, blob.1.clone(), blob.2), hit));
    }
}

/// Paths of files by their blob id, for reading HEAD files' contents.
pub fn read_blob(repo: &gix::Repository, oid: &ObjectId, max: u64) -> Option<Vec<u8>> {
    use gix::objs::FindHeader;
    if let Ok(Some(h)) = repo.objects.try_header(oid) {
        if h.size > max {
            return None;
        }
    }
    let mut buf = Vec::new();
    match repo.objects.try_find(oid, &mut buf) {
        Ok(Some(d)) => Some(d.data.to_vec()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str], stdin: &[u8]) -> String {
        use std::io::Write;
        let mut child = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("git runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin)
            .expect("write");
        let out = child.wait_with_output().expect("git ends");
        assert!(out.status.success(), "git {args:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The pack traversal itself (the per-blob path would also read packs):
    /// it scans the wanted text blob, counts the binary one, ignores the
    /// unwanted one, and marks what it read as done.
    #[test]
    fn pack_traversal_scans_wanted_blobs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q"], b"");
        let key = format!("key = {}{}\n", "AKIA", "Q3ZX7RM2WL8TPK4N");
        let text = git(d, &["hash-object", "-w", "--stdin"], key.as_bytes());
        let bin = git(
            d,
            &["hash-object", "-w", "--stdin"],
            b"\0\x01AKIAQ3ZX7RM2WL8TPK4N",
        );
        let other = git(d, &["hash-object", "-w", "--stdin"], b"unwanted\n");
        let list = format!("{text}\n{bin}\n{other}\n");
        git(
            d,
            &["pack-objects", "-q", ".git/objects/pack/pack"],
            list.as_bytes(),
        );
        let packs = pack_indices(&d.join(".git/objects"));
        assert_eq!(packs.len(), 1);
        let id = |h: &str| ObjectId::from_hex(h.as_bytes()).expect("hex");
        let blobs: Vec<Blob> = vec![
            (id(&text), "a.env".into(), 0),
            (id(&bin), "b.bin".into(), 0),
        ];
        let wanted = blobs.iter().enumerate().map(|(i, b)| (b.0, i)).collect();
        let done: Vec<AtomicBool> = blobs.iter().map(|_| AtomicBool::new(false)).collect();
        let shared = Shared {
            blobs: &blobs,
            wanted: &wanted,
            done: &done,
            scanned: AtomicUsize::new(0),
            large: AtomicUsize::new(0),
            binary: AtomicUsize::new(0),
            hits: Mutex::new(Vec::new()),
        };
        traverse_pack(
            &packs[0],
            gix::hash::Kind::Sha1,
            &shared,
            &SecretScanner::new(),
        );
        assert!(done.iter().all(|d| d.load(Ordering::Relaxed)));
        assert_eq!(shared.scanned.into_inner(), 1);
        assert_eq!(shared.binary.into_inner(), 1);
        assert_eq!(shared.large.into_inner(), 0);
        let hits = shared.hits.into_inner().expect("lock");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0 .1, "a.env");
        assert_eq!(hits[0].1.rule, "aws-access-key-id");
    }
}
