//! The Postkorb API's part of the OpenAPI document (/api/v1/openapi.json): its operations and
//! the schemas of the types its handlers (admin/api.rs) read and write.

use serde_json::json;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::api::{
    AssignBody, FollowUpBody, MessageBody, PostkorbPage, StaffMember, StaffMessage, StaffNote,
    StatusBody,
};
use super::service::SubmissionView;
use crate::http::openapi::{Operation, Param, Part, ok, ok_media, path, query, tenant};

/// An error of the Postkorb API (RFC 9457): `LOT-V…` codes (docs/errors.md), or `LOT-H…` for
/// refusals before a handler runs (wrong method, body too large). The title is German, for
/// the case worker. Only the document uses this type; [`super::AdminError`] writes it.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(
    as = StaffProblem,
    description = "An error of the Postkorb API (RFC 9457): `LOT-V…` codes (docs/errors.md), or `LOT-H…` for refusals before a handler runs (wrong method, body too large). The title is German, for the case worker."
)]
pub(crate) struct StaffProblemDoc {
    /// `/probleme/{code}`: a page of this portal that explains the code.
    #[schema(format = "uri-reference")]
    r#type: String,
    title: String,
    status: u16,
    #[schema(pattern = "^LOT-[VH][0-9]{3}$")]
    code: String,
    detail: Option<String>,
    /// With LOT-V010: the id the log line `admin_request_failed` names with the cause.
    request_id: Option<String>,
}

/// The Postkorb API's part of the document.
pub(crate) fn part() -> Part {
    let mut schemas = Vec::new();
    add_schemas(&mut schemas);
    Part {
        operations: operations(),
        schemas,
        problem_schema: StaffProblemDoc::name().into_owned(),
    }
}

/// The schemas of the Postkorb API.
fn add_schemas(all: &mut Vec<(String, RefOr<Schema>)>) {
    macro_rules! add {
        ($($t:ty),* $(,)?) => {$(
            all.push((<$t as ToSchema>::name().into_owned(), <$t as utoipa::PartialSchema>::schema()));
            <$t as ToSchema>::schemas(all);
        )*};
    }
    add!(
        StaffProblemDoc,
        StaffMember<'static>,
        PostkorbPage,
        SubmissionView,
        StatusBody,
        MessageBody,
        StaffMessage,
        StaffNote,
        AssignBody,
        FollowUpBody,
    );
}

fn name<T: ToSchema>() -> String {
    T::name().into_owned()
}

fn submission() -> Param {
    path("id", "The submission's id (32 hex digits).")
}

/// The list's filters (the Postkorb's query string).
fn filters() -> Vec<Param> {
    let text = || json!({"type": "string"});
    vec![
        query(
            "status",
            "Only submissions in this status (code, e.g. `eingegangen`).",
            text(),
        ),
        query("leistung", "Only this service (workflow id).", text()),
        query(
            "von",
            "From this day (YYYY-MM-DD, Berlin time; 2000–9000).",
            text(),
        ),
        query("bis", "Up to this day, inclusive.", text()),
        query(
            "aktenzeichen",
            "A reference (`HEI-2026-000017`), year and number (`2026-17`) or the number alone (`17`).",
            text(),
        ),
        query(
            "suche",
            "Words of the applicant's name or of any answer; each must begin a word of the submission (case and umlauts do not matter).",
            text(),
        ),
        query(
            "zustaendig",
            "`mir` (the account behind the request) or a staff account id: the cases assigned to them.",
            text(),
        ),
        query(
            "faellig",
            "`1`: only open cases whose follow-up date is today or past (Berlin time).",
            json!({"type": "string", "enum": ["0", "1"]}),
        ),
        query(
            "seite",
            "Page, from 1.",
            json!({"type": "integer", "minimum": 1}),
        ),
        query(
            "pro_seite",
            "Entries per page.",
            json!({"type": "integer", "minimum": 1}),
        ),
    ]
}

const V401: (&str, &str) = (
    "401",
    "Not signed in: no, an unknown, expired or revoked token or session, or a disabled account (LOT-V001).",
);
const V403: (&str, &str) = (
    "403",
    "The role does not allow this (LOT-V004), or the account belongs to another tenant (LOT-V005).",
);
const V404: (&str, &str) = ("404", "Unknown tenant or submission (LOT-V006).");
const V422: (&str, &str) = ("422", "Invalid filters, id or body (LOT-V008).");
const DEFAULT: (&str, &str) = ("default", "Any other error (problem+json; docs/errors.md).");

fn problems() -> Vec<(&'static str, &'static str)> {
    vec![V401, V403, V404, V422, DEFAULT]
}

#[allow(clippy::too_many_arguments)]
fn op(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    params: Vec<Param>,
    body: Option<String>,
    ok: crate::http::openapi::Ok,
    extra: Option<(&'static str, &'static str)>,
) -> Operation {
    let mut problems = problems();
    problems.extend(extra);
    Operation {
        method,
        path,
        id,
        summary,
        description: None,
        params,
        body: body.map(|b| (b, true)),
        ok: vec![ok],
        problems,
        staff: true,
    }
}

/// The Postkorb API's operations.
fn operations() -> Vec<Operation> {
    let one = || vec![tenant(), submission()];
    let with_filters = || {
        let mut p = vec![tenant()];
        p.extend(filters());
        p
    };
    let changed = || {
        ok(
            200,
            "The submission after the change.",
            name::<SubmissionView>(),
        )
    };
    vec![
        op(
            "get",
            "/api/v1/verwaltung/{tenant}/ich",
            "getStaffMember",
            "The signed-in staff member",
            vec![tenant()],
            None,
            ok(
                200,
                "Who is asking, with role and permissions.",
                name::<StaffMember>(),
            ),
            None,
        ),
        Operation {
            description: Some(
                "For case workers and tenant administrators; a form designer gets 403.",
            ),
            ..op(
                "get",
                "/api/v1/verwaltung/{tenant}/antraege",
                "listPostkorb",
                "The Postkorb: the tenant's submissions",
                with_filters(),
                None,
                ok(
                    200,
                    "One page of submissions, newest first, with counts per status.",
                    name::<PostkorbPage>(),
                ),
                None,
            )
        },
        op(
            "get",
            "/api/v1/verwaltung/{tenant}/antraege/{id}",
            "getPostkorbSubmission",
            "One submission",
            one(),
            None,
            ok(
                200,
                "The submission with answers, history, messages, receipt check and deliveries.",
                name::<SubmissionView>(),
            ),
            None,
        ),
        op(
            "post",
            "/api/v1/verwaltung/{tenant}/antraege/{id}/status",
            "changePostkorbStatus",
            "Change a submission's status",
            one(),
            Some(name::<StatusBody>()),
            changed(),
            Some((
                "409",
                "This status change is not allowed from the current status (LOT-V007).",
            )),
        ),
        op(
            "post",
            "/api/v1/verwaltung/{tenant}/antraege/{id}/nachrichten",
            "postPostkorbMessage",
            "Write to the citizen",
            one(),
            Some(name::<MessageBody>()),
            ok(201, "The message as stored.", name::<StaffMessage>()),
            None,
        ),
        op(
            "post",
            "/api/v1/verwaltung/{tenant}/antraege/{id}/zuweisung",
            "postPostkorbAssignment",
            "Assign the case (to me, a colleague, or nobody)",
            one(),
            Some(name::<AssignBody>()),
            changed(),
            None,
        ),
        op(
            "post",
            "/api/v1/verwaltung/{tenant}/antraege/{id}/notizen",
            "postPostkorbNote",
            "Add an internal note (never shown to the citizen)",
            one(),
            Some(name::<MessageBody>()),
            ok(201, "The note as stored.", name::<StaffNote>()),
            None,
        ),
        op(
            "post",
            "/api/v1/verwaltung/{tenant}/antraege/{id}/wiedervorlage",
            "postPostkorbFollowUp",
            "Set or remove the follow-up date (Wiedervorlage)",
            one(),
            Some(name::<FollowUpBody>()),
            changed(),
            None,
        ),
        op(
            "get",
            "/api/v1/verwaltung/{tenant}/antraege/{id}/quittung.pdf",
            "getPostkorbReceipt",
            "The submission's signed receipt",
            one(),
            None,
            crate::http::openapi::Ok {
                schema: json!({"type": "string", "format": "binary"}),
                ..ok_media(
                    "The receipt (PDF with an embedded CAdES signature).",
                    "application/pdf",
                )
            },
            None,
        ),
        op(
            "get",
            "/api/v1/verwaltung/{tenant}/export.jsonl",
            "exportPostkorbJsonl",
            "Export the selection as JSON Lines",
            with_filters(),
            None,
            ok_media(
                "One submission per line (recorded in the audit log).",
                "application/x-ndjson",
            ),
            None,
        ),
        op(
            "get",
            "/api/v1/verwaltung/{tenant}/export.csv",
            "exportPostkorbCsv",
            "Export the selection as CSV",
            with_filters(),
            None,
            ok_media(
                "One submission per row; cells that a spreadsheet would run as a formula are defused (recorded in the audit log).",
                "text/csv",
            ),
            None,
        ),
    ]
}
