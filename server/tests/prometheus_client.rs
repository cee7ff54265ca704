//! The Prometheus client against a local stub (axum on 127.0.0.1:0) that
//! answers what each test tells it to: Prometheus' error contract (400
//! bad_data, 422 execution, 503 timeout), answers that are not Prometheus
//! JSON, NaN and infinite sample values, credentials, and silence.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::types::{ChartKind, ErrorBody, ErrorCode, MetricsReport, TopKind};
use axum::body::Bytes;
use axum::response::IntoResponse;
use base64::Engine as _;
use http::{HeaderMap, StatusCode, Uri};
use meshdeck_server::config::UpstreamArgs;
use meshdeck_server::upstream::Upstreams;
use meshdeck_server::upstream::prometheus::PrometheusClient;

/// What the stub saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    authorization: Option<String>,
    form: String,
}

/// (status, content type, body) for a request path and form body; `None`
/// never answers.
type Answer = Arc<dyn Fn(&str, &str) -> Option<(u16, &'static str, String)> + Send + Sync>;

struct Stub {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn stub(answer: Answer) -> Stub {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let recorded = seen.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let (answer, recorded) = (answer.clone(), recorded.clone());
        async move {
            let form = String::from_utf8_lossy(&body).into_owned();
            recorded.lock().unwrap().push(Seen {
                path: uri.path().to_owned(),
                authorization: headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_owned()),
                form: form.clone(),
            });
            match answer(uri.path(), &form) {
                Some((status, content_type, body)) => (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", content_type)],
                    body,
                )
                    .into_response(),
                None => std::future::pending().await,
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Stub { url, seen, server }
}

/// A stub giving every request the same answer.
async fn fixed(status: u16, content_type: &'static str, body: &str) -> Stub {
    let body = body.to_owned();
    stub(Arc::new(move |_, _| {
        Some((status, content_type, body.clone()))
    }))
    .await
}

const JSON: &str = "application/json";

fn client_with(args: UpstreamArgs, timeout: Duration) -> PrometheusClient {
    Upstreams::from_args(&args, timeout)
        .unwrap()
        .prometheus
        .unwrap()
}

fn client(stub: &Stub) -> PrometheusClient {
    client_with(
        UpstreamArgs {
            prometheus_url: Some(stub.url.parse().unwrap()),
            ..UpstreamArgs::default()
        },
        Duration::from_secs(5),
    )
}

/// `GET /api/metrics` through the router with the stub as Prometheus:
/// the status and the decoded body.
async fn via_api(stub: &Stub, query: &str) -> (StatusCode, Vec<u8>) {
    let state = common::state(&stub.url, &common::quiet_demo());
    common::call(&state, "admin", &format!("/api/metrics?{query}")).await
}

async fn api_error(stub: &Stub) -> (StatusCode, ErrorBody) {
    let (status, body) = via_api(stub, "range=15m").await;
    let body = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
    (status, body)
}

fn error_json(kind: &str, message: &str) -> String {
    serde_json::json!({"status": "error", "errorType": kind, "error": message}).to_string()
}

#[tokio::test]
async fn bad_data_is_our_400_with_prometheus_message() {
    let message = "1:14: parse error: unexpected right parenthesis ')'";
    let stub = fixed(400, JSON, &error_json("bad_data", message)).await;
    let err = client(&stub).query("up)", 0.0).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::BadRequest);
    assert_eq!(err.code().http_status(), 400);
    assert!(err.to_string().contains(message), "{err}");
    let err = client(&stub)
        .query_range("up)", 0.0, 60.0, 15.0)
        .await
        .unwrap_err();
    assert_eq!(err.code().http_status(), 400, "{err}");

    let (status, body) = api_error(&stub).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body.error.code, ErrorCode::BadRequest);
    assert!(
        body.error.message.contains(message),
        "{}",
        body.error.message
    );
}

#[tokio::test]
async fn execution_errors_are_422() {
    let message = "query processing would load too many samples into memory in query execution";
    let stub = fixed(422, JSON, &error_json("execution", message)).await;
    let err = client(&stub)
        .query_range("rate(x[1d])", 0.0, 60.0, 15.0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid);
    assert_eq!(err.code().http_status(), 422);
    assert!(err.to_string().contains(message), "{err}");

    let (status, body) = api_error(&stub).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.error.message.contains(message),
        "{}",
        body.error.message
    );
}

#[tokio::test]
async fn prometheus_timeouts_are_503_naming_prometheus() {
    let message = "query timed out in expression evaluation";
    let stub = fixed(503, JSON, &error_json("timeout", message)).await;
    let err = client(&stub).query("up", 0.0).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::UpstreamUnavailable);
    assert_eq!(err.code().http_status(), 503);

    let (status, body) = api_error(&stub).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body.error.code, ErrorCode::UpstreamUnavailable);
    assert!(
        body.error.message.starts_with("Prometheus is unavailable"),
        "{}",
        body.error.message
    );
    assert!(
        body.error.message.contains(message),
        "{}",
        body.error.message
    );
}

#[tokio::test]
async fn answers_that_are_not_prometheus_json_are_503() {
    let html = "<html><body><h1>Sign in</h1></body></html>";
    for stub in [
        fixed(200, "text/html", html).await,
        fixed(
            502,
            "text/html",
            "<html><body>502 Bad Gateway</body></html>",
        )
        .await,
        fixed(502, JSON, r#"{"message":"upstream connect error"}"#).await,
    ] {
        let err = client(&stub).query("up", 0.0).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::UpstreamUnavailable, "{err}");
        let err = client(&stub)
            .query_range("up", 0.0, 60.0, 15.0)
            .await
            .unwrap_err();
        assert_eq!(err.code().http_status(), 503, "{err}");
        let (status, body) = api_error(&stub).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            body.error.message.starts_with("Prometheus is unavailable"),
            "{}",
            body.error.message
        );
        // The page's HTML is not passed on.
        assert!(
            !body.error.message.contains("<html>"),
            "{}",
            body.error.message
        );
    }
}

/// A range answer with one ordinary value and Prometheus' three specials,
/// and an instant answer ranking three services of which two have special
/// values.
fn specials(path: &str, _form: &str) -> Option<(u16, &'static str, String)> {
    let body = if path.ends_with("query_range") {
        r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{},"values":[[1000,"1.5"],[1015,"NaN"],[1030,"+Inf"],[1045,"-Inf"]]}]}}"#
    } else {
        r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"destination_service_namespace":"a","destination_service_name":"nan"},"value":[1045,"NaN"]},
            {"metric":{"destination_service_namespace":"a","destination_service_name":"inf"},"value":[1045,"+Inf"]},
            {"metric":{"destination_service_namespace":"a","destination_service_name":"two"},"value":[1045,"2"]}]}}"#
    };
    Some((200, JSON, body.to_owned()))
}

#[tokio::test]
async fn nan_and_infinite_values_come_through() {
    let stub = stub(Arc::new(specials)).await;
    let series = client(&stub)
        .query_range("x", 1000.0, 1045.0, 15.0)
        .await
        .unwrap();
    let values: Vec<f64> = series[0].points.iter().map(|p| p.1).collect();
    assert_eq!(values[0], 1.5);
    assert!(values[1].is_nan());
    assert_eq!(values[2], f64::INFINITY);
    assert_eq!(values[3], f64::NEG_INFINITY);
    let samples = client(&stub).query("x", 1045.0).await.unwrap();
    assert!(samples[0].value.is_nan());
    assert_eq!(samples[1].value, f64::INFINITY);

    // The API draws no point where there is no finite value, and ranks only
    // finite values.
    let (status, body) = via_api(&stub, "start=1000&end=1045&step=15").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let report: MetricsReport = serde_json::from_slice(&body).unwrap();
    let volume = report
        .charts
        .iter()
        .find(|c| c.kind == ChartKind::RequestVolume)
        .unwrap();
    assert_eq!(
        volume.series[0].points,
        [
            (1000.0, Some(1.5)),
            (1015.0, None),
            (1030.0, None),
            (1045.0, None)
        ]
    );
    let top = report
        .top
        .iter()
        .find(|t| t.kind == TopKind::Volume)
        .unwrap();
    assert_eq!(top.entries.len(), 1, "{:?}", top.entries);
    assert_eq!(
        (top.entries[0].service.as_str(), top.entries[0].value),
        ("two", 2.0)
    );
}

fn ok_vector(_: &str, _: &str) -> Option<(u16, &'static str, String)> {
    Some((
        200,
        JSON,
        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.to_owned(),
    ))
}

#[tokio::test]
async fn credentials_reach_prometheus() {
    let stub = stub(Arc::new(ok_vector)).await;
    let url = Some(stub.url.parse().unwrap());
    let timeout = Duration::from_secs(5);

    client(&stub).query("up", 0.0).await.unwrap();
    client_with(
        UpstreamArgs {
            prometheus_url: url.clone(),
            prometheus_bearer_token: Some("t0ken.with-dots".into()),
            ..UpstreamArgs::default()
        },
        timeout,
    )
    .query("up", 0.0)
    .await
    .unwrap();
    client_with(
        UpstreamArgs {
            prometheus_url: url,
            prometheus_username: Some("grafana".into()),
            prometheus_password: Some("p@ss:word".into()),
            ..UpstreamArgs::default()
        },
        timeout,
    )
    .query("up", 0.0)
    .await
    .unwrap();

    let seen = stub.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.iter().all(|s| s.path == "/api/v1/query"), "{seen:?}");
    assert!(seen[0].form.contains("query=up"), "{:?}", seen[0]);
    assert_eq!(seen[0].authorization, None);
    assert_eq!(
        seen[1].authorization.as_deref(),
        Some("Bearer t0ken.with-dots")
    );
    let basic = seen[2]
        .authorization
        .as_deref()
        .and_then(|h| h.strip_prefix("Basic "))
        .unwrap_or_else(|| panic!("{:?}", seen[2]));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic)
        .unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), "grafana:p@ss:word");
}

#[tokio::test]
async fn silence_is_a_503_after_the_timeout() {
    let stub = stub(Arc::new(|_: &str, _: &str| None)).await;
    let client = client_with(
        UpstreamArgs {
            prometheus_url: Some(stub.url.parse().unwrap()),
            ..UpstreamArgs::default()
        },
        Duration::from_millis(300),
    );
    let started = Instant::now();
    let err = client.query_range("up", 0.0, 60.0, 15.0).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), ErrorCode::UpstreamUnavailable, "{err}");
    assert_eq!(err.code().http_status(), 503);
    assert!(err.to_string().contains("no answer within 300 ms"), "{err}");
    assert!(
        (Duration::from_millis(250)..Duration::from_secs(5)).contains(&took),
        "{took:?}"
    );
    assert_eq!(stub.seen.lock().unwrap().len(), 1, "the request arrived");
}
