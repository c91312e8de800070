//! Measure rule loading, compilation and per-event matching cost.
//!
//! `cargo run --release -p portcullis-sigma --example sigma_bench -- RULES_DIR... -- EVENTS.jsonl...`
//! (events: evtx_dump JSONL or flat JSONL). Uses a small Windows
//! channel/EventID mapping so that dispatch works as it will in `hunt`.

#[path = "../tests/common/mod.rs"]
mod common;

use portcullis_events::LogKind;
use portcullis_sigma::{
    CorrelationEngine, CorrelationLimits, Engine, FieldMapping, LogSource, RuleSet, SourceFilter,
    SourceMatch,
};
use std::path::PathBuf;
use std::time::Instant;

struct MiniWindows;

fn only(channel: &str, ids: &[i64]) -> SourceMatch {
    let mut conditions = vec![("Channel".to_string(), vec![channel.to_string()])];
    if !ids.is_empty() {
        conditions.push((
            "EventID".into(),
            ids.iter().map(|i| i.to_string()).collect(),
        ));
    }
    SourceMatch::Only(vec![SourceFilter {
        kind: Some(LogKind::Windows),
        conditions,
    }])
}

impl FieldMapping for MiniWindows {
    fn fields(&self, _ls: &LogSource, _f: &str) -> Vec<String> {
        Vec::new()
    }
    fn source(&self, ls: &LogSource) -> SourceMatch {
        if ls.product.as_deref() != Some("windows") {
            return SourceMatch::Unsupported;
        }
        let sysmon = "Microsoft-Windows-Sysmon/Operational";
        match (ls.category.as_deref(), ls.service.as_deref()) {
            (Some("process_creation"), _) => only(sysmon, &[1]),
            (Some("network_connection"), _) => only(sysmon, &[3]),
            (Some("image_load"), _) => only(sysmon, &[7]),
            (Some("create_remote_thread"), _) => only(sysmon, &[8]),
            (Some("process_access"), _) => only(sysmon, &[10]),
            (Some("file_event"), _) => only(sysmon, &[11]),
            (Some("registry_add" | "registry_delete" | "registry_event" | "registry_set"), _) => {
                only(sysmon, &[12, 13, 14])
            }
            (Some("pipe_created"), _) => only(sysmon, &[17, 18]),
            (Some("dns_query"), _) => only(sysmon, &[22]),
            (Some("file_delete"), _) => only(sysmon, &[23, 26]),
            (Some("ps_script"), _) => only("Microsoft-Windows-PowerShell/Operational", &[4104]),
            (Some("ps_module"), _) => only("Microsoft-Windows-PowerShell/Operational", &[4103]),
            (_, Some("security")) => only("Security", &[]),
            (_, Some("system")) => only("System", &[]),
            (_, Some("sysmon")) => only(sysmon, &[]),
            (_, Some("powershell")) => only("Microsoft-Windows-PowerShell/Operational", &[]),
            (_, Some("application")) => only("Application", &[]),
            (_, Some(s)) => only(s, &[]),
            _ => SourceMatch::Unsupported,
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let rules: Vec<PathBuf> = args[..split].iter().map(PathBuf::from).collect();
    let files: Vec<PathBuf> = args
        .get(split + 1..)
        .unwrap_or(&[])
        .iter()
        .map(PathBuf::from)
        .collect();

    let t = Instant::now();
    let (set, problems) = RuleSet::load(&rules);
    let load = t.elapsed();
    let t = Instant::now();
    let (engine, cproblems) = Engine::compile(set, &MiniWindows);
    let compile = t.elapsed();
    println!(
        "load {} rules ({} problems) in {:?}; compile {} detections ({} skipped) in {:?}",
        engine.rule_set().len(),
        problems.len(),
        load,
        engine.active_detections(),
        cproblems.len(),
        compile
    );
    let mut events = Vec::new();
    for f in &files {
        if f.is_dir() {
            // a regression_data tree: every sample .json
            let mut stack = vec![f.clone()];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "json") {
                        events.extend(common::read_sample(&p));
                    }
                }
            }
        } else {
            events.extend(common::read_jsonl(f).0);
        }
    }
    events.sort_by_key(|e| e.time);
    let mut sc = engine.scratch();
    let mut out = Vec::new();
    let mut matches = 0usize;
    let rounds = 5;
    let t = Instant::now();
    for _ in 0..rounds {
        for ev in &events {
            out.clear();
            engine.matches(ev, &mut sc, &mut out);
            matches += out.len();
        }
    }
    let el = t.elapsed();
    let n = events.len() * rounds;
    println!(
        "{} events x {rounds}: {:?}, {:.2} µs/event, {} matches",
        events.len(),
        el,
        el.as_secs_f64() * 1e6 / n.max(1) as f64,
        matches / rounds
    );
    let mut corr = CorrelationEngine::new(&engine, CorrelationLimits::default());
    let mut hits = Vec::new();
    let t = Instant::now();
    for ev in &events {
        out.clear();
        engine.matches(ev, &mut sc, &mut out);
        for m in &out {
            corr.observe(m.rule, ev, &mut hits);
        }
    }
    corr.finish(&mut hits);
    println!(
        "match + correlate: {:?}, {} correlation hits",
        t.elapsed(),
        hits.len()
    );
}
