//! Checking HTTP exchanges against a vendor's published OpenAPI description (feature `contract`).
//!
//! The emulators stand in for the vendors in every test, so they must answer as the vendors'
//! published contracts say, and the connectors must ask as those contracts say. A test records
//! the exchanges a connector has with an emulator (through a [`FaultProxy`](crate::FaultProxy)
//! started with [`ProxyConfig::record`](crate::ProxyConfig::record)) and checks each one here:
//! the path and method exist, every query parameter is declared and has the declared type, the
//! request body fits the request schema, and the response status is declared with a body that
//! fits its schema.
//!
//! The descriptions are OpenAPI 3.0: their schemas are JSON Schema draft 4 plus `nullable`, which
//! is turned into a `null` type before validating. Validation uses the `jsonschema` crate, so the
//! check is independent of the serde types on both sides.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};

use crate::fault_proxy::Exchange;

/// The Beds24 API v2 description, as published.
pub const BEDS24_V2: &str = include_str!("../specs/beds24-apiV2-openapi.yaml");
/// The Cloudbeds PMS API v1.3 description, as published.
pub const CLOUDBEDS_V1_3: &str = include_str!("../specs/cloudbeds-pms-v1.3-openapi.yaml");

/// Why a description could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContractError {
    /// The YAML did not parse.
    #[error("the OpenAPI file is not YAML: {0}")]
    Yaml(String),
    /// The document lacks what an OpenAPI description has.
    #[error("not an OpenAPI description: {0}")]
    Shape(String),
}

/// One way an exchange departs from the description.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// `"GET /bookings"`: the method and the description's path template.
    pub operation: String,
    /// Which part: `"path"`, `"query"`, `"request body"` or `"response 200"`.
    pub part: String,
    /// Where in that part (a JSON pointer into the body, or a parameter name).
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} at `{}`: {}", self.operation, self.part, self.at, self.message)
    }
}

/// A vendor's API description, ready to check exchanges against.
pub struct OpenApi {
    /// The path every operation sits under (`/v2`, `/api/v1.3`), from the first server URL.
    base_path: String,
    /// The document, its schemas turned into JSON Schema.
    doc: Value,
    /// Compiled validators, by the place of their schema in `doc`.
    validators: Mutex<HashMap<usize, Arc<jsonschema::Validator>>>,
}

impl std::fmt::Debug for OpenApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApi").field("base_path", &self.base_path).finish_non_exhaustive()
    }
}

impl OpenApi {
    /// The Beds24 API v2 description.
    pub fn beds24() -> Result<Self, ContractError> {
        Self::from_yaml(BEDS24_V2)
    }

    /// The Cloudbeds PMS API v1.3 description.
    pub fn cloudbeds() -> Result<Self, ContractError> {
        Self::from_yaml(CLOUDBEDS_V1_3)
    }

    /// Reads an OpenAPI 3.0 description.
    pub fn from_yaml(text: &str) -> Result<Self, ContractError> {
        let mut doc: Value = serde_yaml_ng::from_str(text).map_err(|e| ContractError::Yaml(e.to_string()))?;
        if !doc.get("paths").is_some_and(Value::is_object) {
            return Err(ContractError::Shape("no `paths`".into()));
        }
        let server = doc.pointer("/servers/0/url").and_then(Value::as_str).unwrap_or("/");
        let base_path = match url::Url::parse(server) {
            Ok(u) => u.path().to_owned(),
            Err(_) => server.to_owned(),
        };
        let base_path = base_path.trim_end_matches('/').to_owned();
        nullable_to_null_type(&mut doc);
        Ok(Self { base_path, doc, validators: Mutex::default() })
    }

    /// Every way `exchange` departs from the description (empty: it conforms).
    pub fn check(&self, exchange: &Exchange) -> Vec<Violation> {
        let mut out = Vec::new();
        let method = exchange.method.to_ascii_lowercase();
        let Some(rest) = exchange.path.strip_prefix(&self.base_path) else {
            out.push(self.violation(&exchange.method, &exchange.path, "path", "", "outside the API's base path"));
            return out;
        };
        let Some(template) = self.template_for(rest) else {
            out.push(self.violation(&exchange.method, rest, "path", "", "no such path in the description"));
            return out;
        };
        let op_name = format!("{} {template}", exchange.method.to_ascii_uppercase());
        let op_pointer = format!("/paths/{}/{method}", escape(&template));
        let Some(op) = self.doc.pointer(&op_pointer) else {
            out.push(Violation {
                operation: op_name,
                part: "path".into(),
                at: String::new(),
                message: format!("the path has no {} operation", exchange.method),
            });
            return out;
        };
        self.check_query(&op_name, &template, op, exchange, &mut out);
        self.check_request_body(&op_name, op, exchange, &mut out);
        self.check_response(&op_name, op, exchange, &mut out);
        out
    }

    fn violation(&self, method: &str, path: &str, part: &str, at: &str, message: &str) -> Violation {
        Violation {
            operation: format!("{} {path}", method.to_ascii_uppercase()),
            part: part.into(),
            at: at.into(),
            message: message.into(),
        }
    }

    /// The description's path template that `path` matches; a literal segment beats a parameter.
    fn template_for(&self, path: &str) -> Option<String> {
        let wanted: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let paths = self.doc.get("paths")?.as_object()?;
        let mut best: Option<(usize, &String)> = None;
        for template in paths.keys() {
            let segments: Vec<&str> = template.trim_end_matches('/').split('/').collect();
            if segments.len() != wanted.len() {
                continue;
            }
            let mut literal = 0;
            let fits = segments.iter().zip(&wanted).all(|(t, w)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !w.is_empty()
                } else {
                    literal += 1;
                    t == w
                }
            });
            if fits && best.is_none_or(|(n, _)| literal > n) {
                best = Some((literal, template));
            }
        }
        best.map(|(_, t)| t.clone())
    }

    /// Follows a local `$ref` (once per level) to what it names.
    fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..8 {
            match v.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
                Some(pointer) => match self.doc.pointer(pointer) {
                    Some(target) => v = target,
                    None => return v,
                },
                None => return v,
            }
        }
        v
    }

    fn check_query(&self, op_name: &str, template: &str, op: &Value, exchange: &Exchange, out: &mut Vec<Violation>) {
        let path_level = self.doc.pointer(&format!("/paths/{}/parameters", escape(template)));
        let declared: Vec<&Value> = op
            .get("parameters")
            .into_iter()
            .chain(path_level)
            .filter_map(Value::as_array)
            .flatten()
            .map(|p| self.resolve(p))
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
            .collect();
        let given = grouped(exchange.query.as_deref().unwrap_or(""));
        for (name, values) in &given {
            let Some(param) = declared.iter().find(|p| p.get("name").and_then(Value::as_str) == Some(name.as_str()))
            else {
                out.push(Violation {
                    operation: op_name.into(),
                    part: "query".into(),
                    at: name.clone(),
                    message: "the parameter is not in the description".into(),
                });
                continue;
            };
            let Some(schema) = param.get("schema") else { continue };
            let value = self.coerce(schema, values);
            for (_, message) in self.validate(schema, &value) {
                out.push(Violation {
                    operation: op_name.into(),
                    part: "query".into(),
                    at: name.clone(),
                    message: format!("{message} (sent {})", values.join(", ")),
                });
            }
        }
        for p in &declared {
            let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
            if p.get("required").and_then(Value::as_bool) == Some(true) && !given.iter().any(|(n, _)| n == name) {
                out.push(Violation {
                    operation: op_name.into(),
                    part: "query".into(),
                    at: name.into(),
                    message: "a required parameter is missing".into(),
                });
            }
        }
    }

    /// A query or form value as the JSON its schema describes (`"5"` → `5` for an integer).
    fn coerce(&self, schema: &Value, values: &[String]) -> Value {
        let schema = self.resolve(schema);
        // `type` is a name, or (a nullable one, converted) a list of names with `null`.
        let type_of = |s: &Value| -> Option<String> {
            match s.get("type")? {
                Value::String(t) => Some(t.clone()),
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").map(str::to_owned),
                _ => None,
            }
        };
        let one = |s: &Value, v: &str| -> Value {
            match type_of(s).as_deref() {
                Some("integer") => v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n)),
                Some("number") => v.parse::<f64>().map_or_else(|_| json!(v), |n| json!(n)),
                Some("boolean") => match v {
                    "true" | "1" => json!(true),
                    "false" | "0" => json!(false),
                    _ => json!(v),
                },
                _ => json!(v),
            }
        };
        if type_of(schema).as_deref() == Some("array") {
            let items = schema.get("items").map_or(&Value::Null, |i| self.resolve(i));
            // Repeated (`id=1&id=2`) or comma-separated (`id=1,2`): both are seen in the wild.
            return Value::Array(values.iter().flat_map(|v| v.split(',')).map(|v| one(items, v)).collect());
        }
        match values {
            [single] => one(schema, single),
            many => Value::Array(many.iter().map(|v| one(schema, v)).collect()),
        }
    }

    fn check_request_body(&self, op_name: &str, op: &Value, exchange: &Exchange, out: &mut Vec<Violation>) {
        let part = "request body";
        let mut push = |at: &str, message: String| {
            out.push(Violation { operation: op_name.into(), part: part.into(), at: at.into(), message });
        };
        let Some(body) = op.get("requestBody").map(|b| self.resolve(b)) else {
            if !exchange.request_body.is_empty() {
                push("", "the operation takes no body, one was sent".into());
            }
            return;
        };
        if exchange.request_body.is_empty() {
            if body.get("required").and_then(Value::as_bool) == Some(true) {
                push("", "a required body is missing".into());
            }
            return;
        }
        let media = media_type(exchange.request_content_type.as_deref());
        let Some(content) = body.get("content").and_then(|c| c.get(&media)) else {
            push("", format!("the body is `{media}`, which the operation does not take"));
            return;
        };
        let Some(schema) = content.get("schema") else { return };
        let instance = match media.as_str() {
            "application/json" => match serde_json::from_slice::<Value>(&exchange.request_body) {
                Ok(v) => v,
                Err(e) => return push("", format!("not JSON: {e}")),
            },
            "application/x-www-form-urlencoded" | "multipart/form-data" => {
                self.form_object(schema, &String::from_utf8_lossy(&exchange.request_body))
            }
            _ => return,
        };
        for (at, message) in self.validate(schema, &instance) {
            push(&at, message);
        }
    }

    /// A form body as the object its schema describes, each field coerced to its property's type.
    fn form_object(&self, schema: &Value, form: &str) -> Value {
        let schema = self.resolve(schema);
        let mut object = Map::new();
        for (name, values) in grouped(form) {
            let value = match schema.pointer(&format!("/properties/{}", escape(&name))) {
                Some(property) => self.coerce(property, &values),
                None => json!(values.join(",")),
            };
            object.insert(name, value);
        }
        Value::Object(object)
    }

    fn check_response(&self, op_name: &str, op: &Value, exchange: &Exchange, out: &mut Vec<Violation>) {
        let status = exchange.status.to_string();
        let part = format!("response {status}");
        let mut push = |at: &str, message: String| {
            out.push(Violation { operation: op_name.into(), part: part.clone(), at: at.into(), message });
        };
        let Some(response) = op.pointer(&format!("/responses/{status}")).or_else(|| op.pointer("/responses/default"))
        else {
            return push("", "the status is not in the description".into());
        };
        // A shared response (`$ref` to components) is followed to where its schema sits.
        let response = self.resolve(response);
        let Some(content) = response.get("content").and_then(Value::as_object) else { return };
        let media = media_type(exchange.response_content_type.as_deref());
        let Some(schema) = content.get(&media).and_then(|c| c.get("schema")) else {
            return push("", format!("the body is `{media}`; the description says {:?}", content.keys()));
        };
        if media != "application/json" {
            return;
        }
        let instance = match serde_json::from_slice::<Value>(&exchange.response_body) {
            Ok(v) => v,
            Err(e) => return push("", format!("not JSON: {e}")),
        };
        for (at, message) in self.validate(schema, &instance) {
            push(&at, message);
        }
    }

    /// Errors of `instance` against `schema`, a schema inside the document: where (a JSON
    /// pointer into the instance, rows folded to `*`) and what.
    fn validate(&self, schema: &Value, instance: &Value) -> Vec<(String, String)> {
        let validator = match self.validator(schema) {
            Ok(v) => v,
            Err(e) => return vec![(String::new(), format!("the description's schema does not compile: {e}"))],
        };
        validator.iter_errors(instance).map(|e| (rows_as_star(&e.instance_path().to_string()), e.to_string())).collect()
    }

    /// The compiled validator of `schema`, compiled once. Keyed by the schema's place in the
    /// document, which never changes after loading.
    fn validator(&self, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        let key = std::ptr::from_ref(schema) as usize;
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = cache.get(&key) {
            return Ok(v.clone());
        }
        let v = Arc::new(compile(schema, &self.doc)?);
        cache.insert(key, v.clone());
        Ok(v)
    }
}

/// A query string or form body's fields, each name once with its values in order.
fn grouped(encoded: &str) -> Vec<(String, Vec<String>)> {
    let mut fields: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(encoded.as_bytes()) {
        match fields.iter_mut().find(|(name, _)| *name == k) {
            Some((_, values)) => values.push(v.into_owned()),
            None => fields.push((k.into_owned(), vec![v.into_owned()])),
        }
    }
    fields
}

/// A known difference between a published description and the vendor's servers, which the
/// emulator and the connector follow: where it applies, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownDeviation {
    /// The operation, as [`Violation::operation`] names it (`"GET /bookings"`).
    pub operation: &'static str,
    /// The part, as [`Violation::part`] names it.
    pub part: &'static str,
    /// Where: a prefix of [`Violation::at`].
    pub at: &'static str,
    /// Why the servers differ from the description.
    pub why: &'static str,
}

impl KnownDeviation {
    fn covers(&self, v: &Violation) -> bool {
        v.operation == self.operation && v.part == self.part && v.at.starts_with(self.at)
    }
}

/// What checking a set of recorded exchanges found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Review {
    /// Departures no known deviation covers, each once (rows folded by [`Violation::at`]'s `*`).
    pub unexpected: Vec<String>,
    /// Known deviations that no exchange showed: stale, to be removed.
    pub unused: Vec<KnownDeviation>,
    /// Every `METHOD /path` seen.
    pub operations: std::collections::BTreeSet<String>,
}

impl OpenApi {
    /// Checks every exchange, setting aside the departures `known` covers.
    pub fn review(&self, exchanges: &[Exchange], known: &[KnownDeviation]) -> Review {
        let mut review = Review::default();
        let mut used = vec![false; known.len()];
        for e in exchanges {
            review.operations.insert(format!("{} {}", e.method, e.path));
            for v in self.check(e) {
                match known.iter().position(|k| k.covers(&v)) {
                    Some(i) => used[i] = true,
                    None => review.unexpected.push(v.to_string()),
                }
            }
        }
        review.unexpected.sort();
        review.unexpected.dedup();
        review.unused = known.iter().zip(used).filter(|(_, u)| !u).map(|(k, _)| *k).collect();
        review
    }
}

/// A validator for `schema`, whose `#/components/...` references resolve in `doc`.
fn compile(schema: &Value, doc: &Value) -> Result<jsonschema::Validator, String> {
    let root = json!({
        "$ref": "#/x-target",
        "x-target": schema,
        "components": doc.get("components").cloned().unwrap_or(Value::Null),
    });
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(false)
        .build(&root)
        .map_err(|e| e.to_string())
}

/// `/data/17/channel` → `/data/*/channel`: one departure per field, not one per row.
fn rows_as_star(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|seg| if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) { "*" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// `application/json; charset=utf-8` → `application/json`.
fn media_type(content_type: Option<&str>) -> String {
    content_type.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// A key as a JSON pointer token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// OpenAPI 3.0's `nullable: true` as JSON Schema: `null` joins the type (and the enum), or the
/// schema becomes "this or null" where it has no type of its own (a `$ref`, an `allOf`).
fn nullable_to_null_type(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for child in map.values_mut() {
                nullable_to_null_type(child);
            }
            let Some(nullable) = map.remove("nullable") else { return };
            if nullable != Value::Bool(true) {
                return;
            }
            if let Some(Value::Array(e)) = map.get_mut("enum")
                && !e.contains(&Value::Null)
            {
                e.push(Value::Null);
            }
            match map.get_mut("type") {
                Some(Value::String(t)) => {
                    let t = std::mem::take(t);
                    map.insert("type".into(), json!([t, "null"]));
                }
                Some(Value::Array(ts)) => {
                    if !ts.contains(&json!("null")) {
                        ts.push(json!("null"));
                    }
                }
                _ => {
                    let inner = Value::Object(std::mem::take(map));
                    map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_to_null_type),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r##"
openapi: 3.0.0
servers: [{url: "https://api.example.com/api/v1/"}]
paths:
  /things/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
        - {name: limit, in: query, schema: {type: integer}}
        - {name: ids, in: query, schema: {type: array, items: {type: integer}}}
        - {name: since, in: query, required: true, schema: {type: string}}
      responses:
        "200":
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
  /things/new:
    post:
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties: {count: {type: integer}, name: {type: string}}
              additionalProperties: false
      responses:
        "200": {content: {application/json: {schema: {type: object}}}}
components:
  schemas:
    Thing:
      type: object
      required: [id]
      properties:
        id: {type: integer}
        note: {type: string, nullable: true}
        kind: {type: string, enum: [a, b], nullable: true}
        owner: {$ref: "#/components/schemas/Owner", nullable: true}
    Owner: {type: object, properties: {name: {type: string}}}
"##;

    fn exchange(method: &str, path: &str, query: &str, status: u16, body: &str) -> Exchange {
        Exchange {
            method: method.into(),
            path: path.into(),
            query: (!query.is_empty()).then(|| query.to_owned()),
            request_content_type: None,
            request_body: Default::default(),
            status,
            response_content_type: Some("application/json; charset=utf-8".into()),
            response_body: body.as_bytes().to_vec().into(),
        }
    }

    #[test]
    fn a_conforming_exchange_has_no_violation_and_nulls_are_allowed_where_nullable() {
        let api = OpenApi::from_yaml(SPEC).unwrap();
        let ok = exchange(
            "GET",
            "/api/v1/things/7",
            "since=2026-01-01&limit=5&ids=1&ids=2",
            200,
            r#"{"id":7,"note":null,"kind":null,"owner":null}"#,
        );
        assert_eq!(api.check(&ok), vec![]);
    }

    #[test]
    fn each_kind_of_departure_is_named() {
        let api = OpenApi::from_yaml(SPEC).unwrap();
        let bad = exchange("GET", "/api/v1/things/7", "limit=five&colour=red", 200, r#"{"id":"7","kind":"c"}"#);
        let found: Vec<String> = api.check(&bad).iter().map(|v| format!("{} {}", v.part, v.at)).collect();
        assert_eq!(found, vec!["query limit", "query colour", "query since", "response 200 /id", "response 200 /kind"]);
        let unknown = api.check(&exchange("GET", "/api/v1/nothing", "", 200, "{}"));
        assert_eq!(unknown[0].message, "no such path in the description");
        let status = api.check(&exchange("GET", "/api/v1/things/7", "since=x", 404, "{}"));
        assert_eq!(status[0].message, "the status is not in the description");
        let outside = api.check(&exchange("GET", "/v2/things/7", "", 200, "{}"));
        assert_eq!(outside[0].message, "outside the API's base path");
    }

    #[test]
    fn a_form_body_is_read_with_its_fields_typed() {
        let api = OpenApi::from_yaml(SPEC).unwrap();
        let mut post = exchange("POST", "/api/v1/things/new", "", 200, "{}");
        post.request_content_type = Some("application/x-www-form-urlencoded".into());
        post.request_body = "count=3&name=x".as_bytes().to_vec().into();
        assert_eq!(api.check(&post), vec![]);
        post.request_body = "count=three&extra=1".as_bytes().to_vec().into();
        let found: Vec<String> = api.check(&post).iter().map(|v| v.at.clone()).collect();
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn a_review_sets_aside_known_deviations_and_names_stale_ones() {
        let api = OpenApi::from_yaml(SPEC).unwrap();
        let bad = exchange("GET", "/api/v1/things/7", "since=x", 200, r#"{"id":"7"}"#);
        let known =
            |at: &'static str| KnownDeviation { operation: "GET /things/{id}", part: "response 200", at, why: "test" };
        let review = api.review(std::slice::from_ref(&bad), &[known("/id"), known("/note")]);
        assert!(review.unexpected.is_empty(), "{:?}", review.unexpected);
        assert_eq!(review.unused, vec![known("/note")]);
        assert_eq!(review.operations.iter().collect::<Vec<_>>(), vec!["GET /api/v1/things/7"]);
        let review = api.review(&[bad], &[]);
        assert_eq!(review.unexpected.len(), 1);
    }

    #[test]
    fn the_published_descriptions_load() {
        let b = OpenApi::beds24().unwrap();
        assert_eq!(b.base_path, "/v2");
        assert_eq!(b.template_for("/bookings").as_deref(), Some("/bookings"));
        let c = OpenApi::cloudbeds().unwrap();
        assert_eq!(c.base_path, "/api/v1.3");
        assert_eq!(c.template_for("/getReservations").as_deref(), Some("/getReservations"));
    }
}
