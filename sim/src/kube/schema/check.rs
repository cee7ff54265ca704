//! The schema engine: decoding (pruning, nulls, defaults, `fieldValidation`),
//! validation (OpenAPI, then the `x-kubernetes-validations` rules) and the
//! typed conversion of server-side apply configurations, each worded as
//! kube-apiserver v1.33 words it. Sources, read for the wording and the
//! order of checks:
//! - apiextensions-apiserver v0.33.9: `pkg/apiserver/schema/pruning`
//!   (unknown field paths, sorted), `customresource_handler.go`
//!   (`strict decoding error: unknown field "…"`), `pkg/apiserver/validation`
//!   (kube-openapi results to field errors), `registry/customresource/
//!   strategy.go` (rules skipped after blocking errors).
//! - kube-openapi `pkg/validation` (validator order, messages such as
//!   `… in body must be of type integer: "string"`, oneOf).
//! - apimachinery v0.33.9 `util/validation/field` (error bodies, `<nil>`
//!   paths), `util/errors` (`[a, b]` aggregation), `api/errors.NewInvalid`.
//! - structured-merge-diff v4.6.0 `typed/validate.go` (apply
//!   configurations: `field not declared in schema`).
//! - cel-go: `type conversion error from 'string' to
//!   'google.protobuf.Duration'` when `duration()` gets no duration.

use serde_json::{Value, json};

use super::super::error::{ApiError, ApiResult, Reason};
use super::super::meta;
use super::super::resources::ResourceType;
use super::{Schema, Type, Verdict};

/// The `fieldValidation` directive of a write: what to do with fields the
/// schema does not know.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them with a `Warning` header each (the default).
    #[default]
    Warn,
    /// Refuse the write (400).
    Strict,
}

impl FieldValidation {
    /// The directive named by a `fieldValidation` query parameter (absent
    /// or empty: `Warn`), or the supported values when it names none.
    pub fn parse(param: Option<&str>) -> Result<Self, &'static [&'static str]> {
        match param.unwrap_or("") {
            "" | "Warn" => Ok(FieldValidation::Warn),
            "Ignore" => Ok(FieldValidation::Ignore),
            "Strict" => Ok(FieldValidation::Strict),
            // kube-apiserver lists them sorted, the empty value first.
            _ => Err(&["", "Ignore", "Strict", "Warn"]),
        }
    }
}

/// A write's `fieldValidation` and the warnings its decoding left for the
/// response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldCheck {
    /// What to do with unknown fields.
    pub directive: FieldValidation,
    /// Texts of `Warning` headers (`unknown field "spec.foo"`).
    pub warnings: Vec<String>,
}

impl FieldCheck {
    /// A check with this directive and no warnings yet.
    pub fn new(directive: FieldValidation) -> Self {
        FieldCheck {
            directive,
            warnings: Vec::new(),
        }
    }
}

/// The part of an object a write changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The object (`spec` and the rest).
    Main,
    /// The `status` subresource: only `status` is decoded and validated.
    Status,
}

/// Top-level fields every object has, outside any CRD schema.
const META_FIELDS: &[&str] = &["apiVersion", "kind", "metadata"];

/// The subtrees of `obj` a write of `part` covers, with their schemas.
fn parts(schema: &Schema, part: Part) -> Vec<(&'static str, &Schema)> {
    match part {
        Part::Main => schema.properties.iter().map(|(n, s)| (*n, s)).collect(),
        Part::Status => schema
            .properties
            .iter()
            .filter(|(n, _)| *n == "status")
            .map(|(n, s)| (*n, s))
            .collect(),
    }
}

// ---------------------------------------------------------------------------
// Decoding: pruning, nulls, defaults.

/// Decodes a body of `rt` as kube-apiserver decodes a custom resource:
/// drops unknown fields (except under `x-kubernetes-preserve-unknown-fields`)
/// and `null`s of fields that are not `nullable`, then applies defaults.
/// Dropped fields are refused with `fieldValidation=Strict` (400), else
/// reported as warnings in `check` (unless `Ignore`). Types without a
/// schema are left alone.
pub fn decode(
    rt: &ResourceType,
    obj: &mut Value,
    part: Part,
    check: &mut FieldCheck,
) -> ApiResult<()> {
    let Some(schema) = super::of(rt) else {
        return Ok(());
    };
    let Some(map) = obj.as_object_mut() else {
        return Ok(());
    };
    let mut unknown = Vec::new();
    if part == Part::Main {
        let strays: Vec<String> = map
            .keys()
            .filter(|k| !META_FIELDS.contains(&k.as_str()) && schema.property(k).is_none())
            .cloned()
            .collect();
        for k in strays {
            map.remove(&k);
            unknown.push(k);
        }
    }
    for (name, sub) in parts(schema, part) {
        if let Some(v) = map.get_mut(name) {
            prune(v, sub, name, &mut unknown);
        }
        if map.get(name).is_some_and(Value::is_null) && !sub.nullable {
            map.remove(name);
        }
        if let Some(v) = map.get_mut(name) {
            apply_defaults(v, sub);
        }
    }
    if unknown.is_empty() || check.directive == FieldValidation::Ignore {
        return Ok(());
    }
    unknown.sort();
    let errors: Vec<String> = unknown
        .iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    if check.directive == FieldValidation::Strict {
        return Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            errors.join(", ")
        )));
    }
    check.warnings.extend(errors);
    Ok(())
}

/// Removes what `schema` does not declare from `v` (recording each path,
/// as apiextensions' pruning words it: `spec.http[0].foo`) and the `null`
/// values of properties that are not nullable.
fn prune(v: &mut Value, schema: &Schema, path: &str, unknown: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let child_path = format!("{path}.{k}");
                let sub = schema.property(&k).or(schema.additional.as_deref());
                match sub {
                    Some(sub) => {
                        if let Some(child) = map.get_mut(&k) {
                            prune(child, sub, &child_path, unknown);
                        }
                        // A null with a default is replaced by defaulting.
                        if map.get(&k).is_some_and(Value::is_null)
                            && !sub.nullable
                            && sub.default.is_none()
                        {
                            map.remove(&k);
                        }
                    }
                    None if schema.preserve_unknown => {}
                    None => {
                        map.remove(&k);
                        unknown.push(child_path);
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.items.as_deref() {
                for (i, item) in items.iter_mut().enumerate() {
                    prune(item, sub, &format!("{path}[{i}]"), unknown);
                }
            }
        }
        _ => {}
    }
}

/// Fills absent (or `null`) properties that have a `default`, depth first
/// as apiextensions' defaulting does.
fn apply_defaults(v: &mut Value, schema: &Schema) {
    match v {
        Value::Object(map) => {
            for (name, sub) in &schema.properties {
                if let Some(d) = &sub.default {
                    if map.get(*name).is_none_or(Value::is_null) {
                        map.insert((*name).to_owned(), d.clone());
                    }
                }
                if let Some(child) = map.get_mut(*name) {
                    apply_defaults(child, sub);
                }
            }
            if let Some(sub) = schema.additional.as_deref() {
                for child in map.values_mut() {
                    apply_defaults(child, sub);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.items.as_deref() {
                for item in items {
                    apply_defaults(item, sub);
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Field errors, as apimachinery's `field.Error`.

/// `field.ErrorType`s this engine reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// `FieldValueInvalid`.
    Invalid,
    /// `FieldValueTypeInvalid`.
    TypeInvalid,
    /// `FieldValueRequired`.
    Required,
    /// `FieldValueNotSupported`.
    NotSupported,
    /// `FieldValueTooLong`.
    TooLong,
    /// `FieldValueTooMany`.
    TooMany,
}

impl ErrorType {
    /// The `reason` of a Status cause.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
        }
    }

    fn words(self) -> &'static str {
        match self {
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::Required => "Required value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
        }
    }

    /// Errors after which kube-apiserver does not run the CEL rules
    /// (`hasBlockingErr`).
    fn blocks_rules(self) -> bool {
        !matches!(self, ErrorType::Invalid)
    }
}

/// A bad value as `field.Error` prints it.
#[derive(Clone, Debug, PartialEq)]
enum Shown {
    /// Not printed (`Required`, `TooLong`).
    Omitted,
    /// A Go string, printed `%q`.
    Text(String),
    /// A JSON value: numbers and booleans printed `%v`.
    Json(Value),
}

/// One field error.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Its type.
    pub kind: ErrorType,
    /// The field path (`spec.http[0].timeout`; `<nil>` for errors about no
    /// field).
    pub field: String,
    value: Shown,
    detail: String,
}

impl FieldError {
    fn new(kind: ErrorType, field: &str, value: Shown, detail: String) -> Self {
        FieldError {
            kind,
            field: field.to_owned(),
            value,
            detail,
        }
    }

    /// The message without the field, as `field.Error.ErrorBody`.
    pub fn body(&self) -> String {
        let mut s = self.kind.words().to_owned();
        let value = match (&self.value, self.kind) {
            (_, ErrorType::Required | ErrorType::TooLong) | (Shown::Omitted, _) => None,
            (Shown::Text(t), _) => Some(go_quote(t)),
            (Shown::Json(v), _) => Some(go_value(v)),
        };
        if let Some(value) = value {
            s.push_str(": ");
            s.push_str(&value);
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// The 422 `Invalid` kube-apiserver answers for `errors` of an object of
/// `rt` named `name` (`errors.NewInvalid`): `Kind.group "name" is invalid:
/// …`, several errors joined as `[a, b]` (repeated messages once), one
/// cause per error.
pub fn invalid(rt: &ResourceType, name: &str, errors: &[FieldError]) -> ApiError {
    let mut seen: Vec<String> = Vec::new();
    for e in errors {
        let m = e.to_string();
        if !seen.contains(&m) {
            seen.push(m);
        }
    }
    let joined = if seen.len() == 1 {
        seen.remove(0)
    } else {
        format!("[{}]", seen.join(", "))
    };
    let qualified = if rt.group.is_empty() {
        rt.kind.to_owned()
    } else {
        format!("{}.{}", rt.kind, rt.group)
    };
    let causes: Vec<Value> = errors
        .iter()
        .map(|e| json!({"reason": e.kind.reason(), "message": e.body(), "field": e.field}))
        .collect();
    let mut details = json!({"name": name, "kind": rt.kind, "causes": causes});
    if !rt.group.is_empty() {
        details["group"] = json!(rt.group);
    }
    let mut e = ApiError::new(
        Reason::Invalid,
        format!("{qualified} \"{name}\" is invalid: {joined}"),
    );
    e.details = Some(details);
    e
}

// ---------------------------------------------------------------------------
// Validation.

/// Validates the object of `rt` about to be stored (the `part` a write
/// changes) against its schema, as apiextensions' strategy does: the
/// OpenAPI checks, then, when none of their errors blocks them, the
/// `x-kubernetes-validations` rules. 422 with every error.
pub fn validate(rt: &ResourceType, obj: &Value, part: Part) -> ApiResult<()> {
    let Some(schema) = super::of(rt) else {
        return Ok(());
    };
    let errors = errors_of(schema, obj, part);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(rt, meta::name(obj), &errors))
    }
}

/// Every error of `obj` against `schema`, in kube-apiserver's order.
pub fn errors_of(schema: &Schema, obj: &Value, part: Part) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let Some(map) = obj.as_object() else {
        return errors;
    };
    let subtrees = parts(schema, part);
    for (name, sub) in &subtrees {
        if let Some(v) = map.get(*name) {
            openapi(sub, v, name, &mut errors);
        }
    }
    if part == Part::Main {
        for name in schema.required {
            if !map.contains_key(*name) {
                errors.push(FieldError::new(
                    ErrorType::Required,
                    name,
                    Shown::Omitted,
                    String::new(),
                ));
            }
        }
    }
    if errors.iter().any(|e| e.kind.blocks_rules()) {
        errors.push(FieldError::new(
            ErrorType::Invalid,
            "<nil>",
            Shown::Json(Value::Null),
            "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation".to_owned(),
        ));
        return errors;
    }
    for (name, sub) in &subtrees {
        if let Some(v) = map.get(*name) {
            rules(sub, v, name, &mut errors);
        }
    }
    errors
}

/// The JSON type name kube-openapi infers from a value.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether `v` is of type `ty` (an integral float is an integer, an
/// integer a number, as kube-openapi's type validator takes them).
fn has_type(v: &Value, ty: Type) -> bool {
    match (ty, v) {
        (Type::Object, Value::Object(_))
        | (Type::Array, Value::Array(_))
        | (Type::String, Value::String(_))
        | (Type::Boolean, Value::Bool(_))
        | (Type::Number, Value::Number(_)) => true,
        (Type::Integer, Value::Number(n)) => {
            !n.is_f64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn type_error(path: &str, ty: &str, v: &Value) -> FieldError {
    let got = type_name(v);
    FieldError::new(
        ErrorType::TypeInvalid,
        path,
        Shown::Text(got.to_owned()),
        format!("{path} in body must be of type {ty}: {}", go_quote(got)),
    )
}

/// kube-openapi's checks of one node, in its validators' order: type,
/// `oneOf`/`anyOf`, string, number, array (items first), `enum`, object
/// (properties first, then `required`).
fn openapi(schema: &Schema, v: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if v.is_null() {
        if let Some(ty) = schema.ty {
            if !schema.nullable {
                errors.push(type_error(path, ty.name(), v));
            }
        }
        return;
    }
    if let Some(ty) = schema.ty {
        if !has_type(v, ty) {
            errors.push(type_error(path, ty.name(), v));
        }
    }
    if schema.int_or_string && !matches!(v, Value::String(_)) && !has_type(v, Type::Integer) {
        // anyOf [integer, string]: the composite error, then the first
        // alternative's failure.
        errors.push(composite(format!(
            "{} must validate at least one schema (anyOf)",
            go_quote(path)
        )));
        errors.push(type_error(path, "integer", v));
    }
    if !schema.at_most_one_of.is_empty() {
        if let Some(e) = one_of(schema.at_most_one_of, v, path) {
            errors.push(e);
        }
    }
    if !schema.all_of_at_most_one.is_empty() {
        let failed: Vec<FieldError> = schema
            .all_of_at_most_one
            .iter()
            .filter_map(|group| one_of(group, v, path))
            .collect();
        if !failed.is_empty() {
            let none = if failed.len() == schema.all_of_at_most_one.len() {
                ". None validated"
            } else {
                ""
            };
            errors.extend(failed);
            errors.push(composite(format!(
                "{} must validate all the schemas (allOf){none}",
                go_quote(path)
            )));
        }
    }
    match v {
        Value::String(s) => check_string(schema, s, path, errors),
        Value::Number(_) => check_number(schema, v, path, errors),
        Value::Array(items) => {
            if let Some(sub) = schema.items.as_deref() {
                for (i, item) in items.iter().enumerate() {
                    openapi(sub, item, &format!("{path}[{i}]"), errors);
                }
            }
            if let Some(min) = schema.min_items {
                if items.len() < min {
                    errors.push(FieldError::new(
                        ErrorType::Invalid,
                        path,
                        Shown::Json(json!(items.len())),
                        format!("{path} in body should have at least {min} items"),
                    ));
                }
            }
            if let Some(max) = schema.max_items {
                if items.len() > max {
                    errors.push(FieldError::new(
                        ErrorType::TooMany,
                        path,
                        Shown::Json(json!(items.len())),
                        format!("must have at most {max} items"),
                    ));
                }
            }
        }
        _ => {}
    }
    if !schema.enumeration.is_empty() && !schema.enumeration.iter().any(|e| same_value(e, v)) {
        let supported: Vec<String> = schema
            .enumeration
            .iter()
            .map(|e| match e {
                Value::String(s) => go_quote(s),
                other => go_quote(&other.to_string()),
            })
            .collect();
        let shown = match v {
            Value::String(s) => Shown::Text(s.clone()),
            other => Shown::Json(other.clone()),
        };
        errors.push(FieldError::new(
            ErrorType::NotSupported,
            path,
            shown,
            format!("supported values: {}", supported.join(", ")),
        ));
    }
    if let Value::Object(map) = v {
        if let Some(sub) = schema.additional.as_deref() {
            for (k, child) in map {
                openapi(sub, child, &format!("{path}.{k}"), errors);
            }
        }
        for (name, sub) in &schema.properties {
            if let Some(child) = map.get(*name) {
                openapi(sub, child, &format!("{path}.{name}"), errors);
            }
        }
        for name in schema.required {
            if !map.contains_key(*name) {
                errors.push(FieldError::new(
                    ErrorType::Required,
                    &format!("{path}.{name}"),
                    Shown::Omitted,
                    String::new(),
                ));
            }
        }
    }
}

/// A kube-openapi composite error (not a `*Validation`), which
/// apiextensions reports at the root path: `<nil>: Invalid value: "": …`.
fn composite(detail: String) -> FieldError {
    FieldError::new(
        ErrorType::Invalid,
        "<nil>",
        Shown::Text(String::new()),
        detail,
    )
}

/// Istio's `oneOf` over `fields` (one alternative requiring each, plus
/// "none of them"): an error when more than one alternative holds. On a
/// non-object every `required` alternative holds.
fn one_of(fields: &[&str], v: &Value, path: &str) -> Option<FieldError> {
    let set = match v {
        Value::Object(m) => fields.iter().filter(|f| m.contains_key(**f)).count(),
        _ => fields.len(),
    };
    (set > 1).then(|| {
        composite(format!(
            "{} must validate one and only one schema (oneOf). Found {set} valid alternatives",
            go_quote(path)
        ))
    })
}

/// Whether a value equals an enum member (numbers by value).
fn same_value(member: &Value, v: &Value) -> bool {
    match (member, v) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => member == v,
    }
}

/// `maxLength`, `minLength` and `pattern`: the first that fails.
fn check_string(schema: &Schema, s: &str, path: &str, errors: &mut Vec<FieldError>) {
    let len = s.chars().count();
    if let Some(max) = schema.max_length {
        if len > max {
            errors.push(FieldError::new(
                ErrorType::TooLong,
                path,
                Shown::Omitted,
                format!("may not be more than {max} bytes"),
            ));
            return;
        }
    }
    if let Some(min) = schema.min_length {
        if len < min {
            errors.push(FieldError::new(
                ErrorType::Invalid,
                path,
                Shown::Text(s.to_owned()),
                format!("{path} in body should be at least {min} chars long"),
            ));
            return;
        }
    }
    if let Some(p) = schema.pattern {
        if !(p.matches)(s) {
            errors.push(FieldError::new(
                ErrorType::Invalid,
                path,
                Shown::Text(s.to_owned()),
                format!("{path} in body should match '{}'", p.source),
            ));
        }
    }
}

/// `minimum`, then `maximum`. A bound prints as an integer against an
/// integer value and as a Go float against a float one.
fn check_number(schema: &Schema, v: &Value, path: &str, errors: &mut Vec<FieldError>) {
    let is_int = !v.as_number().is_some_and(serde_json::Number::is_f64);
    let x = v.as_f64().unwrap_or(0.0);
    let bound = |b: i64| {
        if is_int {
            b.to_string()
        } else {
            go_float(b as f64)
        }
    };
    let exact_below = |b: i64| match (v.as_i64(), v.as_u64()) {
        (Some(i), _) => i < b,
        (None, Some(_)) => false,
        _ => x < b as f64,
    };
    let exact_above = |b: i64| match (v.as_i64(), v.as_u64()) {
        (Some(i), _) => i > b,
        (None, Some(_)) => true,
        _ => x > b as f64,
    };
    if let Some(min) = schema.minimum {
        if exact_below(min) {
            errors.push(FieldError::new(
                ErrorType::Invalid,
                path,
                Shown::Json(v.clone()),
                format!(
                    "{path} in body should be greater than or equal to {}",
                    bound(min)
                ),
            ));
        }
    }
    if let Some(max) = schema.maximum {
        if exact_above(max) {
            errors.push(FieldError::new(
                ErrorType::Invalid,
                path,
                Shown::Json(v.clone()),
                format!(
                    "{path} in body should be less than or equal to {}",
                    bound(max)
                ),
            ));
        }
    }
}

/// The `x-kubernetes-validations` rules, pre-order as apiextensions' CEL
/// validator walks (a node's rules, then its children). Paths of map
/// entries are `field.Path` keys (`labels[app]`).
fn rules(schema: &Schema, v: &Value, path: &str, errors: &mut Vec<FieldError>) {
    if v.is_null() {
        return;
    }
    let ty = schema.ty.map_or("", Type::name);
    for rule in &schema.rules {
        let detail = match (rule.check)(v) {
            Verdict::Holds => continue,
            Verdict::Fails => rule.message.to_owned(),
            Verdict::Error(e) => format!("{e} evaluating rule: {}", rule.message),
        };
        errors.push(FieldError::new(
            ErrorType::Invalid,
            path,
            Shown::Text(ty.to_owned()),
            detail,
        ));
    }
    match v {
        Value::Object(map) => {
            for (name, sub) in &schema.properties {
                if let Some(child) = map.get(*name) {
                    rules(sub, child, &format!("{path}.{name}"), errors);
                }
            }
            if let Some(sub) = schema.additional.as_deref() {
                for (k, child) in map {
                    rules(sub, child, &format!("{path}[{k}]"), errors);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.items.as_deref() {
                for (i, item) in items.iter().enumerate() {
                    rules(sub, item, &format!("{path}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Server-side apply configurations.

/// Type-checks a server-side apply configuration of `rt` as
/// structured-merge-diff does before merging: a field the schema does not
/// declare, or a scalar of the wrong kind, fails the whole apply with the
/// error kube-apiserver answers there (500, no reason): `failed to create
/// typed patch object (ns/name; group/version, Kind=Kind): .spec.foo: field
/// not declared in schema`. Other violations are found after the merge
/// (422, [`validate`]).
pub fn check_apply_config(rt: &ResourceType, config: &Value) -> ApiResult<()> {
    let Some(schema) = super::of(rt) else {
        return Ok(());
    };
    let Some(map) = config.as_object() else {
        return Ok(());
    };
    let mut errors: Vec<(String, String)> = Vec::new();
    for (k, v) in map {
        if META_FIELDS.contains(&k.as_str()) {
            continue;
        }
        match schema.property(k) {
            Some(sub) => typed(sub, v, &format!(".{k}"), &mut errors),
            None => {
                errors.push((format!(".{k}"), "field not declared in schema".to_owned()));
                break;
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let text = if errors.len() == 1 {
        format!("{}: {}", errors[0].0, errors[0].1)
    } else {
        let lines: Vec<String> = errors.iter().map(|(p, m)| format!("  {p}: {m}")).collect();
        format!("errors:\n{}", lines.join("\n"))
    };
    let ns = config
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    Err(ApiError::new(
        Reason::Unknown,
        format!(
            "failed to create typed patch object ({ns}/{}; {}/{}, Kind={}): {text}",
            meta::name(config),
            rt.group,
            rt.version,
            rt.kind
        ),
    ))
}

/// structured-merge-diff's validation of one value: maps stop at their
/// first undeclared field; `null` is fine anywhere.
fn typed(schema: &Schema, v: &Value, path: &str, errors: &mut Vec<(String, String)>) {
    if v.is_null() || (schema.ty.is_none() && !schema.int_or_string) {
        return;
    }
    let wrong = |what: &str| (path.to_owned(), what.to_owned());
    if schema.int_or_string {
        if matches!(v, Value::Object(_) | Value::Array(_)) {
            errors.push(wrong(&format!("expected any scalar, got {}", go_ptr_v(v))));
        }
        return;
    }
    match schema.ty {
        Some(Type::Object) => {
            let Value::Object(map) = v else {
                errors.push(wrong(&format!("expected map, got {}", go_ptr_v(v))));
                return;
            };
            for (k, child) in map {
                let sub = schema.property(k).or(schema.additional.as_deref());
                match sub {
                    Some(sub) => typed(sub, child, &format!("{path}.{k}"), errors),
                    None if schema.preserve_unknown => {}
                    None => {
                        errors.push((format!("{path}.{k}"), "field not declared in schema".into()));
                        return;
                    }
                }
            }
        }
        Some(Type::Array) => {
            let Value::Array(items) = v else {
                errors.push(wrong(&format!("expected list, got {}", go_ptr_v(v))));
                return;
            };
            if let Some(sub) = schema.items.as_deref() {
                for (i, item) in items.iter().enumerate() {
                    typed(sub, item, &format!("{path}[{i}]"), errors);
                }
            }
        }
        Some(Type::Integer | Type::Number) if !v.is_number() => {
            errors.push(wrong(&format!(
                "expected numeric (int or float), got {}",
                go_type(v)
            )));
        }
        Some(Type::String) if !v.is_string() => {
            errors.push(wrong(&format!(
                "expected string, got &value.valueUnstructured{{Value:{}}}",
                go_sharp_v(v)
            )));
        }
        Some(Type::Boolean) if !v.is_boolean() => {
            errors.push(wrong(&format!("expected boolean, got {}", go_ptr_v(v))));
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Go's formatting of values, as the messages print them.

/// `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `%v` of a float64 (`strconv` `'g'` with the shortest digits): exponent
/// form below 1e-4 and from 1e6 up, as `fmt.Println(1e6)` prints `1e+06`.
pub fn go_float(f: f64) -> String {
    if f == 0.0 {
        return "0".to_owned();
    }
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let exp = f.abs().log10().floor() as i32;
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let sci = format!("{f:e}");
    match sci.split_once('e') {
        Some((mantissa, e)) => {
            let e: i32 = e.parse().unwrap_or(0);
            let sign = if e < 0 { '-' } else { '+' };
            format!("{mantissa}e{sign}{:02}", e.abs())
        }
        None => sci,
    }
}

/// `%v` of a JSON scalar as Go holds it (int64, float64, bool, string).
fn go_value(v: &Value) -> String {
    match v {
        Value::Null => go_quote("null"),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => n.as_u64().map_or_else(
                || go_float(n.as_f64().unwrap_or(0.0)),
                |u| go_float(u as f64),
            ),
        },
        Value::String(s) => go_quote(s),
        other => go_sharp_v(other),
    }
}

/// `%T` of a decoded JSON value.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// `%#v` of a decoded JSON value.
fn go_sharp_v(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".into(),
        Value::String(s) => go_quote(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(go_sharp_v).collect();
            format!("[]interface {{}}{{{}}}", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_sharp_v(v)))
                .collect();
            format!("map[string]interface {{}}{{{}}}", inner.join(", "))
        }
        other => go_value(other),
    }
}

/// `%v` of a decoded JSON value.
fn go_plain_v(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(go_plain_v).collect();
            format!("[{}]", inner.join(" "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_plain_v(v)))
                .collect();
            format!("map[{}]", inner.join(" "))
        }
        other => go_value(other),
    }
}

/// `%v` of structured-merge-diff's `*valueUnstructured` around a value.
fn go_ptr_v(v: &Value) -> String {
    format!("&{{{}}}", go_plain_v(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::schema::{integer, object, string};

    #[test]
    fn go_formatting_matches_fmt() {
        assert_eq!(go_quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(go_float(100.5), "100.5");
        assert_eq!(go_float(123_456.0), "123456");
        assert_eq!(go_float(4_294_967_295.0), "4.294967295e+09");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_value(&json!(5)), "5");
        assert_eq!(
            go_sharp_v(&json!({"a": [1]})),
            r#"map[string]interface {}{"a":[]interface {}{1}}"#
        );
        assert_eq!(go_ptr_v(&json!("x")), "&{x}");
    }

    #[test]
    fn errors_read_like_field_errors() {
        let schema = object(vec![(
            "spec",
            object(vec![("n", integer().range(0, 10)), ("s", string())]),
        )]);
        let errs = errors_of(&schema, &json!({"spec": {"n": 11, "s": 1}}), Part::Main);
        let texts: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "spec.n: Invalid value: 11: spec.n in body should be less than or equal to 10",
                r#"spec.s: Invalid value: "integer": spec.s in body must be of type string: "integer""#,
                r#"<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"#,
            ]
        );
    }
}
