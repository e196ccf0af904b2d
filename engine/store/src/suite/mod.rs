//! The shared store test suite: every case is a generic function over [`Store`], and
//! [`store_suite!`] runs all of them against one backend's factory. A new backend adds one
//! `store_suite!` line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;

pub(crate) const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

pub(crate) fn tenant() -> TenantId {
    TenantId::new("heinsberg", "HEI").unwrap()
}

pub(crate) fn new_draft(e: &mut DeterministicEntropy, now: OffsetDateTime) -> Draft {
    Draft::new(
        e,
        tenant(),
        "wohngeld",
        "3",
        json!({"step": "start", "answers": {"name": "Erika Mustermann"}}),
        now,
        DEFAULT_DRAFT_TTL,
    )
    .unwrap()
}

pub(crate) fn new_submission(e: &mut DeterministicEntropy, key: &str) -> NewSubmission {
    NewSubmission {
        id: SubmissionId::generate(e).unwrap(),
        tenant: tenant(),
        idempotency_key: IdempotencyKey::try_from(key.to_owned()).unwrap(),
        draft_id: None,
        workflow_id: "wohngeld".into(),
        workflow_version: "3".into(),
        data: json!({"name": "Erika Mustermann", "betrag": 12.5}),
        applicant: None,
        search_text: String::new(),
        notifications: vec![],
    }
}

fn office() -> Actor {
    Actor::Office {
        account: "acct-17".into(),
    }
}

fn change(status: Status, at: OffsetDateTime) -> StatusChange {
    StatusChange {
        status,
        at,
        actor: office(),
        note: None,
    }
}

mod accounts;
mod attachments;
mod cases;
mod drafts;
mod login;
mod outbox;
mod payments;
mod search;
mod shared;
mod status;
mod submissions;
mod visits;

pub(crate) use accounts::*;
pub(crate) use attachments::*;
pub(crate) use cases::*;
pub(crate) use drafts::*;
pub(crate) use login::*;
pub(crate) use outbox::*;
pub(crate) use payments::*;
pub(crate) use search::*;
pub(crate) use shared::*;
pub(crate) use status::*;
pub(crate) use submissions::*;
pub(crate) use visits::*;

/// The traits stay object-safe: a server may hold `Box<dyn AccountStore>` for any backend.
#[allow(dead_code)]
fn traits_are_object_safe(_: &dyn AccountStore, _: &dyn SubmissionStore, _: &dyn StatusStore) {}

/// Runs every shared case against a backend. `$make` returns `(store, guard)`; the guard (for
/// example a temporary directory) lives as long as the case.
macro_rules! store_suite {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;
            store_suite!(@cases $make;
                draft_round_trips_and_saves_bump_the_revision,
                a_draft_is_read_with_the_submission_of_its_submit_key,
                stale_revision_is_a_conflict_with_the_current_draft,
                concurrent_saves_of_one_revision_let_exactly_one_win,
                resume_code_finds_the_draft_and_wrong_codes_are_limited,
                sweep_deletes_only_expired_drafts,
                submissions_get_consecutive_references_per_tenant_and_year,
                repeated_submit_returns_the_first_submission,
                a_submission_is_found_by_its_idempotency_key_in_its_tenant_only,
                concurrent_repeats_of_one_submit_yield_one_submission,
                concurrent_submitters_never_share_a_reference,
                status_history_follows_the_status_model,
                a_status_change_enqueues_its_messages_in_the_same_transaction,
                messages_are_kept_in_order,
                audit_log_records_who_what_when_without_personal_data,
                outbox_claims_once_and_counts_attempts,
                tenant_outbox_lists_only_that_tenants_deliveries_newest_first,
                purge_removes_only_long_closed_submissions_and_keeps_references_used,
                accounts_have_unique_logins_per_tenant,
                sessions_are_found_by_hash_and_end,
                api_tokens_are_found_by_hash_and_revoked_per_tenant,
                postkorb_filters_pages_and_counts_per_status,
                postkorb_lists_applicants_and_finds_them_by_name_or_answer,
                reference_search_finds_by_number_year_or_whole_reference,
                assignment_filters_and_counts_the_postkorb,
                follow_up_dates_list_what_is_due,
                notes_are_internal_audited_without_text_and_purged,
                counters_agree_with_the_entries_after_every_change,
                a_batch_submits_like_one_by_one_and_refuses_a_taken_key,
                a_blob_keeps_its_first_bytes_until_it_is_deleted,
                a_receipt_needs_its_submission,
                a_receipt_and_a_draft_mark_are_kept_in_one_call,
                concurrent_puts_of_one_blob_keep_exactly_one,
                a_secret_is_the_first_one_stored_even_when_callers_race,
                a_search_of_common_words_pages_through_every_match_and_caps_its_count,
                search_keeps_tenants_apart,
                fifty_clients_racing_for_the_last_counter_get_exactly_one_visit,
                a_hold_frees_itself_and_a_confirmed_visit_keeps_its_counter,
                a_visit_moves_only_to_a_free_time_and_frees_its_old_one,
                an_attachment_is_kept_once_checked_by_its_hash_and_streamed_back,
                concurrent_puts_of_one_attachment_keep_exactly_one,
                unreferenced_attachments_are_swept_after_their_grace_period,
                storing_an_attachment_again_starts_a_new_grace_period,
                a_reminder_is_noted_once_with_its_mail,
                one_payment_per_application_and_the_first_one_counts,
                payment_saves_compare_revisions_and_only_one_concurrent_save_wins,
                open_payments_are_listed_oldest_first_until_they_are_closed,
                citizen_sessions_are_found_by_hash_end_and_expire,
                a_pending_sign_in_is_taken_once_and_assertions_are_used_once,
                a_logout_index_is_replaced_by_a_newer_session_and_taken_once,
                a_citizens_drafts_are_listed_across_tenants_once_each,
                links_go_when_their_draft_and_submission_are_both_gone,
            );
        }
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                // `None`: the backend is not available here and the factory said so loudly.
                let Some((store, _guard)) = $make else { return };
                super::$case(&store);
            }
        )*
    };
}

pub(crate) fn sled_store() -> (SledStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("db")).unwrap();
    (store, dir)
}

store_suite!(sled, Some(sled_store()));

/// A PgStore on a fresh database, `None` (skip) without PostgreSQL; fails when
/// `LOTSE_REQUIRE_POSTGRES=1` and there is none.
#[cfg(feature = "postgres")]
pub(crate) fn pg_store() -> Option<(PgStore, String)> {
    let url = pg_testing::test_database().unwrap()?;
    let store = PgStore::connect(&PgOptions::new(url.clone())).unwrap();
    Some((store, url))
}

#[cfg(feature = "postgres")]
store_suite!(postgres, pg_store());

#[cfg(feature = "postgres")]
mod postgres_only;

// Backend-specific behaviour of sled: format envelope, corruption, export/import, reopening.
pub(crate) mod sled_only;
