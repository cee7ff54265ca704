//! Kiali-style find/hide expressions: parsing and matching nodes and edges.

use crate::types::{EdgeProtocol, GraphEdge, GraphHealth, GraphNode, NodeKind};

/// A find/hide expression: alternatives (`OR`) of conjunctions (`AND`) of
/// terms, like Kiali's: `rt > 1000`, `!healthy`, `name = reviews`,
/// `%error > 5 AND ns = bookinfo`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr(Vec<Vec<Term>>);

/// One comparison or flag.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// A flag, possibly negated (`healthy`, `!idle`).
    Flag(Flag, bool),
    /// `field op value`.
    Compare(Field, Cmp, String),
}

/// Flags a term can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// Health is healthy (nodes and edges).
    Healthy,
    /// Degraded.
    Degraded,
    /// Failure.
    Failure,
    /// No traffic.
    Idle,
    /// Outside the caller's namespaces.
    Inaccessible,
    /// Has the sidecar.
    Sidecar,
    /// Nothing calls it.
    Root,
    /// The unknown node.
    Unknown,
    /// An outside service.
    External,
    /// Edge fully mTLS.
    Mtls,
    /// TCP edge.
    Tcp,
    /// HTTP edge.
    Http,
    /// gRPC edge.
    Grpc,
}

/// Fields a term can compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Node name or app (nodes).
    Name,
    /// Namespace (nodes).
    Namespace,
    /// Version (nodes).
    Version,
    /// Node kind: `app`, `workload`, `service`, `unknown`, `external` (nodes).
    Kind,
    /// Requests per second (edges; nodes: in + out).
    Rps,
    /// Error % (edges and nodes).
    ErrorPct,
    /// p95 response time in ms (edges).
    Rt,
    /// Traffic share % (edges).
    Share,
    /// mTLS % (edges).
    MtlsPct,
    /// Protocol: `http`, `grpc`, `tcp` (edges).
    Protocol,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

fn parse_flag(word: &str) -> Option<Flag> {
    Some(match word {
        "healthy" => Flag::Healthy,
        "degraded" => Flag::Degraded,
        "failure" | "unhealthy" => Flag::Failure,
        "idle" => Flag::Idle,
        "inaccessible" => Flag::Inaccessible,
        "sidecar" | "hassidecar" => Flag::Sidecar,
        "root" => Flag::Root,
        "unknown" => Flag::Unknown,
        "external" | "outside" => Flag::External,
        "mtls" => Flag::Mtls,
        "tcp" => Flag::Tcp,
        "http" => Flag::Http,
        "grpc" => Flag::Grpc,
        _ => return None,
    })
}

fn parse_field(word: &str) -> Option<Field> {
    Some(match word {
        "name" | "app" | "service" | "workload" => Field::Name,
        "ns" | "namespace" => Field::Namespace,
        "version" => Field::Version,
        "node" | "kind" => Field::Kind,
        "rps" | "rate" => Field::Rps,
        "%error" | "error" | "%err" | "err" => Field::ErrorPct,
        "rt" | "p95" | "responsetime" => Field::Rt,
        "%traffic" | "share" | "traffic" => Field::Share,
        "%mtls" | "mtls" => Field::MtlsPct,
        "protocol" => Field::Protocol,
        _ => return None,
    })
}

const OPS: [(&str, Cmp); 6] = [
    ("!=", Cmp::Ne),
    (">=", Cmp::Ge),
    ("<=", Cmp::Le),
    ("=", Cmp::Eq),
    (">", Cmp::Gt),
    ("<", Cmp::Lt),
];

fn parse_term(text: &str) -> Result<Term, String> {
    let text = text.trim();
    for (symbol, cmp) in OPS {
        if let Some((left, right)) = text.split_once(symbol) {
            let field = parse_field(&left.trim().to_lowercase())
                .ok_or_else(|| format!("unknown field {:?}", left.trim()))?;
            let value = right.trim().to_owned();
            if value.is_empty() {
                return Err(format!("{:?} needs a value", left.trim()));
            }
            let numeric = matches!(
                field,
                Field::Rps | Field::ErrorPct | Field::Rt | Field::Share | Field::MtlsPct
            );
            if numeric && value.parse::<f64>().is_err() {
                return Err(format!("{value:?} is not a number"));
            }
            if !numeric && !matches!(cmp, Cmp::Eq | Cmp::Ne) {
                return Err(format!("{:?} compares with = or != only", left.trim()));
            }
            return Ok(Term::Compare(field, cmp, value));
        }
    }
    let (negated, word) = match text.strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, text),
    };
    parse_flag(&word.to_lowercase())
        .map(|f| Term::Flag(f, !negated))
        .ok_or_else(|| format!("unknown term {text:?}"))
}

/// Parses an expression; `Ok(None)` when empty.
pub fn parse_expr(text: &str) -> Result<Option<Expr>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let normalised = text.replace("||", " OR ").replace("&&", " AND ");
    let mut alternatives = Vec::new();
    for alt in split_word(&normalised, "or") {
        let terms = split_word(&alt, "and")
            .iter()
            .map(|t| parse_term(t))
            .collect::<Result<Vec<_>, _>>()?;
        alternatives.push(terms);
    }
    Ok(Some(Expr(alternatives)))
}

/// Splits at the whole word `word` (any case); a comma also separates
/// alternatives, as in Kiali.
fn split_word(text: &str, word: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    for token in text.split_whitespace() {
        if token.eq_ignore_ascii_case(word) {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(token);
        }
    }
    if word == "or" {
        parts = parts
            .iter()
            .flat_map(|p| p.split(',').map(str::to_owned).collect::<Vec<_>>())
            .collect();
    }
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn compare_num(value: f64, cmp: Cmp, want: &str) -> bool {
    let Ok(want) = want.parse::<f64>() else {
        return false;
    };
    match cmp {
        Cmp::Eq => (value - want).abs() < 1e-9,
        Cmp::Ne => (value - want).abs() >= 1e-9,
        Cmp::Gt => value > want,
        Cmp::Ge => value >= want,
        Cmp::Lt => value < want,
        Cmp::Le => value <= want,
    }
}

fn compare_text(values: &[&str], cmp: Cmp, want: &str) -> bool {
    let hit = values.iter().any(|v| v.eq_ignore_ascii_case(want));
    if cmp == Cmp::Ne { !hit } else { hit }
}

/// Whether `term` holds for a node; `None` when it is about edges only.
fn node_term(node: &GraphNode, term: &Term) -> Option<bool> {
    Some(match term {
        Term::Flag(flag, want) => {
            let v = match flag {
                Flag::Healthy => node.health == GraphHealth::Healthy,
                Flag::Degraded => node.health == GraphHealth::Degraded,
                Flag::Failure => node.health == GraphHealth::Failure,
                Flag::Idle => node.idle,
                Flag::Inaccessible => node.inaccessible,
                Flag::Sidecar => node.sidecar == Some(true),
                Flag::Root => node.root,
                Flag::Unknown => node.kind == NodeKind::Unknown,
                Flag::External => node.kind == NodeKind::External,
                Flag::Mtls | Flag::Tcp | Flag::Http | Flag::Grpc => return None,
            };
            v == *want
        }
        Term::Compare(field, cmp, want) => match field {
            Field::Name => {
                let mut names = vec![node.name.as_str()];
                if let Some(app) = &node.app {
                    names.push(app);
                }
                compare_text(&names, *cmp, want)
            }
            Field::Namespace => compare_text(&[&node.namespace], *cmp, want),
            Field::Version => compare_text(&[node.version.as_deref().unwrap_or("")], *cmp, want),
            Field::Kind => compare_text(&[node.kind.as_str()], *cmp, want),
            Field::Rps => compare_num(node.rps_in + node.rps_out, *cmp, want),
            Field::ErrorPct => compare_num(node.error_pct, *cmp, want),
            Field::Rt | Field::Share | Field::MtlsPct | Field::Protocol => return None,
        },
    })
}

/// Whether `term` holds for an edge; `None` when it is about nodes only.
fn edge_term(edge: &GraphEdge, term: &Term) -> Option<bool> {
    Some(match term {
        Term::Flag(flag, want) => {
            let v = match flag {
                Flag::Healthy => edge.health == GraphHealth::Healthy,
                Flag::Degraded => edge.health == GraphHealth::Degraded,
                Flag::Failure => edge.health == GraphHealth::Failure,
                Flag::Idle => edge.idle,
                Flag::Mtls => edge.mtls_pct.is_some_and(|m| m >= 99.5),
                Flag::Tcp => edge.protocol == EdgeProtocol::Tcp,
                Flag::Http => edge.protocol == EdgeProtocol::Http,
                Flag::Grpc => edge.protocol == EdgeProtocol::Grpc,
                _ => return None,
            };
            v == *want
        }
        Term::Compare(field, cmp, want) => match field {
            Field::Rps => compare_num(edge.rps, *cmp, want),
            Field::ErrorPct => compare_num(edge.error_pct, *cmp, want),
            Field::Rt => edge.p95_ms.is_some_and(|p| compare_num(p, *cmp, want)),
            Field::Share => compare_num(edge.share_pct, *cmp, want),
            Field::MtlsPct => edge.mtls_pct.is_some_and(|m| compare_num(m, *cmp, want)),
            Field::Protocol => {
                let p = match edge.protocol {
                    EdgeProtocol::Http => "http",
                    EdgeProtocol::Grpc => "grpc",
                    EdgeProtocol::Tcp => "tcp",
                };
                compare_text(&[p], *cmp, want)
            }
            _ => return None,
        },
    })
}

fn all_terms(terms: &[Term], test: impl Fn(&Term) -> Option<bool>) -> bool {
    // A conjunction applies to an element when every term is about it.
    let mut applies = true;
    let mut holds = true;
    for t in terms {
        match test(t) {
            None => applies = false,
            Some(v) => holds &= v,
        }
    }
    applies && holds
}

impl Expr {
    /// Whether the expression matches a node.
    pub fn matches_node(&self, node: &GraphNode) -> bool {
        self.0
            .iter()
            .any(|terms| all_terms(terms, |t| node_term(node, t)))
    }

    /// Whether the expression matches an edge.
    pub fn matches_edge(&self, edge: &GraphEdge) -> bool {
        self.0
            .iter()
            .any(|terms| all_terms(terms, |t| edge_term(edge, t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::fixtures::{edge, graph, node};

    #[test]
    fn expressions_parse_and_match_like_kiali() {
        let g = graph(
            vec![
                node("reviews", "bookinfo", NodeKind::App, GraphHealth::Degraded),
                node("details", "bookinfo", NodeKind::App, GraphHealth::Healthy),
            ],
            vec![
                edge("details", "reviews", 3.0, 1500.0),
                edge("reviews", "details", 1.0, 20.0),
            ],
        );
        let e = parse_expr("name = reviews").unwrap().unwrap();
        assert!(e.matches_node(&g.nodes[0]) && !e.matches_node(&g.nodes[1]));
        assert!(!e.matches_edge(&g.edges[0]));
        let e = parse_expr("!healthy").unwrap().unwrap();
        assert!(e.matches_node(&g.nodes[0]) && !e.matches_node(&g.nodes[1]));
        let e = parse_expr("rt > 1000").unwrap().unwrap();
        assert!(e.matches_edge(&g.edges[0]) && !e.matches_edge(&g.edges[1]));
        assert!(!e.matches_node(&g.nodes[0]));
        let e = parse_expr("ns = bookinfo AND degraded OR rps >= 3")
            .unwrap()
            .unwrap();
        assert!(e.matches_node(&g.nodes[0]) && !e.matches_node(&g.nodes[1]));
        assert!(e.matches_edge(&g.edges[0]));
        assert_eq!(parse_expr("  ").unwrap(), None);
        for bad in ["colour = red", "rt > fast", "name > 3", "wobbly", "name ="] {
            assert!(parse_expr(bad).is_err(), "{bad}");
        }
    }
}
