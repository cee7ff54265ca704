//! The mesh's cluster-level state, read with meshdeck's account: which
//! control plane runs (and whether meshdeck may write one), the ways into
//! the cluster, how Prometheus scrapes the mesh, and what meshdeck created.

use app::types::{ControlPlane, ControlPlaneKind, IngressInfo, IngressKind, MeshStatus};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, DynamicObject, ListParams};

use super::plan::{ControlPlaneDecision, operator_ref, sail_ref};
use super::{Context, MESH_SET, MeshState, load_state, monitoring};
use crate::cluster::apply::ObjectRef;
use crate::cluster::{Acting, api_error};
use crate::error::Result;

/// Controllers recognised by their `app.kubernetes.io/name`.
const INGRESS_CONTROLLERS: &[&str] = &[
    "ingress-nginx",
    "traefik",
    "haproxy-ingress",
    "contour",
    "kong",
    "emissary-ingress",
];

/// Whether `group/version` serves `plural` (discovery).
pub async fn served(client: &kube::Client, api_version: &str, plural: &str) -> Result<bool> {
    served_all(client, api_version, &[plural]).await
}

/// Whether `group/version` serves every one of `plurals` (one discovery
/// request).
pub async fn served_all(
    client: &kube::Client,
    api_version: &str,
    plurals: &[&str],
) -> Result<bool> {
    match client.list_api_group_resources(api_version).await {
        Ok(list) => Ok(plurals
            .iter()
            .all(|p| list.resources.iter().any(|r| r.name == *p))),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(e) => Err(api_error(
            &format!("discover {api_version}"),
            Acting::Meshdeck,
            e,
        )),
    }
}

/// A running istiod: where it is and its version (from its image tag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Istiod {
    /// `namespace/name` of its Deployment.
    pub deployment: String,
    /// The image tag, or `unknown`.
    pub version: String,
}

/// The istiod Deployments (label `app=istiod`) in any namespace.
pub async fn istiods(client: &kube::Client) -> Result<Vec<Istiod>> {
    let list = Api::<Deployment>::all(client.clone())
        .list(&ListParams::default().labels("app=istiod"))
        .await
        .map_err(|e| api_error("list istiod deployments", Acting::Meshdeck, e))?;
    let mut out: Vec<Istiod> = list
        .items
        .iter()
        .map(|d| Istiod {
            deployment: format!(
                "{}/{}",
                d.metadata.namespace.as_deref().unwrap_or_default(),
                d.metadata.name.as_deref().unwrap_or_default()
            ),
            version: d
                .spec
                .as_ref()
                .and_then(|s| s.template.spec.as_ref())
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.as_deref())
                .and_then(|i| i.rsplit_once(':').map(|(_, tag)| tag.to_owned()))
                .unwrap_or_else(|| "unknown".into()),
        })
        .collect();
    out.sort_by(|a, b| a.deployment.cmp(&b.deployment));
    Ok(out)
}

/// What the control plane is and what meshdeck does about it. Where an
/// operator API is served meshdeck writes its own resource, unless one of
/// that kind that meshdeck did not write exists, or an istiod already runs
/// that meshdeck's resource did not bring (installed by Helm or istioctl):
/// a second resource would be a second control plane. Without an operator
/// API, an istiod that runs is used as it is.
pub async fn detect_control_plane(
    client: &kube::Client,
    state: &MeshState,
) -> Result<(ControlPlane, ControlPlaneDecision)> {
    let istiods = istiods(client).await?;
    let version = istiods.first().map(|i| i.version.clone());
    for (kind, r) in [
        (ControlPlaneKind::SailIstio, sail_ref()),
        (ControlPlaneKind::IstioOperator, operator_ref()),
    ] {
        let api_version = r.api_resource().api_version;
        if !served(client, &api_version, &r.plural).await? {
            continue;
        }
        let list = Api::<DynamicObject>::all_with(client.clone(), &r.api_resource())
            .list(&ListParams::default())
            .await
            .map_err(|e| {
                api_error(
                    &format!("list {}", r.qualified_resource()),
                    Acting::Meshdeck,
                    e,
                )
            })?;
        let named = |o: &DynamicObject| match &o.metadata.namespace {
            Some(ns) => format!("{ns}/{}", o.metadata.name.as_deref().unwrap_or_default()),
            None => o.metadata.name.clone().unwrap_or_default(),
        };
        if let Some(foreign) = list
            .items
            .iter()
            .find(|o| !MESH_SET.contains(o.metadata.labels.as_ref()))
        {
            let resource = named(foreign);
            return Ok((
                ControlPlane {
                    kind,
                    resource: Some(resource.clone()),
                    version,
                    managed_by_meshdeck: false,
                },
                ControlPlaneDecision::UseExisting(format!("the existing {} {resource}", r.kind)),
            ));
        }
        let mine =
            list.items.iter().any(|o| named(o) == describe_name(&r)) || state.created.contains(&r);
        if !mine {
            if let Some(running) = istiods.first() {
                return Ok(existing_istiod(running, istiods.len()));
            }
        }
        return Ok((
            ControlPlane {
                kind,
                resource: Some(describe_name(&r)),
                version,
                managed_by_meshdeck: mine,
            },
            ControlPlaneDecision::Write(kind),
        ));
    }
    match istiods.first() {
        Some(running) => Ok(existing_istiod(running, istiods.len())),
        None => Ok((
            ControlPlane {
                kind: ControlPlaneKind::None,
                resource: None,
                version: None,
                managed_by_meshdeck: false,
            },
            ControlPlaneDecision::Write(ControlPlaneKind::None),
        )),
    }
}

fn describe_name(r: &ObjectRef) -> String {
    match &r.namespace {
        Some(ns) => format!("{ns}/{}", r.name),
        None => r.name.clone(),
    }
}

fn existing_istiod(running: &Istiod, count: usize) -> (ControlPlane, ControlPlaneDecision) {
    let more = if count > 1 {
        format!(" and {} more", count - 1)
    } else {
        String::new()
    };
    (
        ControlPlane {
            kind: ControlPlaneKind::ExistingIstiod,
            resource: Some(format!("Deployment {}", running.deployment)),
            version: Some(running.version.clone()),
            managed_by_meshdeck: false,
        },
        ControlPlaneDecision::UseExisting(format!(
            "the existing istiod {} (Deployment {}{more})",
            running.version, running.deployment
        )),
    )
}

fn describe_ports(svc: &Service) -> Vec<String> {
    svc.spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .map(|ports| {
            ports
                .iter()
                .map(|p| {
                    let name = p.name.clone().unwrap_or_else(|| "port".into());
                    match p.node_port {
                        Some(np) => format!("{name} {} → node {np}", p.port),
                        None => format!("{name} {}", p.port),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every ingress: controllers and Istio gateways exposed outside the cluster.
pub async fn ingresses(client: &kube::Client) -> Result<Vec<IngressInfo>> {
    let services = Api::<Service>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| api_error("list services", Acting::Meshdeck, e))?;
    let mut out = Vec::new();
    for svc in &services.items {
        let service_type = svc
            .spec
            .as_ref()
            .and_then(|s| s.type_.clone())
            .unwrap_or_default();
        if service_type != "NodePort" && service_type != "LoadBalancer" {
            continue;
        }
        let labels = svc.metadata.labels.clone().unwrap_or_default();
        let kind = if labels.get("istio").map(String::as_str) == Some("ingressgateway") {
            IngressKind::IstioGateway
        } else if labels
            .get("app.kubernetes.io/name")
            .is_some_and(|n| INGRESS_CONTROLLERS.contains(&n.as_str()))
        {
            IngressKind::Controller
        } else {
            continue;
        };
        out.push(IngressInfo {
            kind,
            namespace: svc.metadata.namespace.clone().unwrap_or_default(),
            name: svc.metadata.name.clone().unwrap_or_default(),
            service_type,
            ports: describe_ports(svc),
            managed_by_meshdeck: MESH_SET.contains(svc.metadata.labels.as_ref()),
        });
    }
    out.sort_by(|a, b| {
        (a.kind == IngressKind::IstioGateway, &a.namespace, &a.name).cmp(&(
            b.kind == IngressKind::IstioGateway,
            &b.namespace,
            &b.name,
        ))
    });
    Ok(out)
}

/// The mesh's cluster-level state.
pub async fn status(client: &kube::Client, ctx: &Context) -> Result<MeshStatus> {
    let (state, _) = load_state(client, &ctx.namespace).await?;
    status_of(client, ctx, &state).await
}

/// The state given the stored record `state`.
pub async fn status_of(
    client: &kube::Client,
    ctx: &Context,
    state: &MeshState,
) -> Result<MeshStatus> {
    let (control_plane, _) = detect_control_plane(client, state).await?;
    let settings = crate::enablement::settings::load(client, &ctx.namespace)
        .await?
        .parsed
        .settings;
    let survey = monitoring::survey(client, &ctx.namespace, ctx.grafana_url(&settings)).await?;
    Ok(MeshStatus {
        enabled: state.enabled,
        enabled_at: state.enabled_at.clone(),
        control_plane,
        ingresses: ingresses(client).await?,
        created: state.created.iter().map(ObjectRef::describe).collect(),
        monitoring: monitoring::status(&survey),
    })
}
