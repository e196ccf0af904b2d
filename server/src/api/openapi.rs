//! The OpenAPI 3.1 document of /api/v1, generated: the schemas come from the API's own types
//! (`utoipa::ToSchema` on what the handlers serialize and deserialize), the operations from the
//! table below, which names those types. The tests compare the operations with the router in
//! both directions and check real answers against the schemas; CI runs schemathesis and a
//! generated client against the served document.

use serde_json::json;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::applications::{
    AnswerBody, EvaluateBody, Evaluation, GotoBody, ResumeBody, RevisionBody, StartBody,
    SubmissionCreated, SubmissionStatus, SubmitBody,
};
use super::engine::EngineOut;
use super::payments::{PayingState, PaymentOut};
use super::problem::ProblemDoc;
use super::services::{
    FORMATS_DOC, LebenslageList, NORMALISATION_DOC, Service, ServiceList, TenantList,
};
use super::views::StateOut;
use crate::http::openapi::{BINARY, Ok, Operation, Param, Part, ok, ok_media, path, query, tenant};

/// The citizen API's part of the document.
pub(crate) fn part() -> Part {
    Part {
        operations: operations(),
        schemas: schemas(),
        problem_schema: name::<ProblemDoc>(),
    }
}

/// The name of a type's schema, for a `$ref`.
fn name<T: ToSchema>() -> String {
    T::name().into_owned()
}

/// Every component schema of the citizen API: the named types and whatever they refer to.
fn schemas() -> Vec<(String, RefOr<Schema>)> {
    let mut all: Vec<(String, RefOr<Schema>)> = Vec::new();
    macro_rules! add {
        ($($t:ty),* $(,)?) => {$(
            all.push((<$t as ToSchema>::name().into_owned(), <$t as utoipa::PartialSchema>::schema()));
            <$t as ToSchema>::schemas(&mut all);
        )*};
    }
    add!(
        ProblemDoc,
        TenantList<'static>,
        ServiceList<'static>,
        Service<'static>,
        LebenslageList<'static>,
        StateOut<'static>,
        SubmissionCreated<'static>,
        SubmissionStatus<'static>,
        PaymentOut,
        PayingState,
        Evaluation,
        EngineOut,
        StartBody,
        ResumeBody,
        AnswerBody,
        RevisionBody,
        GotoBody,
        SubmitBody,
        EvaluateBody,
        super::services::FieldOut,
        lotse_core::application::ReviewEntry,
        lotse_core::application::Display,
    );
    all
}

fn service() -> Param {
    Param {
        example: Some("hundesteuer-anmeldung"),
        ..path(
            "service",
            "The service (workflow) id, e.g. `hundesteuer-anmeldung`.",
        )
    }
}

fn application() -> Param {
    path("id", "The application's secret id (32 hex digits).")
}

fn step() -> Param {
    Param {
        example: Some("halter"),
        ..path("step", "The id of the step being answered.")
    }
}

fn lang() -> Param {
    query(
        "lang",
        "Language of labels and messages.",
        json!({"type": "string", "enum": ["de", "en"]}),
    )
}

const H400: (&str, &str) = ("400", "Malformed path or query (LOT-H400).");
const H400_BODY: (&str, &str) = (
    "400",
    "The body is not valid JSON or misses required keys (LOT-H002).",
);
const H404: (&str, &str) = (
    "404",
    "Unknown tenant, service, application or submission (LOT-H001).",
);
const H404_STEP: (&str, &str) = ("404", "Unknown tenant, application or step (LOT-H001).");
const H413: (&str, &str) = ("413", "The body is larger than 256 KiB (LOT-H413).");
const H415: (&str, &str) = ("415", "The body is not application/json (LOT-H003).");
const H409: (&str, &str) = (
    "409",
    "Stale revision (LOT-H004, with the current `revision`), not possible now (LOT-H005), already submitted (LOT-H006), incomplete (LOT-H011), or sent and waiting for its payment (LOT-H022, with the `payment` link).",
);
const H422: (&str, &str) = (
    "422",
    "Answers not accepted (LOT-H010), with `errors` per field. What was sent is kept with the application (see `pending`); `revision` is the one to send next.",
);
const H500: (&str, &str) = (
    "500",
    "An internal error (LOT-H500; logged with a request id).",
);

/// A command on an application: back, goto, review.
fn command(
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    body: String,
    not_found: (&'static str, &'static str),
) -> Operation {
    Operation {
        method: "post",
        path,
        id,
        summary,
        description: None,
        params: vec![tenant(), application()],
        body: Some((body, true)),
        ok: vec![ok(
            200,
            "The new state of the application.",
            name::<StateOut>(),
        )],
        problems: vec![H400_BODY, not_found, H409, H422, H413, H415, H500],
        staff: false,
    }
}

/// The citizen API's operations.
fn operations() -> Vec<Operation> {
    let state = name::<StateOut>;
    vec![
        Operation {
            method: "get",
            path: "/api/v1/openapi.json",
            id: "openapi",
            summary: "This document",
            description: Some(
                "Generated from the server's own types and its table of operations, so that it cannot drift from the code.",
            ),
            params: vec![],
            body: None,
            ok: vec![Ok {
                schema: json!({"type": "object"}),
                ..ok(200, "The OpenAPI document.", String::new())
            }],
            problems: vec![],
            staff: false,
        },
        Operation {
            method: "get",
            path: "/api/v1/tenants",
            id: "listTenants",
            summary: "List the tenants",
            description: None,
            params: vec![],
            body: None,
            ok: vec![ok(
                200,
                "The county and its municipalities.",
                name::<TenantList>(),
            )],
            problems: vec![H500],
            staff: false,
        },
        Operation {
            method: "get",
            path: "/api/v1/tenants/{tenant}/services",
            id: "listServices",
            summary: "List or search a tenant's services",
            description: None,
            params: vec![
                tenant(),
                query(
                    "q",
                    "Search words (case- and umlaut-insensitive, word forms, prefixes, one typo).",
                    json!({"type": "string"}),
                ),
                query(
                    "lebenslage",
                    "Only services of this Lebenslage, e.g. `umzug`. An unknown one is 404 (LOT-H001); GET /lebenslagen lists them.",
                    json!({"type": "string"}),
                ),
                lang(),
            ],
            body: None,
            ok: vec![ok(
                200,
                "The services, ranked when searching.",
                name::<ServiceList>(),
            )],
            problems: vec![
                H400,
                ("404", "Unknown tenant or Lebenslage (LOT-H001)."),
                H500,
            ],
            staff: false,
        },
        Operation {
            method: "get",
            path: "/api/v1/tenants/{tenant}/lebenslagen",
            id: "listLebenslagen",
            summary: "List the Lebenslagen",
            description: Some(
                "The portal's Lebenslagen (life situations) with German and English labels and the number of this tenant's services in each; filter the services with `?lebenslage=`.",
            ),
            params: vec![tenant()],
            body: None,
            ok: vec![ok(200, "Every Lebenslage.", name::<LebenslageList>())],
            problems: vec![H400, ("404", "Unknown tenant (LOT-H001)."), H500],
            staff: false,
        },
        Operation {
            method: "get",
            path: "/api/v1/tenants/{tenant}/services/{service}",
            id: "getService",
            summary: "One service with its steps",
            description: None,
            params: vec![tenant(), service(), lang()],
            body: None,
            ok: vec![ok(200, "The service.", name::<Service>())],
            problems: vec![H400, H404, H500],
            staff: false,
        },
        Operation {
            method: "get",
            path: "/api/v1/tenants/{tenant}/services/{service}/schema",
            id: "getServiceSchema",
            summary: "The JSON Schema of the service's data",
            description: None,
            params: vec![tenant(), service()],
            body: None,
            ok: vec![Ok {
                media: "application/schema+json",
                schema: json!({"type": "object"}),
                ..ok(
                    200,
                    "A self-contained JSON Schema (2020-12): a property per field, the reusable forms embedded under `$defs`.",
                    String::new(),
                )
            }],
            problems: vec![H400, H404, H500],
            staff: false,
        },
        Operation {
            method: "post",
            path: "/api/v1/tenants/{tenant}/services/{service}/applications",
            id: "startApplication",
            summary: "Start an application",
            description: None,
            params: vec![tenant(), service()],
            body: Some((name::<StartBody>(), false)),
            ok: vec![Ok {
                location: Some("The application's URL."),
                ..ok(
                    201,
                    "The new application at its first step, with its resume code and expiry.",
                    state(),
                )
            }],
            problems: vec![H400_BODY, H404, H413, H415, H500],
            staff: false,
        },
        Operation {
            method: "post",
            path: "/api/v1/tenants/{tenant}/resume",
            id: "resumeApplication",
            summary: "Resume an application by its code",
            description: None,
            params: vec![tenant()],
            body: Some((name::<ResumeBody>(), true)),
            ok: vec![ok(200, "The application.", state())],
            problems: vec![
                H400_BODY,
                (
                    "404",
                    "No application with this code (LOT-H007), or unknown tenant (LOT-H001).",
                ),
                ("429", "Too many wrong codes from this client (LOT-H008)."),
                H413,
                H415,
                H500,
            ],
            staff: false,
        },
        Operation {
            method: "get",
            path: "/api/v1/tenants/{tenant}/applications/{id}",
            id: "getApplication",
            summary: "Read an application",
            description: None,
            params: vec![tenant(), application()],
            body: None,
            ok: vec![Ok {
                schema: json!({"oneOf": [
                    {"$ref": format!("#/components/schemas/{}", state())},
                    {"$ref": format!("#/components/schemas/{}", name::<PayingState>())},
                ]}),
                ..ok(
                    200,
                    "Where the application stands: the current step with its fields, the review, (position `submitted`) the submission's links, or (position `payment_pending`, a `PayingState`) sent and waiting for its payment.",
                    state(),
                )
            }],
            problems: vec![H400, H404, H500],
            staff: false,
        },
        Operation {
            method: "post",
            path: "/api/v1/tenants/{tenant}/applications/{id}/steps/{step}/files/{field}",
            id: "uploadFile",
            summary: "Upload a file to a file field",
            description: Some(
                "The body is the file's bytes (any content type; the kind is judged from the bytes, never from a header or the name). The file is checked against the field's `files` rules (kinds, `max_mb`), scanned for viruses, kept under its SHA-256 and added to the field's files in the application (kept as typed on the step, not yet answered). The field's files then appear in the step's `pending` values; answering the step (`PUT …/steps/{step}`) with the field's list keeps them. An answer can only name files the application has. Uploads may be up to 101 MiB per request and take up to 15 minutes.",
            ),
            params: vec![
                tenant(),
                application(),
                step(),
                path("field", "The id of the file field."),
                query(
                    "revision",
                    "The revision last read.",
                    json!({"type": "integer", "minimum": 0}),
                ),
                query(
                    "name",
                    "The file's name, shown to the office and in the receipt (cleaned).",
                    json!({"type": "string"}),
                ),
                query(
                    "lang",
                    "The language of messages: `de` or `en`.",
                    json!({"type": "string", "enum": ["de", "en"]}),
                ),
            ],
            body: Some((BINARY.to_string(), true)),
            ok: vec![ok(200, "The new state of the application.", state())],
            problems: vec![
                H400,
                (
                    "404",
                    "Unknown tenant, application, step or file field (LOT-H001).",
                ),
                (
                    "409",
                    "Stale revision (LOT-H004), or the application was sent (LOT-H006).",
                ),
                (
                    "413",
                    "The body is larger than an upload may be (LOT-H413).",
                ),
                (
                    "422",
                    "The file was refused (LOT-H024): empty, too large for the field, not a kind it accepts (judged from the bytes), damaged, password-protected, or a virus was found; `detail` says which in the citizen's words.",
                ),
                H500,
            ],
            staff: false,
        },
        Operation {
            method: "delete",
            path: "/api/v1/tenants/{tenant}/applications/{id}/steps/{step}/files/{field}/{sha256}",
            id: "removeFile",
            summary: "Remove a file from a file field",
            description: None,
            params: vec![
                tenant(),
                application(),
                step(),
                path("field", "The id of the file field."),
                path("sha256", "The file's SHA-256 (64 hex digits)."),
                query(
                    "revision",
                    "The revision last read.",
                    json!({"type": "integer", "minimum": 0}),
                ),
                query(
                    "lang",
                    "The language of messages: `de` or `en`.",
                    json!({"type": "string", "enum": ["de", "en"]}),
                ),
            ],
            body: None,
            ok: vec![ok(200, "The new state of the application.", state())],
            problems: vec![
                H400,
                (
                    "404",
                    "Unknown tenant, application, step, file field or file (LOT-H001).",
                ),
                (
                    "409",
                    "Stale revision (LOT-H004), or the application was sent (LOT-H006).",
                ),
                H500,
            ],
            staff: false,
        },
        Operation {
            method: "put",
            path: "/api/v1/tenants/{tenant}/applications/{id}/steps/{step}",
            id: "answerStep",
            summary: "Answer a step",
            description: Some(
                "Validates the answers of one step against its schema and rules. A valid answer moves the application on; an answer to an earlier step on the route changes it (with `then_review`, a complete application returns to the review).",
            ),
            params: vec![tenant(), application(), step()],
            body: Some((name::<AnswerBody>(), true)),
            ok: vec![ok(200, "The new state of the application.", state())],
            problems: vec![
                H400_BODY,
                H404_STEP,
                (
                    "409",
                    "Stale revision (LOT-H004, with the current `revision`), a step not on the route or not reached yet (LOT-H005), already submitted (LOT-H006) or incomplete (LOT-H011).",
                ),
                (
                    "422",
                    "Answers not accepted (LOT-H010), with `errors` per field; what was sent is kept with the application (see `pending`); `revision` is the one to send next. Or answers for fields the step does not have (LOT-H012, `fields` names them; nothing saved).",
                ),
                H413,
                H415,
                H500,
            ],
            staff: false,
        },
        Operation {
            method: "post",
            path: "/api/v1/tenants/{tenant}/applications/{id}/steps/{step}/evaluate",
            id: "evaluateStep",
            summary: "Evaluate a step's conditions",
            description: Some(
                "For the values typed on a step (not sent), which of its fields are shown and required now: the workflow's rhai conditions, evaluated by the engine over the answers so far. Nothing is checked or saved; the revision does not change.",
            ),
            params: vec![tenant(), application(), step()],
            body: Some((name::<EvaluateBody>(), true)),
            ok: vec![ok(
                200,
                "The step's fields, shown and required.",
                name::<Evaluation>(),
            )],
            problems: vec![
                H400_BODY,
                H404_STEP,
                ("409", "Already submitted (LOT-H006)."),
                H413,
                H415,
                (
                    "422",
                    "Values for fields the step does not have (LOT-H012).",
                ),
                (
                    "500",
                    "A condition of the workflow failed (LOT-H500; logged with a request id).",
                ),
            ],
            staff: false,
        },
        Operation {
            method: "get",
            path: "/api/v1/tenants/{tenant}/applications/{id}/engine",
            id: "browserEngine",
            summary: "Run the engine in the browser",
            description: Some(
                "What a front end needs to run Lotse's engine in the browser on this application (docs/browser-engine.md): the WebAssembly module, the workflow's sources by content hash and the state. The module gives, for values typed on a step, the fields shown and required, the errors the step would report, the computed values and the next step, exactly as answering the step would; the answer itself still goes to `answerStep`.",
            ),
            params: vec![tenant(), application()],
            body: None,
            ok: vec![ok(
                200,
                "The module, the workflow and the state.",
                name::<EngineOut>(),
            )],
            problems: vec![
                H400,
                (
                    "404",
                    "Unknown tenant or application (LOT-H001), or the portal has no module (LOT-H025).",
                ),
                ("409", "Already submitted (LOT-H006)."),
                H500,
            ],
            staff: false,
        },
        command(
            "/api/v1/tenants/{tenant}/applications/{id}/back",
            "goBack",
            "Go back one step",
            name::<RevisionBody>(),
            H404,
        ),
        command(
            "/api/v1/tenants/{tenant}/applications/{id}/goto",
            "goTo",
            "Go to an answered step",
            name::<GotoBody>(),
            H404_STEP,
        ),
        command(
            "/api/v1/tenants/{tenant}/applications/{id}/review",
            "review",
            "Go to the review",
            name::<RevisionBody>(),
            H404,
        ),
        Operation {
            method: "post",
            path: "/api/v1/tenants/{tenant}/applications/{id}/submit",
            id: "submit",
            summary: "Submit the application",
            description: Some(
                "From the review (the review position's `links.submit`). Idempotent: repeating the submit returns the first submission.",
            ),
            params: vec![tenant(), application()],
            body: Some((name::<SubmitBody>(), true)),
            ok: vec![
                Ok {
                    location: Some("The submission's URL."),
                    ..ok(
                        201,
                        "Stored durably; the signed receipt is ready.",
                        name::<SubmissionCreated>(),
                    )
                },
                ok(
                    200,
                    "Submitted before (a repeated submit): the same submission.",
                    name::<SubmissionCreated>(),
                ),
                ok(
                    202,
                    "Sent and kept durably; the service asks for payment first (`payment:` in the workflow): the application waits at position `payment_pending` with its payment and the platform's pay page (`payment.links.pay_page`). The office gets it once the payment is confirmed.",
                    name::<PayingState>(),
                ),
            ],
            problems: vec![
                H400_BODY,
                H404,
                H409,
                (
                    "422",
                    "Not sent: a statement of the declaration was not ticked (LOT-H010), with `errors` at `/declaration/{id}`; `revision` is the one to send next.",
                ),
                H413,
                H415,
                H500,
            ],
            staff: false,
        },
        Operation {
            method: "get",
            path: "/api/v1/tenants/{tenant}/submissions/{id}",
            id: "getSubmission",
            summary: "Status of a submission",
            description: None,
            params: vec![
                tenant(),
                path("id", "The submission's secret id (32 hex digits)."),
                lang(),
            ],
            body: None,
            ok: vec![ok(
                200,
                "Reference, current status, history and messages.",
                name::<SubmissionStatus>(),
            )],
            problems: vec![H400, H404, H500],
            staff: false,
        },
        Operation {
            method: "get",
            path: "/api/v1/tenants/{tenant}/submissions/{id}/receipt",
            id: "getReceipt",
            summary: "The signed PDF receipt",
            description: None,
            params: vec![
                tenant(),
                path("id", "The submission's secret id (32 hex digits)."),
            ],
            body: None,
            ok: vec![Ok {
                schema: json!({"type": "string", "format": "binary"}),
                ..ok_media(
                    "The receipt (PDF with an embedded CAdES signature).",
                    "application/pdf",
                )
            }],
            problems: vec![H400, H404, H500],
            staff: false,
        },
        Operation {
            method: "get",
            path: "/api/v1/tenants/{tenant}/payments/{id}",
            id: "getPayment",
            summary: "A payment",
            description: Some(
                "The payment of an application whose service is paid online before the office gets it (docs/payment.md): amount in whole cents, purpose with the Kassenzeichen, state, and once paid the method and the platform's transaction id.",
            ),
            params: vec![tenant(), path("id", "The payment's id (32 hex digits).")],
            body: None,
            ok: vec![ok(200, "The payment.", name::<PaymentOut>())],
            problems: vec![H400, ("404", "Unknown tenant or payment (LOT-H001)."), H500],
            staff: false,
        },
        Operation {
            method: "post",
            path: "/api/v1/tenants/{tenant}/payments/{id}/pay",
            id: "pay",
            summary: "Pay (again)",
            description: Some(
                "The open request's pay page again, or a new payment request after a cancelled or failed one; the answer's `links.pay_page` is where to send the citizen. Never a second payment for a paid application.",
            ),
            params: vec![tenant(), path("id", "The payment's id (32 hex digits).")],
            body: None,
            ok: vec![ok(
                200,
                "The payment, with the pay page when a request is open.",
                name::<PaymentOut>(),
            )],
            problems: vec![
                H400,
                ("404", "Unknown tenant or payment (LOT-H001)."),
                (
                    "409",
                    "Paid already; there is no second payment (LOT-H020, with the `payment`). Or the platform reported another amount than requested: not paid, the office clears it up, no second payment either (LOT-H023, with the `payment`).",
                ),
                (
                    "503",
                    "The payment platform cannot be reached now (LOT-H021); the application stays saved.",
                ),
                H500,
            ],
            staff: false,
        },
    ]
}

/// The introduction: what every operation shares.
pub(crate) fn description() -> String {
    format!(
        "The citizen-facing JSON API of Lotse: the same engine, store and rules as the HTML \
         assistant. This document is generated from the server's own types and handlers. The \
         secret application id in the path is the citizen's capability. Errors are RFC 9457 \
         problem details (`application/problem+json`) with stable codes (docs/errors.md). \
         Bodies must be application/json. The Postkorb API under /api/v1/verwaltung/{{tenant}} \
         is for staff: an API token (`Authorization: Bearer`) or the Postkorb's session cookie \
         (docs/administration.md). Problem `type` URIs such as `/probleme/LOT-H006` or \
         `/probleme/LOT-V006` resolve to a page of this portal that explains the code (German; \
         English with `?lang=en`). A problem's `title` and `detail` follow the language of the \
         request: the `lang` query parameter (`de`, `en`) or else Accept-Language; German by \
         default (the Postkorb's problems are German). Which fields a step shows and requires \
         depends on rhai conditions (`visible_if`, `required.when`) a client cannot evaluate: \
         POST the values typed so far to the step's `evaluate` link to get them; nothing is \
         saved. {NORMALISATION_DOC} {FORMATS_DOC} CORS: a front end on another origin may call \
         the citizen API from a browser when the portal's configuration names that origin \
         (`api.cors_origins`, none by default); preflights are answered for `GET`, `POST` and \
         `PUT` with `Content-Type` and `Accept-Language`, `Location` and `Content-Language` are \
         exposed, credentials are never allowed, and the Postkorb API is not opened to other \
         origins."
    )
}
