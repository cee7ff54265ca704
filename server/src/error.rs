//! The server's one error type. Every failure a handler can produce is a
//! variant here, and every variant becomes a status code plus the JSON body
//! `{"error": {"code", "message"}}` ([`app::types::ErrorBody`]).

use app::types::{ErrorBody, ErrorCode, ErrorDetail, UpstreamKind};
use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed (query string, JSON body, parameter value).
    #[error("{0}")]
    BadRequest(String),
    /// No credentials, or credentials the cluster rejected.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated but not allowed; the message names the missing permission.
    #[error("{0}")]
    Forbidden(String),
    /// No such resource or API path.
    #[error("{0}")]
    NotFound(String),
    /// The path exists, but not for this HTTP method.
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The method that was used.
        method: String,
        /// The path it was used on.
        path: String,
    },
    /// The resource changed underneath the request.
    #[error("{0}")]
    Conflict(String),
    /// Well-formed input that fails validation; the message lists every problem.
    #[error("{0}")]
    Invalid(String),
    /// An upstream system is unreachable, timed out or answered garbage.
    #[error("{upstream:?} is unavailable: {reason}")]
    Upstream {
        /// Which system.
        upstream: UpstreamKind,
        /// What happened, safe to show.
        reason: String,
    },
    /// A bug or unexpected state; logged in full, shown as a generic message.
    #[error("internal error: {context}")]
    Internal {
        /// What the server was doing.
        context: String,
        /// The underlying failure, if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// An internal error without an underlying cause.
    pub fn internal(context: impl Into<String>) -> Self {
        Error::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// The stable error class of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Invalid(_) => ErrorCode::Invalid,
            Error::Upstream { .. } => ErrorCode::UpstreamUnavailable,
            Error::Internal { .. } => ErrorCode::Internal,
        }
    }

    /// The message shown to the caller; internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            Error::Internal { .. } => {
                "internal server error; the details are in meshdeck's log".to_string()
            }
            Error::Upstream { upstream, reason } => {
                format!("{} is unavailable: {reason}", upstream.label())
            }
            other => other.to_string(),
        }
    }
}

/// A failure shared by every request that waited for one computation
/// ([`crate::cache`]): the last holder gets the original, the others a
/// copy (an internal error's source becomes its message).
impl From<std::sync::Arc<Error>> for Error {
    fn from(shared: std::sync::Arc<Error>) -> Self {
        std::sync::Arc::try_unwrap(shared).unwrap_or_else(|shared| match &*shared {
            Error::BadRequest(m) => Error::BadRequest(m.clone()),
            Error::Unauthenticated(m) => Error::Unauthenticated(m.clone()),
            Error::Forbidden(m) => Error::Forbidden(m.clone()),
            Error::NotFound(m) => Error::NotFound(m.clone()),
            Error::MethodNotAllowed { method, path } => Error::MethodNotAllowed {
                method: method.clone(),
                path: path.clone(),
            },
            Error::Conflict(m) => Error::Conflict(m.clone()),
            Error::Invalid(m) => Error::Invalid(m.clone()),
            Error::Upstream { upstream, reason } => Error::Upstream {
                upstream: *upstream,
                reason: reason.clone(),
            },
            Error::Internal { context, source } => Error::Internal {
                context: context.clone(),
                source: source.as_ref().map(|s| s.to_string().into()),
            },
        })
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let code = self.code();
        let status =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %self, source = ?std::error::Error::source(&self), "request failed");
        } else {
            tracing::debug!(error = %self, "request rejected");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: self.public_message(),
            },
        };
        (status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_are_not_shown() {
        let err = Error::Internal {
            context: "reading /etc/secret-token".into(),
            source: Some("permission denied".into()),
        };
        assert_eq!(err.code(), ErrorCode::Internal);
        assert!(!err.public_message().contains("secret"));
    }

    #[test]
    fn shared_errors_keep_their_class_and_message() {
        let shared = std::sync::Arc::new(Error::Upstream {
            upstream: UpstreamKind::Prometheus,
            reason: "timed out".into(),
        });
        let copy = Error::from(shared.clone());
        assert_eq!(
            copy.public_message(),
            "Prometheus is unavailable: timed out"
        );
        // The last holder gets the original itself.
        let internal = std::sync::Arc::new(Error::Internal {
            context: "decoding".into(),
            source: Some("bad JSON".into()),
        });
        let copy = Error::from(internal.clone());
        assert_eq!(copy.code(), ErrorCode::Internal);
        let source = std::error::Error::source(&copy).map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("bad JSON"));
        let original = Error::from(internal);
        assert_eq!(original.to_string(), "internal error: decoding");
        assert_eq!(Error::from(shared).code(), ErrorCode::UpstreamUnavailable);
    }

    #[test]
    fn upstream_errors_name_the_system() {
        let err = Error::Upstream {
            upstream: UpstreamKind::Prometheus,
            reason: "connection refused".into(),
        };
        assert_eq!(
            err.public_message(),
            "Prometheus is unavailable: connection refused"
        );
        assert_eq!(err.code().http_status(), 503);
    }
}
