//! `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/<name>/values`.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, State};
use pm_common::model::{EscapingScheme, Labels, Matcher, unescape_name};
use pm_storage::{LabelHints, LabelQuerier, SelectHints, StorageError};

use super::ApiState;
use super::json::{push_labels, push_str_array};
use super::params::{MAX_TIME, MIN_TIME, Params};
use super::response::{ApiError, ApiResponse, ErrorType};

const TRUNCATED: &str = "results truncated due to limit";

/// What a lookup needs, read from the request before going to the blocking pool.
struct Lookup {
    start: i64,
    end: i64,
    limit: usize,
    matcher_sets: Vec<Vec<Matcher>>,
}

impl Lookup {
    /// Reads the parameters; a bad `match[]` is an invalid parameter for `/series` but a
    /// bare bad-data error for the label endpoints, as upstream words them.
    fn from_params(params: &Params, series: bool) -> Result<Self, ApiError> {
        let limit = params.limit()?;
        let start = params.time_or("start", MIN_TIME)?;
        let end = params.time_or("end", MAX_TIME)?;
        let matcher_sets = params.matcher_sets().map_err(|e| {
            if series {
                ApiError::invalid_param("match[]", e)
            } else {
                ApiError::bad_data(e)
            }
        })?;
        Ok(Self {
            start,
            end,
            limit,
            matcher_sets,
        })
    }

    /// Storages may stop at the hint; one more than the limit tells whether to warn.
    fn label_hints(&self) -> LabelHints {
        LabelHints {
            limit: if self.limit > 0 { self.limit + 1 } else { 0 },
        }
    }
}

fn execution(e: StorageError) -> ApiError {
    ApiError::new(ErrorType::Execution, e.to_string())
}

pub(super) async fn blocking(
    f: impl FnOnce() -> Result<ApiResponse, ApiError> + Send + 'static,
) -> ApiResponse {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => e.into(),
        Err(e) => ApiError::new(ErrorType::Internal, e.to_string()).into(),
    }
}

pub async fn series(State(state): State<Arc<ApiState>>, params: Params) -> ApiResponse {
    if params.all("match[]").is_empty() {
        return ApiError::bad_data("no match[] parameter provided").into();
    }
    let prepared = Lookup::from_params(&params, true).and_then(|l| Ok((l, state.storage()?)));
    let (lookup, storage) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    blocking(move || {
        let querier = storage
            .querier(lookup.start, lookup.end)
            .map_err(execution)?;
        let hints = SelectHints {
            start: lookup.start,
            end: lookup.end,
            func: "series".into(),
            limit: if lookup.limit > 0 {
                lookup.limit + 1
            } else {
                0
            },
            ..SelectHints::default()
        };
        // Several selectors: the union of their series, each once, in label order.
        let mut found: BTreeSet<Labels> = BTreeSet::new();
        let mut ordered: Vec<Labels> = Vec::new();
        let mut warnings = Vec::new();
        let several = lookup.matcher_sets.len() > 1;
        for set in &lookup.matcher_sets {
            let mut series = querier.select(several, Some(&hints), set);
            while let Some(s) = series.next() {
                if several {
                    found.insert(s.labels().clone());
                } else {
                    ordered.push(s.labels().clone());
                }
            }
            if let Some(e) = series.err() {
                return Err(execution(e.clone()));
            }
            warnings.extend(series.warnings().iter().map(|w| w.to_string()));
        }
        if several {
            ordered = found.into_iter().collect();
        }
        if lookup.limit > 0 && ordered.len() > lookup.limit {
            ordered.truncate(lookup.limit);
            warnings.push(TRUNCATED.into());
        }
        let mut out = String::from("[");
        for (i, l) in ordered.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_labels(&mut out, l);
        }
        out.push(']');
        Ok(ApiResponse::data(out).with_annotations(warnings, Vec::new()))
    })
    .await
}

/// `/labels` and `/label/<name>/values`: parses the shared parameters, then runs `get` over
/// a querier of the requested range in the blocking pool.
async fn lookup_labels(
    state: &ApiState,
    params: &Params,
    get: impl Fn(
        &dyn LabelQuerier,
        &LabelHints,
        &[Matcher],
    ) -> pm_storage::Result<(Vec<String>, pm_storage::Warnings)>
    + Send
    + 'static,
) -> ApiResponse {
    let prepared = Lookup::from_params(params, false).and_then(|l| Ok((l, state.storage()?)));
    let (lookup, storage) = match prepared {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    blocking(move || {
        let querier = storage
            .querier(lookup.start, lookup.end)
            .map_err(execution)?;
        collect_labels(&lookup, querier.as_ref(), get)
    })
    .await
}

/// Names or values over every selector (the union), or over all series without one.
fn collect_labels(
    lookup: &Lookup,
    querier: &dyn LabelQuerier,
    get: impl Fn(
        &dyn LabelQuerier,
        &LabelHints,
        &[Matcher],
    ) -> pm_storage::Result<(Vec<String>, pm_storage::Warnings)>,
) -> Result<ApiResponse, ApiError> {
    let hints = lookup.label_hints();
    let mut warnings = Vec::new();
    let mut names: Vec<String> = if lookup.matcher_sets.is_empty() {
        let (names, w) = get(querier, &hints, &[]).map_err(execution)?;
        warnings.extend(w.iter().map(|w| w.to_string()));
        names
    } else {
        let mut all = BTreeSet::new();
        for set in &lookup.matcher_sets {
            let (names, w) = get(querier, &hints, set).map_err(execution)?;
            warnings.extend(w.iter().map(|w| w.to_string()));
            all.extend(names);
        }
        all.into_iter().collect()
    };
    if lookup.limit > 0 && names.len() > lookup.limit {
        names.truncate(lookup.limit);
        warnings.push(TRUNCATED.into());
    }
    let mut out = String::new();
    push_str_array(&mut out, &names);
    Ok(ApiResponse::data(out).with_annotations(warnings, Vec::new()))
}

pub async fn labels(State(state): State<Arc<ApiState>>, params: Params) -> ApiResponse {
    lookup_labels(&state, &params, |q, h, m| q.label_names(Some(h), m)).await
}

pub async fn label_values(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResponse {
    // Names that are not valid legacy names travel escaped (`U__` + value-encoded bytes).
    let name = if name.starts_with("U__") {
        unescape_name(&name, EscapingScheme::Values)
    } else {
        name
    };
    if name.is_empty() {
        return ApiError::bad_data(format!("invalid label name: {name:?}")).into();
    }
    lookup_labels(&state, &params, move |q, h, m| {
        q.label_values(&name, Some(h), m)
    })
    .await
}
