//! Sign-in rules the UI follows, as plain functions tested natively: where
//! a 401 sends the user (and how they get back), and which demo identity
//! is used before the user picks one. The token itself lives only in the
//! tab's `sessionStorage` (see `api.rs`), never in a URL or a log.

use crate::types::{DemoIdentity, Role};

/// The sign-in page.
pub const LOGIN_PATH: &str = "/login";
/// `sessionStorage` key of the bearer token.
pub const TOKEN_STORAGE_KEY: &str = "meshdeck.token";

/// The sign-in page's address, remembering `here` (path and query) to
/// return to afterwards.
pub fn login_href(here: &str) -> String {
    let next = safe_next(Some(here));
    if next == "/" {
        LOGIN_PATH.to_owned()
    } else {
        format!("{LOGIN_PATH}?next={}", crate::format::encode_path(&next))
    }
}

/// Where to go after signing in: `next` if it is a path of this console,
/// else the overview. Refuses other origins (`//host`, `https:`) and the
/// sign-in page itself.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(next) = next else {
        return "/".to_owned();
    };
    let path = next.split(['?', '#']).next().unwrap_or("");
    let own_path = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(char::is_control);
    if own_path && path != LOGIN_PATH {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

/// The identity used in demo mode until the user picks one: the first
/// owner, else the first identity.
pub fn default_demo_identity(identities: &[DemoIdentity]) -> Option<&DemoIdentity> {
    identities
        .iter()
        .find(|i| i.role == Role::Owner)
        .or_else(|| identities.first())
}

/// One line for a demo identity in the switcher: name and what it may see.
pub fn demo_identity_label(identity: &DemoIdentity) -> String {
    format!("{} — {}", identity.name, identity.description)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(name: &str, role: Role) -> DemoIdentity {
        DemoIdentity {
            name: name.into(),
            role,
            description: format!("{} things", role.label()),
            token: format!("demo-token-{name}"),
        }
    }

    #[test]
    fn the_login_link_remembers_where_the_user_was() {
        assert_eq!(login_href("/metrics"), "/login?next=/metrics");
        assert_eq!(
            login_href("/graph?ns=bookinfo&t=5m"),
            "/login?next=/graph%3Fns%3Dbookinfo%26t%3D5m"
        );
        assert_eq!(login_href("/"), "/login");
        assert_eq!(login_href("/login?next=/x"), "/login");
    }

    #[test]
    fn only_own_paths_are_returned_to() {
        assert_eq!(safe_next(Some("/traces?service=a")), "/traces?service=a");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil",
            "javascript:alert(1)",
            "",
            "/login",
            "/x\n",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn demo_mode_starts_as_the_owner() {
        let ids = [
            identity("alice", Role::Member),
            identity("admin", Role::Owner),
        ];
        assert_eq!(default_demo_identity(&ids).unwrap().name, "admin");
        assert_eq!(default_demo_identity(&ids[..1]).unwrap().name, "alice");
        assert!(default_demo_identity(&[]).is_none());
        assert_eq!(demo_identity_label(&ids[0]), "alice — member things");
    }
}
