//! Compiled rules, logsource dispatch and matching.

use crate::cond::Cond;
use crate::pred::{lower, render, value_number, Pred};
use crate::rule::{
    CorrelationType, Detection, FieldItem, ItemTest, LogSource, RefMode, RuleKind, Search,
};
use crate::{CmpOp, ProblemKind, RuleIndex, RuleProblem, RuleSet};
use portcullis_events::{Event, LogKind, Value};
use std::collections::HashMap;

/// Which events a logsource applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceMatch {
    /// Every event.
    Any,
    /// Events meeting at least one of these filters.
    Only(Vec<SourceFilter>),
    /// No input this tool reads: the rule is skipped and reported.
    Unsupported,
}

/// One way an event can belong to a logsource: its kind, and field values
/// (every listed field must hold one of its values; compared as
/// case-insensitive text, so `EventID` `4625` matches the number 4625).
/// The first condition also serves as the dispatch key, so put the most
/// selective stable field first (e.g. `Channel`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceFilter {
    /// The kind of log, or any.
    pub kind: Option<LogKind>,
    /// `(event field, accepted values)`, all required.
    pub conditions: Vec<(String, Vec<String>)>,
}

/// The caller's logsource and field mapping (the hunt crate owns the table).
pub trait FieldMapping {
    /// Event field names to try for a Sigma field under a logsource, in
    /// order (the first present in an event is used). Empty: use `field`.
    fn fields(&self, logsource: &LogSource, field: &str) -> Vec<String>;
    /// Which events the logsource applies to.
    fn source(&self, logsource: &LogSource) -> SourceMatch;
}

/// Field names unchanged; every logsource applies to every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityMapping;

impl FieldMapping for IdentityMapping {
    fn fields(&self, _logsource: &LogSource, _field: &str) -> Vec<String> {
        Vec::new()
    }
    fn source(&self, _logsource: &LogSource) -> SourceMatch {
        SourceMatch::Any
    }
}

/// A rule that matched an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The rule.
    pub rule: RuleIndex,
    /// Event field names whose tests held (in rule order, deduplicated;
    /// keyword hits name the field the keyword was found in).
    pub fields: Vec<portcullis_events::FieldName>,
}

#[derive(Debug, Clone)]
struct CItem {
    /// A field-less item: keyword search over all values.
    keyword: bool,
    slots: Box<[u32]>,
    test: ItemTest,
    ref_slots: Box<[u32]>,
    /// Literal pre-filter: per slot position, per predicate, the pattern id
    /// in that slot's automaton (`NO_AC` if the predicate is not a
    /// case-insensitive `contains`). Empty: no pre-filter.
    ac: Box<[Box<[u32]>]>,
}

#[derive(Debug, Clone)]
enum CSearch {
    Keywords(Vec<Pred>),
    Maps(Vec<Vec<CItem>>),
}

#[derive(Debug, Clone)]
struct CDet {
    searches: Vec<CSearch>,
    cond: Cond,
}

#[derive(Debug, Clone)]
struct CSource {
    kind: Option<LogKind>,
    conds: Vec<(u32, Vec<String>)>,
}

#[derive(Debug, Clone)]
struct CRule {
    /// Prefilter: the detection can only hold when this slot holds one of
    /// these numbers (derived from `EventID` values the condition requires).
    eid: Option<(u32, Box<[i64]>)>,
    /// Literal pre-filter: at least one (slot, pattern) must occur; per
    /// slot, the patterns as (64-bit word, mask) of the slot's match bits.
    req: Option<ReqMask>,
    det: CDet,
    filters: Vec<CDet>,
    /// Empty: any event.
    sources: Vec<CSource>,
    /// The dispatch index does not guarantee the sources (too many value
    /// combinations to index): check them per event.
    check_sources: bool,
}

/// One referenced rule of a compiled correlation.
#[derive(Debug, Clone)]
pub(crate) struct CInput {
    pub rule: RuleIndex,
    /// The input is itself a correlation (its hits feed this one).
    pub is_corr: bool,
    /// Per group-by field: event field names to try (for a correlation
    /// input: the name of its group field).
    pub group_fields: Vec<Vec<String>>,
    /// Event field names for `condition.field`.
    pub value_fields: Vec<String>,
}

/// A compiled correlation.
#[derive(Debug, Clone)]
pub(crate) struct CCorr {
    pub rule: RuleIndex,
    pub kind: CorrelationType,
    pub span_us: i64,
    pub condition: Vec<(CmpOp, f64)>,
    pub group_names: Vec<String>,
    pub inputs: Vec<CInput>,
}

/// Compiled rules ready for matching.
#[derive(Debug, Clone)]
pub struct Engine {
    set: RuleSet,
    slot_of: FxMap<Box<str>, u32>,
    rules: Vec<Option<CRule>>,
    /// Per event kind: the rules that are candidates for every event of
    /// that kind (no logsource condition to index on), sorted, distinct.
    base: [Vec<u32>; 4],
    /// The part of `base` that is [`Engine::kw_only`]: looked at only when
    /// the event holds a keyword.
    base_kw: [Vec<u32>; 4],
    /// ((kind, condition slots), joined lowercased values → rules)
    probes: Vec<Probe>,
    /// Tells scratches made for another engine apart.
    id: u64,
    ac: AcIndex,
    reports_alone: Vec<bool>,
    /// Per rule: its pre-filter needs a keyword literal and nothing else
    /// (skipped without a look at the rule when the event holds none).
    kw_only: Vec<bool>,
    pub(crate) corrs: Vec<CCorr>,
    /// rule → (correlation index, input position)
    /// Indexed by rule (empty for rules that feed none).
    pub(crate) feeds: Vec<Vec<(usize, usize)>>,
}

/// Append the merge of two sorted lists to `out`.
fn merge_sorted(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        if x <= y {
            out.push(x);
            i += 1;
        } else {
            out.push(y);
            j += 1;
        }
    }
    out.extend_from_slice(a.get(i..).unwrap_or(&[]));
    out.extend_from_slice(b.get(j..).unwrap_or(&[]));
}

fn kind_code(k: LogKind) -> u8 {
    match k {
        LogKind::Windows => 0,
        LogKind::LinuxAuth => 1,
        LogKind::EntraSignIn => 2,
        LogKind::Json => 3,
    }
}

const ANY_KIND: u8 = 255;

/// (kind, condition slots) → joined lowercased values → rules.
type KeyIndex = FxMap<(u8, Box<[u32]>), FxMap<String, Vec<u32>>>;
type Probe = ((u8, Box<[u32]>), FxMap<String, Vec<u32>>);

/// Engine ids (see [`Engine::matches`]'s scratch check).
static NEXT_ENGINE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Entries in a scratch's cache of static field names' slots.
const NAME_CACHE: usize = 64;

/// A static field name's (address, length) and its slot (`u32::MAX`: none).
type NameCache = [(usize, usize, u32)];

/// A fast multiply-rotate hasher (the Firefox/rustc one) for the engine's
/// fixed lookup tables. Their keys come from the rules, and events only
/// look keys up, so log data cannot degrade them; maps that grow from
/// log data (correlation groups) keep the standard seeded hasher.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            if let Some(d) = w.get_mut(..rest.len()) {
                d.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

impl Fx {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;

/// No automaton pattern for this predicate.
const NO_AC: u32 = u32::MAX;

/// Fewest distinct `contains` literals on a slot for an automaton to pay off.
const MIN_AC_PATTERNS: usize = 16;

/// Per-slot multi-literal automata for `contains` predicates.
#[derive(Debug, Clone, Default)]
struct AcIndex {
    /// slot → automaton (None: no pre-filter on that slot)
    per_slot: Vec<Option<aho_corasick::AhoCorasick>>,
    /// The keyword literals some rule's pre-filter needs (ASCII
    /// case-insensitive), looked for in every field: a pseudo-slot
    /// ([`KW_SLOT`]).
    keywords: Option<crate::kwscan::KwFilter>,
}

/// The pseudo-slot of keyword literals in `CRule::req`.
const KW_SLOT: u32 = u32::MAX;

fn contains_needle(p: &Pred) -> Option<&[u8]> {
    match p {
        Pred::Str(sp) if !sp.cased => match &sp.kind {
            crate::pred::StrKind::Contains(f) if !f.needle().is_empty() => Some(f.needle()),
            _ => None,
        },
        _ => None,
    }
}

/// The literal a case-insensitive exact/prefix/suffix/contains predicate
/// requires to occur in the lowercased value (None: not literal-able).
fn literal_of(p: &Pred) -> Option<&[u8]> {
    use crate::pred::StrKind;
    match p {
        Pred::Str(sp) if !sp.cased => {
            let l: &[u8] = match &sp.kind {
                StrKind::Contains(f) => f.needle(),
                StrKind::Exact(t) | StrKind::Prefix(t) | StrKind::Suffix(t) => t.as_bytes(),
                StrKind::Stars(st) => st.longest(),
                StrKind::Glob(toks) => toks
                    .iter()
                    .filter_map(|t| match t {
                        crate::pred::Tok::Lit(l) => Some(l.as_bytes()),
                        _ => None,
                    })
                    .max_by_key(|l| l.len())?,
                StrKind::Any => return None,
            };
            (!l.is_empty()).then_some(l)
        }
        _ => None,
    }
}

fn for_each_item(rules: &mut [Option<CRule>], f: &mut dyn FnMut(&mut CItem)) {
    for cr in rules.iter_mut().flatten() {
        let CRule { det, filters, .. } = cr;
        for d in std::iter::once(det).chain(filters.iter_mut()) {
            for s in &mut d.searches {
                if let CSearch::Maps(maps) = s {
                    for m in maps {
                        for it in m {
                            f(it);
                        }
                    }
                }
            }
        }
    }
}

/// Build the automata and assign pattern ids.
fn build_ac(rules: &mut [Option<CRule>], nslots: usize) -> AcIndex {
    // keyword literal → id
    let mut kw_needles: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut add_kw = |preds: &[Pred]| {
        for p in preds {
            if let Some(n) = literal_of(p) {
                let next = u32::try_from(kw_needles.len()).unwrap_or(NO_AC);
                kw_needles.entry(n.to_vec()).or_insert(next);
            }
        }
    };
    for cr in rules.iter().flatten() {
        for sr in &cr.det.searches {
            match sr {
                CSearch::Keywords(preds) => add_kw(preds),
                // `keywords|all:` and other keyword items inside a map
                CSearch::Maps(maps) => {
                    for it in maps.iter().flatten() {
                        if let (true, ItemTest::Values { preds, .. }) = (it.keyword, &it.test) {
                            add_kw(preds);
                        }
                    }
                }
            }
        }
    }
    // slot → needle → id
    let mut needles: Vec<HashMap<Vec<u8>, u32>> = vec![HashMap::new(); nslots];
    for_each_item(rules, &mut |it| {
        if it.keyword {
            return;
        }
        if let ItemTest::Values { preds, .. } = &it.test {
            for &slot in it.slots.iter() {
                if let Some(m) = needles.get_mut(slot as usize) {
                    for p in preds {
                        if let Some(n) = literal_of(p) {
                            let next = u32::try_from(m.len()).unwrap_or(NO_AC);
                            m.entry(n.to_vec()).or_insert(next);
                        }
                    }
                }
            }
        }
    });
    let mut per_slot: Vec<Option<aho_corasick::AhoCorasick>> = vec![None; nslots];
    for (slot, m) in needles.iter().enumerate() {
        if m.len() < MIN_AC_PATTERNS {
            continue;
        }
        let mut pats: Vec<&[u8]> = vec![&[]; m.len()];
        for (n, &id) in m {
            if let Some(p) = pats.get_mut(id as usize) {
                *p = n.as_slice();
            }
        }
        if let Ok(ac) = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::Standard)
            .build(&pats)
        {
            if let Some(x) = per_slot.get_mut(slot) {
                *x = Some(ac);
            }
        }
    }
    for_each_item(rules, &mut |it| {
        if it.keyword {
            return;
        }
        let ItemTest::Values { preds, .. } = &it.test else {
            return;
        };
        if !preds.iter().any(|p| contains_needle(p).is_some()) {
            return;
        }
        let mut any = false;
        let ac: Box<[Box<[u32]>]> = it
            .slots
            .iter()
            .map(|&slot| {
                let has = per_slot.get(slot as usize).is_some_and(Option::is_some);
                preds
                    .iter()
                    .map(|p| match (has, contains_needle(p)) {
                        (true, Some(n)) => {
                            let id = needles
                                .get(slot as usize)
                                .and_then(|m| m.get(n))
                                .copied()
                                .unwrap_or(NO_AC);
                            any |= id != NO_AC;
                            id
                        }
                        _ => NO_AC,
                    })
                    .collect()
            })
            .collect();
        if any {
            it.ac = ac;
        }
    });
    let lens = Lens::new(&needles, &kw_needles);
    let mut reqs: Vec<Option<Lits>> = Vec::with_capacity(rules.len());
    for cr in rules.iter().flatten() {
        let req = required_literals(
            &cr.det,
            &cr.det.cond,
            &needles,
            &per_slot,
            &kw_needles,
            &lens,
        );
        reqs.push(req.filter(|r| !r.is_empty()));
    }
    // The keyword filter runs over every event's text: give it only the
    // literals some rule's pre-filter needs (a keyword search that is not
    // a rule's narrowest requirement, such as `':'`, would otherwise hit
    // on nearly every event for nothing).
    let mut used: Vec<u32> = reqs
        .iter()
        .flatten()
        .flatten()
        .filter(|(slot, _)| *slot == KW_SLOT)
        .map(|&(_, id)| id)
        .collect();
    used.sort_unstable();
    used.dedup();
    let mut pats: Vec<&[u8]> = vec![&[]; used.len()];
    for (n, id) in &kw_needles {
        if let Ok(k) = used.binary_search(id) {
            if let Some(p) = pats.get_mut(k) {
                *p = n.as_slice();
            }
        }
    }
    let keywords = crate::kwscan::KwFilter::new(&pats);
    for (cr, req) in rules.iter_mut().flatten().zip(reqs) {
        cr.req = req.map(|mut r| {
            for (slot, id) in &mut r {
                if *slot == KW_SLOT {
                    // Every keyword id here is in `used`.
                    *id = used
                        .binary_search(id)
                        .map_or(NO_AC, |k| u32::try_from(k).unwrap_or(NO_AC));
                }
            }
            r.sort_unstable();
            r.dedup();
            req_mask(&r)
        });
    }
    AcIndex { per_slot, keywords }
}

type Lits = Vec<(u32, u32)>;

/// The byte length of every pattern, by slot and id: a short literal
/// (`':'`) occurs in almost every event, so a pre-filter on it is useless.
struct Lens {
    slots: Vec<Vec<usize>>,
    kw: Vec<usize>,
}

impl Lens {
    fn new(needles: &[HashMap<Vec<u8>, u32>], kw_needles: &HashMap<Vec<u8>, u32>) -> Lens {
        let table = |m: &HashMap<Vec<u8>, u32>| {
            let mut v = vec![0; m.len()];
            for (n, &id) in m {
                if let Some(x) = v.get_mut(id as usize) {
                    *x = n.len();
                }
            }
            v
        };
        Lens {
            slots: needles.iter().map(table).collect(),
            kw: table(kw_needles),
        }
    }

    fn of(&self, (slot, id): (u32, u32)) -> usize {
        let t = if slot == KW_SLOT {
            Some(&self.kw)
        } else {
            self.slots.get(slot as usize)
        };
        t.and_then(|t| t.get(id as usize)).copied().unwrap_or(0)
    }

    /// How selective a set of alternatives is (higher: rarer): its
    /// shortest literal first (up to 4 bytes), then fewer literals.
    fn score(&self, lits: &Lits) -> (usize, std::cmp::Reverse<usize>) {
        let shortest = lits.iter().map(|&l| self.of(l)).min().unwrap_or(0);
        (shortest.min(4), std::cmp::Reverse(lits.len()))
    }
}

/// Per slot, the (bit word, mask) pairs of required patterns.
type ReqMask = Box<[(u32, Box<[(u32, u64)]>)]>;

/// Group sorted (slot, pattern) pairs by slot into bit masks, so a rule's
/// requirement is tested a word (64 patterns) at a time.
fn req_mask(lits: &[(u32, u32)]) -> ReqMask {
    let mut out: Vec<(u32, Vec<(u32, u64)>)> = Vec::new();
    for &(slot, id) in lits {
        if out.last().is_none_or(|(s, _)| *s != slot) {
            out.push((slot, Vec::new()));
        }
        if let Some((_, words)) = out.last_mut() {
            let (w, bit) = (id / 64, 1u64 << (id % 64));
            match words.last_mut() {
                Some((lw, m)) if *lw == w => *m |= bit,
                _ => words.push((w, bit)),
            }
        }
    }
    out.into_iter()
        .map(|(s, w)| (s, w.into_boxed_slice()))
        .collect()
}

fn any_bit(bits: &[u64], words: &[(u32, u64)]) -> bool {
    words
        .iter()
        .any(|&(w, m)| bits.get(w as usize).is_some_and(|b| b & m != 0))
}

/// (slot, pattern id) pairs of which at least one must occur for the
/// condition to hold (None: no such set could be proven).
fn required_literals(
    det: &CDet,
    c: &Cond,
    needles: &[HashMap<Vec<u8>, u32>],
    per_slot: &[Option<aho_corasick::AhoCorasick>],
    kw_needles: &HashMap<Vec<u8>, u32>,
    lens: &Lens,
) -> Option<Lits> {
    let item_lits = |it: &CItem| -> Option<Lits> {
        if it.keyword {
            // A keyword item (`keywords|all:` in a map): with `all`, its
            // longest literal must occur; otherwise one of them.
            let ItemTest::Values {
                preds,
                all,
                neq: false,
            } = &it.test
            else {
                return None;
            };
            let ids: Option<Lits> = preds
                .iter()
                .map(|p| Some((KW_SLOT, *kw_needles.get(literal_of(p)?)?)))
                .collect();
            let ids = ids?;
            return if *all {
                let best = ids.into_iter().max_by_key(|&l| lens.of(l))?;
                Some(vec![best])
            } else {
                (!ids.is_empty()).then_some(ids)
            };
        }
        let ItemTest::Values {
            preds,
            neq: false,
            all,
        } = &it.test
        else {
            return None;
        };
        let preds: &[Pred] = if *all { preds.get(..1)? } else { preds };
        let mut out = Vec::new();
        for &slot in it.slots.iter() {
            per_slot.get(slot as usize)?.as_ref()?;
            let m = needles.get(slot as usize)?;
            for p in preds {
                let id = *m.get(literal_of(p)?)?;
                out.push((slot, id));
            }
        }
        Some(out)
    };
    let search = |i: usize| -> Option<Lits> {
        let maps = match det.searches.get(i)? {
            CSearch::Maps(maps) => maps,
            // Any keyword must occur in some field's lowercased text.
            CSearch::Keywords(preds) => {
                let mut out = Vec::with_capacity(preds.len());
                for p in preds {
                    out.push((KW_SLOT, *kw_needles.get(literal_of(p)?)?));
                }
                return (!out.is_empty()).then_some(out);
            }
        };
        let mut all = Vec::new();
        for m in maps {
            let best = m
                .iter()
                .filter_map(item_lits)
                .max_by_key(|l| lens.score(l))?;
            all.extend(best);
        }
        Some(all)
    };
    let union = |parts: Vec<Option<Lits>>| -> Option<Lits> {
        let mut out = Vec::new();
        for p in parts {
            out.extend(p?);
        }
        Some(out)
    };
    let narrowest = |parts: Vec<Option<Lits>>| -> Option<Lits> {
        parts.into_iter().flatten().max_by_key(|l| lens.score(l))
    };
    match c {
        Cond::Search(i) => search(*i),
        Cond::Not(_) => None,
        Cond::And(parts) => narrowest(
            parts
                .iter()
                .map(|p| required_literals(det, p, needles, per_slot, kw_needles, lens))
                .collect(),
        ),
        Cond::Or(parts) => union(
            parts
                .iter()
                .map(|p| required_literals(det, p, needles, per_slot, kw_needles, lens))
                .collect(),
        ),
        Cond::AnyOf(ids) => union(ids.iter().map(|i| search(*i)).collect()),
        Cond::AllOf(ids) => narrowest(ids.iter().map(|i| search(*i)).collect()),
    }
}

/// Most value combinations one logsource alternative may add to the index.
const MAX_KEY_COMBOS: usize = 4096;

/// Per-thread reusable buffers for [`Engine::matches`].
#[derive(Debug, Default)]
pub struct Scratch {
    /// The engine this scratch was made for.
    engine: u64,
    /// Slots of static field names by address (see [`Engine::slot_for`]).
    names: Box<NameCache>,
    gen: u32,
    slot_gen: Vec<u32>,
    slot_field: Vec<u32>,
    lower_gen: Vec<u32>,
    lower: Vec<String>,
    all_gen: u32,
    all_lower: Vec<String>,
    kw_gen: u32,
    /// Every field's lowercased text joined by NULs (keyword search).
    kw_text: String,
    /// A number's text (see [`render`]).
    num_text: String,
    kw_bits: Vec<u64>,
    /// Some bit of `kw_bits` is set.
    kw_any: bool,
    rule_seen: Vec<u32>,
    cands: Vec<u32>,
    /// Per probe: the last key looked up and the rules it gave.
    probe_last: Vec<(String, Vec<u32>)>,
    /// Candidates found through the logsource index (reused).
    extra: Vec<u32>,
    hits: Vec<u32>,
    key: String,
    ac_gen: Vec<u32>,
    ac_bits: Vec<Vec<u64>>,
}

struct Compiler<'a> {
    slot_of: FxMap<Box<str>, u32>,
    mapping: &'a dyn FieldMapping,
}

impl Compiler<'_> {
    fn slot(&mut self, name: &str) -> u32 {
        if let Some(s) = self.slot_of.get(name) {
            return *s;
        }
        let s = u32::try_from(self.slot_of.len()).unwrap_or(u32::MAX);
        self.slot_of.insert(name.into(), s);
        s
    }

    fn names(&self, ls: &LogSource, field: &str) -> Vec<String> {
        let v = self.mapping.fields(ls, field);
        if v.is_empty() {
            vec![field.to_string()]
        } else {
            v
        }
    }

    fn slots(&mut self, ls: &LogSource, field: &str) -> Box<[u32]> {
        let names = self.names(ls, field);
        names.iter().map(|n| self.slot(n)).collect()
    }

    fn item(&mut self, ls: &LogSource, it: &FieldItem) -> CItem {
        let ref_slots = match &it.test {
            ItemTest::FieldRef { other, .. } => self.slots(ls, other),
            _ => Box::new([]),
        };
        if it.field.is_empty() {
            return CItem {
                keyword: true,
                slots: Box::new([]),
                test: it.test.clone(),
                ref_slots,
                ac: Box::new([]),
            };
        }
        CItem {
            keyword: false,
            slots: self.slots(ls, &it.field),
            test: it.test.clone(),
            ref_slots,
            ac: Box::new([]),
        }
    }

    fn det(&mut self, ls: &LogSource, d: &Detection) -> CDet {
        let searches = d
            .searches
            .iter()
            .map(|s| match s {
                Search::Keywords(p) => CSearch::Keywords(p.clone()),
                Search::Maps(maps) => CSearch::Maps(
                    maps.iter()
                        .map(|m| m.iter().map(|it| self.item(ls, it)).collect())
                        .collect(),
                ),
            })
            .collect();
        CDet {
            searches,
            cond: d.cond.clone(),
        }
    }
}

fn problem_for(set: &RuleSet, i: RuleIndex, kind: ProblemKind, msg: String) -> RuleProblem {
    let r = &set.rules()[i];
    RuleProblem {
        path: r.path.to_path_buf(),
        line: r.line,
        rule_id: r.id.clone(),
        title: Some(r.title.clone()),
        kind,
        message: msg,
    }
}

fn logsource_fits(filter: &LogSource, target: &LogSource) -> bool {
    let f = |a: &Option<String>, b: &Option<String>| a.is_none() || a == b;
    f(&filter.product, &target.product)
        && f(&filter.category, &target.category)
        && f(&filter.service, &target.service)
}

impl Engine {
    /// Compile a rule set against a mapping. Rules whose logsource the
    /// mapping does not support, filters and correlations with unknown
    /// references, and correlation cycles are reported and skipped.
    pub fn compile(set: RuleSet, mapping: &dyn FieldMapping) -> (Engine, Vec<RuleProblem>) {
        let mut problems = Vec::new();
        let mut c = Compiler {
            slot_of: FxMap::default(),
            mapping,
        };
        let n = set.len();
        let mut rules: Vec<Option<CRule>> = vec![None; n];
        let mut lookup: HashMap<&str, RuleIndex> = HashMap::new();
        for (i, r) in set.rules().iter().enumerate() {
            if let Some(name) = &r.name {
                lookup.entry(name.as_str()).or_insert(i);
            }
        }
        for (i, r) in set.rules().iter().enumerate() {
            if let Some(id) = &r.id {
                lookup.insert(id.as_str(), i);
            }
        }
        // detections
        for (i, r) in set.rules().iter().enumerate() {
            let RuleKind::Detection(d) = &r.kind else {
                continue;
            };
            let sources = match mapping.source(&r.logsource) {
                SourceMatch::Any => Vec::new(),
                SourceMatch::Unsupported => {
                    problems.push(problem_for(
                        &set,
                        i,
                        ProblemKind::UnmappedLogsource,
                        format!(
                            "logsource {} is not read by this tool",
                            describe(&r.logsource)
                        ),
                    ));
                    continue;
                }
                SourceMatch::Only(alts) => {
                    if alts.is_empty() {
                        problems.push(problem_for(
                            &set,
                            i,
                            ProblemKind::UnmappedLogsource,
                            format!("logsource {} maps to nothing", describe(&r.logsource)),
                        ));
                        continue;
                    }
                    alts.iter()
                        .map(|a| CSource {
                            kind: a.kind,
                            conds: a
                                .conditions
                                .iter()
                                .map(|(f, vals)| {
                                    (c.slot(f), vals.iter().map(|v| lower(v)).collect())
                                })
                                .collect(),
                        })
                        .collect()
                }
            };
            let det = c.det(&r.logsource, d);
            let eid = c.slots(&r.logsource, "EventID");
            let eid = match (eid.as_ref(), required_numbers(&det, &det.cond, &eid)) {
                ([slot], Some(mut ids)) => {
                    ids.sort_unstable();
                    ids.dedup();
                    Some((*slot, ids.into_boxed_slice()))
                }
                _ => None,
            };
            rules[i] = Some(CRule {
                req: None,
                check_sources: false,
                eid,
                det,
                filters: Vec::new(),
                sources,
            });
        }
        // filters
        for (i, r) in set.rules().iter().enumerate() {
            let RuleKind::Filter(f) = &r.kind else {
                continue;
            };
            let mut applied = 0;
            for target in &f.rules {
                let Some(&t) = lookup.get(target.as_str()) else {
                    continue;
                };
                let tls = set.rules()[t].logsource.clone();
                if !logsource_fits(&r.logsource, &tls) {
                    continue;
                }
                let cd = c.det(&tls, &f.detection);
                if let Some(Some(cr)) = rules.get_mut(t) {
                    cr.filters.push(cd);
                    applied += 1;
                }
            }
            if applied == 0 {
                problems.push(problem_for(
                    &set,
                    i,
                    ProblemKind::UnknownReference,
                    "filter applies to no loaded rule (check its `rules` ids and logsource)".into(),
                ));
            }
        }
        // correlations
        let mut corrs: Vec<CCorr> = Vec::new();
        let mut corr_of_rule: HashMap<RuleIndex, usize> = HashMap::new();
        for (i, r) in set.rules().iter().enumerate() {
            let RuleKind::Correlation(k) = &r.kind else {
                continue;
            };
            let mut inputs = Vec::new();
            let mut bad = None;
            for reference in &k.rules {
                let Some(&t) = lookup.get(reference.as_str()) else {
                    bad = Some(format!("correlation refers to unknown rule `{reference}`"));
                    break;
                };
                let target = &set.rules()[t];
                let is_corr = matches!(target.kind, RuleKind::Correlation(_));
                if matches!(target.kind, RuleKind::Filter(_)) {
                    bad = Some(format!("correlation refers to filter `{reference}`"));
                    break;
                }
                let ref_names: Vec<&str> = [
                    target.id.as_deref(),
                    target.name.as_deref(),
                    Some(reference),
                ]
                .into_iter()
                .flatten()
                .collect();
                let mut group_fields = Vec::new();
                for g in &k.group_by {
                    let mut name = g.clone();
                    if let Some((_, per_rule)) = k.aliases.iter().find(|(a, _)| a == g) {
                        match per_rule
                            .iter()
                            .find(|(r, _)| ref_names.contains(&r.as_str()))
                        {
                            Some((_, f)) => name = f.clone(),
                            None => {
                                bad = Some(format!(
                                    "alias `{g}` has no field for rule `{reference}`"
                                ));
                            }
                        }
                    }
                    if is_corr {
                        group_fields.push(vec![name]);
                    } else {
                        group_fields.push(c.names(&target.logsource, &name));
                    }
                }
                let value_fields = match &k.field {
                    Some(f) if !is_corr => c.names(&target.logsource, f),
                    Some(_)
                        if matches!(
                            k.kind,
                            CorrelationType::ValueCount
                                | CorrelationType::ValueSum
                                | CorrelationType::ValueAvg
                        ) =>
                    {
                        bad = Some(format!(
                            "a {} correlation over another correlation is not supported",
                            k.kind.as_str()
                        ));
                        Vec::new()
                    }
                    _ => Vec::new(),
                };
                inputs.push(CInput {
                    rule: t,
                    is_corr,
                    group_fields,
                    value_fields,
                });
            }
            if let Some(msg) = bad {
                problems.push(problem_for(&set, i, ProblemKind::UnknownReference, msg));
                continue;
            }
            corr_of_rule.insert(i, corrs.len());
            corrs.push(CCorr {
                rule: i,
                kind: k.kind,
                span_us: k.timespan_secs.saturating_mul(1_000_000),
                condition: k.condition.clone(),
                group_names: k.group_by.clone(),
                inputs,
            });
        }
        // drop correlations in cycles or depending on dropped ones (fixpoint)
        loop {
            let mut removed = false;
            let alive: Vec<bool> = corrs
                .iter()
                .map(|cc| {
                    cc.inputs
                        .iter()
                        .all(|inp| !inp.is_corr || corr_of_rule.contains_key(&inp.rule))
                })
                .collect();
            for (ci, ok) in alive.iter().enumerate() {
                if !ok {
                    if let Some(cc) = corrs.get(ci) {
                        if corr_of_rule.remove(&cc.rule).is_some() {
                            problems.push(problem_for(
                                &set,
                                cc.rule,
                                ProblemKind::UnknownReference,
                                "correlation depends on a correlation that was skipped".into(),
                            ));
                            removed = true;
                        }
                    }
                }
            }
            if !removed {
                break;
            }
        }
        // cycles: depth of chaining bounded by the number of correlations
        let depth_ok = |start: usize| -> bool {
            let mut frontier = vec![start];
            for _ in 0..=corrs.len() {
                let mut next = Vec::new();
                for ci in frontier {
                    if let Some(cc) = corrs.get(ci) {
                        for inp in &cc.inputs {
                            if inp.is_corr {
                                if let Some(&cj) = corr_of_rule.get(&inp.rule) {
                                    next.push(cj);
                                }
                            }
                        }
                    }
                }
                if next.is_empty() {
                    return true;
                }
                next.sort_unstable();
                next.dedup();
                frontier = next;
            }
            false
        };
        let cyclic: Vec<usize> = (0..corrs.len()).filter(|ci| !depth_ok(*ci)).collect();
        for ci in &cyclic {
            if let Some(cc) = corrs.get(*ci) {
                corr_of_rule.remove(&cc.rule);
                problems.push(problem_for(
                    &set,
                    cc.rule,
                    ProblemKind::Malformed,
                    "correlation rules refer to each other in a cycle".into(),
                ));
            }
        }
        let corrs: Vec<CCorr> = corrs
            .into_iter()
            .filter(|cc| corr_of_rule.contains_key(&cc.rule))
            .collect();
        let mut feeds: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        let mut reports_alone = vec![true; n];
        let mut generate_on = vec![false; n];
        for (ci, cc) in corrs.iter().enumerate() {
            let generate = match &set.rules()[cc.rule].kind {
                RuleKind::Correlation(k) => k.generate,
                _ => false,
            };
            for (pos, inp) in cc.inputs.iter().enumerate() {
                if let Some(f) = feeds.get_mut(inp.rule) {
                    f.push((ci, pos));
                }
                if generate {
                    generate_on[inp.rule] = true;
                } else if let Some(r) = reports_alone.get_mut(inp.rule) {
                    *r = false;
                }
            }
        }
        for (i, g) in generate_on.iter().enumerate() {
            if *g {
                reports_alone[i] = true;
            }
        }
        for (i, r) in set.rules().iter().enumerate() {
            if !matches!(r.kind, RuleKind::Detection(_)) {
                reports_alone[i] = matches!(r.kind, RuleKind::Correlation(_)) && reports_alone[i];
            }
        }
        // dispatch index
        let mut generic = Vec::new();
        let mut by_kind: [Vec<u32>; 4] = Default::default();
        let mut keyed: KeyIndex = FxMap::default();
        for (i, cr) in rules.iter_mut().enumerate() {
            let Some(cr) = cr else { continue };
            let idx = u32::try_from(i).unwrap_or(u32::MAX);
            if cr.sources.is_empty() {
                generic.push(idx);
                continue;
            }
            for s in &cr.sources {
                let kc = s.kind.map(kind_code).unwrap_or(ANY_KIND);
                let combos = s
                    .conds
                    .iter()
                    .map(|(_, v)| v.len())
                    .try_fold(1usize, |a, n| a.checked_mul(n))
                    .unwrap_or(usize::MAX);
                if s.conds.is_empty() || combos > MAX_KEY_COMBOS {
                    if !s.conds.is_empty() {
                        cr.check_sources = true;
                    }
                    if kc == ANY_KIND {
                        generic.push(idx);
                    } else if let Some(v) = by_kind.get_mut(usize::from(kc)) {
                        v.push(idx);
                    }
                    continue;
                }
                let sig: Box<[u32]> = s.conds.iter().map(|(slot, _)| *slot).collect();
                let m = keyed.entry((kc, sig)).or_default();
                let mut keys = vec![String::new()];
                for (_, vals) in &s.conds {
                    let mut next = Vec::with_capacity(keys.len() * vals.len());
                    for k in &keys {
                        for v in vals {
                            let mut k2 = k.clone();
                            k2.push_str(v);
                            k2.push('\u{1f}');
                            next.push(k2);
                        }
                    }
                    keys = next;
                }
                for k in keys {
                    m.entry(k).or_default().push(idx);
                }
            }
        }
        let base = by_kind.map(|mut v| {
            v.extend_from_slice(&generic);
            v.sort_unstable();
            v.dedup();
            v
        });
        let mut probes: Vec<Probe> = keyed.into_iter().collect();
        probes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let ac = build_ac(&mut rules, c.slot_of.len());
        let kw_only: Vec<bool> = rules
            .iter()
            .map(|cr| {
                cr.as_ref()
                    .and_then(|cr| cr.req.as_ref())
                    .is_some_and(|req| !req.is_empty() && req.iter().all(|(s, _)| *s == KW_SLOT))
            })
            .collect();
        let is_kw = |r: &u32| ac.keywords.is_some() && kw_only.get(*r as usize) == Some(&true);
        let base_kw = base.clone().map(|mut v| {
            v.retain(is_kw);
            v
        });
        let base = base.map(|mut v| {
            v.retain(|r| !is_kw(r));
            v
        });
        let engine = Engine {
            set,
            slot_of: c.slot_of,
            rules,
            base,
            base_kw,
            probes,
            id: NEXT_ENGINE_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ac,
            reports_alone,
            kw_only,
            corrs,
            feeds,
        };
        (engine, problems)
    }

    /// The rules (indexes are [`RuleIndex`]).
    pub fn rule_set(&self) -> &RuleSet {
        &self.set
    }

    /// Number of detection rules compiled for matching.
    pub fn active_detections(&self) -> usize {
        self.rules.iter().filter(|r| r.is_some()).count()
    }

    /// Number of correlations compiled.
    pub fn active_correlations(&self) -> usize {
        self.corrs.len()
    }

    /// Whether matches of this rule are reported on their own: false for
    /// a rule referenced only by correlations without `generate: true`,
    /// and for filters.
    pub fn reports_alone(&self, rule: RuleIndex) -> bool {
        self.reports_alone.get(rule).copied().unwrap_or(false)
    }

    /// Whether any correlation consumes matches of this rule.
    pub fn feeds_correlation(&self, rule: RuleIndex) -> bool {
        !self.feeds_of(rule).is_empty()
    }

    /// (correlation, input position) of every correlation input this rule feeds.
    #[inline]
    pub(crate) fn feeds_of(&self, rule: RuleIndex) -> &[(usize, usize)] {
        self.feeds.get(rule).map(Vec::as_slice).unwrap_or_default()
    }

    /// The event field names the correlations fed by this rule read (group-by
    /// and value fields, every mapped alternative): an event kept only for
    /// [`crate::CorrelationEngine::observe`] needs no other field.
    pub fn correlation_fields(&self, rule: RuleIndex) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for &(ci, pos) in self.feeds_of(rule) {
            let Some(inp) = self.corrs.get(ci).and_then(|c| c.inputs.get(pos)) else {
                continue;
            };
            for n in inp.group_fields.iter().flatten().chain(&inp.value_fields) {
                if !out.contains(&n.as_str()) {
                    out.push(n);
                }
            }
        }
        out
    }

    /// A fresh scratch for one thread.
    pub fn scratch(&self) -> Scratch {
        let n = self.slot_of.len();
        Scratch {
            engine: self.id,
            names: vec![(0, 0, u32::MAX); NAME_CACHE].into_boxed_slice(),
            gen: 0,
            slot_gen: vec![0; n],
            slot_field: vec![0; n],
            lower_gen: vec![0; n],
            lower: vec![String::new(); n],
            all_gen: 0,
            all_lower: Vec::new(),
            kw_gen: 0,
            kw_text: String::new(),
            num_text: String::new(),
            kw_bits: Vec::new(),
            kw_any: false,
            rule_seen: vec![0; self.rules.len()],
            cands: Vec::new(),
            probe_last: Vec::new(),
            extra: Vec::new(),
            hits: Vec::new(),
            key: String::new(),
            ac_gen: vec![0; n],
            ac_bits: vec![Vec::new(); n],
        }
    }

    /// Append every detection rule matching `event` to `out` (in rule
    /// order). Filters are applied; correlations are not (see
    /// [`crate::CorrelationEngine`]).
    pub fn matches(&self, event: &Event, sc: &mut Scratch, out: &mut Vec<Match>) {
        if sc.engine != self.id {
            *sc = self.scratch();
        }
        if sc.gen == u32::MAX {
            *sc = self.scratch();
        }
        sc.gen += 1;
        let gen = sc.gen;
        for (fi, (name, _)) in event.fields.iter().enumerate() {
            if let Some(s) = self.slot_for(name, &mut sc.names) {
                let su = s as usize;
                if sc.slot_gen.get(su) != Some(&gen) {
                    if let (Some(g), Some(f)) = (sc.slot_gen.get_mut(su), sc.slot_field.get_mut(su))
                    {
                        *g = gen;
                        *f = u32::try_from(fi).unwrap_or(u32::MAX);
                    }
                }
            }
        }
        // candidates
        // The kind's base list (sorted), then the rules the logsource
        // index adds (`extra`), merged in rule order.
        let mut cands = std::mem::take(&mut sc.cands);
        cands.clear();
        let mut extra = std::mem::take(&mut sc.extra);
        extra.clear();
        let kc = kind_code(event.kind);
        let base = self
            .base
            .get(usize::from(kc))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let base_kw = self
            .base_kw
            .get(usize::from(kc))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for &r in base.iter().chain(base_kw) {
            if let Some(seen) = sc.rule_seen.get_mut(r as usize) {
                *seen = gen;
            }
        }
        let push = |list: &[u32], sc: &mut Scratch, cands: &mut Vec<u32>| {
            for &r in list {
                if let Some(seen) = sc.rule_seen.get_mut(r as usize) {
                    if *seen != gen {
                        *seen = gen;
                        cands.push(r);
                    }
                }
            }
        };
        let mut key = std::mem::take(&mut sc.key);
        let mut probe_last = std::mem::take(&mut sc.probe_last);
        if probe_last.len() != self.probes.len() {
            probe_last = vec![(String::from("\u{0}"), Vec::new()); self.probes.len()];
        }
        for (((k, slots), index), last) in self.probes.iter().zip(probe_last.iter_mut()) {
            if *k != ANY_KIND && *k != kc {
                continue;
            }
            key.clear();
            let mut complete = true;
            for &slot in slots.iter() {
                let Some((_, v)) = self.present(sc, slot).and_then(|fi| event.fields.get(fi))
                else {
                    complete = false;
                    break;
                };
                key.push_str(lower_of(sc, slot, v));
                key.push('\u{1f}');
            }
            if !complete {
                continue;
            }
            // Consecutive events mostly share their logsource values
            // (`sshd`): the last lookup of each probe is kept.
            if last.0 != key {
                last.0.clone_from(&key);
                last.1.clear();
                if let Some(list) = index.get(key.as_str()) {
                    last.1.extend_from_slice(list);
                }
            }
            push(&last.1, sc, &mut extra);
        }
        sc.probe_last = probe_last;
        sc.key = key;
        if extra.is_empty() {
            cands.extend_from_slice(base);
        } else {
            extra.sort_unstable();
            merge_sorted(base, &extra, &mut cands);
        }
        // The keyword-only rules of the base list, when the event holds a
        // keyword at all (their pre-filter then picks among them).
        if !base_kw.is_empty() {
            self.kw_bits(sc, event);
            if sc.kw_any {
                extra.clear();
                extra.extend_from_slice(&cands);
                cands.clear();
                merge_sorted(&extra, base_kw, &mut cands);
            }
        }
        sc.extra = extra;
        for &r in &cands {
            if self.kw_only.get(r as usize) == Some(&true) && self.ac.keywords.is_some() {
                self.kw_bits(sc, event);
                if !sc.kw_any {
                    continue;
                }
            }
            let Some(Some(cr)) = self.rules.get(r as usize) else {
                continue;
            };
            if let Some((slot, ids)) = &cr.eid {
                let v = self
                    .present(sc, *slot)
                    .and_then(|fi| event.fields.get(fi))
                    .map(|(_, v)| v);
                match v {
                    None => continue,
                    Some(Value::List(_)) => {}
                    Some(v) => match value_number(v) {
                        Some(n) if n.fract() == 0.0 && ids.binary_search(&(n as i64)).is_ok() => {}
                        _ => continue,
                    },
                }
            }
            if let Some(req) = &cr.req {
                if !self.any_literal(req, event, sc) {
                    continue;
                }
            }
            if cr.check_sources && !cr.sources.iter().any(|s| self.source_ok(s, event, sc)) {
                continue;
            }
            // One pass that also records the fields that matched (filters
            // record nothing).
            sc.hits.clear();
            if !self.eval_cond(&cr.det, &cr.det.cond, event, sc, true) {
                continue;
            }
            if cr
                .filters
                .iter()
                .any(|f| self.eval_cond(f, &f.cond, event, sc, false))
            {
                continue;
            }
            let mut fields: Vec<portcullis_events::FieldName> = Vec::new();
            for &fi in &sc.hits {
                if let Some((name, _)) = event.fields.get(fi as usize) {
                    if !fields.iter().any(|f| **f == **name) {
                        fields.push(name.clone());
                    }
                }
            }
            out.push(Match {
                rule: r as usize,
                fields,
            });
        }
        sc.cands = cands;
    }

    fn any_literal(&self, req: &ReqMask, event: &Event, sc: &mut Scratch) -> bool {
        for (slot, words) in req.iter() {
            if *slot == KW_SLOT {
                if self.ac.keywords.is_none() {
                    return true;
                }
                self.kw_bits(sc, event);
                if any_bit(&sc.kw_bits, words) {
                    return true;
                }
                continue;
            }
            let Some((_, v)) = self.present(sc, *slot).and_then(|fi| event.fields.get(fi)) else {
                continue;
            };
            if matches!(v, Value::List(_)) {
                return true;
            }
            if self.ac_bits(sc, *slot, v) {
                if let Some(bits) = sc.ac_bits.get(*slot as usize) {
                    if any_bit(bits, words) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Whether pattern `id` of the slot's automaton occurs in its
    /// lowercased text (the automaton runs once per slot and event).
    fn ac_hit(&self, sc: &mut Scratch, slot: u32, v: &Value, id: u32) -> bool {
        if !self.ac_bits(sc, slot, v) {
            return false;
        }
        let p = id as usize;
        sc.ac_bits
            .get(slot as usize)
            .and_then(|b| b.get(p / 64))
            .is_some_and(|w| w & (1u64 << (p % 64)) != 0)
    }

    /// Run the slot's automaton over its lowercased text once per event,
    /// filling `sc.ac_bits[slot]`; false when the slot has no automaton.
    fn ac_bits(&self, sc: &mut Scratch, slot: u32, v: &Value) -> bool {
        let s = slot as usize;
        let Some(Some(ac)) = self.ac.per_slot.get(s) else {
            return false;
        };
        if sc.ac_gen.get(s) != Some(&sc.gen) {
            lower_of(sc, slot, v);
            let words = ac.patterns_len().div_ceil(64);
            let Scratch {
                ac_gen,
                ac_bits,
                lower,
                gen,
                ..
            } = sc;
            if let (Some(g), Some(bits), Some(text)) =
                (ac_gen.get_mut(s), ac_bits.get_mut(s), lower.get(s))
            {
                *g = *gen;
                bits.clear();
                bits.resize(words, 0);
                for m in ac.find_overlapping_iter(text.as_str()) {
                    let p = m.pattern().as_usize();
                    if let Some(w) = bits.get_mut(p / 64) {
                        *w |= 1u64 << (p % 64);
                    }
                }
            }
        }
        true
    }

    /// Run the keyword filter once per event over every field, filling
    /// `sc.kw_bits` and `sc.kw_any`.
    fn kw_bits(&self, sc: &mut Scratch, event: &Event) {
        let Some(kw) = &self.ac.keywords else {
            return;
        };
        if sc.kw_gen != sc.gen {
            sc.kw_gen = sc.gen;
            let words = kw.len().div_ceil(64);
            sc.kw_bits.clear();
            sc.kw_bits.resize(words, 0);
            let Scratch {
                kw_bits,
                kw_text,
                num_text,
                ..
            } = sc;
            // Field by field (no match across fields); ASCII text as it
            // is (the filter folds case), other text lowercased first.
            for (name, v) in &event.fields {
                if !portcullis_events::keyword_field(event.kind, name) {
                    continue;
                }
                match v {
                    Value::List(items) => {
                        // Items joined with `\n`, as keyword evaluation sees them.
                        kw_text.clear();
                        for it in items {
                            push_lower(kw_text, render(it, num_text));
                            kw_text.push('\n');
                        }
                        kw.scan(kw_text.as_bytes(), kw_bits);
                    }
                    v => {
                        let t = render(v, num_text);
                        if t.is_ascii() {
                            kw.scan(t.as_bytes(), kw_bits);
                        } else {
                            kw_text.clear();
                            push_lower(kw_text, t);
                            kw.scan(kw_text.as_bytes(), kw_bits);
                        }
                    }
                }
            }
            sc.kw_any = sc.kw_bits.iter().any(|w| *w != 0);
        }
    }

    /// A field name's slot. Names that are `&'static str` (the readers'
    /// usual names) are looked up once per scratch by address: static text
    /// at one address never changes.
    #[inline]
    fn slot_for(&self, name: &portcullis_events::FieldName, cache: &mut NameCache) -> Option<u32> {
        if let std::borrow::Cow::Borrowed(s) = name {
            let addr = s.as_ptr() as usize;
            let i = ((addr >> 3) ^ s.len()) % NAME_CACHE;
            if let Some(e) = cache.get_mut(i) {
                if e.0 == addr && e.1 == s.len() {
                    return (e.2 != u32::MAX).then_some(e.2);
                }
                let slot = self.slot_of.get(*s).copied();
                *e = (addr, s.len(), slot.unwrap_or(u32::MAX));
                return slot;
            }
        }
        self.slot_of.get(&**name).copied()
    }

    fn present(&self, sc: &Scratch, slot: u32) -> Option<usize> {
        let s = slot as usize;
        if sc.slot_gen.get(s) == Some(&sc.gen) {
            sc.slot_field.get(s).map(|f| *f as usize)
        } else {
            None
        }
    }

    fn first_present(&self, sc: &Scratch, slots: &[u32]) -> Option<(u32, usize)> {
        slots
            .iter()
            .find_map(|&s| self.present(sc, s).map(|f| (s, f)))
    }

    fn source_ok(&self, s: &CSource, event: &Event, sc: &mut Scratch) -> bool {
        if let Some(k) = s.kind {
            if k != event.kind {
                return false;
            }
        }
        for (slot, vals) in &s.conds {
            let Some(fi) = self.present(sc, *slot) else {
                return false;
            };
            let Some((_, v)) = event.fields.get(fi) else {
                return false;
            };
            let t = lower_of(sc, *slot, v);
            if !vals.iter().any(|x| x == t) {
                return false;
            }
        }
        true
    }

    fn eval_cond(&self, det: &CDet, c: &Cond, ev: &Event, sc: &mut Scratch, rec: bool) -> bool {
        match c {
            Cond::Search(i) => self.eval_search(det, *i, ev, sc, rec),
            Cond::Not(inner) => !self.eval_cond(det, inner, ev, sc, false),
            Cond::And(parts) => {
                let mark = sc.hits.len();
                let ok = parts.iter().all(|p| self.eval_cond(det, p, ev, sc, rec));
                if !ok {
                    sc.hits.truncate(mark);
                }
                ok
            }
            Cond::Or(parts) => parts.iter().any(|p| self.eval_cond(det, p, ev, sc, rec)),
            Cond::AnyOf(ids) => {
                if rec {
                    // record every true search
                    let mut any = false;
                    for &i in ids {
                        any |= self.eval_search(det, i, ev, sc, rec);
                    }
                    any
                } else {
                    ids.iter().any(|&i| self.eval_search(det, i, ev, sc, rec))
                }
            }
            Cond::AllOf(ids) => {
                let mark = sc.hits.len();
                let ok = ids.iter().all(|&i| self.eval_search(det, i, ev, sc, rec));
                if !ok {
                    sc.hits.truncate(mark);
                }
                ok
            }
        }
    }

    fn eval_search(&self, det: &CDet, i: usize, ev: &Event, sc: &mut Scratch, rec: bool) -> bool {
        match det.searches.get(i) {
            Some(CSearch::Keywords(preds)) => self.eval_keywords(preds, ev, sc, rec),
            Some(CSearch::Maps(maps)) => maps.iter().any(|items| {
                let mark = sc.hits.len();
                let ok = items.iter().all(|it| self.eval_item(it, ev, sc, rec));
                if !ok {
                    sc.hits.truncate(mark);
                }
                ok
            }),
            None => false,
        }
    }

    fn eval_keywords(&self, preds: &[Pred], ev: &Event, sc: &mut Scratch, rec: bool) -> bool {
        all_lower(sc, ev);
        for p in preds {
            for (fi, (name, v)) in ev.fields.iter().enumerate() {
                if !portcullis_events::keyword_field(ev.kind, name) {
                    continue;
                }
                let hit = match p {
                    Pred::Str(sp) if !sp.cased => sc.all_lower.get(fi).is_some_and(|t| sp.test(t)),
                    Pred::Null => false,
                    other => {
                        let mut buf = String::new();
                        test_plain(other, v, &mut buf)
                    }
                };
                if hit {
                    if rec {
                        sc.hits.push(u32::try_from(fi).unwrap_or(u32::MAX));
                    }
                    return true;
                }
            }
        }
        false
    }

    fn eval_item(&self, it: &CItem, ev: &Event, sc: &mut Scratch, rec: bool) -> bool {
        if it.keyword {
            if let ItemTest::Values {
                preds, all: true, ..
            } = &it.test
            {
                return preds
                    .iter()
                    .all(|p| self.eval_keywords(std::slice::from_ref(p), ev, sc, rec));
            }
            if let ItemTest::Values { preds, .. } = &it.test {
                return self.eval_keywords(preds, ev, sc, rec);
            }
            return false;
        }
        let found = self.first_present(sc, &it.slots);
        let ok = match &it.test {
            ItemTest::Exists(b) => found.is_some() == *b,
            ItemTest::Values { preds, all, neq } => {
                let res = match found {
                    None => {
                        let null = |p: &Pred| matches!(p, Pred::Null);
                        if *all {
                            preds.iter().all(null)
                        } else {
                            preds.iter().any(null)
                        }
                    }
                    Some((slot, fi)) => match ev.fields.get(fi) {
                        Some((_, v)) => {
                            let pos = it.slots.iter().position(|s| *s == slot);
                            let ids = pos.and_then(|p| it.ac.get(p));
                            let scalar = !matches!(v, Value::List(_) | Value::Null);
                            let mut test = |i: usize, p: &Pred| match ids.and_then(|ids| ids.get(i))
                            {
                                Some(&id) if id != NO_AC && scalar => self.ac_hit(sc, slot, v, id),
                                _ => pred_on(p, v, slot, sc),
                            };
                            if *all {
                                preds.iter().enumerate().all(|(i, p)| test(i, p))
                            } else {
                                preds.iter().enumerate().any(|(i, p)| test(i, p))
                            }
                        }
                        None => false,
                    },
                };
                if *neq {
                    found.is_some() && !res
                } else {
                    res
                }
            }
            ItemTest::FieldRef { mode, cased, .. } => {
                let other = self.first_present(sc, &it.ref_slots);
                match (found, other) {
                    (Some((_, a)), Some((_, b))) => match (ev.fields.get(a), ev.fields.get(b)) {
                        (Some((_, va)), Some((_, vb))) => {
                            let (mut ba, mut bb) = (String::new(), String::new());
                            let (ta, tb) = (render(va, &mut ba), render(vb, &mut bb));
                            let (ta, tb) = if *cased {
                                (ta.to_string(), tb.to_string())
                            } else {
                                (lower(ta), lower(tb))
                            };
                            match mode {
                                RefMode::Equal => ta == tb,
                                RefMode::Contains => ta.contains(&tb),
                                RefMode::Prefix => ta.starts_with(&tb),
                                RefMode::Suffix => ta.ends_with(&tb),
                            }
                        }
                        _ => false,
                    },
                    _ => false,
                }
            }
        };
        if ok && rec {
            if let Some((_, fi)) = found {
                sc.hits.push(u32::try_from(fi).unwrap_or(u32::MAX));
            }
            if matches!(it.test, ItemTest::FieldRef { .. }) {
                if let Some((_, fi)) = self.first_present(sc, &it.ref_slots) {
                    sc.hits.push(u32::try_from(fi).unwrap_or(u32::MAX));
                }
            }
        }
        ok
    }
}

/// Numbers one field must equal for the condition to hold (None: no such
/// requirement could be proven). Only plain equality items count.
fn required_numbers(det: &CDet, c: &Cond, slots: &[u32]) -> Option<Vec<i64>> {
    let search = |i: usize| -> Option<Vec<i64>> {
        let CSearch::Maps(maps) = det.searches.get(i)? else {
            return None;
        };
        let mut all = Vec::new();
        for m in maps {
            let mut found = None;
            for it in m {
                if it.keyword || *it.slots != *slots {
                    continue;
                }
                if let ItemTest::Values {
                    preds,
                    all: false,
                    neq: false,
                } = &it.test
                {
                    let mut nums = Vec::new();
                    for p in preds {
                        match p {
                            Pred::Str(sp) => match &sp.kind {
                                crate::pred::StrKind::Exact(t) => nums.push(t.parse::<i64>().ok()?),
                                _ => return None,
                            },
                            _ => return None,
                        }
                    }
                    found = Some(nums);
                    break;
                }
            }
            all.extend(found?);
        }
        Some(all)
    };
    let union = |parts: Vec<Option<Vec<i64>>>| -> Option<Vec<i64>> {
        let mut out = Vec::new();
        for p in parts {
            out.extend(p?);
        }
        Some(out)
    };
    let narrowest = |parts: Vec<Option<Vec<i64>>>| -> Option<Vec<i64>> {
        parts.into_iter().flatten().min_by_key(Vec::len)
    };
    match c {
        Cond::Search(i) => search(*i),
        Cond::Not(_) => None,
        Cond::And(parts) => narrowest(
            parts
                .iter()
                .map(|p| required_numbers(det, p, slots))
                .collect(),
        ),
        Cond::Or(parts) => union(
            parts
                .iter()
                .map(|p| required_numbers(det, p, slots))
                .collect(),
        ),
        Cond::AnyOf(ids) => union(ids.iter().map(|i| search(*i)).collect()),
        Cond::AllOf(ids) => narrowest(ids.iter().map(|i| search(*i)).collect()),
    }
}

fn describe(ls: &LogSource) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &ls.product {
        parts.push(format!("product={p}"));
    }
    if let Some(c) = &ls.category {
        parts.push(format!("category={c}"));
    }
    if let Some(s) = &ls.service {
        parts.push(format!("service={s}"));
    }
    if parts.is_empty() {
        "(empty)".into()
    } else {
        parts.join(" ")
    }
}

/// The lowercased text of a slot's value, cached per event.
/// Every field's lowercased text (lists joined with `\n`), once per event,
/// reusing the scratch's strings.
fn all_lower(sc: &mut Scratch, ev: &Event) {
    if sc.all_gen == sc.gen {
        return;
    }
    sc.all_gen = sc.gen;
    let n = ev.fields.len();
    if sc.all_lower.len() < n {
        sc.all_lower.resize(n, String::new());
    }
    let mut buf = String::new();
    for ((_, v), s) in ev.fields.iter().zip(sc.all_lower.iter_mut()) {
        s.clear();
        match v {
            Value::List(items) => {
                for it in items {
                    push_lower(s, render(it, &mut buf));
                    s.push('\n');
                }
            }
            v => push_lower(s, render(v, &mut buf)),
        }
    }
}

fn push_lower(out: &mut String, t: &str) {
    if t.is_ascii() {
        let start = out.len();
        out.push_str(t);
        if let Some(tail) = out.get_mut(start..) {
            tail.make_ascii_lowercase();
        }
    } else {
        out.push_str(&lower(t));
    }
}

fn lower_of<'s>(sc: &'s mut Scratch, slot: u32, v: &Value) -> &'s str {
    let s = slot as usize;
    let gen = sc.gen;
    if sc.lower_gen.get(s) != Some(&gen) {
        if let (Some(g), Some(buf)) = (sc.lower_gen.get_mut(s), sc.lower.get_mut(s)) {
            *g = gen;
            buf.clear();
            let mut tmp = String::new();
            let t = render(v, &mut tmp);
            if t.is_ascii() {
                buf.push_str(t);
                buf.make_ascii_lowercase();
            } else {
                buf.push_str(&t.to_lowercase());
            }
        }
    }
    sc.lower.get(s).map(String::as_str).unwrap_or("")
}

/// Test a predicate on a value without the per-slot cache.
fn test_plain(p: &Pred, v: &Value, buf: &mut String) -> bool {
    match v {
        Value::List(items) => items.iter().any(|it| test_plain(p, it, &mut String::new())),
        _ => match p {
            Pred::Null => v.is_null() || matches!(v, Value::Str(s) if s.is_empty()),
            Pred::Str(sp) => {
                let t = render(v, buf);
                if sp.cased {
                    sp.test(t)
                } else {
                    sp.test(&lower(t))
                }
            }
            Pred::Re(re) => re.is_match(render(v, buf)),
            Pred::Cidr(c) => c.contains_text(render(v, buf)),
            Pred::Num(op, n) => value_number(v).is_some_and(|x| op.test(x, *n)),
        },
    }
}

fn pred_on(p: &Pred, v: &Value, slot: u32, sc: &mut Scratch) -> bool {
    match (p, v) {
        (Pred::Str(sp), Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_))
            if !sp.cased =>
        {
            sp.test(lower_of(sc, slot, v))
        }
        _ => test_plain(p, v, &mut String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::merge_sorted;

    #[test]
    fn merge_sorted_keeps_rule_order() {
        let cases: [(&[u32], &[u32]); 5] = [
            (&[], &[]),
            (&[1, 4, 9], &[]),
            (&[], &[2, 3]),
            (&[1, 4, 9], &[0, 5, 10, 11]),
            (&[2, 3], &[1]),
        ];
        for (a, b) in cases {
            let mut out = vec![99];
            merge_sorted(a, b, &mut out);
            let mut want: Vec<u32> = a.iter().chain(b).copied().collect();
            want.sort_unstable();
            want.insert(0, 99);
            assert_eq!(out, want, "{a:?} + {b:?}");
        }
    }
}
