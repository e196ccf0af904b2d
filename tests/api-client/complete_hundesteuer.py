"""A front end that knows only the OpenAPI document: with the client that openapi-python-client
generated from /api/v1/openapi.json (package `lotse_client`, made by .ci/run), start a
Hundesteuer application in Heinsberg, ask the server which fields each step shows, answer every
step, submit at the review and read the submission. Exits non-zero on the first surprise.

Usage: LOTSE_URL=http://127.0.0.1:18080 python complete_hundesteuer.py
"""

import os
import sys

from lotse_client import Client
from lotse_client.api.default import (
    answer_step,
    evaluate_step,
    get_application,
    get_service,
    get_submission,
    list_lebenslagen,
    start_application,
    submit,
)
from lotse_client.models import (
    AnswerBody,
    AnswerBodyValues,
    ApplicationState,
    EvaluateBody,
    EvaluateBodyValues,
    Evaluation,
    LebenslageList,
    Problem,
    Service,
    StartBody,
    SubmissionCreated,
    SubmissionStatus,
    SubmitBody,
)
from lotse_client.models.start_body_lang import StartBodyLang

TENANT = "heinsberg"
SERVICE = "hundesteuer-anmeldung"

# What a citizen types, step by step (German dates and "nein" as typed into a form: the
# server normalises them, as the document says).
ANSWERS = {
    "halter": {
        "halter": {"anrede": "Frau", "vorname": "Anna", "nachname": "Schmitz", "geburtsdatum": "12.04.1985"},
        "anschrift": {"strasse": "Valkenburger Straße", "hausnummer": "45", "plz": "52525", "ort": "Heinsberg"},
        "kontakt": {"email": "anna@example.org"},
    },
    "hunde": {"hunde": [{"name": "Bello", "rasse": "Labrador", "geburtsdatum": "2022-03-01", "kategorie": "normal"}]},
    "beginn": {"haltungsbeginn": "01.11.2026", "zuzug": "nein"},
    "ermaessigung": {"ermaessigung": "nein"},
    "zahlung": {"lastschrift": "nein"},
}


def check(ok, what):
    if not ok:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def main():
    client = Client(base_url=os.environ.get("LOTSE_URL", "http://127.0.0.1:8080"), raise_on_unexpected_status=True)

    lagen = list_lebenslagen.sync(tenant=TENANT, client=client)
    check(isinstance(lagen, LebenslageList), "the Lebenslagen are listed")
    check(any(l.id == "haustiere" and l.services > 0 for l in lagen.lebenslagen), "Haustiere has services")

    service = get_service.sync(tenant=TENANT, service=SERVICE, client=client)
    check(isinstance(service, Service), "the service is read")
    check(any(s.conditional for s in service.steps), "some step is conditional")
    declaration = [d.id for d in service.declaration]

    state = start_application.sync(tenant=TENANT, service=SERVICE, client=client, body=StartBody(lang=StartBodyLang.DE))
    check(isinstance(state, ApplicationState), "an application is started")
    app_id = state.id

    for _ in range(20):
        if state.position.value != "step":
            break
        step = state.step.id
        values = ANSWERS[step]
        shown = evaluate_step.sync(
            tenant=TENANT, id=app_id, step=step, client=client,
            body=EvaluateBody(values=EvaluateBodyValues.from_dict(values)),
        )
        check(isinstance(shown, Evaluation), f"step {step}: the server tells which fields show")
        hidden = [f.id for f in shown.fields if not f.visible]
        missing = [f.id for f in shown.fields if f.required and f.id not in values]
        check(not missing, f"step {step}: every required field is answered (hidden: {hidden})")
        answered = answer_step.sync(
            tenant=TENANT, id=app_id, step=step, client=client,
            body=AnswerBody(revision=state.revision, values=AnswerBodyValues.from_dict(values)),
        )
        if isinstance(answered, Problem):
            check(False, f"step {step} accepted: {answered.to_dict()}")
        state = answered
    check(state.position.value == "review", "every step answered, the review is reached")
    check(state.links.submit is not None, "the review links to submit")

    created = submit.sync(
        tenant=TENANT, id=app_id, client=client,
        body=SubmitBody(revision=state.revision, declaration=declaration),
    )
    check(isinstance(created, SubmissionCreated), "the application is submitted")
    print(f"reference: {created.reference}")

    after = get_application.sync(tenant=TENANT, id=app_id, client=client)
    check(isinstance(after, ApplicationState) and after.position.value == "submitted", "reading it again shows it submitted")
    status = get_submission.sync(tenant=TENANT, id=created.id, client=client)
    check(isinstance(status, SubmissionStatus) and status.reference == created.reference, "the submission's status is read")
    print("generated client: 1 passed, 0 failed")


if __name__ == "__main__":
    main()
