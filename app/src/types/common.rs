//! Errors and how the server is wired: the error body and codes, health,
//! readiness, the run mode, the upstreams and `GET /api/status`.

use serde::{Deserialize, Serialize};

use super::identity::{AuthMode, DemoIdentity};

/// The body of every error response: `{"error": {"code": ..., "message": ...}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// Machine-readable code plus a message written for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable, machine-readable error class.
    pub code: ErrorCode,
    /// What was wrong, in words; never contains secrets or internal details of 5xx errors.
    pub message: String,
}

/// Stable error classes; each maps to one HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: malformed request (bad query string, bad JSON, bad parameter).
    BadRequest,
    /// 401: no credentials, or credentials the cluster rejected.
    Unauthenticated,
    /// 403: authenticated, but not allowed.
    Forbidden,
    /// 404: no such resource or API path.
    NotFound,
    /// 405: the path exists but not for this method.
    MethodNotAllowed,
    /// 409: the resource changed underneath the request.
    Conflict,
    /// 422: well-formed but invalid input (validation errors).
    Invalid,
    /// 500: a bug or unexpected state on the server; details are in its log.
    Internal,
    /// 503: an upstream (Kubernetes, Prometheus, Jaeger) is unreachable or timed out.
    UpstreamUnavailable,
    /// A code this client does not know yet (newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status code this error class is sent with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::Invalid => 422,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
            ErrorCode::UpstreamUnavailable => 503,
        }
    }
}

/// `GET /api/health`: the process is up and serving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `"ok"` when the server answers.
    pub status: String,
    /// meshdeck's version.
    pub version: String,
}

/// `GET /api/ready`: whether this replica can serve (its Kubernetes API
/// answers), with the upstreams' probes; 503 when not ready.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// The Kubernetes API answered meshdeck's probe.
    pub ready: bool,
    /// Why not, in words.
    pub reason: Option<String>,
    /// Every upstream's probe (as in `/api/status`).
    pub upstreams: Vec<UpstreamStatus>,
}

/// How the server was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// `meshdeck serve`: a real cluster.
    Serve,
    /// `meshdeck demo`: the built-in simulated mesh.
    Demo,
}

/// The outside systems meshdeck talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UpstreamKind {
    /// The Kubernetes API server.
    Kubernetes,
    /// A Prometheus-compatible HTTP API.
    Prometheus,
    /// A Jaeger query service.
    Jaeger,
    /// Grafana (linked to, not required).
    Grafana,
    /// Kiali (linked to, not required).
    Kiali,
}

impl UpstreamKind {
    /// Every kind, in the order the UI lists them.
    pub const ALL: [UpstreamKind; 5] = [
        UpstreamKind::Kubernetes,
        UpstreamKind::Prometheus,
        UpstreamKind::Jaeger,
        UpstreamKind::Grafana,
        UpstreamKind::Kiali,
    ];

    /// Name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            UpstreamKind::Kubernetes => "Kubernetes",
            UpstreamKind::Prometheus => "Prometheus",
            UpstreamKind::Jaeger => "Jaeger",
            UpstreamKind::Grafana => "Grafana",
            UpstreamKind::Kiali => "Kiali",
        }
    }

    /// What meshdeck uses the system for.
    pub fn purpose(self) -> &'static str {
        match self {
            UpstreamKind::Kubernetes => "identity, roles, namespaces, workloads, enablement",
            UpstreamKind::Prometheus => "traffic metrics, graph, console and dashboards",
            UpstreamKind::Jaeger => "trace search and span waterfall",
            UpstreamKind::Grafana => "link to external dashboards",
            UpstreamKind::Kiali => "link to external Kiali",
        }
    }
}

/// One upstream's state as seen by the server just now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpstreamStatus {
    /// Which system.
    pub kind: UpstreamKind,
    /// Whether meshdeck was given an address for it.
    pub configured: bool,
    /// `None` when not configured; otherwise whether it answered in time.
    pub reachable: Option<bool>,
    /// The version it reported, where it reports one.
    pub version: Option<String>,
    /// Round-trip time of the probe in milliseconds, when it answered.
    pub latency_ms: Option<u64>,
    /// Why it is unreachable (or other remarks), in words.
    pub detail: Option<String>,
}

/// A link to an external tool's own UI (top-right corner of the console).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolLink {
    /// Which tool.
    pub kind: UpstreamKind,
    /// Where its UI lives.
    pub url: String,
}

/// `GET /api/status`: how the console is wired and what is reachable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Status {
    /// meshdeck's version.
    pub version: String,
    /// `serve` or `demo`.
    pub mode: RunMode,
    /// How callers are identified.
    pub auth_mode: AuthMode,
    /// One entry per [`UpstreamKind`], in [`UpstreamKind::ALL`] order.
    pub upstreams: Vec<UpstreamStatus>,
    /// What is wrong with how meshdeck is set up, in words (e.g. its
    /// account may not read the mesh settings); empty when nothing is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Demo mode: the identities to choose from (the first owner is the
    /// default); empty otherwise. Public, so the UI can pick one before its
    /// first signed-in call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub demo_identities: Vec<DemoIdentity>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_documented_shape() {
        let body = ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::NotFound,
                message: "no such API path: /api/nope".into(),
            },
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "not_found", "message": "no such API path: /api/nope"}})
        );
    }

    #[test]
    fn unknown_error_codes_from_a_newer_server_still_parse() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"error":{"code":"rate_limited","message":"slow down"}}"#)
                .unwrap();
        assert_eq!(body.error.code, ErrorCode::Unknown);
        assert_eq!(ErrorCode::Unknown.http_status(), 500);
    }

    #[test]
    fn status_without_demo_identities_still_parses() {
        let status: Status = serde_json::from_value(serde_json::json!({
            "version": "0.1.0", "mode": "serve", "auth_mode": "token", "upstreams": [], "links": []
        }))
        .unwrap();
        assert!(status.demo_identities.is_empty());
    }

    #[test]
    fn every_code_maps_to_an_error_status() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Conflict,
            ErrorCode::Invalid,
            ErrorCode::Internal,
            ErrorCode::UpstreamUnavailable,
        ] {
            let status = code.http_status();
            assert!((400..600).contains(&status), "{code:?} -> {status}");
        }
    }
}
