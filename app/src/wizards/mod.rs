//! The traffic-management wizards of one service: their forms as plain,
//! natively tested models ([`form`]: the state people edit, what the
//! browser checks, the `WizardRequest` it becomes, presets) and what is
//! shown of the server's answers ([`review`]: diffs, refusals, outcomes).
//! The Leptos parts (the editors and the preview) are behind the `ui`
//! feature; the page that fetches and sends is `pages::service`.

pub mod form;
pub mod review;

#[cfg(feature = "ui")]
pub mod editors;
#[cfg(feature = "ui")]
pub mod preview;

use crate::format;
use crate::types::{ServiceProtocol, WizardKind};

/// Path prefix of the service pages (`/services/{namespace}/{name}`).
pub const SERVICES_PATH: &str = "/services";

/// Query parameter naming the open dialog.
pub const WIZARD_PARAM: &str = "wizard";

/// What a dialog of the service page does: one wizard, or removing what the
/// wizards wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogTarget {
    /// A wizard's form, preview and apply.
    Wizard(WizardKind),
    /// "Remove traffic routing": preview and delete.
    Remove,
}

impl DialogTarget {
    /// The `?wizard=` value.
    pub fn as_str(self) -> &'static str {
        match self {
            DialogTarget::Wizard(kind) => kind.as_str(),
            DialogTarget::Remove => "remove",
        }
    }

    /// Parses [`DialogTarget::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        if text == "remove" {
            Some(DialogTarget::Remove)
        } else {
            WizardKind::parse(text).map(DialogTarget::Wizard)
        }
    }

    /// The dialog's title for service `name`.
    pub fn title(self, name: &str) -> String {
        match self {
            DialogTarget::Wizard(kind) => format!("{}: {name}", kind.label()),
            DialogTarget::Remove => format!("Remove traffic routing: {name}"),
        }
    }
}

/// The page of service `namespace/name`, with a dialog open or not.
pub fn page_url(namespace: &str, name: &str, dialog: Option<DialogTarget>) -> String {
    let base = format!(
        "{SERVICES_PATH}/{}/{}",
        format::encode_component(namespace),
        format::encode_component(name)
    );
    match dialog {
        Some(d) => format!("{base}?{WIZARD_PARAM}={}", d.as_str()),
        None => base,
    }
}

/// Whether `segment` may name a namespace or service: a DNS-1123 label
/// (lower-case letters, digits and `-`, at most 63, alphanumeric at both
/// ends), which is what Kubernetes allows for both.
pub fn is_dns_label(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let inner_ok = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    let end_ok = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(inner_ok)
        && bytes.first().is_some_and(end_ok)
        && bytes.last().is_some_and(end_ok)
}

/// `(namespace, name)` when `path` is a service page.
pub fn parse_page_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(SERVICES_PATH)?.strip_prefix('/')?;
    let (namespace, name) = rest.split_once('/')?;
    (is_dns_label(namespace) && is_dns_label(name)).then_some((namespace, name))
}

/// The wizards offered for a service speaking `protocol`: TCP services get
/// TCP traffic shifting only (the others write HTTP routes); HTTP and gRPC
/// services everything else.
pub fn wizards_for(protocol: ServiceProtocol) -> Vec<WizardKind> {
    WizardKind::ALL
        .into_iter()
        .filter(|k| (*k == WizardKind::TcpTrafficShifting) == (protocol == ServiceProtocol::Tcp))
        .collect()
}

/// Why `kind` is not offered for a service speaking `protocol`, if it is not.
pub fn not_offered(kind: WizardKind, protocol: ServiceProtocol) -> Option<String> {
    if wizards_for(protocol).contains(&kind) {
        return None;
    }
    Some(if protocol == ServiceProtocol::Tcp {
        format!(
            "{} writes HTTP routes; this service speaks plain TCP, so only TCP traffic shifting applies.",
            kind.label()
        )
    } else {
        "TCP traffic shifting is for plain TCP services; this one speaks HTTP or gRPC, so use Traffic shifting.".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialog_targets_round_trip() {
        for kind in WizardKind::ALL {
            let t = DialogTarget::Wizard(kind);
            assert_eq!(DialogTarget::parse(t.as_str()), Some(t));
        }
        assert_eq!(DialogTarget::parse("remove"), Some(DialogTarget::Remove));
        assert_eq!(DialogTarget::parse("canary"), None);
        assert_eq!(
            DialogTarget::Wizard(WizardKind::Mtls).title("reviews"),
            "mTLS: reviews"
        );
    }

    #[test]
    fn page_urls() {
        assert_eq!(
            page_url("bookinfo", "reviews", None),
            "/services/bookinfo/reviews"
        );
        assert_eq!(
            page_url(
                "bookinfo",
                "reviews",
                Some(DialogTarget::Wizard(WizardKind::TrafficShifting))
            ),
            "/services/bookinfo/reviews?wizard=traffic-shifting"
        );
        assert_eq!(
            parse_page_path("/services/bookinfo/reviews"),
            Some(("bookinfo", "reviews"))
        );
        for bad in [
            "/services/bookinfo",
            "/services/bookinfo/",
            "/services//reviews",
            "/services/bookinfo/reviews/extra",
            "/services/Bookinfo/reviews",
            "/services/bookinfo/-reviews",
            "/services/bookinfo/reviews-",
            "/services/bookinfo/rev%00iews",
            "/servicesx/bookinfo/reviews",
        ] {
            assert_eq!(parse_page_path(bad), None, "{bad}");
        }
        assert!(is_dns_label(&"a".repeat(63)));
        assert!(!is_dns_label(&"a".repeat(64)));
    }

    #[test]
    fn tcp_services_get_tcp_shifting_only() {
        assert_eq!(
            wizards_for(ServiceProtocol::Tcp),
            [WizardKind::TcpTrafficShifting]
        );
        let http = wizards_for(ServiceProtocol::Http);
        assert_eq!(http.len(), WizardKind::ALL.len() - 1);
        assert!(!http.contains(&WizardKind::TcpTrafficShifting));
        assert_eq!(wizards_for(ServiceProtocol::Grpc), http);
        assert!(not_offered(WizardKind::Gateway, ServiceProtocol::Tcp).is_some());
        assert!(not_offered(WizardKind::TcpTrafficShifting, ServiceProtocol::Http).is_some());
        assert!(not_offered(WizardKind::Gateway, ServiceProtocol::Grpc).is_none());
    }
}
