//! The server's one error type. Every failure a handler can produce is a
//! variant here, and every variant becomes a status code plus the JSON body
//! `{"error": {"code", "message"}}` ([`app::types::ErrorBody`]).
//!
//! 400 or 422: a request the server cannot read (a query string or JSON
//! that does not parse, an unknown parameter, a value of the wrong type or
//! outside its syntax) is [`Error::BadRequest`], 400; a request it can read
//! but that asks for something invalid (a body that fails validation, a
//! change the cluster refuses as invalid) is [`Error::Invalid`], 422.
//!
//! Causes (a kube, reqwest or I/O error) are kept as the error's
//! [`source`](std::error::Error::source): logged with a 5xx, never shown.
//! Errors of starting the server are [`crate::run::StartupError`], not
//! these: they never become an HTTP answer.

use std::sync::Arc;

use app::types::{ErrorBody, ErrorCode, ErrorDetail, UpstreamKind};
use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// The underlying failure of an upstream or internal error; shared, so an
/// error handed to every waiter of one computation keeps it ([`crate::cache`]).
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

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
        /// The underlying failure (a transport or Kubernetes error), logged.
        #[source]
        cause: Option<Cause>,
    },
    /// A bug or unexpected state; logged in full, shown as a generic message.
    #[error("internal error: {context}")]
    Internal {
        /// What the server was doing.
        context: String,
        /// The underlying failure, if any.
        #[source]
        source: Option<Cause>,
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

    /// An internal error caused by `source`.
    pub fn internal_caused(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Internal {
            context: context.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// `upstream` is unavailable, for `reason` (shown to the caller).
    pub fn upstream(upstream: UpstreamKind, reason: impl Into<String>) -> Self {
        Error::Upstream {
            upstream,
            reason: reason.into(),
            cause: None,
        }
    }

    /// `upstream` is unavailable, for `reason` (shown), caused by `cause`
    /// (logged).
    pub fn upstream_caused(
        upstream: UpstreamKind,
        reason: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Upstream {
            upstream,
            reason: reason.into(),
            cause: Some(Arc::new(cause)),
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
            Error::Upstream {
                upstream, reason, ..
            } => {
                format!("{} is unavailable: {reason}", upstream.label())
            }
            other => other.to_string(),
        }
    }
}

/// A failure shared by every request that waited for one computation
/// ([`crate::cache`]): the last holder gets the original, the others a
/// copy sharing its cause.
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
            Error::Upstream {
                upstream,
                reason,
                cause,
            } => Error::Upstream {
                upstream: *upstream,
                reason: reason.clone(),
                cause: cause.clone(),
            },
            Error::Internal { context, source } => Error::Internal {
                context: context.clone(),
                source: source.clone(),
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
        let err = Error::internal_caused(
            "reading /etc/secret-token",
            std::io::Error::other("permission denied"),
        );
        assert_eq!(err.code(), ErrorCode::Internal);
        assert!(!err.public_message().contains("secret"));
    }

    #[test]
    fn shared_errors_keep_their_class_and_message() {
        let shared = std::sync::Arc::new(Error::upstream_caused(
            UpstreamKind::Prometheus,
            "timed out",
            std::io::Error::other("deadline elapsed"),
        ));
        let copy = Error::from(shared.clone());
        assert_eq!(
            copy.public_message(),
            "Prometheus is unavailable: timed out"
        );
        // The last holder gets the original itself.
        // Copies keep the cause, for the log.
        let cause = std::error::Error::source(&copy).map(|s| s.to_string());
        assert_eq!(cause.as_deref(), Some("deadline elapsed"));
        let internal = std::sync::Arc::new(Error::internal_caused(
            "decoding",
            std::io::Error::other("bad JSON"),
        ));
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
        let err = Error::upstream(UpstreamKind::Prometheus, "connection refused");
        assert_eq!(
            err.public_message(),
            "Prometheus is unavailable: connection refused"
        );
        assert_eq!(err.code().http_status(), 503);
    }
}
