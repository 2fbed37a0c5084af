//! The database's own endpoints: `/status/tsdb`, `/status/walreplay` and the admin API
//! (`/admin/tsdb/delete_series`, `clean_tombstones`, `snapshot`), which upstream serves only
//! with `--web.enable-admin-api`.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use pm_common::model::METRIC_NAME_LABEL;
use pm_tsdb::Db;
use pm_tsdb::head::WalReplayProgress;

use super::ApiState;
use super::params::{MAX_TIME, MIN_TIME, Params};
use super::response::{ApiError, ApiResponse, ErrorType};
use super::series::blocking;

/// What the database endpoints need beyond the queryable storage.
pub struct TsdbState {
    /// The data directory, for snapshots.
    pub dir: PathBuf,
    pub enable_admin: bool,
    /// Filled while the WAL replays, before the database is open.
    pub replay: Arc<WalReplayProgress>,
}

fn db(state: &ApiState) -> Result<Arc<Db>, ApiError> {
    state
        .storage_pair()?
        .db
        .ok_or_else(|| ApiError::new(ErrorType::Unavailable, "TSDB not ready"))
}

fn admin_db(state: &ApiState) -> Result<Arc<Db>, ApiError> {
    if !state.tsdb.enable_admin {
        return Err(ApiError::new(ErrorType::Unavailable, "admin APIs disabled"));
    }
    db(state)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorType::Internal, e.to_string())
}

/// `GET /api/v1/status/tsdb?limit=N`: the head's cardinality statistics.
pub async fn status(State(state): State<Arc<ApiState>>, params: Params) -> ApiResponse {
    let limit = match params.get("limit") {
        "" => 10,
        s => match s.parse::<i64>() {
            Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => return ApiError::bad_data("limit must be a positive number").into(),
        },
    };
    let db = match db(&state) {
        Ok(db) => db,
        Err(e) => return e.into(),
    };
    blocking(move || {
        let stats = db.stats(METRIC_NAME_LABEL, limit);
        serde_json::to_string(&stats)
            .map(ApiResponse::data)
            .map_err(internal)
    })
    .await
}

/// `GET /api/v1/status/walreplay`: answered during the replay too, so it is routed outside the
/// readiness gate.
pub async fn wal_replay(State(state): State<Arc<ApiState>>) -> ApiResponse {
    match serde_json::to_string(&state.tsdb.replay.status()) {
        Ok(json) => ApiResponse::data(json),
        Err(e) => internal(e).into(),
    }
}

/// `POST|PUT /api/v1/admin/tsdb/delete_series`: tombstones for the matching series over
/// `[start, end]`; 204 when done.
pub async fn delete_series(State(state): State<Arc<ApiState>>, params: Params) -> Response {
    let prepared = (|| {
        let db = admin_db(&state)?;
        if params.all("match[]").is_empty() {
            return Err(ApiError::bad_data("no match[] parameter provided"));
        }
        let start = params.time_or("start", MIN_TIME)?;
        let end = params.time_or("end", MAX_TIME)?;
        let sets = params
            .matcher_sets()
            .map_err(|e| ApiError::invalid_param("match[]", e))?;
        Ok((db, start, end, sets))
    })();
    let (db, start, end, sets) = match prepared {
        Ok(p) => p,
        Err(e) => return ApiResponse::from(e).into_response(),
    };
    no_content(move || {
        sets.iter()
            .try_for_each(|set| db.delete(start, end, set))
            .map_err(internal)
    })
    .await
}

/// `POST|PUT /api/v1/admin/tsdb/clean_tombstones`: rewrites blocks without deleted data.
pub async fn clean_tombstones(State(state): State<Arc<ApiState>>) -> Response {
    let db = match admin_db(&state) {
        Ok(db) => db,
        Err(e) => return ApiResponse::from(e).into_response(),
    };
    no_content(move || db.clean_tombstones().map_err(internal)).await
}

/// `POST|PUT /api/v1/admin/tsdb/snapshot?skip_head=<bool>`: a hard-linked copy under
/// `<data dir>/snapshots/<name>`, named as upstream (UTC time and a random suffix).
pub async fn snapshot(State(state): State<Arc<ApiState>>, params: Params) -> ApiResponse {
    let skip_head = match params.get("skip_head") {
        "" => false,
        s => {
            match parse_go_bool(s) {
                Some(b) => b,
                None => {
                    return ApiError::invalid_param(
                    "skip_head",
                    format!("unable to parse boolean: strconv.ParseBool: parsing {s:?}: invalid syntax"),
                )
                .into();
                }
            }
        }
    };
    let db = match admin_db(&state) {
        Ok(db) => db,
        Err(e) => return e.into(),
    };
    let name = format!(
        "{}-{:016x}",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ"),
        rand_suffix()
    );
    let dir = state.tsdb.dir.join("snapshots").join(&name);
    blocking(move || {
        std::fs::create_dir_all(&dir)
            .map_err(|e| internal(format!("create snapshot directory: {e}")))?;
        db.snapshot(&dir, !skip_head)
            .map_err(|e| internal(format!("create snapshot: {e}")))?;
        let mut out = String::from("{\"name\":");
        super::json::push_str(&mut out, &name);
        out.push('}');
        Ok(ApiResponse::data(out))
    })
    .await
}

/// Runs `f` on the blocking pool; success is an empty 204 as upstream answers admin actions.
async fn no_content(f: impl FnOnce() -> Result<(), ApiError> + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => ApiResponse::from(e).into_response(),
        Err(e) => ApiResponse::from(internal(e)).into_response(),
    }
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A non-negative 63-bit random number, as Go's `rand.Int63` gives the snapshot name.
fn rand_suffix() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // The clock's nanoseconds are unique enough for a directory name.
        return u64::from(jiff::Timestamp::now().subsec_nanosecond().unsigned_abs());
    }
    u64::from_le_bytes(bytes) >> 1
}
