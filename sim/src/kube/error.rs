//! Errors of the in-memory API server, answered as Kubernetes `Status`
//! objects so that kube-rs turns them into `kube::Error::Api` with the code.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::resources::ResourceType;

/// The `reason` of a failed request, with its HTTP code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// 400: the request itself is malformed.
    BadRequest,
    /// 401: no valid credentials.
    Unauthorized,
    /// 403: not allowed.
    Forbidden,
    /// 404: no such object or resource.
    NotFound,
    /// 405: the verb is not served for this resource.
    MethodNotAllowed,
    /// 409: the object exists already.
    AlreadyExists,
    /// 409: a stale `resourceVersion` or a failed precondition.
    Conflict,
    /// 410: the requested `resourceVersion` is older than the event log.
    Expired,
    /// 415: content type not supported (server-side apply).
    UnsupportedMediaType,
    /// 422: the object fails validation.
    Invalid,
    /// 500: something in the simulator went wrong.
    InternalError,
    /// 500 without a reason: an error kube-apiserver did not turn into a
    /// Status (a failed server-side apply conversion).
    Unknown,
}

impl Reason {
    /// The `reason` string of the Status.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::BadRequest => "BadRequest",
            Reason::Unauthorized => "Unauthorized",
            Reason::Forbidden => "Forbidden",
            Reason::NotFound => "NotFound",
            Reason::MethodNotAllowed => "MethodNotAllowed",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::Conflict => "Conflict",
            Reason::Expired => "Expired",
            Reason::UnsupportedMediaType => "UnsupportedMediaType",
            Reason::Invalid => "Invalid",
            Reason::InternalError => "InternalError",
            Reason::Unknown => "",
        }
    }

    /// The HTTP status code.
    pub fn code(self) -> u16 {
        match self {
            Reason::BadRequest => 400,
            Reason::Unauthorized => 401,
            Reason::Forbidden => 403,
            Reason::NotFound => 404,
            Reason::MethodNotAllowed => 405,
            Reason::AlreadyExists | Reason::Conflict => 409,
            Reason::Expired => 410,
            Reason::UnsupportedMediaType => 415,
            Reason::Invalid => 422,
            Reason::InternalError | Reason::Unknown => 500,
        }
    }
}

/// A failed API request.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// Why it failed.
    pub reason: Reason,
    /// Human-readable message, worded like the real API server's.
    pub message: String,
    /// `details` of the Status (name, group, kind), if about one object.
    pub details: Option<Value>,
}

/// Result of an API operation.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a message and no details.
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        ApiError {
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Reason::BadRequest, message)
    }

    /// 422 Invalid for an object of `rt` named `name`.
    pub fn invalid(rt: &ResourceType, name: &str, message: impl Into<String>) -> Self {
        let message = format!("{} \"{name}\" is invalid: {}", rt.kind, message.into());
        Self::new(Reason::Invalid, message).with_details(rt, name)
    }

    /// 404 for an object of `rt` named `name`.
    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            Reason::NotFound,
            format!("{} \"{name}\" not found", rt.qualified()),
        )
        .with_details(rt, name)
    }

    /// 409 AlreadyExists for an object of `rt` named `name`.
    pub fn already_exists(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            Reason::AlreadyExists,
            format!("{} \"{name}\" already exists", rt.qualified()),
        )
        .with_details(rt, name)
    }

    /// 409 Conflict: the client's `resourceVersion` is stale.
    pub fn conflict(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            Reason::Conflict,
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                rt.qualified()
            ),
        )
        .with_details(rt, name)
    }

    /// 405 for a verb the resource does not serve.
    pub fn method_not_allowed(rt: &ResourceType, verb: &str) -> Self {
        Self::new(
            Reason::MethodNotAllowed,
            format!(
                "the server does not allow this method on the requested resource ({verb} {})",
                rt.qualified()
            ),
        )
    }

    /// 401: no or unknown credentials, worded as kube-apiserver words it.
    pub fn unauthorized() -> Self {
        Self::new(Reason::Unauthorized, "Unauthorized")
    }

    /// 403 about `name` (may be empty) of resource `plural` in API group
    /// `group`, with `why` after kube-apiserver's `... is forbidden: `.
    pub fn forbidden(group: &str, plural: &str, name: &str, why: &str) -> Self {
        let qualified = if group.is_empty() {
            plural.to_owned()
        } else {
            format!("{plural}.{group}")
        };
        let message = if name.is_empty() {
            format!("{qualified} is forbidden: {why}")
        } else {
            format!("{qualified} {name:?} is forbidden: {why}")
        };
        Self::new(Reason::Forbidden, message).with_group_details(group, plural, name)
    }

    /// Attaches `details` naming the object.
    pub fn with_details(self, rt: &ResourceType, name: &str) -> Self {
        self.with_group_details(rt.group, rt.plural, name)
    }

    /// Attaches `details` naming an object of `plural` in API `group`.
    pub fn with_group_details(mut self, group: &str, plural: &str, name: &str) -> Self {
        let mut details = json!({ "kind": plural });
        if !name.is_empty() {
            details["name"] = json!(name);
        }
        if !group.is_empty() {
            details["group"] = json!(group);
        }
        self.details = Some(details);
        self
    }

    /// The Kubernetes `Status` object for this error.
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.reason.code(),
        });
        // An unknown reason is left out, as Go's `omitempty` leaves it.
        if !self.reason.as_str().is_empty() {
            status["reason"] = json!(self.reason.as_str());
        }
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.reason.as_str())
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code =
            StatusCode::from_u16(self.reason.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, axum::Json(self.status())).into_response()
    }
}
