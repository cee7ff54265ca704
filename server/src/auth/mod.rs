//! Identity and roles from the cluster: a bearer token is checked with a
//! TokenReview, roles with SubjectAccessReviews, projects from namespace
//! metadata. Every answer is cached briefly (30 s by default) so a page
//! that makes several API calls costs the API server a handful of reviews,
//! not one per call. Tokens are cached only as SHA-256 digests and never
//! logged.
//!
//! - [`crate::cluster::reviews`]: the Kubernetes calls themselves.
//! - [`projects`]: grouping namespaces into projects.
//! - [`proxy`]: identities asserted by an authenticating proxy.
//! - [`cache`]: the time-bounded cache.

pub mod cache;
pub mod projects;
pub mod proxy;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use app::types::{DemoIdentity, UpstreamKind};
use futures::stream::{self, StreamExt, TryStreamExt};
use http::HeaderMap;
use http::header::AUTHORIZATION;
use http::request::Parts;
use sha2::{Digest, Sha256};

use self::cache::TtlCache;
use self::projects::{DEFAULT_PROJECT_KEY, NamespaceInfo};
use self::proxy::ProxyOptions;
use crate::cluster::reviews::{self as cluster, Attributes, Identity};
use crate::cluster::{BearerToken, Credentials};
use crate::error::{Error, Result};

/// How long review answers and the namespace list are reused.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);
/// Upper bound on cached entries per cache.
const MAX_CACHE_ENTRIES: usize = 10_000;
/// SubjectAccessReviews in flight at once while resolving a member's namespaces.
const REVIEW_CONCURRENCY: usize = 16;
/// Longer `Authorization` values are refused before anything else happens.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Where a request's identity comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Authenticator {
    /// A bearer token, checked with a TokenReview; writes carry the token.
    #[default]
    Token,
    /// Headers set by an authenticating proxy; writes impersonate the user.
    Proxy(ProxyOptions),
}

/// How identities and roles are resolved.
#[derive(Clone, Debug)]
pub struct AuthOptions {
    /// Label or annotation grouping namespaces into projects.
    pub project_key: String,
    /// How long answers from the cluster are reused (`--auth-cache-ttl`).
    pub cache_ttl: Duration,
    /// The identities offered in demo mode (empty otherwise).
    pub demo_identities: Vec<DemoIdentity>,
    /// Where identities come from.
    pub authenticator: Authenticator,
}

impl Default for AuthOptions {
    fn default() -> Self {
        AuthOptions {
            project_key: DEFAULT_PROJECT_KEY.to_owned(),
            cache_ttl: DEFAULT_CACHE_TTL,
            demo_identities: Vec::new(),
            authenticator: Authenticator::Token,
        }
    }
}

/// How many calls went to the API server (for tests and diagnostics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthStats {
    /// TokenReviews sent.
    pub token_reviews: u64,
    /// SubjectAccessReviews sent.
    pub access_reviews: u64,
    /// Namespace lists fetched (counting each listing, not each page).
    pub namespace_lists: u64,
}

/// The caller's identity and role as the cluster decided them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Who the token belongs to.
    pub identity: Identity,
    /// May patch namespaces cluster-wide.
    pub owner: bool,
    /// For members: the namespaces where they may list pods.
    /// `None` for owners (everything).
    pub namespaces: Option<BTreeSet<String>>,
    /// What writes on the caller's behalf carry.
    pub credentials: Credentials,
}

/// Resolves identities and roles against the cluster, with caches.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<Inner>,
}

struct Inner {
    client: Option<kube::Client>,
    options: AuthOptions,
    identities: TtlCache<[u8; 32], Identity>,
    decisions: TtlCache<(Identity, Attributes), bool>,
    namespaces: TtlCache<(), Arc<Vec<NamespaceInfo>>>,
    token_reviews: AtomicU64,
    access_reviews: AtomicU64,
    namespace_lists: AtomicU64,
}

impl Auth {
    /// Resolution through `client` (none: every signed-in request is a 503).
    pub fn new(client: Option<kube::Client>, options: AuthOptions) -> Self {
        let ttl = options.cache_ttl;
        Auth {
            inner: Arc::new(Inner {
                client,
                identities: TtlCache::new(ttl, MAX_CACHE_ENTRIES),
                decisions: TtlCache::new(ttl, MAX_CACHE_ENTRIES),
                namespaces: TtlCache::new(ttl, 1),
                options,
                token_reviews: AtomicU64::new(0),
                access_reviews: AtomicU64::new(0),
                namespace_lists: AtomicU64::new(0),
            }),
        }
    }

    /// The options this was built with.
    pub fn options(&self) -> &AuthOptions {
        &self.inner.options
    }

    /// Calls made to the API server so far.
    pub fn stats(&self) -> AuthStats {
        AuthStats {
            token_reviews: self.inner.token_reviews.load(Ordering::Relaxed),
            access_reviews: self.inner.access_reviews.load(Ordering::Relaxed),
            namespace_lists: self.inner.namespace_lists.load(Ordering::Relaxed),
        }
    }

    /// Who sent this request and what they may do: 401 without a token
    /// the cluster accepts (or, behind an auth proxy, without the proxy's
    /// identity headers), 503 when the cluster cannot be asked.
    pub async fn resolve(&self, parts: &Parts) -> Result<Resolved> {
        let (identity, credentials) = match &self.inner.options.authenticator {
            Authenticator::Token => {
                let token = bearer_token(&parts.headers)?;
                let identity = self.authenticate(token).await?;
                (identity, Credentials::Bearer(BearerToken::new(token)))
            }
            Authenticator::Proxy(proxy) => {
                let identity = proxy.identity(parts)?;
                let credentials = Credentials::Impersonate {
                    user: identity.user.clone(),
                    groups: identity.groups.clone(),
                    uid: identity.uid.clone(),
                    extra: identity.extra.clone(),
                };
                (identity, credentials)
            }
        };
        let owner = self.may(&identity, &Attributes::owner()).await?;
        let namespaces = if owner {
            None
        } else {
            Some(self.member_namespaces(&identity).await?)
        };
        Ok(Resolved {
            identity,
            owner,
            namespaces,
            credentials,
        })
    }

    /// Every namespace with its project (meshdeck's own view, cached).
    pub async fn namespaces(&self) -> Result<Arc<Vec<NamespaceInfo>>> {
        if let Some(list) = self.inner.namespaces.get(&()) {
            return Ok(list);
        }
        let client = self.client()?;
        self.inner.namespace_lists.fetch_add(1, Ordering::Relaxed);
        let list =
            Arc::new(cluster::list_namespaces(client, &self.inner.options.project_key).await?);
        self.inner.namespaces.insert((), list.clone());
        Ok(list)
    }

    /// The identity behind `token`, from the cache or a TokenReview.
    async fn authenticate(&self, token: &str) -> Result<Identity> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(identity) = self.inner.identities.get(&key) {
            return Ok(identity);
        }
        let client = self.client()?;
        self.inner.token_reviews.fetch_add(1, Ordering::Relaxed);
        // Rejections are not cached: that would let random tokens fill the cache.
        let identity = cluster::review_token(client, token).await?.ok_or_else(|| {
            Error::Unauthenticated(
                "Kubernetes did not accept this bearer token (TokenReview); sign in again with a valid token"
                    .into(),
            )
        })?;
        self.inner.identities.insert(key, identity.clone());
        Ok(identity)
    }

    /// Whether `who` may do `what`, from the cache or a SubjectAccessReview.
    pub async fn may(&self, who: &Identity, what: &Attributes) -> Result<bool> {
        let key = (who.clone(), what.clone());
        if let Some(allowed) = self.inner.decisions.get(&key) {
            return Ok(allowed);
        }
        let client = self.client()?;
        self.inner.access_reviews.fetch_add(1, Ordering::Relaxed);
        let allowed = cluster::review_access(client, who, what).await?;
        self.inner.decisions.insert(key, allowed);
        Ok(allowed)
    }

    /// Whether `who` may do `what` right now: a SubjectAccessReview that is
    /// never answered from the cache. Used before meshdeck's own account
    /// writes on someone's behalf, so a revoked RoleBinding stops at once.
    pub async fn may_now(&self, who: &Identity, what: &Attributes) -> Result<bool> {
        let client = self.client()?;
        self.inner.access_reviews.fetch_add(1, Ordering::Relaxed);
        let allowed = cluster::review_access(client, who, what).await?;
        self.inner
            .decisions
            .insert((who.clone(), what.clone()), allowed);
        Ok(allowed)
    }

    /// The namespaces in which `who` may list pods (reviews run concurrently).
    async fn member_namespaces(&self, who: &Identity) -> Result<BTreeSet<String>> {
        let all = self.namespaces().await?;
        // Owned futures: borrowing across `buffer_unordered` trips the
        // compiler's Send check for handlers.
        let reviews: Vec<_> = all
            .iter()
            .map(|ns| {
                let (auth, who, name) = (self.clone(), who.clone(), ns.name.clone());
                async move {
                    let allowed = auth.may(&who, &Attributes::member_of(&name)).await?;
                    Ok::<_, Error>(allowed.then_some(name))
                }
            })
            .collect();
        let checks = stream::iter(reviews).buffer_unordered(REVIEW_CONCURRENCY);
        let visible: Vec<Option<String>> = checks.try_collect().await?;
        Ok(visible.into_iter().flatten().collect())
    }

    fn client(&self) -> Result<&kube::Client> {
        self.inner.client.as_ref().ok_or_else(|| Error::upstream(UpstreamKind::Kubernetes, "no cluster is configured, so meshdeck cannot check tokens (pass --kubeconfig or --in-cluster)"))
    }
}

/// The token of an `Authorization: Bearer <token>` header; 401 otherwise
/// (400 for two such headers: which one counts would be a guess). Error
/// messages never repeat what was sent.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str> {
    if headers.get_all(AUTHORIZATION).iter().nth(1).is_some() {
        return Err(Error::BadRequest(
            "send one Authorization header, not several".into(),
        ));
    }
    let value = headers.get(AUTHORIZATION).ok_or_else(|| {
        Error::Unauthenticated(
            "sign in: send a Kubernetes bearer token as `Authorization: Bearer <token>`".into(),
        )
    })?;
    let bad = || Error::Unauthenticated("the Authorization header must be `Bearer <token>`".into());
    if value.len() > MAX_TOKEN_BYTES {
        return Err(Error::Unauthenticated(
            "the bearer token is too long to be a Kubernetes token".into(),
        ));
    }
    let value = value.to_str().map_err(|_| bad())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(bad());
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(bad());
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(value: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        h
    }

    #[test]
    fn bearer_tokens_are_read() {
        assert_eq!(
            bearer_token(&headers(b"Bearer abc.def")).unwrap(),
            "abc.def"
        );
        assert_eq!(bearer_token(&headers(b"bearer   xyz ")).unwrap(), "xyz");
    }

    #[test]
    fn anything_else_is_a_401_that_does_not_echo_it() {
        let missing = bearer_token(&HeaderMap::new()).unwrap_err();
        assert_eq!(missing.code().http_status(), 401);
        for bad in [
            &b"Basic c2VjcmV0"[..],
            b"Bearer ",
            b"Bearer",
            b"secret-token",
            b"Bearer \xffsecret",
        ] {
            let err = bearer_token(&headers(bad)).unwrap_err();
            assert_eq!(err.code().http_status(), 401, "{bad:?}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES));
        assert!(bearer_token(&headers(long.as_bytes())).is_err());
    }

    #[test]
    fn two_authorization_headers_are_a_400() {
        let mut h = headers(b"Bearer a");
        h.append(AUTHORIZATION, HeaderValue::from_static("Bearer b"));
        assert_eq!(bearer_token(&h).unwrap_err().code().http_status(), 400);
    }

    #[tokio::test]
    async fn without_a_cluster_signed_in_calls_are_503() {
        let auth = Auth::new(None, AuthOptions::default());
        let (mut parts, ()) = http::Request::new(()).into_parts();
        parts.headers = headers(b"Bearer t");
        let err = auth.resolve(&parts).await.unwrap_err();
        assert_eq!(err.code().http_status(), 503);
        assert!(err.to_string().contains("Kubernetes"));
    }
}
