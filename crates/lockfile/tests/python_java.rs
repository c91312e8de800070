//! Tests of the Python (requirements, poetry, Pipfile, uv) and Java (pom.xml,
//! gradle.lockfile) readers, on the real and hand-made files in
//! `tests/fixtures` (see its README for sources).

use portcullis_lockfile::{parse, parse_file, Format, Parsed};
use portcullis_model::{DependencyScope, DiagnosticLevel, Package};
use std::path::Path;

const BASE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

fn read(format: Format, rel: &str) -> Parsed {
    let text = std::fs::read_to_string(format!("{BASE}{rel}")).unwrap();
    parse(format, rel, &text)
}

fn find<'a>(r: &'a Parsed, name: &str) -> &'a Package {
    let found: Vec<_> = r.packages.iter().filter(|p| p.name == name).collect();
    assert_eq!(found.len(), 1, "{name}: {found:?}");
    found[0]
}

/// Check name, version, purl, scope and line of one package.
fn check(r: &Parsed, name: &str, version: &str, purl: &str, scope: DependencyScope, line: u32) {
    let found: Vec<_> = r
        .packages
        .iter()
        .filter(|p| p.name == name && p.location.line == Some(line))
        .collect();
    assert_eq!(found.len(), 1, "{name} at {line}: {found:?}");
    let p = found[0];
    assert_eq!(p.version, version, "{name}");
    assert_eq!(p.purl.to_string(), purl, "{name}");
    assert_eq!(p.scope, scope, "{name}");
    assert_eq!(p.location.line, Some(line), "{name}");
}

fn count_scope(r: &Parsed, s: DependencyScope) -> usize {
    r.packages.iter().filter(|p| p.scope == s).count()
}

fn messages(r: &Parsed) -> Vec<String> {
    r.diagnostics.iter().map(|d| d.to_string()).collect()
}

use DependencyScope::{Dev, Optional, Runtime};

/// Name, version, scope, line, direct.
type Row<'a> = (&'a str, &'a str, DependencyScope, Option<u32>, Option<bool>);

// ---------------------------------------------------------------- requirements

#[test]
fn requirements_pip_compile_with_hashes() {
    let r = read(
        Format::Requirements,
        "requirements/osv.dev-docker-poetry.requirements.txt",
    );
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    assert_eq!(r.packages.len(), 44);
    check(&r, "anyio", "4.12.1", "pkg:pypi/anyio@4.12.1", Runtime, 7);
    check(
        &r,
        "cachecontrol",
        "0.14.4",
        "pkg:pypi/cachecontrol@0.14.4",
        Runtime,
        15,
    );
    check(
        &r,
        "zstandard",
        "0.25.0",
        "pkg:pypi/zstandard@0.25.0",
        Runtime,
        672,
    );
    assert!(r.packages.iter().all(|p| !p.version.is_empty()));
}

#[test]
fn requirements_plain_pins_normalise_names_in_purls() {
    let r = read(
        Format::Requirements,
        "requirements/req-old-derived.requirements.txt",
    );
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    assert_eq!(r.packages.len(), 155);
    check(
        &r,
        "Markdown",
        "3.4.1",
        "pkg:pypi/markdown@3.4.1",
        Runtime,
        1,
    );
    check(
        &r,
        "aspy.refactor-imports",
        "2.3.0",
        "pkg:pypi/aspy-refactor-imports@2.3.0",
        Runtime,
        11,
    );
    check(
        &r,
        "async_generator",
        "1.10",
        "pkg:pypi/async-generator@1.10",
        Runtime,
        14,
    );
    check(&r, "zipp", "0.3.3", "pkg:pypi/zipp@0.3.3", Runtime, 155);
}

const HAND: &str = "requirements/handmade/project/requirements.txt";

#[test]
fn requirements_includes_followed_from_disk() {
    let path = format!("{BASE}{HAND}");
    let r = parse_file(Format::Requirements, Path::new(&path), "requirements.txt");
    let mut got: Vec<(String, String, String, Option<u32>)> = r
        .packages
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.version.clone(),
                p.location.path.clone(),
                p.location.line,
            )
        })
        .collect();
    got.sort();
    let want = [
        ("Django", "3.2.1", "base.txt", 1),
        ("Django_Rest.Framework", "3.12.4", "base.txt", 2),
        ("Flask", "2.0.1", "requirements.txt", 10),
        ("cyc-a", "1.0", "cycle-a.txt", 2),
        ("cyc-b", "1.0", "cycle-b.txt", 2),
        ("pinned-by-constraint", "1.2.3", "requirements.txt", 16),
        ("pkg", "", "requirements.txt", 17),
        ("pytest", "7.0.0", "sub/dev.txt", 2),
        ("requests", "2.31.0", "requirements.txt", 11),
        ("urllib3", "", "requirements.txt", 12),
        ("zope.interface", "5.4.0", "requirements.txt", 13),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(n, v, p, l)| (n.to_string(), v.to_string(), p.to_string(), Some(*l)))
        .collect();
    assert_eq!(got, want);
    // Constraint-only pins are not packages; nothing outside the tree is read.
    assert!(r
        .packages
        .iter()
        .all(|p| p.name != "never-required" && p.name != "outside"));
    assert_eq!(
        find(&r, "Django_Rest.Framework").purl.to_string(),
        "pkg:pypi/django-rest-framework@3.12.4"
    );
    assert_eq!(find(&r, "Flask").purl.to_string(), "pkg:pypi/flask@2.0.1");
    let msgs = messages(&r);
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(
        msgs[0]
            .starts_with("requirements.txt:18: warning: include \"../outside.txt\" leads outside"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].starts_with(
            "requirements.txt:19: warning: include \"/etc/passwd\" is an absolute path"
        ),
        "{msgs:?}"
    );
    assert!(
        msgs[2].starts_with("cycle-b.txt:1: warning: include \"cycle-a.txt\" makes a cycle"),
        "{msgs:?}"
    );
    assert!(r
        .diagnostics
        .iter()
        .all(|d| d.level == DiagnosticLevel::Warning));
}

#[test]
fn requirements_text_alone_does_not_follow_includes() {
    let r = read(Format::Requirements, HAND);
    let names: Vec<(&str, &str)> = r
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("Flask", "2.0.1"),
            ("requests", ""),
            ("urllib3", ""),
            ("zope.interface", "5.4.0"),
            ("pinned-by-constraint", ""),
            ("pkg", ""),
        ]
    );
    let msgs = messages(&r);
    assert_eq!(msgs.len(), 6, "{msgs:?}");
    assert!(
        msgs[0].contains(":2: warning: include of \"base.txt\" not followed"),
        "{msgs:?}"
    );
    assert!(
        msgs[2].contains(":4: warning: include of \"constraints.txt\" not followed"),
        "{msgs:?}"
    );
}

#[test]
fn requirements_depth_limit() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..30 {
        std::fs::write(
            dir.path().join(format!("r{i}.txt")),
            format!("-r r{}.txt\npkg{i}==1.{i}\n", i + 1),
        )
        .unwrap();
    }
    let r = parse_file(Format::Requirements, &dir.path().join("r0.txt"), "r0.txt");
    assert_eq!(r.packages.len(), 16);
    assert_eq!(r.packages[15].name, "pkg15");
    assert_eq!(r.packages[15].location.path, "r15.txt");
    let msgs = messages(&r);
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert!(msgs[0].contains("nests deeper than 16"), "{msgs:?}");
}

#[test]
fn requirements_dotdot_inside_the_tree_is_read_but_symlinks_out_are_not() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("proj");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(outer.path().join("secret.txt"), "secret==1.0\n").unwrap();
    std::fs::write(root.join("requirements.txt"), "-r sub/x.txt\n-r evil.txt\n").unwrap();
    std::fs::write(root.join("sub/x.txt"), "-r ../y.txt\nx==1.0\n").unwrap();
    std::fs::write(root.join("y.txt"), "y==2.0\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(outer.path().join("secret.txt"), root.join("evil.txt")).unwrap();
    let r = parse_file(
        Format::Requirements,
        &root.join("requirements.txt"),
        "proj/requirements.txt",
    );
    let got: Vec<(&str, &str)> = r
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.location.path.as_str()))
        .collect();
    assert_eq!(got, [("x", "proj/sub/x.txt"), ("y", "proj/y.txt")]);
    #[cfg(unix)]
    {
        let msgs = messages(&r);
        assert_eq!(msgs.len(), 1, "{msgs:?}");
        assert!(
            msgs[0].starts_with(
                "proj/requirements.txt:2: warning: include \"evil.txt\" leads outside"
            ),
            "{msgs:?}"
        );
    }
}

#[test]
fn requirements_bad_lines_give_warnings_and_the_rest_is_read() {
    let text = "good==1.0\n-bad\n[oops]==1\nname[unclosed==1\nx ==\nok~=2\n-r\ngit+https://e.invalid/y.git#egg=y\nC:\\w\\a.whl\n";
    let r = parse(Format::Requirements, "r.txt", text);
    let names: Vec<(&str, &str)> = r
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(names, [("good", "1.0"), ("x", ""), ("ok", "")]);
    let lines: Vec<Option<u32>> = r.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(
        lines,
        [Some(3), Some(4), Some(5), Some(7)],
        "{:?}",
        messages(&r)
    );
}

#[test]
fn requirements_missing_file_is_an_error() {
    let r = parse_file(
        Format::Requirements,
        Path::new("/nonexistent/requirements.txt"),
        "requirements.txt",
    );
    assert!(r.packages.is_empty());
    assert_eq!(r.diagnostics.len(), 1);
    assert!(r.diagnostics[0].is_error());
}

#[test]
fn requirements_file_names() {
    for n in [
        "requirements.txt",
        "requirements-dev.txt",
        "test-requirements.txt",
        "base.requirements.txt",
    ] {
        assert_eq!(Format::detect(n), Some(Format::Requirements), "{n}");
    }
    for n in ["requirements.in", "requirements.txt.orig", "notes.txt"] {
        assert_eq!(Format::detect(n), None, "{n}");
    }
}

// ---------------------------------------------------------------- poetry

#[test]
fn poetry_groups_and_local_directory_source() {
    let r = read(Format::PoetryLock, "poetry/osv.dev-website.poetry.lock");
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    // 74 [[package]] entries, less the local `osv` directory package.
    assert_eq!(r.packages.len(), 73);
    assert!(r.packages.iter().all(|p| p.name != "osv"));
    assert_eq!(count_scope(&r, Dev), 8);
    check(&r, "astroid", "4.0.4", "pkg:pypi/astroid@4.0.4", Dev, 4);
    check(&r, "attrs", "26.1.0", "pkg:pypi/attrs@26.1.0", Runtime, 16);
    check(&r, "yapf", "0.43.0", "pkg:pypi/yapf@0.43.0", Dev, 2170);
    check(
        &r,
        "packageurl-python",
        "0.17.6",
        "pkg:pypi/packageurl-python@0.17.6",
        Runtime,
        1539,
    );
}

#[test]
fn poetry_old_category_field() {
    let r = read(
        Format::PoetryLock,
        "poetry/dependency-check-test.poetry.lock",
    );
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    assert_eq!(r.packages.len(), 88);
    assert_eq!(count_scope(&r, Dev), 42);
    check(&r, "absl-py", "1.2.0", "pkg:pypi/absl-py@1.2.0", Runtime, 2);
    check(
        &r,
        "aspy.refactor-imports",
        "2.3.0",
        "pkg:pypi/aspy-refactor-imports@2.3.0",
        Dev,
        10,
    );
    check(
        &r,
        "wheel",
        "0.37.1",
        "pkg:pypi/wheel@0.37.1",
        Runtime,
        1038,
    );
}

#[test]
fn poetry_git_source_gets_vcs_qualifier_and_file_source_is_skipped() {
    let text = r#"
[[package]]
name = "Foo_Bar"
version = "1.0"
groups = ["main"]
optional = true

[package.source]
type = "git"
url = "https://example.invalid/foo.git"
reference = "main"
resolved_reference = "abc123"

[[package]]
name = "wheelpkg"
version = "2.0"

[package.source]
type = "file"
url = "dist/wheelpkg-2.0.whl"

[[package]]
version = "3.0"
"#;
    let r = parse(Format::PoetryLock, "poetry.lock", text);
    assert_eq!(r.packages.len(), 1);
    let p = &r.packages[0];
    assert_eq!(
        p.purl.to_string(),
        "pkg:pypi/foo-bar@1.0?vcs_url=git%2Bhttps%3A%2F%2Fexample.invalid%2Ffoo.git%40abc123"
    );
    assert_eq!(p.scope, Optional);
    assert_eq!(p.location.line, Some(3));
    assert_eq!(
        messages(&r),
        ["poetry.lock:22: error: package without a name; skipped"]
    );
}

#[test]
fn poetry_unusual_toml_is_read_by_the_toml_crate() {
    // A dotted key and a quoted header: not the machine-written shape.
    let text = "[[package]]\nname = \"a\"\nversion = \"1.0\"\nsource.type = \"git\"\nsource.url = \"u\"\n\n[[\"package\"]]\nname = \"b\"\nversion = \"2.0\"\ngroups = [\"dev\"]\n";
    let r = parse(Format::PoetryLock, "poetry.lock", text);
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    assert_eq!(r.packages.len(), 2);
    check(&r, "a", "1.0", "pkg:pypi/a@1.0?vcs_url=git%2Bu", Runtime, 2);
    check(&r, "b", "2.0", "pkg:pypi/b@2.0", Dev, 8);
}

#[test]
fn poetry_syntax_error_has_a_line() {
    let text = "[[package]]\nname = \"a\"\nversion = \"1.0\"\n\n[[package]]\nname = \"b\nversion = \"2.0\"\n";
    let r = parse(Format::PoetryLock, "poetry.lock", text);
    assert!(
        r.diagnostics
            .iter()
            .any(|d| d.is_error() && d.line == Some(6)),
        "{:?}",
        messages(&r)
    );
    assert_eq!(find(&r, "a").version, "1.0");
}

// ---------------------------------------------------------------- Pipfile.lock

#[test]
fn pipfile_default_and_develop() {
    let r = read(
        Format::PipfileLock,
        "pipenv/osv-schema-tools-ghsa.Pipfile.lock",
    );
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    assert_eq!(r.packages.len(), 59);
    assert_eq!(count_scope(&r, Dev), 8);
    check(&r, "attrs", "26.1.0", "pkg:pypi/attrs@26.1.0", Runtime, 19);
    check(&r, "osv", "0.1.3", "pkg:pypi/osv@0.1.3", Runtime, 604);
    check(&r, "yapf", "0.43.0", "pkg:pypi/yapf@0.43.0", Dev, 1085);
}

#[test]
fn pipfile_git_entry_skipped_and_shared_entries_once() {
    let r = read(Format::PipfileLock, "pipenv/trivy-ci-test.Pipfile.lock");
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    // 55 default + 37 develop, less one git entry, less 6 in both sections.
    assert_eq!(r.packages.len(), 85);
    assert!(r.packages.iter().all(|p| p.name != "django-postgres-extra"));
    assert_eq!(count_scope(&r, Dev), 31);
    check(&r, "amqp", "2.4.2", "pkg:pypi/amqp@2.4.2", Runtime, 19);
    check(
        &r,
        "virtualenv",
        "16.4.3",
        "pkg:pypi/virtualenv@16.4.3",
        Dev,
        857,
    );
}

// ---------------------------------------------------------------- uv.lock

#[test]
fn uv_scopes_from_the_graph() {
    let r = read(Format::UvLock, "uv/kanidm-pykanidm.uv.lock");
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    // 97 packages less the project itself (editable).
    assert_eq!(r.packages.len(), 96);
    assert!(r.packages.iter().all(|p| p.name != "kanidm"));
    assert_eq!(count_scope(&r, Runtime), 23);
    assert_eq!(count_scope(&r, Optional), 6);
    assert_eq!(count_scope(&r, Dev), 67);
    check(
        &r,
        "aiohttp",
        "3.14.3",
        "pkg:pypi/aiohttp@3.14.3",
        Runtime,
        15,
    );
    check(
        &r,
        "aiohappyeyeballs",
        "2.6.1",
        "pkg:pypi/aiohappyeyeballs@2.6.1",
        Runtime,
        6,
    );
    check(
        &r,
        "docker",
        "7.1.0",
        "pkg:pypi/docker@7.1.0",
        Optional,
        504,
    );
    check(
        &r,
        "mkdocstrings-python",
        "2.0.2",
        "pkg:pypi/mkdocstrings-python@2.0.2",
        Dev,
        1140,
    );
    assert_eq!(find(&r, "aiohttp").direct, Some(true));
    assert_eq!(find(&r, "aiohappyeyeballs").direct, Some(false));
    assert_eq!(find(&r, "pytest").direct, Some(true));
}

#[test]
fn uv_git_source_and_virtual_root() {
    let text = r#"
version = 1

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [{ name = "dep" }]

[package.dev-dependencies]
dev = [{ name = "devtool" }]

[[package]]
name = "dep"
version = "1.0"
source = { git = "https://example.invalid/dep?rev=v1#deadbeef" }

[[package]]
name = "devtool"
version = "2.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "lib"
version = "0.2"
source = { directory = "../lib" }
"#;
    let r = parse(Format::UvLock, "uv.lock", text);
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    assert_eq!(r.packages.len(), 2);
    check(
        &r,
        "dep",
        "1.0",
        "pkg:pypi/dep@1.0?vcs_url=git%2Bhttps%3A%2F%2Fexample.invalid%2Fdep%3Frev%3Dv1%23deadbeef",
        Runtime,
        14,
    );
    check(&r, "devtool", "2.0", "pkg:pypi/devtool@2.0", Dev, 19);
}

// ---------------------------------------------------------------- pom.xml

#[test]
fn pom_zeppelin() {
    let r = read(Format::PomXml, "maven/zeppelin-server.pom.xml");
    // 39 <dependency> elements, 2 of them in profiles (not read).
    assert_eq!(r.packages.len(), 37);
    assert_eq!(count_scope(&r, Dev), 6);
    check(
        &r,
        "org.apache.zeppelin:zeppelin-zengine",
        "0.11.1",
        "pkg:maven/org.apache.zeppelin/zeppelin-zengine@0.11.1",
        Runtime,
        54,
    );
    check(
        &r,
        "org.apache.zeppelin:zeppelin-zengine",
        "0.11.1",
        "pkg:maven/org.apache.zeppelin/zeppelin-zengine@0.11.1",
        Dev,
        312,
    );
    check(
        &r,
        "xml-apis:xml-apis",
        "1.4.01",
        "pkg:maven/xml-apis/xml-apis@1.4.01",
        Dev,
        389,
    );
    check(
        &r,
        "org.apache.httpcomponents:httpclient",
        "",
        "pkg:maven/org.apache.httpcomponents/httpclient",
        Runtime,
        103,
    );
    let msgs = messages(&r);
    assert!(msgs.iter().any(|m| m.starts_with("maven/zeppelin-server.pom.xml:271: warning: version \"${jetty.version}\": property \"jetty.version\"")), "{msgs:?}");
    assert!(r.diagnostics.iter().all(|d| !d.is_error()));
}

#[test]
fn pom_dependency_track_child_module() {
    let r = read(Format::PomXml, "maven/dependency-track-apiserver.pom.xml");
    assert_eq!(r.packages.len(), 91);
    check(
        &r,
        "org.dependencytrack:api",
        "5.1.0-SNAPSHOT",
        "pkg:maven/org.dependencytrack/api@5.1.0-SNAPSHOT",
        Runtime,
        49,
    );
    check(
        &r,
        "org.awaitility:awaitility",
        "",
        "pkg:maven/org.awaitility/awaitility",
        Dev,
        510,
    );
    assert_eq!(
        find(&r, "org.dependencytrack:alpine-parent").direct,
        Some(false)
    );
    assert_eq!(
        messages(&r),
        ["maven/dependency-track-apiserver.pom.xml: warning: 41 dependencies have no version here (managed by a parent POM or imported BOM, not read); their versions are unknown"]
    );
}

#[test]
fn pom_handmade_properties_management_scopes() {
    let r = read(Format::PomXml, "maven/handmade/pom.xml");
    let got: Vec<Row<'_>> = r
        .packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.scope,
                p.location.line,
                p.direct,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "com.fasterxml.jackson.core:jackson-databind",
                "2.13.0",
                Optional,
                Some(26),
                Some(false)
            ),
            (
                "org.yaml:snakeyaml",
                "1.33",
                Optional,
                Some(31),
                Some(false)
            ),
            (
                "org.springframework:spring-core",
                "5.3.18",
                Runtime,
                Some(39),
                Some(true)
            ),
            (
                "org.apache.logging.log4j:log4j-core",
                "2.14.1",
                Runtime,
                Some(44),
                Some(true)
            ),
            (
                "com.example:example-lib",
                "7.1",
                Runtime,
                Some(48),
                Some(true)
            ),
            ("junit:junit", "4.12", Dev, Some(53), Some(true)),
            (
                "javax.servlet:servlet-api",
                "2.5",
                Optional,
                Some(65),
                Some(true)
            ),
            ("commons-io:commons-io", "", Optional, Some(71), Some(true)),
            ("org.example:looped", "", Runtime, Some(77), Some(true)),
            ("org.example:from-parent", "", Runtime, Some(82), Some(true)),
            ("com.google.guava:guava", "", Runtime, Some(87), Some(true)),
        ]
    );
    assert_eq!(
        find(&r, "org.springframework:spring-core").purl.to_string(),
        "pkg:maven/org.springframework/spring-core@5.3.18"
    );
    let msgs = messages(&r);
    assert_eq!(msgs.len(), 4, "{msgs:?}");
    assert!(msgs[0].starts_with("maven/handmade/pom.xml:77: warning: version \"${loop.a}\": properties refer to each other in a loop"), "{msgs:?}");
    assert!(msgs[1].contains(":82: warning: version \"${parent.only.version}\": property \"parent.only.version\" is not defined"), "{msgs:?}");
    assert!(
        msgs[2].starts_with("maven/handmade/pom.xml:71: warning: version range \"[2.0,3.0)\""),
        "{msgs:?}"
    );
    assert!(
        msgs[3].contains("1 dependencies have no version"),
        "{msgs:?}"
    );
}

#[test]
fn pom_truncated_keeps_complete_dependencies() {
    let text = std::fs::read_to_string(format!("{BASE}maven/handmade/pom.xml")).unwrap();
    let cut = text.find("<artifactId>junit</artifactId>").unwrap();
    let r = parse(Format::PomXml, "pom.xml", &text[..cut]);
    assert_eq!(r.packages.len(), 5);
    assert!(
        r.diagnostics.iter().any(|d| d.is_error()),
        "{:?}",
        messages(&r)
    );
    let r = parse(
        Format::PomXml,
        "pom.xml",
        "<project><dependencies><dependency></x></project>",
    );
    assert!(
        r.diagnostics
            .iter()
            .any(|d| d.is_error() && d.line == Some(1)),
        "{:?}",
        messages(&r)
    );
}

// ---------------------------------------------------------------- gradle

#[test]
fn gradle_lockfile() {
    let r = read(
        Format::GradleLock,
        "gradle/datadog-vulnerable-java-application.gradle.lockfile",
    );
    assert!(r.diagnostics.is_empty(), "{:?}", messages(&r));
    assert_eq!(r.packages.len(), 68);
    assert_eq!(count_scope(&r, Dev), 31);
    check(
        &r,
        "ch.qos.logback:logback-classic",
        "1.4.14",
        "pkg:maven/ch.qos.logback/logback-classic@1.4.14",
        Runtime,
        4,
    );
    check(
        &r,
        "org.xmlunit:xmlunit-core",
        "2.9.1",
        "pkg:maven/org.xmlunit/xmlunit-core@2.9.1",
        Dev,
        70,
    );
    check(
        &r,
        "org.yaml:snakeyaml",
        "2.2",
        "pkg:maven/org.yaml/snakeyaml@2.2",
        Runtime,
        71,
    );
}

#[test]
fn gradle_bad_lines() {
    let r = parse(
        Format::GradleLock,
        "gradle.lockfile",
        "# c\na:b:1=compileClasspath\nnot-a-coordinate=x\na::1=x\nc:d:2=testRuntimeClasspath,annotationProcessor\nempty=\n",
    );
    let got: Vec<(&str, DependencyScope)> = r
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.scope))
        .collect();
    assert_eq!(got, [("a:b", Runtime), ("c:d", Dev)]);
    let lines: Vec<Option<u32>> = r.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, [Some(3), Some(4)]);
}

// ---------------------------------------------------------------- malformed input

const ALL: [(Format, &str); 8] = [
    (
        Format::Requirements,
        "requirements/osv.dev-docker-poetry.requirements.txt",
    ),
    (Format::PoetryLock, "poetry/osv.dev-website.poetry.lock"),
    (
        Format::PoetryLock,
        "poetry/dependency-check-test.poetry.lock",
    ),
    (Format::PipfileLock, "pipenv/trivy-ci-test.Pipfile.lock"),
    (Format::UvLock, "uv/kanidm-pykanidm.uv.lock"),
    (Format::PomXml, "maven/zeppelin-server.pom.xml"),
    (Format::PomXml, "maven/handmade/pom.xml"),
    (
        Format::GradleLock,
        "gradle/datadog-vulnerable-java-application.gradle.lockfile",
    ),
];

#[test]
fn truncated_structured_files_give_errors_not_panics() {
    for (format, rel) in ALL {
        let text = std::fs::read_to_string(format!("{BASE}{rel}")).unwrap();
        for frac in [1, 3, 5, 7, 9] {
            let mut cut = text.len() * frac / 10;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let r = parse(format, rel, &text[..cut]);
            if matches!(format, Format::PipfileLock | Format::PomXml) {
                assert!(
                    r.diagnostics.iter().any(|d| d.is_error()),
                    "{rel} cut at {cut}"
                );
            }
        }
    }
}

#[test]
fn garbage_gives_errors() {
    for format in [
        Format::PoetryLock,
        Format::UvLock,
        Format::PipfileLock,
        Format::PomXml,
    ] {
        let r = parse(format, "x", "\u{0}\u{1}[[[ {{ <<< garbage ]]\n=\"");
        assert!(r.packages.is_empty(), "{format:?}");
        assert!(
            r.diagnostics.iter().any(|d| d.is_error()),
            "{format:?}: {:?}",
            messages(&r)
        );
    }
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    const FORMATS: [Format; 6] = [
        Format::Requirements,
        Format::PoetryLock,
        Format::PipfileLock,
        Format::UvLock,
        Format::PomXml,
        Format::GradleLock,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC{0,300}") {
            for f in FORMATS {
                let _ = parse(f, "x", &s);
            }
        }

        #[test]
        fn never_panics_on_format_like_text(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("[[package]]\n"), Just("name = \"a\"\n"), Just("version = \"1\"\n"),
                    Just("source = { git = \"x\" }\n"), Just("groups = [\"dev\"]\n"),
                    Just("<dependency>"), Just("</dependency>"), Just("<project>"),
                    Just("<version>${a}</version>"), Just("<properties><a>${a}</a></properties>"),
                    Just("{\"default\": {\"a\": {\"version\": \"==1\"}}"), Just("}"),
                    Just("-r x\n"), Just("a==1 \\\n"), Just("b[x]>=1 ; m\n"), Just("g:a:1=test\n"),
                    Just("\""), Just("\n"), Just("&amp;"), Just("&#0;"),
                ],
                0..40,
            )
        ) {
            let s: String = parts.concat();
            for f in FORMATS {
                let _ = parse(f, "x", &s);
            }
        }
    }
}
