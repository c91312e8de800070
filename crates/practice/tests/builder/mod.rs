//! A small builder of git repositories for tests: commits with chosen
//! authors, dates, files and messages; commits and tags with well-formed
//! (fake) PGP signatures; branches and merges. It drives the `git` CLI,
//! which CI machines have.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Repo {
    pub dir: tempfile::TempDir,
    clock: std::cell::Cell<i64>,
}

const FAKE_SIG: &str = "-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEEexampleexampleexampleexampleexampleFAmVfakeAAoJEExample\nexampleexampleexampleexampleexampleexampleexampleexampleexampleexample=\n=abcd\n-----END PGP SIGNATURE-----";

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("a temp dir");
        let r = Repo {
            dir,
            clock: std::cell::Cell::new(1_700_000_000),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "user.name", "Ada Lovelace"]);
        r.git(&["config", "user.email", "ada@example.org"]);
        r.git(&["config", "commit.gpgsign", "false"]);
        r.git(&["config", "tag.gpgsign", "false"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self, cmd: &mut Command) {
        let t = self.clock.get() + 3600;
        self.clock.set(t);
        let date = format!("{t} +0000");
        cmd.env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE");
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(args, None)
    }

    fn git_in(&self, args: &[&str], stdin: Option<&[u8]>) -> String {
        self.git_run(args, stdin, true)
    }

    fn git_run(&self, args: &[&str], stdin: Option<&[u8]>, must: bool) -> String {
        let mut cmd = Command::new("git");
        cmd.current_dir(self.path()).args(args);
        self.env(&mut cmd);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("git runs");
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input)
                .expect("write stdin");
        }
        let out = child.wait_with_output().expect("git finishes");
        assert!(
            out.status.success() || !must,
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let p: PathBuf = self.path().join(path);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(p, content).expect("write");
    }

    pub fn remove(&self, path: &str) {
        self.git(&["rm", "-q", path]);
    }

    /// Write files, stage everything, commit as `author` (`Name <mail>`).
    pub fn commit(&self, files: &[(&str, &str)], message: &str, author: &str) -> String {
        for (p, c) in files {
            self.write(p, c);
        }
        self.git(&["add", "-A"]);
        self.git(&[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
            "--author",
            author,
        ]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Write files and commit with a `gpgsig` header (a well-formed but fake signature).
    pub fn signed_commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (p, c) in files {
            self.write(p, c);
        }
        self.git(&["add", "-A"]);
        let tree = self.git(&["write-tree"]);
        let parent = self.git_run(&["rev-parse", "-q", "--verify", "HEAD"], None, false);
        let t = self.clock.get() + 3600;
        self.clock.set(t);
        let mut obj = format!("tree {tree}\n");
        if !parent.is_empty() {
            obj.push_str(&format!("parent {parent}\n"));
        }
        obj.push_str(&format!(
            "author Ada Lovelace <ada@example.org> {t} +0000\ncommitter Ada Lovelace <ada@example.org> {t} +0000\n"
        ));
        obj.push_str("gpgsig ");
        obj.push_str(&FAKE_SIG.replace('\n', "\n "));
        obj.push('\n');
        obj.push_str(&format!("\n{message}\n"));
        let id = self.git_in(
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            Some(obj.as_bytes()),
        );
        self.git(&["update-ref", "HEAD", &id]);
        id
    }

    /// An annotated tag, signed (fake PGP block) or not.
    pub fn tag(&self, name: &str, signed: bool) -> String {
        let head = self.git(&["rev-parse", "HEAD"]);
        let t = self.clock.get() + 60;
        self.clock.set(t);
        let mut obj = format!(
            "object {head}\ntype commit\ntag {name}\ntagger Ada Lovelace <ada@example.org> {t} +0000\n\nRelease {name}\n"
        );
        if signed {
            obj.push_str(FAKE_SIG);
            obj.push('\n');
        }
        let id = self.git_in(
            &["hash-object", "-t", "tag", "-w", "--stdin"],
            Some(obj.as_bytes()),
        );
        self.git(&["update-ref", &format!("refs/tags/{name}"), &id]);
        id
    }

    /// A branch with one commit, merged with `--no-ff` and a pull-request message.
    pub fn merged_pr(&self, n: u32, files: &[(&str, &str)]) -> String {
        let branch = format!("feature-{n}");
        self.git(&["checkout", "-q", "-b", &branch]);
        self.commit(
            files,
            &format!("Change {n}"),
            "Grace Hopper <grace@example.org>",
        );
        self.git(&["checkout", "-q", "main"]);
        self.git(&[
            "merge",
            "-q",
            "--no-ff",
            &branch,
            "-m",
            &format!("Merge pull request #{n} from example/{branch}\n\nReviewed-by: Ada Lovelace <ada@example.org>"),
        ]);
        self.git(&["rev-parse", "HEAD"])
    }
}
