//! Watches: newline-delimited JSON events, replayed from the event log from
//! the requested `resourceVersion` and then streamed live, with optional
//! BOOKMARK events and a server-side timeout.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::Shared;
use super::error::{ApiError, ApiResult, Reason};
use super::meta;
use super::resources::ResourceType;
use super::selector::{FieldSelector, LabelSelector};
use super::store::{Change, ChangeKind};

/// Annotation on the BOOKMARK that ends the initial events of a streaming list.
const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// Query parameters of a watch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchParams {
    /// Start after this `resourceVersion`; unset or `"0"` starts with the
    /// current objects as ADDED events.
    pub resource_version: Option<String>,
    /// Streaming list: current objects, then a BOOKMARK marking their end.
    pub send_initial_events: bool,
    /// Whether periodic BOOKMARK events are wanted.
    pub bookmarks: bool,
    /// Close the stream after this many seconds.
    pub timeout_seconds: Option<u64>,
}

/// Which events a watch wants.
struct Filter {
    rt: &'static ResourceType,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn selects(&self, obj: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| !self.rt.namespaced || meta::namespace(obj) == ns)
            && self.labels.matches(obj)
            && self.fields.matches(obj)
    }

    /// The event a change means for this watch: an update that moves an
    /// object into the selection is ADDED, out of it DELETED.
    fn event(&self, change: &Change) -> Option<Value> {
        let r = change.resource;
        if r.group != self.rt.group || r.version != self.rt.version || r.plural != self.rt.plural {
            return None;
        }
        let now = self.selects(&change.object);
        let kind = match change.kind {
            ChangeKind::Modified => {
                let before = change.previous.as_ref().is_some_and(|p| self.selects(p));
                match (before, now) {
                    (true, true) => "MODIFIED",
                    (false, true) => "ADDED",
                    (true, false) => "DELETED",
                    (false, false) => return None,
                }
            }
            ChangeKind::Added | ChangeKind::Deleted if now => change.kind.as_str(),
            _ => return None,
        };
        Some(json!({"type": kind, "object": change.object}))
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Value {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            metadata["annotations"] = json!({INITIAL_EVENTS_END: "true"});
        }
        json!({
            "type": "BOOKMARK",
            "object": {"kind": self.rt.kind, "apiVersion": self.rt.api_version(), "metadata": metadata},
        })
    }
}

fn line(event: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(event).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// State of a live watch stream.
struct Live {
    filter: Filter,
    rx: broadcast::Receiver<Arc<Change>>,
    /// Highest `resourceVersion` this watch has seen (for bookmarks).
    last_rv: u64,
    bookmark_every: Option<Duration>,
    next_bookmark: Option<Instant>,
    deadline: Option<Instant>,
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Live {
    /// The next line to send, or `None` to end the stream.
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            tokio::select! {
                _ = sleep_until_opt(self.deadline) => return None,
                _ = sleep_until_opt(self.next_bookmark) => {
                    self.next_bookmark = self.bookmark_every.map(|d| Instant::now() + d);
                    return Some(line(&self.filter.bookmark(self.last_rv, false)));
                }
                msg = self.rx.recv() => match msg {
                    Ok(change) => {
                        self.last_rv = change.resource_version;
                        if let Some(event) = self.filter.event(&change) {
                            return Some(line(&event));
                        }
                    }
                    // A lagging or closed channel ends the watch; the client
                    // resumes from its last resourceVersion via the log.
                    Err(_) => return None,
                },
            }
        }
    }
}

/// Starts a watch and answers with the event stream.
pub fn watch(
    shared: &Arc<Shared>,
    rt: &'static ResourceType,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    params: WatchParams,
) -> ApiResult<Response> {
    let filter = Filter {
        rt,
        namespace,
        labels,
        fields,
    };
    let mut initial: Vec<Bytes> = Vec::new();
    let (rx, start_rv) = {
        let store = shared.lock();
        let from_now = params.send_initial_events
            || params
                .resource_version
                .as_deref()
                .is_none_or(|rv| rv == "0");
        if from_now {
            for obj in store.list(
                rt,
                filter.namespace.as_deref(),
                &filter.labels,
                &filter.fields,
            ) {
                initial.push(line(&json!({"type": "ADDED", "object": obj})));
            }
            let rv = store.resource_version();
            if params.send_initial_events {
                initial.push(line(&filter.bookmark(rv, true)));
            }
            (store.subscribe(), rv)
        } else {
            let requested = params.resource_version.as_deref().unwrap_or("0");
            let since: u64 = requested.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid resourceVersion {requested:?}"))
            })?;
            match store.changes_since(since) {
                Ok((replay, rx)) => {
                    for change in &replay {
                        if let Some(event) = filter.event(change) {
                            initial.push(line(&event));
                        }
                    }
                    let last = replay.last().map_or(since, |c| c.resource_version);
                    (rx, last)
                }
                Err(e) if e.reason == Reason::Expired => {
                    // Kubernetes answers 200 with one ERROR event; clients relist.
                    let event = json!({"type": "ERROR", "object": e.status()});
                    return Ok(stream_response(Body::from(line(&event))));
                }
                Err(e) => return Err(e),
            }
        }
    };
    let bookmark_every = params.bookmarks.then(|| shared.bookmark_interval());
    let live = Live {
        filter,
        rx,
        last_rv: start_rv,
        bookmark_every,
        next_bookmark: bookmark_every.map(|d| Instant::now() + d),
        deadline: params
            .timeout_seconds
            .map(|s| Instant::now() + Duration::from_secs(s)),
    };
    let head = futures::stream::iter(initial.into_iter().map(Ok::<Bytes, Infallible>));
    let tail = futures::stream::unfold(live, |mut live| async move {
        live.next()
            .await
            .map(|b| (Ok::<Bytes, Infallible>(b), live))
    });
    Ok(stream_response(Body::from_stream(
        futures::StreamExt::chain(head, tail),
    )))
}

fn stream_response(body: Body) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    resp
}
