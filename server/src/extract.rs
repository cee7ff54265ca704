//! Extractors whose rejections are meshdeck's own JSON errors, so a bad
//! query string or body gets the same `{"error": ...}` answer as every other
//! failure.

use axum::extract::{FromRequest, FromRequestParts, Request};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// A query string parsed into `T`; failures are 400 with the reason.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| Error::BadRequest(format!("bad query string: {}", e.body_text())))
    }
}

/// A JSON body parsed into `T`; failures are 400 (syntax, wrong content
/// type) or 422 (valid JSON of the wrong shape) with the reason.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        axum::Json::<T>::from_request(request, state)
            .await
            .map(|j| ApiJson(j.0))
            .map_err(|e| match e {
                axum::extract::rejection::JsonRejection::JsonDataError(e) => {
                    Error::Invalid(format!("JSON body does not fit: {}", e.body_text()))
                }
                other => Error::BadRequest(format!("bad JSON body: {}", other.body_text())),
            })
    }
}
