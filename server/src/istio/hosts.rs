//! Host names as Istio reads them: a short name (`reviews`) is qualified
//! with the namespace of the object that writes it, `name.namespace` is
//! taken as the service it names (as Kiali does, though Istio itself would
//! look it up as written), and anything else is a fully qualified name.

/// The cluster's DNS suffix for services.
pub const CLUSTER_SUFFIX: &str = ".svc.cluster.local";

/// `host`, written in an object of namespace `ns`, as a fully qualified name.
pub fn fqdn(host: &str, ns: &str) -> String {
    let host = host.trim();
    if host.contains('*') || host.ends_with(CLUSTER_SUFFIX) {
        host.to_owned()
    } else if !host.contains('.') {
        format!("{host}.{ns}{CLUSTER_SUFFIX}")
    } else if host.matches('.').count() == 1 {
        format!("{host}{CLUSTER_SUFFIX}")
    } else {
        host.to_owned()
    }
}

/// The Kubernetes service `(namespace, name)` a fully qualified host names,
/// if it names one.
pub fn service_of(fqdn: &str) -> Option<(String, String)> {
    let rest = fqdn.strip_suffix(CLUSTER_SUFFIX)?;
    let (name, ns) = rest.split_once('.')?;
    (!name.is_empty() && !ns.is_empty() && !ns.contains('.'))
        .then(|| (ns.to_owned(), name.to_owned()))
}

/// Whether `pattern` (which may start with `*.`, or be `*`) covers `host`.
pub fn covers(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_qualified_like_istio() {
        assert_eq!(
            fqdn("reviews", "bookinfo"),
            "reviews.bookinfo.svc.cluster.local"
        );
        assert_eq!(
            fqdn("reviews.bookinfo", "x"),
            "reviews.bookinfo.svc.cluster.local"
        );
        assert_eq!(
            fqdn("reviews.bookinfo.svc.cluster.local", "x"),
            "reviews.bookinfo.svc.cluster.local"
        );
        assert_eq!(fqdn("api.stripe.com", "x"), "api.stripe.com");
        assert_eq!(fqdn("*.example.com", "x"), "*.example.com");
        assert_eq!(
            service_of("reviews.bookinfo.svc.cluster.local"),
            Some(("bookinfo".into(), "reviews".into()))
        );
        assert_eq!(service_of("api.stripe.com"), None);
        assert!(covers("*.example.com", "a.example.com"));
        assert!(!covers("*.example.com", "example.org"));
        assert!(covers("*", "anything"));
    }
}
