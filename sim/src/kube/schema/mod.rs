//! The OpenAPI schemas of the custom resources the in-memory API server
//! serves, and what kube-apiserver does with them on every write: prune
//! unknown fields (structural schemas), apply defaults, validate (types,
//! enums, ranges, patterns, required fields, `oneOf`, and the simple
//! `x-kubernetes-validations` rules, written here in Rust), and type-check
//! server-side apply configurations.
//!
//! - [`istio`]: Istio's kinds, from `istio/api`'s
//!   `kubernetes/customresourcedefinitions.gen.yaml`.
//! - [`gateway`]: the Gateway API's HTTPRoute and GRPCRoute, from
//!   `kubernetes-sigs/gateway-api` v1.6.1's standard CRDs.
//! - [`monitoring`]: the Prometheus Operator's ServiceMonitor and
//!   PodMonitor, from its CRDs (the fields meshdeck writes).
//! - [`check`]: the engine, worded as kube-apiserver v1.33 words it
//!   (apiextensions-apiserver, kube-openapi, structured-merge-diff).
//!
//! A schema here is written as a tree of [`Schema`] nodes. Where a node is
//! an object, it lists every property its CRD lists (else pruning would
//! drop valid fields); properties whose content is not checked are
//! [`any`]: kept as sent, like `x-kubernetes-preserve-unknown-fields`.

pub mod check;
pub mod gateway;
pub mod istio;
pub mod monitoring;
pub mod rules;

use serde_json::Value;

use super::resources::ResourceType;

pub use check::{FieldCheck, FieldValidation, Part, check_apply_config, decode, validate};

/// The JSON type of a schema node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// `object`.
    Object,
    /// `array`.
    Array,
    /// `string`.
    String,
    /// `integer`.
    Integer,
    /// `number`.
    Number,
    /// `boolean`.
    Boolean,
}

impl Type {
    /// The name OpenAPI (and kube-apiserver's messages) give the type.
    pub fn name(self) -> &'static str {
        match self {
            Type::Object => "object",
            Type::Array => "array",
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
        }
    }
}

/// A `pattern`: the regular expression as the CRD writes it (for the
/// message) and a hand-written matcher of the same language (the workspace
/// has no regex engine; each matcher is unit-tested).
#[derive(Debug)]
pub struct Pattern {
    /// The ECMA/RE2 source, quoted in error messages.
    pub source: &'static str,
    /// Whether a string matches.
    pub matches: fn(&str) -> bool,
}

/// What an `x-kubernetes-validations` rule, evaluated in Rust, says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The rule holds.
    Holds,
    /// The rule is false: the rule's message is reported.
    Fails,
    /// Evaluating the rule failed (CEL's error text), as when `duration()`
    /// gets a string that is no duration.
    Error(String),
}

/// One `x-kubernetes-validations` rule, written in Rust: `check` is given
/// `self` (the node's value).
#[derive(Debug)]
pub struct Rule {
    /// The rule's `message`.
    pub message: &'static str,
    /// The rule.
    pub check: fn(&Value) -> Verdict,
}

/// One node of a structural schema.
#[derive(Debug, Default)]
pub struct Schema {
    /// `type`; `None` with `preserve_unknown` for a lenient subtree.
    pub ty: Option<Type>,
    /// `x-kubernetes-int-or-string`.
    pub int_or_string: bool,
    /// `nullable`.
    pub nullable: bool,
    /// `x-kubernetes-preserve-unknown-fields`.
    pub preserve_unknown: bool,
    /// `properties`, in the CRD's (alphabetical) order.
    pub properties: Vec<(&'static str, Schema)>,
    /// `additionalProperties` (a map's values).
    pub additional: Option<Box<Schema>>,
    /// `items`.
    pub items: Option<Box<Schema>>,
    /// `required`.
    pub required: &'static [&'static str],
    /// `enum`.
    pub enumeration: Vec<Value>,
    /// `minimum` (inclusive).
    pub minimum: Option<i64>,
    /// `maximum` (inclusive).
    pub maximum: Option<i64>,
    /// `minLength`.
    pub min_length: Option<usize>,
    /// `maxLength`.
    pub max_length: Option<usize>,
    /// `minItems`.
    pub min_items: Option<usize>,
    /// `maxItems`.
    pub max_items: Option<usize>,
    /// `pattern`.
    pub pattern: Option<&'static Pattern>,
    /// Istio's generated `oneOf`: `not anyOf required` plus one
    /// `required` per field, i.e. at most one of these fields.
    pub at_most_one_of: &'static [&'static str],
    /// An `allOf` of such `oneOf`s (DestinationRule's `consistentHash`).
    pub all_of_at_most_one: &'static [&'static [&'static str]],
    /// `x-kubernetes-validations`.
    pub rules: Vec<&'static Rule>,
    /// `default`.
    pub default: Option<Value>,
}

impl Schema {
    fn typed(ty: Type) -> Self {
        Schema {
            ty: Some(ty),
            ..Schema::default()
        }
    }

    /// `required`.
    pub fn required(mut self, fields: &'static [&'static str]) -> Self {
        self.required = fields;
        self
    }

    /// `enum` of strings.
    pub fn one_of_values(mut self, values: &[&str]) -> Self {
        self.enumeration = values.iter().map(|v| Value::from(*v)).collect();
        self
    }

    /// `minimum` and `maximum`.
    pub fn range(mut self, min: i64, max: i64) -> Self {
        self.minimum = Some(min);
        self.maximum = Some(max);
        self
    }

    /// `minimum` alone.
    pub fn min(mut self, min: i64) -> Self {
        self.minimum = Some(min);
        self
    }

    /// `minLength` and `maxLength`.
    pub fn length(mut self, min: usize, max: usize) -> Self {
        if min > 0 {
            self.min_length = Some(min);
        }
        self.max_length = Some(max);
        self
    }

    /// `maxLength` alone.
    pub fn max_length(mut self, max: usize) -> Self {
        self.max_length = Some(max);
        self
    }

    /// `minLength` alone.
    pub fn min_length(mut self, min: usize) -> Self {
        self.min_length = Some(min);
        self
    }

    /// `maxItems`.
    pub fn max_items(mut self, max: usize) -> Self {
        self.max_items = Some(max);
        self
    }

    /// `minItems`.
    pub fn min_items(mut self, min: usize) -> Self {
        self.min_items = Some(min);
        self
    }

    /// `pattern`.
    pub fn pattern(mut self, pattern: &'static Pattern) -> Self {
        self.pattern = Some(pattern);
        self
    }

    /// Istio's `oneOf` over these fields: at most one may be set.
    pub fn at_most_one_of(mut self, fields: &'static [&'static str]) -> Self {
        self.at_most_one_of = fields;
        self
    }

    /// An `allOf` of Istio `oneOf`s.
    pub fn all_of_at_most_one(mut self, groups: &'static [&'static [&'static str]]) -> Self {
        self.all_of_at_most_one = groups;
        self
    }

    /// An `x-kubernetes-validations` rule.
    pub fn rule(mut self, rule: &'static Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// `default`.
    pub fn default_value(mut self, value: Value) -> Self {
        self.default = Some(value);
        self
    }

    /// `nullable: true`.
    pub fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// `x-kubernetes-preserve-unknown-fields: true`.
    pub fn preserve_unknown(mut self) -> Self {
        self.preserve_unknown = true;
        self
    }

    /// The property `name`, if the node lists it.
    pub fn property(&self, name: &str) -> Option<&Schema> {
        self.properties
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
    }
}

/// An object with these properties.
pub fn object(properties: Vec<(&'static str, Schema)>) -> Schema {
    Schema {
        properties,
        ..Schema::typed(Type::Object)
    }
}

/// A map (`additionalProperties`) of `values`.
pub fn map(values: Schema) -> Schema {
    Schema {
        additional: Some(Box::new(values)),
        ..Schema::typed(Type::Object)
    }
}

/// An array of `items`.
pub fn array(items: Schema) -> Schema {
    Schema {
        items: Some(Box::new(items)),
        ..Schema::typed(Type::Array)
    }
}

/// A string.
pub fn string() -> Schema {
    Schema::typed(Type::String)
}

/// An integer.
pub fn integer() -> Schema {
    Schema::typed(Type::Integer)
}

/// An integer in `0..=4294967295`: how Istio's CRDs give a `uint32`.
pub fn uint32() -> Schema {
    integer().range(0, 4_294_967_295)
}

/// A number.
pub fn number() -> Schema {
    Schema::typed(Type::Number)
}

/// A boolean.
pub fn boolean() -> Schema {
    Schema::typed(Type::Boolean)
}

/// An array of strings.
pub fn strings() -> Schema {
    array(string())
}

/// A map of strings.
pub fn string_map() -> Schema {
    map(string())
}

/// An `x-kubernetes-int-or-string` value.
pub fn int_or_string() -> Schema {
    Schema {
        int_or_string: true,
        ..Schema::default()
    }
}

/// A subtree kept as sent and not checked (lenient): unknown fields in it
/// are neither pruned nor reported.
pub fn any() -> Schema {
    Schema {
        preserve_unknown: true,
        ..Schema::default()
    }
}

/// The schema of `rt`'s objects, for the kinds that have one.
pub fn of(rt: &ResourceType) -> Option<&'static Schema> {
    istio::schema(rt)
        .or_else(|| gateway::schema(rt))
        .or_else(|| monitoring::schema(rt))
}
