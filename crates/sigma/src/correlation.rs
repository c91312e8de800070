//! Sigma v2 correlations over event time, with bounded state.
//!
//! Semantics (see README): the caller feeds rule matches in non-decreasing
//! event time. Conditions made only of `gt`/`gte` are checked on a sliding
//! window after every event and fire as soon as they hold; the group's
//! state is then reset, so one burst gives one hit per threshold crossing.
//! Conditions with an upper bound (`lt`, `lte`, `eq`, `neq`, ranges) can
//! only be decided once a window is complete: windows then start at a
//! group's first event, last `timespan`, and are checked when a later event
//! falls outside, when idle state is swept, or in [`CorrelationEngine::finish`].
//! An event lacking any group-by field is not counted (never lumped into
//! one "missing" group) and is counted in [`CorrelationStats::missing_group_field`].

use crate::engine::{CCorr, Engine};
use crate::pred::{render, value_number};
use crate::rule::CorrelationType;
use crate::{CmpOp, RuleIndex};
use portcullis_events::{Event, Origin};
use std::collections::{HashMap, VecDeque};

/// Memory bounds.
#[derive(Debug, Clone, Copy)]
pub struct CorrelationLimits {
    /// Maximum live (correlation, group) states across all correlations.
    pub max_groups: usize,
    /// Maximum events kept per group window (older ones are dropped and counted).
    pub max_events_per_group: usize,
    /// Maximum distinct values per group (value_count).
    pub max_distinct_per_group: usize,
    /// Contributing event origins kept per hit.
    pub max_origins: usize,
}

impl Default for CorrelationLimits {
    fn default() -> Self {
        CorrelationLimits {
            max_groups: 200_000,
            max_events_per_group: 100_000,
            max_distinct_per_group: 10_000,
            max_origins: 16,
        }
    }
}

/// Counters the caller can report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CorrelationStats {
    /// Events and hits observed.
    pub observed: u64,
    /// Idle group states evicted.
    pub groups_evicted: u64,
    /// Events dropped because `max_groups` was reached.
    pub group_cap_hits: u64,
    /// Old window entries dropped because `max_events_per_group` was reached.
    pub event_cap_hits: u64,
    /// Values not counted because `max_distinct_per_group` was reached.
    pub distinct_cap_hits: u64,
    /// Events older than their group's newest event (treated as that time).
    pub late_events: u64,
    /// Events without a time (not counted).
    pub missing_time: u64,
    /// Events lacking a group-by field (not counted).
    pub missing_group_field: u64,
    /// Events lacking the condition field (value_count/sum/avg; not counted).
    pub missing_value_field: u64,
}

/// A correlation that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationHit {
    /// The correlation rule.
    pub rule: RuleIndex,
    /// Group-by field names (as written in the rule) and their values.
    pub group: Vec<(String, String)>,
    /// Event time of the window's first counted event (µs since the epoch).
    pub window_start: i64,
    /// Event time of the window's last counted event.
    pub window_end: i64,
    /// Events counted (event_count), distinct values (value_count),
    /// rules seen (temporal), or events summed (value_sum/avg).
    pub count: u64,
    /// The value compared with the condition (count, distinct count, sum or average).
    pub value: f64,
    /// value_count: the distinct values (at most `max_origins`… bounded list).
    pub distinct: Vec<String>,
    /// Origins of contributing events (the first `max_origins`).
    pub events: Vec<Origin>,
}

#[derive(Debug)]
struct Entry {
    time: i64,
    value: Option<Box<str>>,
    num: f64,
    origins: Origins,
}

/// An entry's contributing origins: one for an event (the usual case,
/// without an allocation), a list for a lower correlation's hit.
#[derive(Debug)]
enum Origins {
    One(Origin),
    Many(Vec<Origin>),
}

impl Origins {
    fn as_slice(&self) -> &[Origin] {
        match self {
            Origins::One(o) => std::slice::from_ref(o),
            Origins::Many(v) => v,
        }
    }

    fn into_vec(self) -> Vec<Origin> {
        match self {
            Origins::One(o) => vec![o],
            Origins::Many(v) => v,
        }
    }
}

#[derive(Debug)]
struct Group {
    newest: i64,
    start: i64,
    entries: VecDeque<Entry>,
    distinct: HashMap<Box<str>, u32, ahash::RandomState>,
    sum: f64,
    /// temporal: per input, (last time, origins)
    seen: Vec<Option<(i64, Vec<Origin>)>>,
    /// After a hit, events up to this time are not counted (one hit per
    /// timespan per group).
    quiet_until: i64,
}

impl Group {
    fn new(t: i64, inputs: usize) -> Group {
        Group {
            newest: t,
            start: t,
            entries: VecDeque::new(),
            distinct: HashMap::default(),
            sum: 0.0,
            seen: vec![None; inputs],
            quiet_until: i64::MIN,
        }
    }

    /// Forget everything after a hit and stay quiet for one timespan.
    fn reset_after_hit(&mut self, t: i64, span: i64) {
        self.entries.clear();
        self.distinct.clear();
        self.sum = 0.0;
        for s in &mut self.seen {
            *s = None;
        }
        self.quiet_until = t.saturating_add(span);
    }

    fn pop_front(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            self.sum -= e.num;
            if let Some(v) = e.value {
                if let Some(c) = self.distinct.get_mut(&v) {
                    *c -= 1;
                    if *c == 0 {
                        self.distinct.remove(&v);
                    }
                }
            }
        }
    }
}

/// Streams rule matches through the compiled correlations.
#[derive(Debug)]
pub struct CorrelationEngine<'e> {
    engine: &'e Engine,
    limits: CorrelationLimits,
    stats: CorrelationStats,
    /// Per correlation: group key (see [`push_key_part`]) → state. The
    /// keys come from log data, so the hasher is seeded (ahash).
    groups: Vec<HashMap<Box<str>, Group, ahash::RandomState>>,
    /// Live groups across all correlations.
    live: usize,
    /// The group key being built (reused).
    key_buf: String,
    /// A number's text (reused).
    num_buf: String,
    now: i64,
    since_sweep: u32,
}

/// What is being fed: an event or a lower correlation's hit.
enum Src<'a> {
    Ev(&'a Event),
    Hit(&'a CorrelationHit),
}

fn early(c: &CCorr) -> bool {
    c.condition
        .iter()
        .all(|(op, _)| matches!(op, CmpOp::Gt | CmpOp::Gte))
}

impl<'e> CorrelationEngine<'e> {
    /// A correlation engine over a compiled rule set.
    pub fn new(engine: &'e Engine, limits: CorrelationLimits) -> Self {
        CorrelationEngine {
            engine,
            limits,
            stats: CorrelationStats::default(),
            groups: (0..engine.corrs.len())
                .map(|_| HashMap::default())
                .collect(),
            live: 0,
            key_buf: String::new(),
            num_buf: String::new(),
            now: i64::MIN,
            since_sweep: 0,
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> CorrelationStats {
        self.stats
    }

    /// Live group states.
    pub fn live_groups(&self) -> usize {
        self.live
    }

    /// Feed one match of detection rule `rule` on `event` (use the event's
    /// time; feed in non-decreasing time). Hits, including those of chained
    /// correlations, are appended to `out`.
    pub fn observe(&mut self, rule: RuleIndex, event: &Event, out: &mut Vec<CorrelationHit>) {
        if !self.engine.feeds_correlation(rule) {
            return;
        }
        self.stats.observed += 1;
        let Some(t) = event.time else {
            self.stats.missing_time += 1;
            return;
        };
        if t > self.now {
            self.now = t;
        }
        self.since_sweep += 1;
        if self.since_sweep >= 4096 {
            self.sweep(out);
        }
        let first = out.len();
        self.feed(rule, &Src::Ev(event), t, out);
        // chained correlations: feed new hits upwards (acyclic, so this ends)
        let mut i = first;
        let mut budget = 10_000usize;
        while i < out.len() && budget > 0 {
            budget -= 1;
            let hit = out[i].clone();
            if self.engine.feeds_correlation(hit.rule) {
                let t = hit.window_end;
                self.feed(hit.rule, &Src::Hit(&hit), t, out);
            }
            i += 1;
        }
    }

    /// Close every pending window (end of input) and report what fires.
    pub fn finish(&mut self, out: &mut Vec<CorrelationHit>) {
        let first = out.len();
        self.close_all(out);
        let mut i = first;
        while i < out.len() {
            let hit = out[i].clone();
            if self.engine.feeds_correlation(hit.rule) {
                let t = hit.window_end;
                self.feed(hit.rule, &Src::Hit(&hit), t, out);
            }
            i += 1;
        }
        // windows opened by chained hits
        self.close_all(out);
    }

    /// Close every group, in key order (hash order differs between runs).
    fn close_all(&mut self, out: &mut Vec<CorrelationHit>) {
        let mut all: Vec<(usize, Box<str>, Group)> = Vec::with_capacity(self.live);
        for (ci, m) in self.groups.iter_mut().enumerate() {
            all.extend(m.drain().map(|(k, g)| (ci, k, g)));
        }
        self.live = 0;
        all.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key_order(&a.1, &b.1)));
        for (ci, k, g) in all {
            self.close(ci, &k, g, out);
        }
    }

    fn feed(&mut self, rule: RuleIndex, src: &Src<'_>, t: i64, out: &mut Vec<CorrelationHit>) {
        for &(ci, pos) in self.engine.feeds_of(rule) {
            let Some(c) = self.engine.corrs.get(ci) else {
                continue;
            };
            let Some(inp) = c.inputs.get(pos) else {
                continue;
            };
            // group key, built in a reused buffer
            let mut key = std::mem::take(&mut self.key_buf);
            key.clear();
            let mut missing = false;
            for names in &inp.group_fields {
                match lookup(src, names, &mut self.num_buf) {
                    Some(v) => push_key_part(&mut key, v),
                    None => {
                        missing = true;
                        break;
                    }
                }
            }
            self.feed_group(ci, pos, c, &key, missing, src, t, out);
            self.key_buf = key;
        }
    }

    /// Feed one correlation input's group (`key`, made by
    /// [`push_key_part`]; `missing`: a group-by field was absent).
    #[allow(clippy::too_many_arguments)]
    fn feed_group(
        &mut self,
        ci: usize,
        pos: usize,
        c: &CCorr,
        key: &str,
        missing: bool,
        src: &Src<'_>,
        t: i64,
        out: &mut Vec<CorrelationHit>,
    ) {
        let Some(inp) = c.inputs.get(pos) else {
            return;
        };
        if missing {
            self.stats.missing_group_field += 1;
            return;
        }
        let (value, num) = match c.kind {
            CorrelationType::ValueCount | CorrelationType::ValueSum | CorrelationType::ValueAvg => {
                let Src::Ev(ev) = src else { return };
                let found = inp
                    .value_fields
                    .iter()
                    .find_map(|n| ev.get(n).filter(|v| !v.is_null()));
                let Some(v) = found else {
                    self.stats.missing_value_field += 1;
                    return;
                };
                if c.kind == CorrelationType::ValueCount {
                    (Some(Box::<str>::from(render(v, &mut self.num_buf))), 0.0)
                } else {
                    match value_number(v) {
                        Some(n) => (None, n),
                        None => {
                            self.stats.missing_value_field += 1;
                            return;
                        }
                    }
                }
            }
            _ => (None, 0.0),
        };
        let origins = match src {
            Src::Ev(ev) => Origins::One(ev.origin.clone()),
            Src::Hit(h) => Origins::Many(h.events.clone()),
        };
        let span = c.span_us;
        let is_early = early(c);
        let tumbling = !is_early
            && !matches!(
                c.kind,
                CorrelationType::Temporal | CorrelationType::TemporalOrdered
            );
        // One lookup for the usual case (the group exists, window open):
        // Some(expired) when the group exists.
        let found = self
            .groups
            .get(ci)
            .and_then(|m| m.get(key))
            .map(|g| tumbling && t > g.start.saturating_add(span));
        let exists = match found {
            // close an expired tumbling window first
            Some(true) => {
                if let Some(g) = self.groups.get_mut(ci).and_then(|m| m.remove(key)) {
                    self.live -= 1;
                    self.close(ci, key, g, out);
                }
                false
            }
            Some(false) => true,
            None => false,
        };
        if !exists && self.live >= self.limits.max_groups {
            self.sweep(out);
            if self.live >= self.limits.max_groups {
                self.stats.group_cap_hits += 1;
                return;
            }
        }
        let n_inputs = c.inputs.len();
        let Some(m) = self.groups.get_mut(ci) else {
            return;
        };
        let g = if exists {
            let Some(g) = m.get_mut(key) else {
                return;
            };
            g
        } else {
            // Copy the key only for a new group (most events join one).
            self.live += 1;
            m.entry(key.into())
                .or_insert_with(|| Group::new(t, n_inputs))
        };
        let mut t = t;
        if t < g.newest {
            self.stats.late_events += 1;
            t = g.newest;
        }
        g.newest = t;
        if t <= g.quiet_until {
            return;
        }
        let limits = &self.limits;
        match c.kind {
            CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                let ordered = c.kind == CorrelationType::TemporalOrdered;
                // expire
                for s in g.seen.iter_mut() {
                    if s.as_ref()
                        .is_some_and(|(st, _)| *st < t.saturating_sub(span))
                    {
                        *s = None;
                    }
                }
                if ordered {
                    // seen[j] = (chain start time, origins) for the completed prefix 0..=j
                    if pos == 0 {
                        if let Some(s) = g.seen.get_mut(0) {
                            *s = Some((t, origins.into_vec()));
                        }
                    } else if let Some(Some((start, prev))) = g.seen.get(pos - 1).cloned() {
                        let mut o = prev;
                        o.extend(origins.into_vec());
                        if let Some(s) = g.seen.get_mut(pos) {
                            let better = s.as_ref().is_none_or(|(old, _)| start >= *old);
                            if better {
                                *s = Some((start, o));
                            }
                        }
                    }
                    if let Some(Some((start, o))) = g.seen.last().cloned() {
                        out.push(make_hit(
                            c,
                            limits,
                            key,
                            start,
                            t,
                            n_inputs as u64,
                            n_inputs as f64,
                            Vec::new(),
                            o,
                        ));
                        g.reset_after_hit(t, span);
                    }
                } else {
                    if let Some(s) = g.seen.get_mut(pos) {
                        *s = Some((t, origins.into_vec()));
                    }
                    let seen = g.seen.iter().filter(|s| s.is_some()).count();
                    let fire = if c.condition.is_empty() {
                        seen == n_inputs
                    } else {
                        c.condition.iter().all(|(op, b)| op.test(seen as f64, *b))
                    };
                    if fire {
                        let start = g
                            .seen
                            .iter()
                            .flatten()
                            .map(|(st, _)| *st)
                            .min()
                            .unwrap_or(t);
                        let o: Vec<Origin> = g
                            .seen
                            .iter()
                            .flatten()
                            .flat_map(|(_, o)| o.iter().cloned())
                            .collect();
                        out.push(make_hit(
                            c,
                            limits,
                            key,
                            start,
                            t,
                            seen as u64,
                            seen as f64,
                            Vec::new(),
                            o,
                        ));
                        g.reset_after_hit(t, span);
                    }
                }
            }
            _ => {
                // counting types
                if is_early {
                    while g
                        .entries
                        .front()
                        .is_some_and(|e| e.time < t.saturating_sub(span))
                    {
                        g.pop_front();
                    }
                }
                let mut value = value;
                if let Some(v) = &value {
                    // One lookup for a value seen before (the usual case).
                    if let Some(n) = g.distinct.get_mut(v) {
                        *n += 1;
                    } else if g.distinct.len() >= limits.max_distinct_per_group {
                        self.stats.distinct_cap_hits += 1;
                        value = None;
                    } else {
                        g.distinct.insert(v.clone(), 1);
                    }
                }
                g.sum += num;
                g.entries.push_back(Entry {
                    time: t,
                    value,
                    num,
                    origins,
                });
                if g.entries.len() > limits.max_events_per_group {
                    self.stats.event_cap_hits += 1;
                    g.pop_front();
                }
                if g.entries.len() == 1 {
                    g.start = t;
                }
                if is_early {
                    let (count, val) = measure(c.kind, g);
                    if c.condition.iter().all(|(op, b)| op.test(val, *b)) {
                        out.push(hit_from_group(c, limits, key, g, count, val));
                        g.reset_after_hit(t, span);
                    }
                }
            }
        }
    }

    fn close(&mut self, ci: usize, key: &str, g: Group, out: &mut Vec<CorrelationHit>) {
        let Some(c) = self.engine.corrs.get(ci) else {
            return;
        };
        if early(c)
            || matches!(
                c.kind,
                CorrelationType::Temporal | CorrelationType::TemporalOrdered
            )
            || g.entries.is_empty()
        {
            return;
        }
        let (count, val) = measure(c.kind, &g);
        if c.condition.iter().all(|(op, b)| op.test(val, *b)) {
            out.push(hit_from_group(c, &self.limits, key, &g, count, val));
        }
    }

    /// Drop idle groups; complete windows of upper-bounded conditions are
    /// evaluated first.
    fn sweep(&mut self, out: &mut Vec<CorrelationHit>) {
        self.since_sweep = 0;
        let now = self.now;
        let corrs = &self.engine.corrs;
        let mut expired: Vec<(usize, Box<str>)> = Vec::new();
        for (ci, m) in self.groups.iter().enumerate() {
            let Some(c) = corrs.get(ci) else {
                continue;
            };
            let tumbling = !early(c)
                && !matches!(
                    c.kind,
                    CorrelationType::Temporal | CorrelationType::TemporalOrdered
                );
            expired.extend(
                m.iter()
                    .filter(|(_, g)| {
                        if tumbling {
                            g.start.saturating_add(c.span_us) < now
                        } else {
                            g.newest < now.saturating_sub(c.span_us)
                        }
                    })
                    .map(|(k, _)| (ci, k.clone())),
            );
        }
        expired.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key_order(&a.1, &b.1)));
        for (ci, k) in expired {
            if let Some(g) = self.groups.get_mut(ci).and_then(|m| m.remove(&k)) {
                self.live -= 1;
                self.stats.groups_evicted += 1;
                self.close(ci, &k, g, out);
            }
        }
    }
}

/// Append one group-by value to a group key: its byte length, `:`, then
/// the value (unambiguous whatever the values hold).
fn push_key_part(key: &mut String, v: &str) {
    key.push_str(itoa::Buffer::new().format(v.len()));
    key.push(':');
    key.push_str(v);
}

/// The group-by values of a key made by [`push_key_part`].
fn key_parts(key: &str) -> impl Iterator<Item = &str> {
    let mut rest = key;
    std::iter::from_fn(move || {
        let (len, r) = rest.split_once(':')?;
        let len: usize = len.parse().ok()?;
        let v = r.get(..len)?;
        rest = r.get(len..)?;
        Some(v)
    })
}

/// Keys ordered as their value lists are (the order groups close in).
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    key_parts(a).cmp(key_parts(b))
}

fn hit_from_group(
    c: &CCorr,
    limits: &CorrelationLimits,
    key: &str,
    g: &Group,
    count: u64,
    val: f64,
) -> CorrelationHit {
    let start = g.entries.front().map(|e| e.time).unwrap_or(g.start);
    let end = g.entries.back().map(|e| e.time).unwrap_or(g.newest);
    let mut origins = Vec::new();
    for e in &g.entries {
        if origins.len() >= limits.max_origins {
            break;
        }
        origins.extend(e.origins.as_slice().iter().cloned());
    }
    let mut distinct: Vec<String> = g.distinct.keys().map(|k| k.to_string()).collect();
    distinct.sort();
    distinct.truncate(MAX_DISTINCT_REPORTED);
    make_hit(c, limits, key, start, end, count, val, distinct, origins)
}

/// Distinct values listed in a hit.
const MAX_DISTINCT_REPORTED: usize = 1000;

#[allow(clippy::too_many_arguments)]
fn make_hit(
    c: &CCorr,
    limits: &CorrelationLimits,
    key: &str,
    start: i64,
    end: i64,
    count: u64,
    value: f64,
    distinct: Vec<String>,
    mut events: Vec<Origin>,
) -> CorrelationHit {
    events.truncate(limits.max_origins);
    CorrelationHit {
        rule: c.rule,
        group: c
            .group_names
            .iter()
            .cloned()
            .zip(key_parts(key).map(str::to_string))
            .collect(),
        window_start: start,
        window_end: end,
        count,
        value,
        distinct,
        events,
    }
}

fn measure(kind: CorrelationType, g: &Group) -> (u64, f64) {
    let n = g.entries.len() as u64;
    match kind {
        CorrelationType::ValueCount => (g.distinct.len() as u64, g.distinct.len() as f64),
        CorrelationType::ValueSum => (n, g.sum),
        CorrelationType::ValueAvg => (n, if n == 0 { 0.0 } else { g.sum / n as f64 }),
        _ => (n, n as f64),
    }
}

/// The first present, non-null value among `names`, as text.
fn lookup<'a>(src: &Src<'a>, names: &[String], buf: &'a mut String) -> Option<&'a str> {
    match *src {
        Src::Ev(ev) => {
            let v = names
                .iter()
                .find_map(|n| ev.get(n).filter(|v| !v.is_null()))?;
            Some(render(v, buf))
        }
        Src::Hit(h) => names.iter().find_map(|n| {
            h.group
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::{key_order, key_parts, push_key_part};

    #[test]
    fn group_keys_round_trip_and_sort_as_value_lists() {
        let key = |vals: &[&str]| {
            let mut k = String::new();
            for v in vals {
                push_key_part(&mut k, v);
            }
            k
        };
        let k = key(&["10.0.0.1", "", "a:1:b", "ü"]);
        assert_eq!(
            key_parts(&k).collect::<Vec<_>>(),
            vec!["10.0.0.1", "", "a:1:b", "ü"]
        );
        // Sorted as the value lists, not as the encoded text (where the
        // length prefix would put "zz" before "aaa").
        assert!(key_order(&key(&["aaa"]), &key(&["zz"])).is_lt());
        assert!(key_order(&key(&["a", "b"]), &key(&["a", "c"])).is_lt());
        assert!(key_order(&key(&["a"]), &key(&["a", ""])).is_lt());
        assert!(key_order(&key(&["x"]), &key(&["x"])).is_eq());
    }
}
