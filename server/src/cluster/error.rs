//! The one mapping from the API server's answers to meshdeck's errors. What
//! a refusal means depends on whose credentials the request carried: a
//! caller refused by RBAC gets Kubernetes' own 403, worded as Kubernetes
//! worded it; meshdeck's own account refused is a deployment problem (its
//! RBAC is short of what the README lists), a 503 naming what it lacks.

use app::types::UpstreamKind;

use crate::error::Error;

/// Whose credentials a request carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acting {
    /// The caller's own (their token, or impersonation of them).
    Caller,
    /// meshdeck's own account.
    Meshdeck,
}

/// `err`, from trying to `what` (e.g. `patch namespace "shop"`), as the
/// caller should see it: 401/403 as above, 404, 409 and 422 with the API
/// server's message, anything else (5xx, timeouts, connection failures) a
/// 503 naming Kubernetes.
pub fn api_error(what: &str, acting: Acting, err: kube::Error) -> Error {
    let kube::Error::Api(status) = &err else {
        tracing::warn!(error = %err, what, "Kubernetes call failed");
        return Error::upstream_caused(
            UpstreamKind::Kubernetes,
            format!("{what} failed: {err}"),
            err,
        );
    };
    let message = status.message.trim();
    match (status.code, acting) {
        (401, Acting::Caller) => Error::Unauthenticated(format!(
            "Kubernetes did not accept your credentials ({what}): {message}; sign in again"
        )),
        // Behind an auth proxy, meshdeck's account impersonates the caller:
        // a refused impersonation is meshdeck's RBAC, not the caller's.
        (403, Acting::Caller) if message.contains("cannot impersonate") => {
            tracing::warn!(error = %err, what, "Kubernetes refused meshdeck's impersonation");
            Error::upstream(
                UpstreamKind::Kubernetes,
                format!(
                    "meshdeck's own Kubernetes account may not impersonate the caller ({message}); \
                     grant it deploy/rbac/impersonate.yaml"
                ),
            )
        }
        (403, Acting::Caller) => Error::Forbidden(message.to_owned()),
        (401 | 403, Acting::Meshdeck) => {
            tracing::warn!(error = %err, what, "Kubernetes refused meshdeck's own account");
            Error::upstream(
                UpstreamKind::Kubernetes,
                format!(
                    "meshdeck's own Kubernetes account may not {what} (HTTP {}: {message}); \
                     grant it the RBAC the README lists",
                    status.code
                ),
            )
        }
        (404, _) => Error::NotFound(format!("{what}: {message}")),
        (409, _) => Error::Conflict(format!("{what}: {message}")),
        (400 | 422, _) => Error::Invalid(format!("{what}: {message}")),
        (code, _) => {
            tracing::warn!(error = %err, what, "Kubernetes answered with an error");
            Error::upstream(
                UpstreamKind::Kubernetes,
                format!("{what} failed: {message} (HTTP {code})"),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(message, "")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn refusals_depend_on_whose_credentials() {
        let words = "namespaces \"shop\" is forbidden: User \"viewer\" cannot patch resource \"namespaces\" in API group \"\" in the namespace \"shop\"";
        let caller = api_error("patch namespace \"shop\"", Acting::Caller, api(403, words));
        assert_eq!(caller.code().http_status(), 403);
        assert_eq!(caller.to_string(), words);
        let own = api_error("list pods", Acting::Meshdeck, api(403, words));
        assert_eq!(own.code().http_status(), 503);
        assert!(
            own.to_string()
                .contains("meshdeck's own Kubernetes account may not list pods")
        );
        let expired = api_error(
            "patch namespace \"shop\"",
            Acting::Caller,
            api(401, "Unauthorized"),
        );
        assert_eq!(expired.code().http_status(), 401);
        let impersonation = "users \"alice\" is forbidden: User \"system:serviceaccount:meshdeck:meshdeck\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope";
        let err = api_error(
            "patch namespace \"shop\"",
            Acting::Caller,
            api(403, impersonation),
        );
        assert_eq!(err.code().http_status(), 503);
        assert!(err.to_string().contains("impersonate.yaml"), "{err}");
    }

    #[test]
    fn other_answers_keep_the_api_servers_words() {
        for (code, status) in [
            (404, 404),
            (409, 409),
            (422, 422),
            (400, 422),
            (500, 503),
            (429, 503),
        ] {
            let err = api_error("get x", Acting::Caller, api(code, "the words"));
            assert_eq!(err.code().http_status(), status, "{code}");
            assert!(err.to_string().contains("the words"), "{code}: {err}");
        }
    }
}
