//! The compiled mapping config and the lookup of one metric name.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use crate::config::{
    ActionType, DEFAULT_QUANTILES, Defaults, MapperConfig, MatchType, MetricMapping, MetricType,
    ObserverType,
};
use crate::error::MapperError;
use crate::fsm::Fsm;
use crate::template::Template;

/// A glob: first field a name (not starting with a digit) or `*`, later fields may start with
/// a digit.
static METRIC_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\*|[a-zA-Z_][a-zA-Z0-9_\-]*)(\.\*|\.[a-zA-Z0-9_][a-zA-Z0-9_\-]*)*$")
        .expect("static regex")
});

pub(crate) const METRIC_NAME_RE: &str = r"^([a-zA-Z_]|(\$\{?\d+\}?))([a-zA-Z0-9_]|(\$\{?\d+\}?))*$";
static METRIC_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(METRIC_NAME_RE).expect("static regex"));

/// Upstream requires at least two characters in a label name.
static LABEL_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z_][a-zA-Z0-9_]+$").expect("static regex"));

/// A mapping with its defaults applied and its templates compiled.
#[derive(Debug)]
pub struct CompiledMapping {
    /// The mapping as configured, with defaults filled in as upstream fills them.
    pub mapping: MetricMapping,
    matcher: Matcher,
}

#[derive(Debug)]
enum Matcher {
    Glob {
        name: Template,
        labels: Vec<(String, Template)>,
    },
    Regex(Regex),
}

impl CompiledMapping {
    /// The effective match type.
    pub fn match_type(&self) -> MatchType {
        match self.matcher {
            Matcher::Glob { .. } => MatchType::Glob,
            Matcher::Regex(_) => MatchType::Regex,
        }
    }
}

/// The outcome of mapping one metric name.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub mapping: Arc<CompiledMapping>,
    /// The expanded metric name (before escaping).
    pub name: String,
    /// The expanded labels, sorted by name.
    pub labels: Vec<(String, String)>,
}

impl Mapped {
    pub fn action(&self) -> ActionType {
        self.mapping.mapping.action
    }
}

/// A loaded mapping config. Immutable: a reload builds a new one.
#[derive(Debug, Default)]
pub struct MetricMapper {
    defaults: Defaults,
    mappings: Vec<Arc<CompiledMapping>>,
    fsm: Option<Fsm>,
}

impl MetricMapper {
    /// Reads and compiles the mapping config at `path`.
    pub fn load_file(path: impl AsRef<Path>) -> Result<Self, MapperError> {
        let config: MapperConfig = pm_common::config::yaml::load_file(path)?;
        Self::compile(config)
    }

    /// Compiles a mapping config; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: impl AsRef<Path>) -> Result<Self, MapperError> {
        let config: MapperConfig = pm_common::config::yaml::from_str(text, origin)?;
        Self::compile(config)
    }

    fn compile(config: MapperConfig) -> Result<Self, MapperError> {
        let MapperConfig {
            mut defaults,
            mappings,
        } = config;
        if defaults.histogram_options.buckets.is_empty() {
            defaults.histogram_options.buckets = pm_common::metrics::DEFAULT_BUCKETS.to_vec();
        }
        if defaults.histogram_options.native_histogram_bucket_factor == 0.0 {
            defaults.histogram_options.native_histogram_bucket_factor = 1.1;
        }
        if defaults.histogram_options.native_histogram_max_buckets == 0 {
            defaults.histogram_options.native_histogram_max_buckets = 256;
        }
        if defaults.summary_options.quantiles.is_empty() {
            defaults.summary_options.quantiles = DEFAULT_QUANTILES.to_vec();
        }

        let mut fsm = Fsm::new(defaults.glob_disable_ordering);
        let mut globs = Vec::new();
        let mut compiled = Vec::with_capacity(mappings.len());
        for (index, mut m) in mappings.into_iter().enumerate() {
            if let Some(key) = m.labels.keys().find(|k| !LABEL_NAME.is_match(k)) {
                return Err(MapperError::InvalidLabelKey(key.clone()));
            }
            if m.name.is_empty() {
                return Err(MapperError::MissingName { index });
            }
            if !METRIC_NAME.is_match(&m.name) {
                return Err(MapperError::InvalidName(m.name));
            }
            let match_type = *m.match_type.get_or_insert(defaults.match_type);
            let matcher = match match_type {
                MatchType::Glob => {
                    if !METRIC_LINE.is_match(&m.pattern) {
                        return Err(MapperError::InvalidMatch(m.pattern));
                    }
                    let captures = fsm.add(&m.pattern, m.match_metric_type, index);
                    globs.push(m.pattern.clone());
                    Matcher::Glob {
                        name: Template::new(&m.name, captures),
                        labels: m
                            .labels
                            .iter()
                            .map(|(k, v)| (k.clone(), Template::new(v, captures)))
                            .collect(),
                    }
                }
                MatchType::Regex => Matcher::Regex(compile_go_regex(&m.pattern)?),
            };
            apply_observer_defaults(&mut m, &defaults)?;
            if m.ttl.is_zero() {
                m.ttl = defaults.ttl;
            }
            compiled.push(Arc::new(CompiledMapping {
                mapping: m,
                matcher,
            }));
        }
        let fsm = (!globs.is_empty()).then(|| {
            let patterns: Vec<&str> = globs.iter().map(String::as_str).collect();
            fsm.finish(&patterns);
            fsm
        });
        Ok(MetricMapper {
            defaults,
            mappings: compiled,
            fsm,
        })
    }

    /// The `defaults:` block with upstream's fallbacks filled in.
    pub fn defaults(&self) -> &Defaults {
        &self.defaults
    }

    /// The number of mappings (upstream's `statsd_exporter_loaded_mappings`).
    pub fn len(&self) -> usize {
        self.mappings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mappings.is_empty()
    }

    /// Maps `metric` of type `metric_type`: globs first (whatever their position), then regexes
    /// in config order. `None` when nothing matches.
    pub fn get_mapping(&self, metric: &str, metric_type: MetricType) -> Option<Mapped> {
        if let Some(fsm) = &self.fsm
            && let Some((index, captures)) = fsm.lookup(metric, metric_type)
        {
            let mapping = &self.mappings[index];
            let Matcher::Glob { name, labels } = &mapping.matcher else {
                unreachable!("the FSM holds only glob mappings");
            };
            return Some(Mapped {
                mapping: Arc::clone(mapping),
                name: name.format(&captures),
                labels: labels
                    .iter()
                    .map(|(k, t)| (k.clone(), t.format(&captures)))
                    .collect(),
            });
        }
        self.mappings.iter().find_map(|mapping| {
            let Matcher::Regex(re) = &mapping.matcher else {
                return None;
            };
            let caps = re.captures(metric)?;
            if mapping
                .mapping
                .match_metric_type
                .is_some_and(|t| t != metric_type)
            {
                return None;
            }
            let expand = |template: &str| {
                let mut out = String::new();
                caps.expand(template, &mut out);
                out
            };
            Some(Mapped {
                mapping: Arc::clone(mapping),
                name: expand(&mapping.mapping.name),
                labels: mapping
                    .mapping
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), expand(v)))
                    .collect(),
            })
        })
    }
}

/// Go's `regexp.Compile`: RE2 syntax, unanchored.
fn compile_go_regex(pattern: &str) -> Result<Regex, MapperError> {
    let invalid = |reason: String| MapperError::InvalidRegex {
        pattern: pattern.to_owned(),
        reason,
    };
    let translated =
        pm_common::model::to_rust_syntax(pattern).map_err(|e| invalid(e.to_string()))?;
    Regex::new(&translated).map_err(|e| invalid(e.to_string()))
}

/// Fills in observer options from the defaults, refusing options of the other observer kind.
fn apply_observer_defaults(m: &mut MetricMapping, defaults: &Defaults) -> Result<(), MapperError> {
    if m.observer_type.is_none() {
        m.observer_type = defaults.observer_type;
    }
    match m.observer_type {
        Some(ObserverType::Histogram) => {
            if m.summary_options.is_some() {
                return Err(MapperError::HistogramWithSummaryOptions);
            }
            let options = m.histogram_options.get_or_insert_default();
            if options.buckets.is_empty() {
                options.buckets = defaults.histogram_options.buckets.clone();
            }
        }
        Some(ObserverType::Summary) => {
            if m.histogram_options.is_some() {
                return Err(MapperError::SummaryWithHistogramOptions);
            }
            let options = m.summary_options.get_or_insert_default();
            let fallback = &defaults.summary_options;
            if options.quantiles.is_empty() {
                options.quantiles = fallback.quantiles.clone();
            }
            if options.max_age.is_zero() {
                options.max_age = fallback.max_age;
            }
            if options.age_buckets == 0 {
                options.age_buckets = fallback.age_buckets;
            }
            if options.buf_cap == 0 {
                options.buf_cap = fallback.buf_cap;
            }
        }
        None => {}
    }
    Ok(())
}
