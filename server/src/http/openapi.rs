//! The OpenAPI 3.1 document's building blocks, shared by the JSON APIs that describe their
//! operations (the citizen API in `api/openapi.rs`, the Postkorb API in `admin/api_doc.rs`),
//! and the assembly of their parts into one document (`crate::openapi` puts them together).

use serde_json::{Map, Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

/// A request body that is a file's bytes (an upload).
pub(crate) const BINARY: &str = "binary";

/// One API's part of the document: its operations, the schemas they name, and the name of
/// the schema its problem answers have.
pub(crate) struct Part {
    pub operations: Vec<Operation>,
    pub schemas: Vec<(String, RefOr<Schema>)>,
    pub problem_schema: String,
}

/// A parameter of an operation.
pub(crate) struct Param {
    pub name: &'static str,
    /// `path` or `query`.
    pub place: &'static str,
    pub description: &'static str,
    pub schema: Value,
    pub example: Option<&'static str>,
}

pub(crate) fn tenant() -> Param {
    Param {
        name: "tenant",
        place: "path",
        description: "The tenant's slug, e.g. `heinsberg`.",
        schema: json!({"type": "string"}),
        example: Some("heinsberg"),
    }
}

pub(crate) fn path(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        place: "path",
        description,
        schema: json!({"type": "string"}),
        example: None,
    }
}

pub(crate) fn query(name: &'static str, description: &'static str, schema: Value) -> Param {
    Param {
        name,
        place: "query",
        description,
        schema,
        example: None,
    }
}

/// A success answer: its status, what it means, the media type and the schema.
pub(crate) struct Ok {
    pub status: u16,
    pub description: &'static str,
    pub media: &'static str,
    pub schema: Value,
    /// A `Location` header's description.
    pub location: Option<&'static str>,
}

pub(crate) fn ok(status: u16, description: &'static str, schema: String) -> Ok {
    Ok {
        status,
        description,
        media: "application/json",
        schema: json!({"$ref": format!("#/components/schemas/{schema}")}),
        location: None,
    }
}

pub(crate) fn ok_media(description: &'static str, media: &'static str) -> Ok {
    Ok {
        status: 200,
        description,
        media,
        schema: json!({"type": "string"}),
        location: None,
    }
}

/// One operation of the API.
pub(crate) struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub id: &'static str,
    pub summary: &'static str,
    pub description: Option<&'static str>,
    pub params: Vec<Param>,
    /// The request body's schema and whether it is required.
    pub body: Option<(String, bool)>,
    pub ok: Vec<Ok>,
    /// Problem answers: status (or `default`) and what it means.
    pub problems: Vec<(&'static str, &'static str)>,
    /// The staff API (Postkorb): its tag, its security, and the headers of its 401 and 429.
    pub staff: bool,
}

fn operation_json(op: &Operation, problem_schema: &str) -> Value {
    let mut responses = Map::new();
    for o in &op.ok {
        let mut r = json!({
            "description": o.description,
            "content": {o.media: {"schema": o.schema}},
        });
        if let Some(l) = o.location {
            r["headers"] = json!({"Location": {"description": l, "schema": {"type": "string"}}});
        }
        responses.insert(o.status.to_string(), r);
    }
    for (status, description) in &op.problems {
        let mut r = json!({
            "description": description,
            "content": {"application/problem+json": {
                "schema": {"$ref": format!("#/components/schemas/{problem_schema}")},
            }},
        });
        if op.staff && *status == "401" {
            r["headers"] = json!({"WWW-Authenticate": {
                "description": "`Bearer realm=\"lotse\"`.",
                "schema": {"type": "string"},
            }});
        }
        if op.staff && *status == "429" {
            r["headers"] = json!({"Retry-After": {
                "description": "Seconds to wait.",
                "schema": {"type": "integer"},
            }});
        }
        responses.insert(status.to_string(), r);
    }
    let params: Vec<Value> = op
        .params
        .iter()
        .map(|p| {
            let mut v = json!({
                "name": p.name, "in": p.place, "required": p.place == "path",
                "description": p.description, "schema": p.schema,
            });
            if let Some(e) = p.example {
                v["example"] = json!(e);
            }
            v
        })
        .collect();
    let mut v = json!({
        "operationId": op.id,
        "summary": op.summary,
        "parameters": params,
        "responses": responses,
    });
    if let Some(d) = op.description {
        v["description"] = json!(d);
    }
    if let Some((schema, required)) = &op.body
        && schema == BINARY
    {
        v["requestBody"] = json!({
            "required": required,
            "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"},
            }},
        });
    } else if let Some((schema, required)) = &op.body {
        v["requestBody"] = json!({
            "required": required,
            "content": {"application/json": {
                "schema": {"$ref": format!("#/components/schemas/{schema}")},
            }},
        });
    }
    if op.staff {
        v["tags"] = json!(["Postkorb"]);
        v["security"] = json!([{"bearer": []}, {"session": []}]);
    }
    v
}

/// The whole document of the `parts`, with `description` as its introduction.
pub(crate) fn document_value(parts: Vec<Part>, description: String) -> Value {
    let mut paths = Map::new();
    let mut all = Vec::new();
    for part in parts {
        for op in &part.operations {
            let item = paths
                .entry(op.path.to_string())
                .or_insert_with(|| json!({}));
            item[op.method] = operation_json(op, &part.problem_schema);
        }
        all.extend(part.schemas);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Lotse API",
            "version": "1.0.0",
            "description": description,
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas(all),
            "securitySchemes": {
                "bearer": {
                    "type": "http", "scheme": "bearer",
                    "description": "An API token from `lotse admin token-create` (acts with its account's role).",
                },
                "session": {
                    "type": "apiKey", "in": "cookie", "name": "lotse_verwaltung",
                    "description": "The Postkorb's session cookie (sign-in at /verwaltung/{tenant}/anmelden); writes must be JSON.",
                },
            },
        },
    })
}

/// The component schemas, by name, sorted.
fn schemas(all: Vec<(String, RefOr<Schema>)>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, schema) in all {
        if let Ok(v) = serde_json::to_value(&schema) {
            out.insert(name, v);
        }
    }
    out.sort_keys();
    out
}
