//! The StatsD line protocol with upstream's extensions and upstream's error accounting:
//! `name:value|type[|@rate][|#tags][|c:container][|T<ts>]`, several `value|type` samples per
//! line separated by `:`, DogStatsD extended aggregation (`name:1:2:3|ms`), and tags in the
//! DogStatsD (`|#k:v`), InfluxDB (`name,k=v`), Librato (`name#k=v`) and SignalFX
//! (`name[k=v]`) dialects.

use pm_common::metrics::{Counter, CounterVec};

use crate::event::{Event, EventKind};

/// Which tag dialects to read (`--statsd.parse-*-tags`).
#[derive(Debug, Clone, Copy)]
pub struct Dialects {
    pub dogstatsd: bool,
    pub influxdb: bool,
    pub librato: bool,
    pub signalfx: bool,
}

impl Default for Dialects {
    fn default() -> Self {
        Dialects {
            dogstatsd: true,
            influxdb: true,
            librato: true,
            signalfx: true,
        }
    }
}

/// The counters a parse updates (upstream's `statsd_exporter_sample_errors_total`,
/// `_samples_total`, `_tag_errors_total`, `_tags_total`).
#[derive(Debug, Clone)]
pub struct ParseMetrics {
    pub sample_errors: CounterVec,
    pub samples: Counter,
    pub tag_errors: Counter,
    pub tags: Counter,
}

/// A line parser for one set of dialects.
#[derive(Debug, Clone)]
pub struct Parser {
    dialects: Dialects,
    metrics: ParseMetrics,
}

/// Tags collected for one line; a later tag of the same name replaces the earlier.
#[derive(Default)]
struct Tags(Vec<(String, String)>);

impl Tags {
    fn insert(&mut self, key: &str, value: &str) {
        let key = pm_mapper::escape_metric_name(key).into_owned();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value.to_owned(),
            None => self.0.push((key, value.to_owned())),
        }
    }
}

impl Parser {
    pub fn new(dialects: Dialects, metrics: ParseMetrics) -> Self {
        Parser { dialects, metrics }
    }

    fn sample_error(&self, reason: &str) {
        self.metrics
            .sample_errors
            .with_label_values(&[reason])
            .inc();
    }

    /// Parses one line (without its newline) into `out`. Bad samples are counted and skipped;
    /// the good samples of the same line are kept.
    pub fn parse_line(&self, line: &[u8], out: &mut Vec<Event>) {
        if line.is_empty() {
            return;
        }
        let Ok(line) = std::str::from_utf8(line) else {
            self.sample_error("malformed_line");
            return;
        };
        let Some((name_part, rest)) = line.split_once(':').filter(|(n, _)| !n.is_empty()) else {
            self.sample_error("malformed_line");
            tracing::debug!(line, "bad line");
            return;
        };
        let mut tags = Tags::default();
        let name = self.name_and_tags(name_part, &mut tags);
        let dogstatsd = rest.contains("|#");
        if dogstatsd && !tags.0.is_empty() {
            self.sample_error("mixed_tagging_styles");
            return;
        }
        let mut parts = rest.splitn(3, '|');
        let (Some(values), Some(stat_type)) = (parts.next(), parts.next()) else {
            self.sample_error("not_enough_parts_after_colon");
            return;
        };
        let samples: Vec<std::borrow::Cow<'_, str>> = if values.contains(':') {
            if !matches!(stat_type, "ms" | "h" | "d") {
                self.sample_error("invalid_extended_aggregate_type");
                return;
            }
            let suffix = rest.split_once('|').map_or("", |(_, s)| s);
            values
                .split(':')
                .map(|v| format!("{v}|{suffix}").into())
                .collect()
        } else if dogstatsd {
            vec![rest.into()]
        } else {
            rest.split(':').map(Into::into).collect()
        };
        for sample in &samples {
            self.parse_sample(&name, sample, &mut tags, out);
        }
    }

    fn parse_sample(&self, name: &str, sample: &str, tags: &mut Tags, out: &mut Vec<Event>) {
        self.metrics.samples.inc();
        let components: Vec<&str> = sample.split('|').collect();
        if !(2..=6).contains(&components.len()) {
            self.sample_error("malformed_component");
            return;
        }
        let (value_text, stat_type) = (components[0], components[1]);
        let relative = value_text.starts_with('+') || value_text.starts_with('-');
        let Some(mut value) = parse_go_float(value_text) else {
            self.sample_error("malformed_value");
            return;
        };
        let mut repeat = 1u32;
        let extra = &components[2..];
        if extra.iter().any(|c| c.is_empty()) {
            self.sample_error("malformed_component");
            return;
        }
        for component in extra {
            match component.as_bytes()[0] {
                b'@' => {
                    let mut rate = parse_go_float(&component[1..]).unwrap_or_else(|| {
                        self.sample_error("invalid_sample_factor");
                        0.0
                    });
                    if rate == 0.0 {
                        rate = 1.0;
                    }
                    match stat_type {
                        "c" => value /= rate,
                        // Go's int conversion: fractions truncate, rates above 1 give no event.
                        "ms" | "h" | "d" => repeat = (1.0 / rate).max(0.0) as u32,
                        _ => {}
                    }
                }
                b'#' => {
                    if self.dialects.dogstatsd {
                        self.dogstatsd_tags(&component[1..], tags);
                    }
                }
                b'c' => match component.strip_prefix("c:").filter(|id| !id.is_empty()) {
                    Some(id) => tags.insert("container_id", id),
                    None => {
                        self.sample_error("malformed_container_id");
                        return;
                    }
                },
                // A DogStatsD timestamp: a pull exporter has no use for it.
                b'T' => {}
                _ => {
                    self.sample_error("invalid_sample_factor");
                    return;
                }
            }
        }
        if !tags.0.is_empty() {
            self.metrics.tags.inc();
        }
        let kind = match stat_type {
            "c" => EventKind::Counter,
            "g" => EventKind::Gauge { relative },
            "ms" => {
                value /= 1000.0;
                EventKind::Observer { count: repeat }
            }
            "h" | "d" => EventKind::Observer { count: repeat },
            _ => {
                // Sets ("s") are not supported upstream either.
                self.sample_error("illegal_event");
                return;
            }
        };
        if matches!(kind, EventKind::Observer { count: 0 }) {
            return;
        }
        out.push(Event {
            name: name.to_owned(),
            value,
            labels: tags.0.clone(),
            kind,
        });
    }

    /// Strips SignalFX, Librato or InfluxDB tags from `name` into `tags`.
    fn name_and_tags<'a>(&self, name: &'a str, tags: &mut Tags) -> std::borrow::Cow<'a, str> {
        if self.dialects.signalfx {
            match (name.find('['), name.find(']')) {
                (Some(start), Some(end)) => {
                    // Upstream slices between the brackets whatever their order; a `]` before
                    // the `[` leaves no tag text.
                    let inner = name.get(start + 1..end).unwrap_or("");
                    self.key_value_tags(inner, tags);
                    let mut stripped = name[..start].to_owned();
                    stripped.push_str(&name[end + 1..]);
                    return stripped.into();
                }
                (Some(_), None) | (None, Some(_)) => {
                    self.metrics.tag_errors.inc();
                    return name.into();
                }
                (None, None) => {}
            }
        }
        let split = name
            .find(|c| (c == '#' && self.dialects.librato) || (c == ',' && self.dialects.influxdb));
        match split {
            Some(i) => {
                self.key_value_tags(&name[i + 1..], tags);
                name[..i].into()
            }
            None => name.into(),
        }
    }

    fn key_value_tags(&self, text: &str, tags: &mut Tags) {
        if text.is_empty() {
            return;
        }
        // A trailing comma adds no empty tag, as upstream.
        let text = text.strip_suffix(',').unwrap_or(text);
        for tag in text.split(',') {
            self.tag(tag, '=', tags);
        }
    }

    fn dogstatsd_tags(&self, text: &str, tags: &mut Tags) {
        if text.is_empty() {
            return;
        }
        let text = text.strip_suffix(',').unwrap_or(text);
        for tag in text.split(',') {
            self.tag(tag.strip_prefix('#').unwrap_or(tag), ':', tags);
        }
    }

    fn tag(&self, tag: &str, separator: char, tags: &mut Tags) {
        match tag.split_once(separator) {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => tags.insert(k, v),
            _ => {
                self.metrics.tag_errors.inc();
                tracing::debug!(tag, "malformed tag");
            }
        }
    }
}

/// Go's `strconv.ParseFloat` for the forms StatsD clients send (decimal, exponent, `Inf`,
/// `NaN`, optional sign). Hexadecimal floats are not accepted.
fn parse_go_float(s: &str) -> Option<f64> {
    s.parse().ok()
}

#[cfg(test)]
mod tests;
