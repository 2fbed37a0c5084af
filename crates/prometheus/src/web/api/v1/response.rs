//! The API's envelope: `{"status":"success","data":…}` or
//! `{"status":"error","errorType":…,"error":…}`, with `warnings` and `infos` when there are
//! any, and the HTTP status upstream pairs with each error type.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::CONTENT_TYPE;

use super::json::{push_str, push_str_array};

/// Upstream's `errorType`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Timeout,
    Canceled,
    Execution,
    BadData,
    Internal,
    Unavailable,
    NotFound,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::Timeout => "timeout",
            ErrorType::Canceled => "canceled",
            ErrorType::Execution => "execution",
            ErrorType::BadData => "bad_data",
            ErrorType::Internal => "internal",
            ErrorType::Unavailable => "unavailable",
            ErrorType::NotFound => "not_found",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorType::Canceled | ErrorType::Timeout | ErrorType::Unavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
        }
    }
}

/// An API failure with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorType,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Upstream's `invalidParamError`: `invalid parameter "name": reason`.
    pub fn invalid_param(name: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorType::BadData,
            format!("invalid parameter {name:?}: {reason}"),
        )
    }

    pub fn bad_data(message: impl Into<String>) -> Self {
        Self::new(ErrorType::BadData, message)
    }
}

/// What a handler answers: data already rendered as JSON, or an error; annotations either way.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub result: Result<String, ApiError>,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}

impl ApiResponse {
    pub fn data(json: String) -> Self {
        Self {
            result: Ok(json),
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }

    /// Success without a `data` member.
    pub fn empty() -> Self {
        Self::data(String::new())
    }

    pub fn with_annotations(mut self, warnings: Vec<String>, infos: Vec<String>) -> Self {
        self.warnings = warnings;
        self.infos = infos;
        self
    }

    /// The body as upstream writes it. A query answer can run to megabytes, so the data's own
    /// buffer becomes the body (the envelope's opening shifted in front of it) rather than
    /// being copied into a fresh one.
    pub fn body(self) -> String {
        let mut out = match self.result {
            Ok(data) if data.is_empty() => String::from("{\"status\":\"success\""),
            Ok(mut data) => {
                data.insert_str(0, "{\"status\":\"success\",\"data\":");
                data
            }
            Err(e) => {
                let mut out = String::from("{\"status\":\"error\",\"errorType\":");
                push_str(&mut out, e.kind.as_str());
                out.push_str(",\"error\":");
                push_str(&mut out, &e.message);
                out
            }
        };
        if !self.warnings.is_empty() {
            out.push_str(",\"warnings\":");
            push_str_array(&mut out, &self.warnings);
        }
        if !self.infos.is_empty() {
            out.push_str(",\"infos\":");
            push_str_array(&mut out, &self.infos);
        }
        out.push('}');
        out
    }
}

impl From<ApiError> for ApiResponse {
    fn from(e: ApiError) -> Self {
        Self {
            result: Err(e),
            warnings: Vec::new(),
            infos: Vec::new(),
        }
    }
}

impl From<Result<String, ApiError>> for ApiResponse {
    fn from(r: Result<String, ApiError>) -> Self {
        match r {
            Ok(data) => Self::data(data),
            Err(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiResponse {
    fn into_response(self) -> Response {
        let status = match &self.result {
            Ok(_) => StatusCode::OK,
            Err(e) => e.kind.status(),
        };
        (status, [(CONTENT_TYPE, "application/json")], self.body()).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        let ok = ApiResponse::data("[]".into()).with_annotations(vec!["w".into()], vec![]);
        assert_eq!(
            ok.body(),
            r#"{"status":"success","data":[],"warnings":["w"]}"#
        );
        let err = ApiResponse::from(ApiError::invalid_param("time", "cannot parse \"x\""));
        assert_eq!(
            err.body(),
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": cannot parse \"x\""}"#
        );
        assert_eq!(
            ErrorType::Execution.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(ErrorType::Timeout.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
