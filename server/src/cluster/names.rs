//! Kubernetes names checked before they reach the API server. kube-rs puts
//! namespace and object names into request paths as they are, so a name
//! taken from a request must be one Kubernetes could have: otherwise
//! `reviews-v1%3FdryRun%3DAll` becomes a query, `reviews-v1%2Fstatus` a
//! subresource and `..%2F..` another path. Anything else is the caller's
//! 400, said in words, before any call is made.

use crate::error::{Error, Result};

/// Longest DNS-1123 label (namespace names).
const MAX_LABEL: usize = 63;
/// Longest DNS-1123 subdomain (most object names).
const MAX_SUBDOMAIN: usize = 253;

/// Whether `text` is a DNS-1123 label: 1 to 63 lowercase letters, digits
/// and `-`, starting and ending with a letter or digit.
pub fn is_label(text: &str) -> bool {
    let bytes = text.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= MAX_LABEL
        && bytes.iter().all(|b| edge(b) || *b == b'-')
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
}

/// Whether `text` is a DNS-1123 subdomain: labels joined by `.`, at most
/// 253 characters in all.
pub fn is_subdomain(text: &str) -> bool {
    text.len() <= MAX_SUBDOMAIN && text.split('.').all(is_label)
}

/// `ns` if it can be a namespace's name, else 400.
pub fn namespace(ns: &str) -> Result<&str> {
    if is_label(ns) {
        Ok(ns)
    } else {
        Err(Error::BadRequest(format!(
            "{:?} is not a namespace name: Kubernetes names namespaces with 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit",
            shown(ns)
        )))
    }
}

/// `name` if it can be the name of an object of `kind` (a Deployment, a
/// Service, ...), else 400.
pub fn object<'a>(kind: &str, name: &'a str) -> Result<&'a str> {
    if is_subdomain(name) {
        Ok(name)
    } else {
        Err(Error::BadRequest(format!(
            "{:?} is not a {kind} name: Kubernetes names them with lowercase letters, digits, '-' and '.' (at most 253, each part starting and ending with a letter or digit)",
            shown(name)
        )))
    }
}

/// At most 80 characters of `text`, for messages (a caller may send a lot).
fn shown(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains_follow_kubernetes() {
        for ok in ["a", "bookinfo", "reviews-v1", "a1", &"a".repeat(63)] {
            assert!(is_label(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "A",
            "a_b",
            "a.b",
            "reviews-v1?dryRun=All",
            "reviews-v1/status",
            "..",
            "a\0",
            "ä",
            &"a".repeat(64),
        ] {
            assert!(!is_label(bad), "{bad:?}");
        }
        assert!(is_subdomain("api.stripe.com"));
        assert!(is_subdomain(&vec!["a".repeat(63); 3].join(".")));
        assert!(!is_subdomain(&vec!["a".repeat(63); 4].join(".")));
        for bad in ["a..b", ".a", "a.", "../..", "x%2Fy"] {
            assert!(!is_subdomain(bad), "{bad:?}");
        }
        let err = namespace("..%2F..").unwrap_err();
        assert_eq!(err.code().http_status(), 400);
        assert!(object("Deployment", "web").is_ok());
        assert!(
            object("Deployment", &"x/".repeat(500))
                .unwrap_err()
                .to_string()
                .len()
                < 400
        );
    }
}
