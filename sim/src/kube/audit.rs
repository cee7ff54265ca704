//! The audit log: every resource request after authentication, in order,
//! with the identity it acted as and the HTTP status it got.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::auth::Identity;
use super::request::RequestInfo;

/// How many entries the audit log keeps (the newest).
pub const AUDIT_CAPACITY: usize = 100_000;

/// One audited request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// The user the request acted as (the impersonated one, if any).
    pub user: String,
    /// Its groups.
    pub groups: Vec<String>,
    /// The authenticated requester, when it impersonated `user`.
    pub impersonated_by: Option<String>,
    /// RBAC verb (`get`, `list`, `watch`, `create`, `patch`, ...).
    pub verb: String,
    /// API group (`""` for core).
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource, or empty.
    pub subresource: String,
    /// Namespace attribute (for a namespace object: its name).
    pub namespace: String,
    /// Object name, or empty.
    pub name: String,
    /// HTTP status of the answer.
    pub code: u16,
}

impl AuditEntry {
    /// The entry of a request `info` made as `who` and answered with `code`.
    pub fn new(
        who: &Identity,
        impersonated_by: Option<&str>,
        info: &RequestInfo,
        code: u16,
    ) -> Self {
        AuditEntry {
            user: who.user.clone(),
            groups: who.groups.clone(),
            impersonated_by: impersonated_by.map(str::to_owned),
            verb: info.verb.clone(),
            group: info.group.clone(),
            resource: info.resource.clone(),
            subresource: info.subresource.clone(),
            namespace: info.namespace.clone(),
            name: info.name.clone(),
            code,
        }
    }
}

/// A bounded, ordered log of [`AuditEntry`]s.
#[derive(Debug, Default)]
pub struct AuditLog {
    entries: Mutex<VecDeque<AuditEntry>>,
}

impl AuditLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<AuditEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends an entry, dropping the oldest beyond [`AUDIT_CAPACITY`].
    pub fn record(&self, entry: AuditEntry) {
        let mut entries = self.lock();
        entries.push_back(entry);
        while entries.len() > AUDIT_CAPACITY {
            entries.pop_front();
        }
    }

    /// Every kept entry, oldest first.
    pub fn entries(&self) -> Vec<AuditEntry> {
        self.lock().iter().cloned().collect()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.lock().clear();
    }
}
