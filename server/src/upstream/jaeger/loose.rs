//! Forgiving readers for the fields of Jaeger's answers. Jaeger (or a proxy,
//! or a different version) may send a field with another type than the one
//! documented, or leave it out; a trace with one odd field is still worth
//! showing. So every reader here accepts any JSON value and never fails:
//! an odd value reads as the neutral one (no id, no elements, zero), and
//! the records built from them (`#[serde(default)]`, no
//! `deny_unknown_fields`) decode from any JSON object. A record is only
//! read from a JSON object: serde would otherwise read a struct from an
//! array, field by field in order.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A value as text: a string as it is, `null` as nothing, anything else as
/// its JSON (`503`, `true`, `[1,2]`).
pub fn text_of(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A value as a whole number: integers, floats (truncated, saturating) and
/// strings of either; anything else is 0.
pub fn int_of(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or(0),
        Value::String(s) => s
            .parse::<i64>()
            .or_else(|_| s.parse::<f64>().map(|f| f as i64))
            .unwrap_or(0),
        _ => 0,
    }
}

/// Any value, read as [`text_of`] does.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Value::deserialize(d).map(text_of)
}

/// Any value, read as [`int_of`] does.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Value::deserialize(d).map(|v| int_of(&v))
}

/// A string, or `None` for any other value.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// An object read as `T`, or `None` for any other value.
pub fn object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(ObjectVisitor(PhantomData))
}

/// A whole answer read as record `T`: its default when the answer is not
/// an object of that shape.
pub fn answer<T: serde::de::DeserializeOwned + Default>(body: &serde_json::Value) -> T {
    object::<_, T>(body).ok().flatten().unwrap_or_default()
}

/// [`object`] for a field whose mere presence counts: a field that is
/// there reads as `Some`, even when it is not an object (then
/// `Some(None)`); a missing one stays `None` (the field's default).
pub fn present_object<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    object(d).map(Some)
}

/// An array of records: each element an object read as `T`, or `None` in
/// its place (so positions are kept); anything but an array has no
/// elements.
pub fn objects<'de, D, T>(d: D) -> Result<Vec<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let list: Vec<Obj<T>> = d.deserialize_any(SeqVisitor(PhantomData))?;
    Ok(list.into_iter().map(|o| o.0).collect())
}

/// The string elements of an array (others skipped); anything but an array
/// has none.
pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list: Vec<Str> = d.deserialize_any(SeqVisitor(PhantomData))?;
    Ok(list.into_iter().filter_map(|s| s.0).collect())
}

/// An object's members, each value an object read as `T` or `None`;
/// anything but an object has none.
pub fn object_map<'de, D, T>(d: D) -> Result<HashMap<String, Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(MapVisitor(PhantomData))
}

/// An element that is an object read as `T`, else `None`.
struct Obj<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d).map(Obj)
    }
}

/// An element that is a string, else `None`.
struct Str(Option<String>);

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string(d).map(Str)
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// The visits of a visitor that wants one shape (an array or an object):
/// every other scalar is its value's default.
macro_rules! scalars_are_default {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i128<E: de::Error>(self, _: i128) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u128<E: de::Error>(self, _: u128) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    };
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value (an object is wanted)")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Some)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq).map(|()| None)
    }

    scalars_are_default!();
}

struct SeqVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for SeqVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value (an array is wanted)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(e) = seq.next_element()? {
            out.push(e);
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map).map(|()| Vec::new())
    }

    scalars_are_default!();
}

struct MapVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for MapVisitor<T> {
    type Value = HashMap<String, Option<T>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value (an object is wanted)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = HashMap::new();
        while let Some((k, v)) = map.next_entry::<String, Obj<T>>()? {
            // Later duplicates win, as in a `serde_json::Value`.
            out.insert(k, v.0);
        }
        Ok(out)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq).map(|()| HashMap::new())
    }

    scalars_are_default!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(default)]
    struct Record {
        #[serde(deserialize_with = "string")]
        id: Option<String>,
        #[serde(deserialize_with = "int")]
        n: i64,
        #[serde(deserialize_with = "objects")]
        kids: Vec<Option<Record>>,
    }

    fn read(v: Value) -> Option<Record> {
        object(&v).expect("never fails")
    }

    #[test]
    fn records_come_only_from_objects_and_odd_fields_read_neutral() {
        // serde alone would read a struct from an array, field by field.
        assert_eq!(read(serde_json::json!(["x", 1, []])), None);
        for v in [
            serde_json::json!(null),
            serde_json::json!(1),
            serde_json::json!("s"),
        ] {
            assert_eq!(read(v), None);
        }
        let r = read(serde_json::json!({
            "id": 5, "n": "12.7", "extra": {"deep": [1]},
            "kids": [{"id": "a"}, "x", [], {"n": 1e300}]
        }))
        .unwrap();
        assert_eq!((r.id, r.n), (None, 12));
        let ids: Vec<Option<(Option<String>, i64)>> =
            r.kids.into_iter().map(|k| k.map(|k| (k.id, k.n))).collect();
        assert_eq!(
            ids,
            [
                Some((Some("a".into()), 0)),
                None,
                None,
                Some((None, i64::MAX))
            ]
        );
        let r = read(serde_json::json!({"kids": {"id": "not a list"}})).unwrap();
        assert!(r.kids.is_empty());
    }
}
