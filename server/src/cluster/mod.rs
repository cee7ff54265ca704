//! Kubernetes access, in one place. Everything meshdeck asks of or writes
//! to a cluster goes through this module:
//!
//! - [`connect`]: clients: meshdeck's own account (reads, reviews, the
//!   owner-level enablement it was asked for after a SubjectAccessReview),
//!   a watch client without a read timeout, and a client per caller for
//!   every write made on someone's behalf (their bearer token, or
//!   impersonation behind an auth proxy), so Kubernetes RBAC decides and
//!   the audit log names the person.
//! - [`error`]: one mapping from the API server's answers to meshdeck's
//!   errors, keeping the API server's words.
//! - [`reviews`]: TokenReview, SubjectAccessReview and the namespace list.
//! - [`names`]: namespace and object names checked before they reach a path.
//! - [`pods`]: which pods carry the sidecar (the one rule everything uses).
//! - [`ops`]: the domain writes: namespace labels and rollout restarts.
//! - [`apply`]: server-side apply with field manager `meshdeck`, and
//!   pruning of meshdeck's objects by label.
//! - [`lease`]: leader election, so one of several replicas runs the
//!   controllers.

pub mod apply;
pub mod connect;
pub mod error;
pub mod lease;
pub mod names;
pub mod ops;
pub mod pods;
pub mod reviews;

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;

pub use self::connect::{BearerToken, Connector, Credentials, Source};
pub use self::error::{Acting, api_error};
use crate::error::Result;

/// The field manager of every write meshdeck makes.
pub const FIELD_MANAGER: &str = "meshdeck";

/// A handle on one cluster: meshdeck's own clients and the means to act as
/// a caller. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    own: kube::Client,
    watch: kube::Client,
    connector: Connector,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("connector", &self.inner.connector)
            .finish()
    }
}

impl Cluster {
    /// A real API server from meshdeck's configuration: every call bounded
    /// by `timeout`, except the answers of watches.
    pub fn from_config(config: kube::Config, timeout: Duration) -> Result<Self> {
        let bounded = connect::with_timeouts(config.clone(), timeout, Some(timeout));
        let streaming = connect::with_timeouts(config, timeout, None);
        Ok(Cluster {
            inner: Arc::new(Inner {
                own: connect::client(bounded.clone())?,
                watch: connect::client(streaming)?,
                connector: Connector::Config(Box::new(bounded)),
            }),
        })
    }

    /// Loads meshdeck's configuration from `source`; `None` when there is none.
    pub async fn connect(source: Source<'_>, timeout: Duration) -> Result<Option<Self>> {
        match connect::load_config(source).await? {
            Some(config) => Self::from_config(config, timeout).map(Some),
            None => Ok(None),
        }
    }

    /// An API in this process: `connect(headers)` gives a client sending
    /// `headers` with every request; meshdeck's own credentials are `own`.
    pub fn in_process(
        own: HeaderMap,
        connect: impl Fn(HeaderMap) -> kube::Client + Send + Sync + 'static,
    ) -> Self {
        let own_client = connect(own.clone());
        Cluster {
            inner: Arc::new(Inner {
                watch: own_client.clone(),
                own: own_client,
                connector: Connector::InProcess {
                    connect: Arc::new(connect),
                    own,
                },
            }),
        }
    }

    /// meshdeck's own account, for reads and reviews.
    pub fn own(&self) -> &kube::Client {
        &self.inner.own
    }

    /// meshdeck's own account without a read timeout, for watches.
    pub fn watcher(&self) -> &kube::Client {
        &self.inner.watch
    }

    /// A client acting as the caller with `credentials`.
    pub fn as_caller(&self, credentials: &Credentials) -> Result<kube::Client> {
        self.inner.connector.client_for(credentials)
    }
}
