//! What the API page shows, read from the server's OpenAPI 3.1 document
//! (`/api/openapi.json`) as plain data and tested natively: operations by
//! tag, their parameters and answers, the schemas, and each type in words
//! with the schemas it names kept apart so the page can link them.

use serde_json::Value;

/// Methods in the order the page lists them within a path.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// A piece of a type in words: text, or the name of a schema to link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypePart {
    /// Plain words (`list of `, `string`, ` or null`).
    Text(String),
    /// A schema of the document, by name.
    Schema(String),
}

/// A type in words, e.g. `list of ` [Graph] ` or null`.
pub type TypeWords = Vec<TypePart>;

/// One parameter of an operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// `path` or `query`.
    pub location: String,
    /// Its type.
    pub kind: TypeWords,
    /// Whether it must be given.
    pub required: bool,
    /// What it means.
    pub description: String,
}

/// One documented answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// HTTP status (`200`, `422`, ...).
    pub status: String,
    /// When it is given.
    pub description: String,
    /// The body's type, if it has one.
    pub body: Option<TypeWords>,
}

/// One operation (a method on a path).
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// `operationId`, unique: the page's anchor for it.
    pub id: String,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The full path, `/api/...`.
    pub path: String,
    /// First line of its description.
    pub summary: String,
    /// The rest.
    pub description: String,
    /// Parameters, path ones first.
    pub params: Vec<Param>,
    /// The request body's type.
    pub body: Option<TypeWords>,
    /// Answers by status.
    pub answers: Vec<Answer>,
    /// Whether it needs a signed-in caller (bearer token).
    pub signed_in: bool,
}

/// Operations under one tag.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The tag.
    pub name: String,
    /// What the tag covers.
    pub description: String,
    /// Its operations, by path then method.
    pub operations: Vec<Operation>,
}

/// One field of an object schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The JSON name.
    pub name: String,
    /// Its type.
    pub kind: TypeWords,
    /// Whether it is always present.
    pub required: bool,
    /// What it means.
    pub description: String,
}

/// One variant of a schema that is one of several shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The variant's name: its tag value when it has one, else its type.
    pub title: String,
    /// What it means.
    pub description: String,
    /// Its fields, when it is an object.
    pub fields: Vec<Field>,
}

/// A named schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// Its name.
    pub name: String,
    /// What it is.
    pub description: String,
    /// Its type in words (for schemas that are not objects).
    pub kind: TypeWords,
    /// Fields, for objects.
    pub fields: Vec<Field>,
    /// Variants, for one-of schemas.
    pub variants: Vec<Variant>,
}

/// The whole reference.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    /// The document's title.
    pub title: String,
    /// The OpenAPI version (`3.1.0`).
    pub openapi: String,
    /// The API's version.
    pub version: String,
    /// The introduction.
    pub description: String,
    /// Operations by tag, in the document's tag order.
    pub groups: Vec<Group>,
    /// Schemas by name.
    pub schemas: Vec<Schema>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn words(s: &str) -> TypePart {
    TypePart::Text(s.to_owned())
}

/// `schema`'s type in words.
pub fn type_words(schema: &Value) -> TypeWords {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix(SCHEMA_PREFIX).unwrap_or(r);
        return vec![TypePart::Schema(name.to_owned())];
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let nullable = options.iter().any(|o| o["type"] == "null");
            let rest: Vec<&Value> = options.iter().filter(|o| o["type"] != "null").collect();
            let mut out = Vec::new();
            if rest.len() > 1 {
                out.push(words("one of "));
            }
            for (i, option) in rest.iter().enumerate() {
                if i > 0 {
                    out.push(words(" | "));
                }
                out.extend(type_words(option));
            }
            if nullable {
                out.push(words(" or null"));
            }
            return out;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return all.iter().flat_map(type_words).collect();
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let list: Vec<String> = values
            .iter()
            .map(|v| match v {
                Value::String(s) => format!("\"{s}\""),
                other => other.to_string(),
            })
            .collect();
        return vec![TypePart::Text(list.join(" | "))];
    }
    let (kind, nullable) = match &schema["type"] {
        Value::String(s) => (s.as_str(), false),
        Value::Array(types) => {
            let nullable = types.iter().any(|t| t == "null");
            let kind = types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null");
            (kind, nullable)
        }
        _ => ("", false),
    };
    let mut out = match kind {
        "array" => {
            let mut out = vec![words("list of ")];
            out.extend(type_words(&schema["items"]));
            out
        }
        "object" => match schema.get("additionalProperties") {
            Some(Value::Object(_)) => {
                let mut out = vec![words("map of string to ")];
                out.extend(type_words(&schema["additionalProperties"]));
                out
            }
            _ => vec![words("object")],
        },
        "" => vec![words("any JSON")],
        other => vec![words(other)],
    };
    if nullable {
        out.push(words(" or null"));
    }
    out
}

/// A type in words as one string (for tests and titles).
pub fn plain(kind: &[TypePart]) -> String {
    kind.iter()
        .map(|p| match p {
            TypePart::Text(s) | TypePart::Schema(s) => s.as_str(),
        })
        .collect()
}

/// The first line, and the rest, of a description.
fn split_description(description: &str) -> (String, String) {
    let description = description.trim();
    match description.split_once("\n\n") {
        Some((first, rest)) => (first.replace('\n', " "), rest.trim().to_owned()),
        None => (description.replace('\n', " "), String::new()),
    }
}

fn body_words(content: &Value) -> Option<TypeWords> {
    let schema = content.get("application/json")?.get("schema")?;
    Some(type_words(schema))
}

fn operation(method: &str, path: &str, op: &Value) -> Operation {
    let summary = text(&op["summary"]);
    let description = text(&op["description"]);
    // utoipa puts a doc comment's first paragraph in `summary` and the
    // rest in `description`; without a summary, take the description's.
    let (summary, description) = if summary.is_empty() {
        split_description(&description)
    } else {
        (summary.replace('\n', " "), description)
    };
    let mut params: Vec<Param> = op["parameters"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| Param {
                    name: text(&p["name"]),
                    location: text(&p["in"]),
                    kind: type_words(&p["schema"]),
                    required: p["required"] == true,
                    description: text(&p["description"]).replace('\n', " "),
                })
                .collect()
        })
        .unwrap_or_default();
    params.sort_by_key(|p| p.location != "path");
    let mut answers: Vec<Answer> = op["responses"]
        .as_object()
        .map(|rs| {
            rs.iter()
                .map(|(status, r)| Answer {
                    status: status.clone(),
                    description: text(&r["description"]),
                    body: body_words(&r["content"]),
                })
                .collect()
        })
        .unwrap_or_default();
    answers.sort_by(|a, b| a.status.cmp(&b.status));
    Operation {
        id: text(&op["operationId"]),
        method: method.to_uppercase(),
        path: path.to_owned(),
        summary,
        description,
        params,
        body: body_words(&op["requestBody"]["content"]),
        answers,
        signed_in: op["security"].as_array().is_some_and(|s| !s.is_empty()),
    }
}

fn fields(schema: &Value) -> Vec<Field> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(name, p)| Field {
                    name: name.clone(),
                    kind: type_words(p),
                    required: required.contains(&name.as_str()),
                    description: field_description(p),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A field's description: on the field, or on its only non-null option
/// (utoipa puts it there for optional fields).
fn field_description(p: &Value) -> String {
    let own = text(&p["description"]);
    if !own.is_empty() {
        return own.replace('\n', " ");
    }
    p["oneOf"]
        .as_array()
        .and_then(|os| os.iter().find(|o| o["type"] != "null"))
        .map(|o| text(&o["description"]).replace('\n', " "))
        .unwrap_or_default()
}

/// A variant's title: the value of the one property whose schema is a
/// single-value enum (serde's tag), else its type in words.
fn variant_title(v: &Value) -> String {
    let tag = v["properties"].as_object().and_then(|props| {
        props.values().find_map(|p| match p["enum"].as_array() {
            Some(values) if values.len() == 1 => values[0].as_str().map(str::to_owned),
            _ => None,
        })
    });
    tag.unwrap_or_else(|| plain(&type_words(v)))
}

fn schema(name: &str, s: &Value) -> Schema {
    let variants: Vec<Variant> = s["oneOf"]
        .as_array()
        .filter(|os| os.iter().any(|o| o.get("properties").is_some()))
        .map(|os| {
            os.iter()
                .map(|o| Variant {
                    title: variant_title(o),
                    description: text(&o["description"]).replace('\n', " "),
                    fields: fields(o),
                })
                .collect()
        })
        .unwrap_or_default();
    Schema {
        name: name.to_owned(),
        description: text(&s["description"]).replace('\n', " "),
        kind: type_words(s),
        fields: fields(s),
        variants,
    }
}

/// Reads the document; what it lacks is left empty.
pub fn read(doc: &Value) -> Reference {
    let mut groups: Vec<Group> = doc["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|t| Group {
                    name: text(&t["name"]),
                    description: text(&t["description"]),
                    operations: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let tag = op["tags"][0].as_str().unwrap_or("other");
                let index = match groups.iter().position(|g| g.name == tag) {
                    Some(i) => i,
                    None => {
                        groups.push(Group {
                            name: tag.to_owned(),
                            description: String::new(),
                            operations: Vec::new(),
                        });
                        groups.len() - 1
                    }
                };
                groups[index].operations.push(operation(method, path, op));
            }
        }
    }
    groups.retain(|g| !g.operations.is_empty());
    let schemas = doc["components"]["schemas"]
        .as_object()
        .map(|all| all.iter().map(|(name, s)| schema(name, s)).collect())
        .unwrap_or_default();
    Reference {
        title: text(&doc["info"]["title"]),
        openapi: text(&doc["openapi"]),
        version: text(&doc["info"]["version"]),
        description: text(&doc["info"]["description"]),
        groups,
        schemas,
    }
}

/// Whether `op` matches what was typed in the filter: every word is in its
/// method, path or summary (case-insensitive).
pub fn matches(op: &Operation, filter: &str) -> bool {
    let haystack = format!("{} {} {}", op.method, op.path, op.summary).to_lowercase();
    filter
        .split_whitespace()
        .all(|word| haystack.contains(&word.to_lowercase()))
}

/// A tag as a heading: `graph` → `Graph`, `api` → `API`.
pub fn group_title(tag: &str) -> String {
    if tag == "api" {
        return "API".to_owned();
    }
    let mut chars = tag.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The CSS class of a status's badge.
pub fn status_class(status: &str) -> &'static str {
    match status.as_bytes().first() {
        Some(b'2') => "badge badge-ok",
        Some(b'4') => "badge badge-warn",
        Some(b'5') => "badge badge-bad",
        _ => "badge badge-muted",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "meshdeck API", "version": "0.1.0", "description": "Intro."},
            "tags": [{"name": "graph", "description": "The traffic graph"}, {"name": "unused"}],
            "paths": {
                "/api/graph": {"get": {
                    "operationId": "graph_get",
                    "tags": ["graph"],
                    "summary": "The graph of `namespaces`.",
                    "parameters": [
                        {"name": "window", "in": "query", "required": false, "schema": {"type": "string"}, "description": "Rate\nwindow"},
                        {"name": "depth", "in": "query", "schema": {"type": "integer", "minimum": 0}}
                    ],
                    "responses": {
                        "400": {"description": "Bad", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}},
                        "200": {"description": "Nodes", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Graph"}}}}
                    },
                    "security": [{"bearer": []}]
                }},
                "/api/rollouts/{ns}/{service}/{action}": {"post": {
                    "operationId": "control",
                    "tags": ["rollouts"],
                    "description": "Pauses or resumes\na rollout.\n\nMore words.",
                    "parameters": [
                        {"name": "action", "in": "path", "required": true, "schema": {"type": "string"}}
                    ],
                    "requestBody": {"content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}}}}},
                    "responses": {"200": {"description": "Ok"}}
                }}
            },
            "components": {"schemas": {
                "Graph": {"type": "object", "description": "A graph", "required": ["nodes"], "properties": {
                    "nodes": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}, "description": "Nodes"},
                    "note": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Note", "description": "A note"}]},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "kind": {"type": "string", "enum": ["app", "workload"]},
                    "count": {"type": ["integer", "null"]}
                }},
                "Wizard": {"oneOf": [
                    {"type": "object", "description": "Weights", "properties": {"wizard": {"type": "string", "enum": ["traffic-shifting"]}, "weights": {"type": "array", "items": {"type": "integer"}}}, "required": ["wizard"]},
                    {"type": "object", "properties": {"wizard": {"type": "string", "enum": ["mtls"]}}}
                ]}
            }}
        })
    }

    #[test]
    fn types_read_as_words_with_schema_names_apart() {
        let graph = &doc()["components"]["schemas"]["Graph"]["properties"];
        assert_eq!(
            type_words(&graph["nodes"]),
            vec![
                TypePart::Text("list of ".into()),
                TypePart::Schema("Node".into())
            ]
        );
        assert_eq!(
            type_words(&graph["note"]),
            vec![
                TypePart::Schema("Note".into()),
                TypePart::Text(" or null".into())
            ]
        );
        assert_eq!(
            plain(&type_words(&graph["labels"])),
            "map of string to string"
        );
        assert_eq!(plain(&type_words(&graph["kind"])), "\"app\" | \"workload\"");
        assert_eq!(plain(&type_words(&graph["count"])), "integer or null");
        assert_eq!(plain(&type_words(&json!({}))), "any JSON");
        assert_eq!(
            plain(&type_words(
                &json!({"oneOf": [{"type": "string"}, {"type": "integer"}]})
            )),
            "one of string | integer"
        );
    }

    #[test]
    fn operations_are_grouped_by_tag_with_params_and_sorted_answers() {
        let reference = read(&doc());
        assert_eq!(reference.title, "meshdeck API");
        assert_eq!(reference.openapi, "3.1.0");
        // "unused" has no operations; "rollouts" was not declared but used.
        let names: Vec<&str> = reference.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["graph", "rollouts"]);
        let graph = &reference.groups[0].operations[0];
        assert_eq!(
            (graph.method.as_str(), graph.path.as_str()),
            ("GET", "/api/graph")
        );
        assert!(graph.signed_in);
        assert_eq!(graph.params[0].description, "Rate window");
        assert!(!graph.params[0].required);
        let statuses: Vec<&str> = graph.answers.iter().map(|a| a.status.as_str()).collect();
        assert_eq!(statuses, ["200", "400"]);
        assert_eq!(
            graph.answers[0].body,
            Some(vec![TypePart::Schema("Graph".into())])
        );
        let control = &reference.groups[1].operations[0];
        assert!(!control.signed_in);
        assert_eq!(control.summary, "Pauses or resumes a rollout.");
        assert_eq!(control.description, "More words.");
        assert_eq!(plain(control.body.as_ref().unwrap()), "list of Step");
        assert_eq!(control.answers[0].body, None);
    }

    #[test]
    fn schemas_list_fields_and_tagged_variants() {
        let reference = read(&doc());
        let graph = reference
            .schemas
            .iter()
            .find(|s| s.name == "Graph")
            .unwrap();
        let nodes = graph.fields.iter().find(|f| f.name == "nodes").unwrap();
        assert!(nodes.required);
        let note = graph.fields.iter().find(|f| f.name == "note").unwrap();
        assert!(!note.required);
        assert_eq!(note.description, "A note");
        let wizard = reference
            .schemas
            .iter()
            .find(|s| s.name == "Wizard")
            .unwrap();
        let titles: Vec<&str> = wizard.variants.iter().map(|v| v.title.as_str()).collect();
        assert_eq!(titles, ["traffic-shifting", "mtls"]);
        assert_eq!(wizard.variants[0].fields.len(), 2);
    }

    #[test]
    fn the_filter_needs_every_word() {
        let reference = read(&doc());
        let graph = &reference.groups[0].operations[0];
        assert!(matches(graph, ""));
        assert!(matches(graph, "get GRAPH"));
        assert!(matches(graph, "namespaces"));
        assert!(!matches(graph, "graph post"));
    }

    #[test]
    fn an_empty_document_reads_as_empty() {
        let reference = read(&json!({}));
        assert!(reference.groups.is_empty());
        assert!(reference.schemas.is_empty());
        assert_eq!(status_class("503"), "badge badge-bad");
        assert_eq!(status_class("201"), "badge badge-ok");
        assert_eq!(group_title("rollouts"), "Rollouts");
        assert_eq!(group_title("api"), "API");
        assert_eq!(group_title(""), "");
    }
}
