//! Rule documents: metadata, detection, correlation and filter sections.

use crate::cond::{parse_condition, Cond};
use crate::pred::{parse_wild, Cidr, NumOp, Pred, StrPred, Tok};
use crate::yaml::Node;
use crate::{ProblemKind, RuleProblem};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// A rule's `logsource`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LogSource {
    /// `product` (e.g. `windows`, `linux`, `azure`).
    pub product: Option<String>,
    /// `category` (e.g. `process_creation`).
    pub category: Option<String>,
    /// `service` (e.g. `security`, `sshd`, `signinlogs`).
    pub service: Option<String>,
}

/// A rule's severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `informational`
    Informational,
    /// `low`
    Low,
    /// `medium`
    Medium,
    /// `high`
    High,
    /// `critical`
    Critical,
}

impl Level {
    /// Parse a level name (case-insensitive).
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "informational" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    /// The level's Sigma name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// A loaded rule: metadata plus what kind of rule it is.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The file it came from.
    pub path: Arc<Path>,
    /// 1-based line of the YAML document.
    pub line: usize,
    /// `id`.
    pub id: Option<String>,
    /// `name` (v2: referenced by correlations and filters).
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `level`.
    pub level: Option<Level>,
    /// `status`.
    pub status: Option<String>,
    /// `tags` (e.g. `attack.t1110.003`).
    pub tags: Vec<String>,
    /// `logsource` (for a correlation: empty).
    pub logsource: LogSource,
    /// `description`.
    pub description: Option<String>,
    /// `author`.
    pub author: Option<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `references`.
    pub references: Vec<String>,
    /// `fields`.
    pub fields: Vec<String>,
    /// Detection, correlation or filter.
    pub kind: RuleKind,
}

impl Rule {
    /// MITRE ATT&CK tags (`attack.*`).
    pub fn attack_tags(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .map(String::as_str)
            .filter(|t| t.starts_with("attack."))
    }
}

/// What a rule does.
#[derive(Debug, Clone)]
pub enum RuleKind {
    /// A detection rule.
    Detection(Detection),
    /// A correlation rule (Sigma v2).
    Correlation(Correlation),
    /// A filter (meta) rule applied to other rules.
    Filter(Filter),
}

/// A parsed `detection` section (field names not yet mapped).
#[derive(Debug, Clone)]
pub struct Detection {
    pub(crate) searches: Vec<Search>,
    pub(crate) names: Vec<String>,
    pub(crate) cond: Cond,
}

impl Detection {
    /// The search (selection) names, in document order.
    pub fn search_names(&self) -> &[String] {
        &self.names
    }

    /// The Sigma field names the detection refers to.
    pub fn field_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for s in &self.searches {
            if let Search::Maps(maps) = s {
                for m in maps {
                    for it in m {
                        v.push(&it.field);
                        if let ItemTest::FieldRef { other, .. } = &it.test {
                            v.push(other);
                        }
                    }
                }
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// A filter (meta) rule: excludes matches of the named rules.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Rules it applies to, by id or name.
    pub rules: Vec<String>,
    pub(crate) detection: Detection,
}

/// A correlation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrelationType {
    /// Number of events in the window.
    EventCount,
    /// Number of distinct values of a field in the window.
    ValueCount,
    /// All referenced rules matched in the window, any order.
    Temporal,
    /// All referenced rules matched in the window, in order.
    TemporalOrdered,
    /// Sum of a numeric field in the window.
    ValueSum,
    /// Average of a numeric field in the window.
    ValueAvg,
}

impl CorrelationType {
    /// The Sigma name.
    pub fn as_str(self) -> &'static str {
        match self {
            CorrelationType::EventCount => "event_count",
            CorrelationType::ValueCount => "value_count",
            CorrelationType::Temporal => "temporal",
            CorrelationType::TemporalOrdered => "temporal_ordered",
            CorrelationType::ValueSum => "value_sum",
            CorrelationType::ValueAvg => "value_avg",
        }
    }
}

/// A comparison in a correlation condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpOp {
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `eq`
    Eq,
    /// `neq`
    Neq,
}

impl CmpOp {
    /// Test `value op bound`.
    pub fn test(self, value: f64, bound: f64) -> bool {
        match self {
            CmpOp::Gt => value > bound,
            CmpOp::Gte => value >= bound,
            CmpOp::Lt => value < bound,
            CmpOp::Lte => value <= bound,
            CmpOp::Eq => value == bound,
            CmpOp::Neq => value != bound,
        }
    }
}

/// A parsed correlation section.
#[derive(Debug, Clone)]
pub struct Correlation {
    /// The type.
    pub kind: CorrelationType,
    /// Referenced rules (ids or names).
    pub rules: Vec<String>,
    /// `group-by` fields (all must be equal: AND).
    pub group_by: Vec<String>,
    /// Window length in seconds.
    pub timespan_secs: i64,
    /// Condition: every comparison must hold (a range is two).
    pub condition: Vec<(CmpOp, f64)>,
    /// `condition.field` (value_count, value_sum, value_avg).
    pub field: Option<String>,
    /// `aliases`: alias name → (rule reference → field name).
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    /// `generate`: whether the referenced rules also report on their own.
    pub generate: bool,
}

/// One selection or keyword list.
#[derive(Debug, Clone)]
pub(crate) enum Search {
    /// Keyword search over all field values: any matches.
    Keywords(Vec<Pred>),
    /// A list of maps (OR); each map's items AND.
    Maps(Vec<Vec<FieldItem>>),
}

/// One `field|modifiers: values` item.
#[derive(Debug, Clone)]
pub(crate) struct FieldItem {
    pub field: String,
    pub test: ItemTest,
}

/// What an item tests.
#[derive(Debug, Clone)]
pub(crate) enum ItemTest {
    /// Values: any (or all) predicates hold; `neq` negates.
    Values {
        preds: Vec<Pred>,
        all: bool,
        neq: bool,
    },
    /// `exists: true/false`.
    Exists(bool),
    /// `fieldref`: compare with another field of the same event.
    FieldRef {
        other: String,
        mode: RefMode,
        cased: bool,
    },
}

/// How a `fieldref` compares.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RefMode {
    Equal,
    Contains,
    Prefix,
    Suffix,
}

/// Placeholder values for `expand`.
pub type Placeholders = HashMap<String, Vec<String>>;

pub(crate) struct Ctx<'a> {
    pub path: &'a Arc<Path>,
    pub line: usize,
    pub id: Option<String>,
    pub title: Option<String>,
    pub placeholders: &'a Placeholders,
}

impl Ctx<'_> {
    pub fn problem(&self, kind: ProblemKind, message: impl Into<String>) -> RuleProblem {
        RuleProblem {
            path: self.path.to_path_buf(),
            line: self.line,
            rule_id: self.id.clone(),
            title: self.title.clone(),
            kind,
            message: message.into(),
        }
    }
}

fn opt_text(n: &Node, key: &str) -> Option<String> {
    n.get(key).and_then(Node::scalar_text)
}

/// Parse one YAML document into a rule.
pub(crate) fn parse_rule(root: &Node, ctx: &mut Ctx<'_>) -> Result<Rule, RuleProblem> {
    if !matches!(root, Node::Map(_)) {
        return Err(ctx.problem(ProblemKind::Malformed, "a rule document must be a mapping"));
    }
    ctx.id = opt_text(root, "id");
    ctx.title = opt_text(root, "title");
    let title = ctx
        .title
        .clone()
        .ok_or_else(|| ctx.problem(ProblemKind::Malformed, "rule has no `title`"))?;
    let logsource = match root.get("logsource") {
        Some(ls @ Node::Map(_)) => LogSource {
            product: opt_text(ls, "product").map(|s| s.to_ascii_lowercase()),
            category: opt_text(ls, "category").map(|s| s.to_ascii_lowercase()),
            service: opt_text(ls, "service").map(|s| s.to_ascii_lowercase()),
        },
        _ => LogSource::default(),
    };
    let level =
        match root.get("level").and_then(Node::scalar_text) {
            Some(l) => Some(Level::parse(&l).ok_or_else(|| {
                ctx.problem(ProblemKind::Malformed, format!("unknown level `{l}`"))
            })?),
            None => None,
        };
    let kind = if let Some(c) = root.get("correlation") {
        RuleKind::Correlation(parse_correlation(c, ctx)?)
    } else if let Some(f) = root.get("filter") {
        let rules = f.get("rules").map(Node::string_list).unwrap_or_default();
        if rules.is_empty() {
            return Err(ctx.problem(ProblemKind::Malformed, "filter has no `rules`"));
        }
        RuleKind::Filter(Filter {
            rules,
            detection: parse_detection(f, ctx, true)?,
        })
    } else if let Some(d) = root.get("detection") {
        RuleKind::Detection(parse_detection(d, ctx, false)?)
    } else {
        return Err(ctx.problem(
            ProblemKind::Malformed,
            "document has none of `detection`, `correlation` or `filter`",
        ));
    };
    Ok(Rule {
        path: ctx.path.clone(),
        line: ctx.line,
        id: ctx.id.clone(),
        name: opt_text(root, "name"),
        title,
        level,
        status: opt_text(root, "status"),
        tags: root.get("tags").map(Node::string_list).unwrap_or_default(),
        logsource,
        description: opt_text(root, "description"),
        author: opt_text(root, "author"),
        falsepositives: root
            .get("falsepositives")
            .map(Node::string_list)
            .unwrap_or_default(),
        references: root
            .get("references")
            .map(Node::string_list)
            .unwrap_or_default(),
        fields: root
            .get("fields")
            .map(Node::string_list)
            .unwrap_or_default(),
        kind,
    })
}

/// Parse a timespan such as `30s`, `5m`, `1h`, `1d`, `1w` into seconds.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let num: i64 = s.get(..s.len() - unit.len_utf8())?.parse().ok()?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    if num <= 0 {
        return None;
    }
    num.checked_mul(mult)
}

fn parse_correlation(c: &Node, ctx: &Ctx<'_>) -> Result<Correlation, RuleProblem> {
    let bad = |m: String| ctx.problem(ProblemKind::Malformed, m);
    let unsup = |m: String| ctx.problem(ProblemKind::Unsupported, m);
    let ty = c
        .get("type")
        .and_then(Node::as_str)
        .ok_or_else(|| bad("correlation has no `type`".into()))?;
    let kind = match ty {
        "event_count" => CorrelationType::EventCount,
        "value_count" => CorrelationType::ValueCount,
        "temporal" => CorrelationType::Temporal,
        "temporal_ordered" => CorrelationType::TemporalOrdered,
        "value_sum" => CorrelationType::ValueSum,
        "value_avg" => CorrelationType::ValueAvg,
        "value_percentile" => {
            return Err(unsup(
                "correlation type `value_percentile` is not supported".into(),
            ))
        }
        other => return Err(bad(format!("unknown correlation type `{other}`"))),
    };
    let rules = c.get("rules").map(Node::string_list).unwrap_or_default();
    if rules.is_empty() {
        return Err(bad("correlation has no `rules`".into()));
    }
    let group_by = c.get("group-by").map(Node::string_list).unwrap_or_default();
    let timespan = c
        .get("timespan")
        .or_else(|| c.get("timeframe"))
        .and_then(Node::scalar_text)
        .ok_or_else(|| bad("correlation has no `timespan`".into()))?;
    let timespan_secs = parse_timespan(&timespan).ok_or_else(|| {
        bad(format!(
            "timespan `{timespan}` is not a number followed by s, m, h, d or w"
        ))
    })?;
    let mut condition = Vec::new();
    let mut field = None;
    match c.get("condition") {
        Some(Node::Map(items)) => {
            for (k, v) in items {
                let key = k.as_str().unwrap_or("");
                if key == "field" {
                    field = v.scalar_text();
                    continue;
                }
                let op = match key {
                    "gt" => CmpOp::Gt,
                    "gte" => CmpOp::Gte,
                    "lt" => CmpOp::Lt,
                    "lte" => CmpOp::Lte,
                    "eq" => CmpOp::Eq,
                    "neq" => CmpOp::Neq,
                    other => return Err(bad(format!("unknown condition operator `{other}`"))),
                };
                let n = match v {
                    Node::Int(i) => *i as f64,
                    Node::Float(f, _) => *f,
                    Node::Str(s) => crate::pred::text_number(s)
                        .ok_or_else(|| bad(format!("condition `{key}` is not a number")))?,
                    _ => return Err(bad(format!("condition `{key}` is not a number"))),
                };
                condition.push((op, n));
            }
        }
        Some(Node::Null) | None => {}
        Some(_) => return Err(bad("correlation `condition` must be a mapping".into())),
    }
    match kind {
        CorrelationType::Temporal | CorrelationType::TemporalOrdered => {}
        _ => {
            if condition.is_empty() {
                return Err(bad(format!("a {ty} correlation needs a `condition`")));
            }
        }
    }
    if matches!(
        kind,
        CorrelationType::ValueCount | CorrelationType::ValueSum | CorrelationType::ValueAvg
    ) && field.is_none()
    {
        return Err(bad(format!("a {ty} correlation needs `condition.field`")));
    }
    let mut aliases = Vec::new();
    if let Some(Node::Map(items)) = c.get("aliases") {
        for (k, v) in items {
            let Some(alias) = k.scalar_text() else {
                return Err(bad("alias names must be strings".into()));
            };
            let Node::Map(per_rule) = v else {
                return Err(bad(format!("alias `{alias}` must map rules to fields")));
            };
            let mut m = Vec::new();
            for (r, f) in per_rule {
                match (r.scalar_text(), f.scalar_text()) {
                    (Some(r), Some(f)) => m.push((r, f)),
                    _ => return Err(bad(format!("alias `{alias}` has a non-text entry"))),
                }
            }
            aliases.push((alias, m));
        }
    }
    let generate = matches!(c.get("generate"), Some(Node::Bool(true)));
    Ok(Correlation {
        kind,
        rules,
        group_by,
        timespan_secs,
        condition,
        field,
        aliases,
        generate,
    })
}

fn parse_detection(d: &Node, ctx: &Ctx<'_>, is_filter: bool) -> Result<Detection, RuleProblem> {
    let Node::Map(items) = d else {
        return Err(ctx.problem(ProblemKind::Malformed, "`detection` must be a mapping"));
    };
    let mut searches = Vec::new();
    let mut names = Vec::new();
    let mut cond_node = None;
    for (k, v) in items {
        let Some(name) = k.scalar_text() else {
            return Err(ctx.problem(ProblemKind::Malformed, "detection keys must be strings"));
        };
        match name.as_str() {
            "condition" => cond_node = Some(v),
            "timeframe" => {
                return Err(ctx.problem(
                    ProblemKind::Unsupported,
                    "`timeframe` in detection belongs to legacy aggregations; rewrite as a correlation rule",
                ))
            }
            "rules" if is_filter => {}
            _ => {
                searches.push(parse_search(v, ctx, &name)?);
                names.push(name);
            }
        }
    }
    let conds: Vec<String> = match cond_node {
        Some(Node::Seq(list)) => list.iter().filter_map(Node::scalar_text).collect(),
        Some(n) => n.scalar_text().into_iter().collect(),
        None => Vec::new(),
    };
    if conds.is_empty() {
        return Err(ctx.problem(ProblemKind::Malformed, "detection has no `condition`"));
    }
    let mut alts = Vec::new();
    for c in &conds {
        alts.push(parse_condition(c, &names).map_err(|(kind, m)| ctx.problem(kind, m))?);
    }
    let cond = if alts.len() == 1 {
        alts.pop().unwrap_or(Cond::Or(Vec::new()))
    } else {
        Cond::Or(alts)
    };
    Ok(Detection {
        searches,
        names,
        cond,
    })
}

fn parse_search(v: &Node, ctx: &Ctx<'_>, name: &str) -> Result<Search, RuleProblem> {
    let empty = match v {
        Node::Seq(l) => l.is_empty(),
        Node::Map(m) => m.is_empty(),
        Node::Null => true,
        _ => false,
    };
    if empty {
        return Err(ctx.problem(ProblemKind::Malformed, format!("search `{name}` is empty")));
    }
    match v {
        Node::Map(items) => Ok(Search::Maps(vec![parse_map(items, ctx, name)?])),
        Node::Seq(list) if list.iter().all(|n| matches!(n, Node::Map(_))) && !list.is_empty() => {
            let mut maps = Vec::new();
            for n in list {
                if let Node::Map(items) = n {
                    maps.push(parse_map(items, ctx, name)?);
                }
            }
            Ok(Search::Maps(maps))
        }
        Node::Seq(list) => {
            let mut preds = Vec::new();
            for n in list {
                if matches!(n, Node::Map(_) | Node::Seq(_)) {
                    return Err(ctx.problem(
                        ProblemKind::Malformed,
                        format!("search `{name}` mixes keywords and maps"),
                    ));
                }
                preds.extend(values_to_preds(n, &keyword_mods(), ctx, name)?);
            }
            Ok(Search::Keywords(preds))
        }
        scalar => Ok(Search::Keywords(values_to_preds(
            scalar,
            &keyword_mods(),
            ctx,
            name,
        )?)),
    }
}

/// Keywords are searched anywhere in a value.
fn keyword_mods() -> Mods {
    Mods {
        contains: true,
        ..Mods::default()
    }
}

#[derive(Default, Debug)]
struct Mods {
    contains: bool,
    startswith: bool,
    endswith: bool,
    all: bool,
    cased: bool,
    neq: bool,
    exists: bool,
    fieldref: bool,
    expand: bool,
    re: bool,
    re_i: bool,
    re_m: bool,
    re_s: bool,
    cidr: bool,
    num: Option<NumOp>,
    /// Encodings/transforms in order.
    transforms: Vec<Transform>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Transform {
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Windash,
}

fn parse_mods(list: &[&str], ctx: &Ctx<'_>, key: &str) -> Result<Mods, RuleProblem> {
    let mut m = Mods::default();
    for &name in list {
        match name {
            "contains" => m.contains = true,
            "startswith" => m.startswith = true,
            "endswith" => m.endswith = true,
            "all" => m.all = true,
            "cased" => m.cased = true,
            "neq" => m.neq = true,
            "exists" => m.exists = true,
            "fieldref" => m.fieldref = true,
            "expand" => m.expand = true,
            "re" => m.re = true,
            "i" => m.re_i = true,
            "m" => m.re_m = true,
            "s" => m.re_s = true,
            "cidr" => m.cidr = true,
            "lt" => m.num = Some(NumOp::Lt),
            "lte" => m.num = Some(NumOp::Lte),
            "gt" => m.num = Some(NumOp::Gt),
            "gte" => m.num = Some(NumOp::Gte),
            "base64" => m.transforms.push(Transform::Base64),
            "base64offset" => m.transforms.push(Transform::Base64Offset),
            "utf16le" | "wide" => m.transforms.push(Transform::Utf16Le),
            "utf16be" => m.transforms.push(Transform::Utf16Be),
            "utf16" => m.transforms.push(Transform::Utf16),
            "windash" => m.transforms.push(Transform::Windash),
            "minute" | "hour" | "day" | "week" | "month" | "year" => {
                return Err(ctx.problem(
                    ProblemKind::Unsupported,
                    format!("time modifier `{name}` in `{key}` is not supported"),
                ))
            }
            other => {
                return Err(ctx.problem(
                    ProblemKind::UnknownModifier,
                    format!("unknown modifier `{other}` in `{key}`"),
                ))
            }
        }
    }
    let string_kinds = [m.contains, m.startswith, m.endswith]
        .iter()
        .filter(|b| **b)
        .count();
    let bad = |msg: &str| Err(ctx.problem(ProblemKind::Malformed, format!("`{key}`: {msg}")));
    if string_kinds > 1 {
        return bad("contains, startswith and endswith exclude each other");
    }
    if (m.re_i || m.re_m || m.re_s) && !m.re {
        return bad("regex flags i, m, s need `re`");
    }
    let specials = [m.re, m.cidr, m.num.is_some(), m.exists, m.fieldref]
        .iter()
        .filter(|b| **b)
        .count();
    if specials > 1 {
        return bad("re, cidr, lt/lte/gt/gte, exists and fieldref exclude each other");
    }
    if (m.re || m.cidr || m.num.is_some() || m.exists)
        && (string_kinds > 0 || !m.transforms.is_empty())
    {
        return bad("this combination of modifiers is not meaningful");
    }
    Ok(m)
}

fn parse_map(
    items: &[(Node, Node)],
    ctx: &Ctx<'_>,
    name: &str,
) -> Result<Vec<FieldItem>, RuleProblem> {
    let mut out = Vec::with_capacity(items.len());
    for (k, v) in items {
        let Some(key) = k.scalar_text() else {
            return Err(ctx.problem(
                ProblemKind::Malformed,
                format!("search `{name}` has a non-text field name"),
            ));
        };
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or("").to_string();
        let mod_names: Vec<&str> = parts.collect();
        let mut mods = parse_mods(&mod_names, ctx, &key)?;
        if field.is_empty() && !mods.startswith && !mods.endswith && !mods.re {
            mods.contains = true;
        }
        if field.is_empty() && (mods.exists || mods.fieldref || mods.neq) {
            return Err(ctx.problem(
                ProblemKind::Unsupported,
                format!("field-less item `{key}` in search `{name}` is not supported"),
            ));
        }
        // A field-less item (`'|all': [...]`) is a keyword search.
        let test = if mods.exists {
            match v {
                Node::Bool(b) => ItemTest::Exists(*b),
                Node::Str(s) if s.eq_ignore_ascii_case("true") => ItemTest::Exists(true),
                Node::Str(s) if s.eq_ignore_ascii_case("false") => ItemTest::Exists(false),
                _ => {
                    return Err(ctx.problem(
                        ProblemKind::Malformed,
                        format!("`{key}` needs true or false"),
                    ))
                }
            }
        } else if mods.fieldref {
            let others = v.string_list();
            let [other] = others.as_slice() else {
                return Err(ctx.problem(
                    ProblemKind::Unsupported,
                    format!("`{key}` must name exactly one field"),
                ));
            };
            let mode = if mods.contains {
                RefMode::Contains
            } else if mods.startswith {
                RefMode::Prefix
            } else if mods.endswith {
                RefMode::Suffix
            } else {
                RefMode::Equal
            };
            ItemTest::FieldRef {
                other: other.clone(),
                mode,
                cased: mods.cased,
            }
        } else {
            let mut preds = Vec::new();
            match v {
                Node::Seq(list) => {
                    if list.is_empty() {
                        return Err(ctx.problem(
                            ProblemKind::Malformed,
                            format!("`{key}` has an empty value list"),
                        ));
                    }
                    for n in list {
                        preds.extend(values_to_preds(n, &mods, ctx, &key)?);
                    }
                }
                n => preds.extend(values_to_preds(n, &mods, ctx, &key)?),
            }
            ItemTest::Values {
                preds,
                all: mods.all,
                neq: mods.neq,
            }
        };
        out.push(FieldItem { field, test });
    }
    Ok(out)
}

/// Maximum windash variants per value.
const MAX_VARIANTS: usize = 256;

fn values_to_preds(n: &Node, m: &Mods, ctx: &Ctx<'_>, key: &str) -> Result<Vec<Pred>, RuleProblem> {
    let bad = |msg: String| ctx.problem(ProblemKind::Malformed, msg);
    if matches!(n, Node::Null) {
        return Ok(vec![Pred::Null]);
    }
    if matches!(n, Node::Map(_) | Node::Seq(_)) {
        return Err(bad(format!("`{key}` has a nested list or map as a value")));
    }
    let text = n.scalar_text().unwrap_or_default();
    if let Some(op) = m.num {
        let v = match n {
            Node::Int(i) => *i as f64,
            Node::Float(f, _) => *f,
            _ => crate::pred::text_number(&text)
                .ok_or_else(|| bad(format!("`{key}` needs a number, got `{text}`")))?,
        };
        return Ok(vec![Pred::Num(op, v)]);
    }
    if m.cidr {
        let c =
            Cidr::parse(&text).ok_or_else(|| bad(format!("`{key}`: `{text}` is not a network")))?;
        return Ok(vec![Pred::Cidr(c)]);
    }
    // expand placeholders first
    let texts: Vec<String> = if m.expand {
        expand(&text, ctx.placeholders).map_err(|p| {
            ctx.problem(
                ProblemKind::UnresolvedPlaceholder,
                format!("`{key}`: placeholder `%{p}%` has no values; supply it to the loader"),
            )
        })?
    } else {
        vec![text]
    };
    if m.re {
        let mut out = Vec::new();
        for t in texts {
            let mut flags = String::new();
            if m.re_i {
                flags.push('i');
            }
            if m.re_m {
                flags.push('m');
            }
            if m.re_s {
                flags.push('s');
            }
            let pat = if flags.is_empty() {
                t
            } else {
                format!("(?{flags}){t}")
            };
            let re = regex::RegexBuilder::new(&pat)
                .size_limit(8 << 20)
                .build()
                .map_err(|e| {
                    ctx.problem(
                        ProblemKind::BadRegex,
                        format!(
                            "`{key}`: regex does not compile: {}",
                            first_line(&e.to_string())
                        ),
                    )
                })?;
            out.push(Pred::Re(re));
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    for t in texts {
        // token lists after transforms
        let mut variants: Vec<Vec<Tok>> = vec![parse_wild(&t)];
        let mut raw = vec![t];
        let encodes = m
            .transforms
            .iter()
            .any(|t| !matches!(t, Transform::Windash));
        if encodes {
            // encodings work on the literal bytes (wildcards are not kept)
            let mut bytes: Vec<Vec<u8>> = raw.iter().map(|s| s.as_bytes().to_vec()).collect();
            for tr in &m.transforms {
                bytes = match tr {
                    Transform::Utf16Le => bytes.iter().map(|b| utf16(b, false, false)).collect(),
                    Transform::Utf16Be => bytes.iter().map(|b| utf16(b, true, false)).collect(),
                    Transform::Utf16 => bytes.iter().map(|b| utf16(b, false, true)).collect(),
                    Transform::Base64 => bytes.iter().map(|b| b64(b).into_bytes()).collect(),
                    Transform::Base64Offset => bytes
                        .iter()
                        .flat_map(|b| b64_offsets(b).into_iter().map(String::into_bytes))
                        .collect(),
                    Transform::Windash => bytes
                        .iter()
                        .flat_map(|b| {
                            windash(&String::from_utf8_lossy(b))
                                .into_iter()
                                .map(String::into_bytes)
                        })
                        .collect(),
                };
                if bytes.len() > MAX_VARIANTS {
                    return Err(bad(format!("`{key}` expands to too many variants")));
                }
            }
            raw = bytes
                .into_iter()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect();
            variants = raw.iter().map(|s| vec![Tok::Lit(s.clone())]).collect();
        } else if m.transforms.contains(&Transform::Windash) {
            variants = raw
                .iter()
                .flat_map(|s| windash(s))
                .map(|s| parse_wild(&s))
                .collect();
            if variants.len() > MAX_VARIANTS {
                return Err(bad(format!("`{key}` expands to too many variants")));
            }
        }
        for mut toks in variants {
            if m.contains || m.endswith {
                toks.insert(0, Tok::Star);
            }
            if m.contains || m.startswith {
                toks.push(Tok::Star);
            }
            out.push(Pred::Str(StrPred::new(toks, m.cased)));
        }
    }
    Ok(out)
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or("").trim().to_string()
}

/// Replace `%name%` placeholders; returns all combinations or the
/// unresolved name.
fn expand(text: &str, ph: &Placeholders) -> Result<Vec<String>, String> {
    let mut outs = vec![String::new()];
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('%') else { break };
        let name = &after[..end];
        let values = ph.get(name).ok_or_else(|| name.to_string())?;
        if values.is_empty() {
            return Err(name.to_string());
        }
        let prefix = &rest[..start];
        let mut next = Vec::new();
        for o in &outs {
            for v in values {
                next.push(format!("{o}{prefix}{v}"));
            }
        }
        if next.len() > MAX_VARIANTS * 16 {
            return Err(name.to_string());
        }
        outs = next;
        rest = &after[end + 1..];
    }
    for o in &mut outs {
        o.push_str(rest);
    }
    Ok(outs)
}

fn utf16(b: &[u8], be: bool, bom: bool) -> Vec<u8> {
    let s = String::from_utf8_lossy(b);
    let mut out = Vec::with_capacity(b.len() * 2 + 2);
    if bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for u in s.encode_utf16() {
        if be {
            out.extend_from_slice(&u.to_be_bytes());
        } else {
            out.extend_from_slice(&u.to_le_bytes());
        }
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn b64(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = match *chunk {
            [a, b2, c] => (u32::from(a) << 16) | (u32::from(b2) << 8) | u32::from(c),
            [a, b2] => (u32::from(a) << 16) | (u32::from(b2) << 8),
            [a] => u32::from(a) << 16,
            _ => 0,
        };
        let idx = |shift: u32| char::from(B64[((n >> shift) & 63) as usize]);
        out.push(idx(18));
        out.push(idx(12));
        out.push(if chunk.len() > 1 { idx(6) } else { '=' });
        out.push(if chunk.len() > 2 { idx(0) } else { '=' });
    }
    out
}

/// The three base64 renderings of `b` at offsets 0, 1, 2 within a larger
/// encoded text, trimmed to the characters that do not depend on the
/// surrounding bytes.
pub(crate) fn b64_offsets(b: &[u8]) -> Vec<String> {
    let starts = [0usize, 2, 3];
    let end_trim = [0usize, 3, 2];
    let mut out = Vec::with_capacity(3);
    for i in 0..3 {
        let mut buf = vec![b' '; i];
        buf.extend_from_slice(b);
        let enc = b64(&buf);
        let start = starts[i];
        let trim = end_trim[(b.len() + i) % 3];
        let end = enc.len().saturating_sub(trim);
        if start < end {
            out.push(enc[start..end].to_string());
        }
    }
    out
}

/// windash: every `-` or `/` that starts a word may be any of `-`, `/`,
/// en dash, em dash or horizontal bar (all combinations, capped).
pub(crate) fn windash(s: &str) -> Vec<String> {
    const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
    let chars: Vec<char> = s.chars().collect();
    let mut positions = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == '/' {
            let prev_word = i > 0
                && chars
                    .get(i - 1)
                    .is_some_and(|p| p.is_alphanumeric() || *p == '_');
            let next_word = chars
                .get(i + 1)
                .is_some_and(|n| n.is_alphanumeric() || *n == '_');
            if !prev_word && next_word {
                positions.push(i);
            }
        }
    }
    let mut out = vec![chars.clone()];
    for &p in &positions {
        if out.len() * DASHES.len() > MAX_VARIANTS {
            // beyond the cap, vary all remaining positions together
            let mut extra = Vec::new();
            for v in &out {
                for d in DASHES {
                    let mut v2 = v.clone();
                    for &q in positions.iter().filter(|q| **q >= p) {
                        if let Some(c) = v2.get_mut(q) {
                            *c = d;
                        }
                    }
                    extra.push(v2);
                }
            }
            out = extra;
            break;
        }
        let mut next = Vec::with_capacity(out.len() * DASHES.len());
        for v in &out {
            for d in DASHES {
                let mut v2 = v.clone();
                if let Some(c) = v2.get_mut(p) {
                    *c = d;
                }
                next.push(v2);
            }
        }
        out = next;
    }
    out.into_iter().map(|v| v.into_iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_offsets() {
        assert_eq!(b64(b"sigma rules!"), "c2lnbWEgcnVsZXMh");
        assert_eq!(b64(b"a"), "YQ==");
        // Sigma spec example for base64offset|contains of "/bin/bash"
        assert_eq!(
            b64_offsets(b"/bin/bash"),
            vec!["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
    }

    #[test]
    fn windash_variants() {
        let v = windash("-foo /bar a-b");
        assert_eq!(v.len(), 25);
        assert!(v.contains(&"/foo -bar a-b".to_string()));
        assert!(v.contains(&"\u{2013}foo \u{2015}bar a-b".to_string()));
        assert!(v.iter().all(|s| s.ends_with("a-b")));
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("30s"), Some(30));
        assert_eq!(parse_timespan("5m"), Some(300));
        assert_eq!(parse_timespan("1h"), Some(3600));
        assert_eq!(parse_timespan("1d"), Some(86400));
        assert_eq!(parse_timespan("0m"), None);
        assert_eq!(parse_timespan("5x"), None);
        assert_eq!(parse_timespan(""), None);
    }

    #[test]
    fn expand_placeholders() {
        let mut ph = Placeholders::new();
        ph.insert("a".into(), vec!["x".into(), "y".into()]);
        assert_eq!(expand("p%a%q", &ph).unwrap(), vec!["pxq", "pyq"]);
        assert_eq!(expand("%b%", &ph).unwrap_err(), "b");
    }
}
