use portcullis_lockfile::{parse, Format};
#[test]
fn timing() {
    let base = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
    for (f, p) in [
        (Format::Requirements, "requirements/osv.dev-docker-poetry.requirements.txt"),
        (Format::PoetryLock, "poetry/osv.dev-website.poetry.lock"),
        (Format::PipfileLock, "pipenv/osv-schema-tools-ghsa.Pipfile.lock"),
        (Format::UvLock, "uv/kanidm-pykanidm.uv.lock"),
        (Format::PomXml, "maven/dependency-track-apiserver.pom.xml"),
        (Format::GradleLock, "gradle/datadog-vulnerable-java-application.gradle.lockfile"),
    ] {
        let text = std::fs::read_to_string(format!("{base}{p}")).unwrap();
        let t = std::time::Instant::now();
        let mut n = 0;
        for _ in 0..20 { n += parse(f, p, &text).packages.len(); }
        println!("{p}: {:?} per parse ({} KB) {n}", t.elapsed() / 20, text.len() / 1024);
    }
}
