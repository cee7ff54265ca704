//! Requests through a router, answers read whole: the one place that calls
//! `oneshot` and collects bodies for the integration tests.

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use meshdeck_server::AppState;
use serde_json::Value;
use tower::ServiceExt;

/// Sends `request` to `app` (the console's router or any other): the
/// status, headers and whole body of the answer.
pub async fn exchange(app: Router, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, body.to_vec())
}

/// `method uri` with `token` as bearer (no authorization header for
/// `None`) and `body` as JSON if given.
pub fn build<'a>(
    method: Method,
    uri: &str,
    token: impl Into<Option<&'a str>>,
    body: Option<Value>,
) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token.into() {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(v) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    request.body(body).unwrap()
}

/// A request through the console's router: its status and body bytes.
pub async fn send_bytes(state: &AppState, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let (status, _, body) = exchange(meshdeck_server::router(state.clone()), request).await;
    (status, body)
}

/// A request through the console's router: its status and its JSON answer
/// (`Null` when the body is not JSON).
pub async fn send(state: &AppState, request: Request<Body>) -> (StatusCode, Value) {
    let (status, body) = send_bytes(state, request).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// `method uri` as the holder of `token` (a `&str`, or an `Option` where
/// `None` sends no authorization header), with `body` as JSON if given:
/// the status and JSON answer.
pub async fn request<'a>(
    state: &AppState,
    method: Method,
    uri: &str,
    token: impl Into<Option<&'a str>>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    send(state, build(method, uri, token, body)).await
}

/// `GET uri` through the router as demo `user` (token
/// `demo-token-<user>`): the status and body bytes.
pub async fn call(state: &AppState, user: &str, uri: &str) -> (StatusCode, Vec<u8>) {
    let token = format!("demo-token-{user}");
    send_bytes(state, build(Method::GET, uri, token.as_str(), None)).await
}

/// `GET uri` as demo `user`, which must answer 200: the body parsed as `T`.
pub async fn get_ok<T: serde::de::DeserializeOwned>(state: &AppState, user: &str, uri: &str) -> T {
    let (status, body) = call(state, user, uri).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}
