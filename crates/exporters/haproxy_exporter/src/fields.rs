//! What each `show stat` column becomes, per row type: upstream's metric names, help texts and
//! types, which dashboards depend on. Columns are numbered as in HAProxy's management guide
//! (section 9.1).

use pm_common::metrics::ConstKind;

/// One exported column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// Zero-based CSV column.
    pub index: usize,
    /// Name after `haproxy_<row type>_`.
    pub name: &'static str,
    pub help: &'static str,
    pub kind: ConstKind,
    /// The `code` label of the `http_responses_total` columns.
    pub code: Option<&'static str>,
}

const fn gauge(index: usize, name: &'static str, help: &'static str) -> Field {
    Field {
        index,
        name,
        help,
        kind: ConstKind::Gauge,
        code: None,
    }
}

const fn counter(index: usize, name: &'static str, help: &'static str) -> Field {
    Field {
        index,
        name,
        help,
        kind: ConstKind::Counter,
        code: None,
    }
}

const fn responses(index: usize, code: &'static str) -> Field {
    Field {
        index,
        name: "http_responses_total",
        help: "Total of HTTP responses.",
        kind: ConstKind::Counter,
        code: Some(code),
    }
}

/// Column 17, `status`: exported as 1 for the states HAProxy serves traffic in.
pub const STATUS: usize = 17;
/// Columns holding milliseconds, exported in seconds.
pub const MILLISECONDS: [usize; 5] = [38, 58, 59, 60, 61];

pub const SERVER: &[Field] = &[
    gauge(
        2,
        "current_queue",
        "Current number of queued requests assigned to this server.",
    ),
    gauge(
        3,
        "max_queue",
        "Maximum observed number of queued requests assigned to this server.",
    ),
    gauge(4, "current_sessions", "Current number of active sessions."),
    gauge(
        5,
        "max_sessions",
        "Maximum observed number of active sessions.",
    ),
    gauge(6, "limit_sessions", "Configured session limit."),
    counter(7, "sessions_total", "Total number of sessions."),
    counter(8, "bytes_in_total", "Current total of incoming bytes."),
    counter(9, "bytes_out_total", "Current total of outgoing bytes."),
    counter(13, "connection_errors_total", "Total of connection errors."),
    counter(14, "response_errors_total", "Total of response errors."),
    counter(15, "retry_warnings_total", "Total of retry warnings."),
    counter(
        16,
        "redispatch_warnings_total",
        "Total of redispatch warnings.",
    ),
    gauge(
        17,
        "up",
        "Current health status of the server (1 = UP, 0 = DOWN).",
    ),
    gauge(18, "weight", "Current weight of the server."),
    counter(
        21,
        "check_failures_total",
        "Total number of failed health checks.",
    ),
    counter(24, "downtime_seconds_total", "Total downtime in seconds."),
    counter(
        30,
        "server_selected_total",
        "Total number of times a server was selected, either for new sessions, or when re-dispatching.",
    ),
    gauge(
        33,
        "current_session_rate",
        "Current number of sessions per second over last elapsed second.",
    ),
    gauge(
        35,
        "max_session_rate",
        "Maximum observed number of sessions per second.",
    ),
    gauge(
        38,
        "check_duration_seconds",
        "Previously run health check duration, in seconds",
    ),
    responses(39, "1xx"),
    responses(40, "2xx"),
    responses(41, "3xx"),
    responses(42, "4xx"),
    responses(43, "5xx"),
    responses(44, "other"),
    counter(
        49,
        "client_aborts_total",
        "Total number of data transfers aborted by the client.",
    ),
    counter(
        50,
        "server_aborts_total",
        "Total number of data transfers aborted by the server.",
    ),
    gauge(
        58,
        "http_queue_time_average_seconds",
        "Avg. HTTP queue time for last 1024 successful connections.",
    ),
    gauge(
        59,
        "http_connect_time_average_seconds",
        "Avg. HTTP connect time for last 1024 successful connections.",
    ),
    gauge(
        60,
        "http_response_time_average_seconds",
        "Avg. HTTP response time for last 1024 successful connections.",
    ),
    gauge(
        61,
        "http_total_time_average_seconds",
        "Avg. HTTP total time for last 1024 successful connections.",
    ),
];

pub const FRONTEND: &[Field] = &[
    gauge(4, "current_sessions", "Current number of active sessions."),
    gauge(
        5,
        "max_sessions",
        "Maximum observed number of active sessions.",
    ),
    gauge(6, "limit_sessions", "Configured session limit."),
    counter(7, "sessions_total", "Total number of sessions."),
    counter(8, "bytes_in_total", "Current total of incoming bytes."),
    counter(9, "bytes_out_total", "Current total of outgoing bytes."),
    counter(
        10,
        "requests_denied_total",
        "Total of requests denied for security.",
    ),
    counter(12, "request_errors_total", "Total of request errors."),
    gauge(
        33,
        "current_session_rate",
        "Current number of sessions per second over last elapsed second.",
    ),
    gauge(
        34,
        "limit_session_rate",
        "Configured limit on new sessions per second.",
    ),
    gauge(
        35,
        "max_session_rate",
        "Maximum observed number of sessions per second.",
    ),
    responses(39, "1xx"),
    responses(40, "2xx"),
    responses(41, "3xx"),
    responses(42, "4xx"),
    responses(43, "5xx"),
    responses(44, "other"),
    counter(48, "http_requests_total", "Total HTTP requests."),
    counter(
        51,
        "compressor_bytes_in_total",
        "Number of HTTP response bytes fed to the compressor",
    ),
    counter(
        52,
        "compressor_bytes_out_total",
        "Number of HTTP response bytes emitted by the compressor",
    ),
    counter(
        53,
        "compressor_bytes_bypassed_total",
        "Number of bytes that bypassed the HTTP compressor",
    ),
    counter(
        54,
        "http_responses_compressed_total",
        "Number of HTTP responses that were compressed",
    ),
    counter(79, "connections_total", "Total number of connections"),
];

pub const BACKEND: &[Field] = &[
    gauge(
        2,
        "current_queue",
        "Current number of queued requests not assigned to any server.",
    ),
    gauge(
        3,
        "max_queue",
        "Maximum observed number of queued requests not assigned to any server.",
    ),
    gauge(4, "current_sessions", "Current number of active sessions."),
    gauge(
        5,
        "max_sessions",
        "Maximum observed number of active sessions.",
    ),
    gauge(6, "limit_sessions", "Configured session limit."),
    counter(7, "sessions_total", "Total number of sessions."),
    counter(8, "bytes_in_total", "Current total of incoming bytes."),
    counter(9, "bytes_out_total", "Current total of outgoing bytes."),
    counter(13, "connection_errors_total", "Total of connection errors."),
    counter(14, "response_errors_total", "Total of response errors."),
    counter(15, "retry_warnings_total", "Total of retry warnings."),
    counter(
        16,
        "redispatch_warnings_total",
        "Total of redispatch warnings.",
    ),
    gauge(
        17,
        "up",
        "Current health status of the backend (1 = UP, 0 = DOWN).",
    ),
    gauge(18, "weight", "Total weight of the servers in the backend."),
    gauge(19, "current_server", "Current number of active servers"),
    counter(
        30,
        "server_selected_total",
        "Total number of times a server was selected, either for new sessions, or when re-dispatching.",
    ),
    gauge(
        33,
        "current_session_rate",
        "Current number of sessions per second over last elapsed second.",
    ),
    gauge(
        35,
        "max_session_rate",
        "Maximum number of sessions per second.",
    ),
    responses(39, "1xx"),
    responses(40, "2xx"),
    responses(41, "3xx"),
    responses(42, "4xx"),
    responses(43, "5xx"),
    responses(44, "other"),
    counter(
        49,
        "client_aborts_total",
        "Total number of data transfers aborted by the client.",
    ),
    counter(
        50,
        "server_aborts_total",
        "Total number of data transfers aborted by the server.",
    ),
    counter(
        51,
        "compressor_bytes_in_total",
        "Number of HTTP response bytes fed to the compressor",
    ),
    counter(
        52,
        "compressor_bytes_out_total",
        "Number of HTTP response bytes emitted by the compressor",
    ),
    counter(
        53,
        "compressor_bytes_bypassed_total",
        "Number of bytes that bypassed the HTTP compressor",
    ),
    counter(
        54,
        "http_responses_compressed_total",
        "Number of HTTP responses that were compressed",
    ),
    gauge(
        58,
        "http_queue_time_average_seconds",
        "Avg. HTTP queue time for last 1024 successful connections.",
    ),
    gauge(
        59,
        "http_connect_time_average_seconds",
        "Avg. HTTP connect time for last 1024 successful connections.",
    ),
    gauge(
        60,
        "http_response_time_average_seconds",
        "Avg. HTTP response time for last 1024 successful connections.",
    ),
    gauge(
        61,
        "http_total_time_average_seconds",
        "Avg. HTTP total time for last 1024 successful connections.",
    ),
];
