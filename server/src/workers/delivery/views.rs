//! Deliveries as the Postkorb shows them: status, filters, and sending one again.

#[allow(unused_imports)]
use super::*;

/// A delivery's state as the Postkorb shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Offen,
    /// An attempt is under way.
    Laeuft,
    Zugestellt,
    /// Given up; the office must fetch the submission otherwise.
    Fehlgeschlagen,
}

impl DeliveryStatus {
    pub fn label_de(self) -> &'static str {
        match self {
            DeliveryStatus::Offen => "offen",
            DeliveryStatus::Laeuft => "wird zugestellt",
            DeliveryStatus::Zugestellt => "zugestellt",
            DeliveryStatus::Fehlgeschlagen => "fehlgeschlagen",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            DeliveryStatus::Offen => "pending",
            DeliveryStatus::Laeuft => "in progress",
            DeliveryStatus::Zugestellt => "delivered",
            DeliveryStatus::Fehlgeschlagen => "failed",
        }
    }
}

/// Which deliveries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeliveryFilter {
    #[default]
    All,
    /// Not delivered yet, still being tried.
    Open,
    Delivered,
    Failed,
}

/// One delivery for the Postkorb: no personal data, only ids, states, times and error codes.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: u64,
    /// The submission delivered (its id, for a link to the detail view).
    pub submission: Option<String>,
    /// The webhook: `<tenant>/<workflow>` or `<tenant>/*`.
    pub target: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// When the next attempt is due (open deliveries only).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub failed_at: Option<OffsetDateTime>,
}

impl From<&OutboxMessage> for DeliveryView {
    fn from(m: &OutboxMessage) -> Self {
        let (status, next_attempt, delivered_at, failed_at) = match m.state {
            DeliveryState::Pending => (DeliveryStatus::Offen, Some(m.next_attempt), None, None),
            DeliveryState::Claimed { .. } => (DeliveryStatus::Laeuft, None, None, None),
            DeliveryState::Delivered { at } => (DeliveryStatus::Zugestellt, None, Some(at), None),
            DeliveryState::Failed { at } => (DeliveryStatus::Fehlgeschlagen, None, None, Some(at)),
        };
        DeliveryView {
            id: m.id,
            submission: m
                .payload
                .get("submission")
                .and_then(Value::as_str)
                .map(str::to_string),
            target: m.target.clone(),
            status,
            attempts: m.attempts,
            last_error: m.last_error.clone(),
            created: m.created,
            next_attempt,
            delivered_at,
            failed_at,
        }
    }
}

/// Up to `limit` deliveries of `tenant` matching `filter`, newest first; `before` is the id of
/// the last entry of the previous page. Only this tenant's deliveries, ever. Blocking.
pub fn deliveries(
    store: &impl Outbox,
    tenant: &TenantId,
    filter: DeliveryFilter,
    before: Option<u64>,
    limit: usize,
) -> Result<Vec<DeliveryView>, StoreError> {
    let keep = move |m: &OutboxMessage| match filter {
        DeliveryFilter::All => true,
        DeliveryFilter::Open => matches!(
            m.state,
            DeliveryState::Pending | DeliveryState::Claimed { .. }
        ),
        DeliveryFilter::Delivered => matches!(m.state, DeliveryState::Delivered { .. }),
        DeliveryFilter::Failed => matches!(m.state, DeliveryState::Failed { .. }),
    };
    Ok(store
        .tenant_outbox(tenant, before, limit, &keep)?
        .iter()
        .map(DeliveryView::from)
        .collect())
}

/// Sends a given-up delivery of `tenant` again (the Postkorb's "Erneut senden"): it is due at
/// once and gets one more attempt; a failure gives it up again at once, since its attempts and
/// age are already past the schedule. `Ok(false)` if the delivery is not given up or belongs to
/// another tenant (which learns nothing about it). Blocking. The caller records who did it in
/// the audit log.
pub fn redeliver(
    store: &impl Outbox,
    tenant: &TenantId,
    id: u64,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    match store.outbox_message(id)? {
        Some(m) if m.tenant.as_ref() == Some(tenant) => store.requeue(id, now),
        _ => Ok(false),
    }
}
