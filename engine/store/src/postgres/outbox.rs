//! [`Outbox`] on PostgreSQL: `due` and `finished` columns beside the record, claims with
//! `FOR UPDATE SKIP LOCKED`.

use sqlx::Row;
use time::{Duration, OffsetDateTime};

use super::{PgStore, db_err, json, record_text, to_i64, to_u64, v_current, version};
use crate::Outbox;
use crate::envelope::decode_parts;
use crate::error::StoreError;
use crate::ids::TenantId;
use crate::keys::OUTBOX;
use crate::model::{DeliveryState, NewOutboxMessage, OutboxMessage, new_outbox_message};

/// The stored record of a new, pending delivery (its id comes from the row; it is due `now`).
pub(super) fn outbox_record(
    tenant: Option<&TenantId>,
    message: NewOutboxMessage,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    json(
        OUTBOX,
        "(new)",
        &new_outbox_message(0, tenant, message, now),
    )
}

impl PgStore {
    fn update_outbox(
        &self,
        id: u64,
        change: impl FnOnce(&mut OutboxMessage),
    ) -> Result<(), StoreError> {
        let key = to_i64("outbox id", id)?;
        self.tx(async |tx| {
            let Some(row) = sqlx::query("SELECT v, record::text AS record FROM outbox WHERE id = $1 FOR UPDATE")
                .bind(key)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?
            else {
                return Err(StoreError::NotFound {
                    what: "outbox message",
                    key: id.to_string(),
                });
            };
            let mut msg: OutboxMessage =
                decode_parts(OUTBOX, &id.to_string(), version(&row)?, &record_text(&row)?)?;
            msg.id = id;
            change(&mut msg);
            let (due, finished) = outbox_columns(&msg);
            sqlx::query("UPDATE outbox SET due = $2, finished = $3, v = $4, record = $5::jsonb WHERE id = $1")
                .bind(key)
                .bind(due)
                .bind(finished)
                .bind(v_current())
                .bind(json(OUTBOX, &id.to_string(), &msg)?)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }
}

/// The `due` and `finished` columns of an outbox row, from its state.
pub(super) fn outbox_columns(
    m: &OutboxMessage,
) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
    match m.state {
        DeliveryState::Pending => (Some(m.next_attempt), None),
        DeliveryState::Claimed { lease_until } => (Some(lease_until), None),
        DeliveryState::Delivered { at } | DeliveryState::Failed { at } => (None, Some(at)),
    }
}

impl Outbox for PgStore {
    fn enqueue(
        &self,
        tenant: Option<&TenantId>,
        message: NewOutboxMessage,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let record = outbox_record(tenant, message, now)?;
        // One statement: its own transaction.
        self.run(async |pool| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO outbox (id, due, finished, v, record) \
                 VALUES (nextval('lotse_ids'), $1, NULL, $2, $3::jsonb) RETURNING id",
            )
            .bind(now)
            .bind(v_current())
            .bind(record)
            .fetch_one(&mut *pool)
            .await
            .map_err(db_err)?;
            Ok(to_u64(id))
        })
    }

    fn claim(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let lease_until = now + lease;
        self.tx(async |tx| {
            // SKIP LOCKED: nodes claiming at the same time get disjoint rows.
            let rows = sqlx::query(
                "SELECT id, v, record::text AS record FROM outbox WHERE due <= $1 \
                 ORDER BY due, id LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?;
            let mut claimed = Vec::with_capacity(rows.len());
            let (mut ids, mut records) = (Vec::new(), Vec::new());
            for r in &rows {
                let id: i64 = r.try_get("id").map_err(db_err)?;
                // An unreadable entry must not block the others.
                let Ok(mut msg) = decode_parts::<OutboxMessage>(
                    OUTBOX,
                    &id.to_string(),
                    version(r)?,
                    &record_text(r)?,
                ) else {
                    continue;
                };
                msg.id = to_u64(id);
                msg.state = DeliveryState::Claimed { lease_until };
                ids.push(id);
                records.push(json(OUTBOX, &id.to_string(), &msg)?);
                claimed.push(msg);
            }
            if !ids.is_empty() {
                sqlx::query(
                    "UPDATE outbox SET due = $1, v = $2, record = u.record::jsonb \
                     FROM UNNEST($3::bigint[], $4::text[]) AS u(id, record) WHERE outbox.id = u.id",
                )
                .bind(lease_until)
                .bind(v_current())
                .bind(ids)
                .bind(records)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            }
            Ok(claimed)
        })
    }

    fn mark_delivered(&self, id: u64, now: OffsetDateTime) -> Result<(), StoreError> {
        self.update_outbox(id, |m| {
            m.attempts = m.attempts.saturating_add(1);
            m.state = DeliveryState::Delivered { at: now };
        })
    }

    fn mark_failed(
        &self,
        id: u64,
        now: OffsetDateTime,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(500).collect();
        self.update_outbox(id, |m| {
            m.attempts = m.attempts.saturating_add(1);
            m.last_error = Some(error);
            match retry_at {
                Some(at) => {
                    m.next_attempt = at;
                    m.state = DeliveryState::Pending;
                }
                None => m.state = DeliveryState::Failed { at: now },
            }
        })
    }

    fn outbox_message(&self, id: u64) -> Result<Option<OutboxMessage>, StoreError> {
        let Ok(key) = i64::try_from(id) else {
            return Ok(None);
        };
        let row = self.run(async |pool| {
            sqlx::query("SELECT v, record::text AS record FROM outbox WHERE id = $1")
                .bind(key)
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| {
            let mut m: OutboxMessage =
                decode_parts(OUTBOX, &id.to_string(), version(&r)?, &record_text(&r)?)?;
            m.id = id;
            Ok(m)
        })
        .transpose()
    }

    fn outbox_backlog(&self, now: OffsetDateTime) -> Result<(u64, u64), StoreError> {
        let (due, waiting): (i64, i64) = self.run(async |pool| {
            sqlx::query_as(
                "SELECT count(*) FILTER (WHERE due <= $1), count(*) FILTER (WHERE due > $1) \
                 FROM outbox WHERE due IS NOT NULL",
            )
            .bind(now)
            .fetch_one(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        Ok((to_u64(due), to_u64(waiting)))
    }

    fn prune_outbox(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM outbox WHERE finished <= $1")
                .bind(before)
                .execute(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected())
    }

    fn requeue(&self, id: u64, now: OffsetDateTime) -> Result<bool, StoreError> {
        self.requeue_delivery(id, now)
    }

    fn tenant_outbox(
        &self,
        tenant: &TenantId,
        before: Option<u64>,
        limit: usize,
        keep: &dyn Fn(&OutboxMessage) -> bool,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        self.outbox_of_tenant(tenant, before, limit, keep)
    }
}
impl PgStore {
    /// [`crate::Outbox::requeue`]: a given-up delivery becomes due at `now`.
    pub(super) fn requeue_delivery(
        &self,
        id: u64,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let key = to_i64("outbox id", id)?;
        self.tx(async |tx| {
            let Some(row) = sqlx::query(
                "SELECT v, record::text AS record FROM outbox WHERE id = $1 FOR UPDATE",
            )
            .bind(key)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?
            else {
                return Err(StoreError::NotFound {
                    what: "outbox message",
                    key: id.to_string(),
                });
            };
            let mut msg: OutboxMessage =
                decode_parts(OUTBOX, &id.to_string(), version(&row)?, &record_text(&row)?)?;
            msg.id = id;
            if !matches!(msg.state, DeliveryState::Failed { .. }) {
                return Ok(false);
            }
            msg.state = DeliveryState::Pending;
            msg.next_attempt = now;
            let (due, finished) = outbox_columns(&msg);
            sqlx::query(
                "UPDATE outbox SET due = $2, finished = $3, v = $4, record = $5::jsonb WHERE id = $1",
            )
            .bind(key)
            .bind(due)
            .bind(finished)
            .bind(v_current())
            .bind(json(OUTBOX, &id.to_string(), &msg)?)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            Ok(true)
        })
    }

    /// [`crate::Outbox::tenant_outbox`]: the tenant's deliveries newest first, read in
    /// batches below `before` until `limit` pass `keep`.
    pub(super) fn outbox_of_tenant(
        &self,
        tenant: &TenantId,
        before: Option<u64>,
        limit: usize,
        keep: &dyn Fn(&OutboxMessage) -> bool,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        const BATCH: i64 = 200;
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        let mut below = match before {
            Some(id) => i64::try_from(id).unwrap_or(i64::MAX),
            None => i64::MAX,
        };
        loop {
            let rows = self.run(async |pool| {
                sqlx::query(
                    "SELECT id, v, record::text AS record FROM outbox \
                     WHERE record->'tenant'->>'slug' = $1 AND id < $2 \
                     ORDER BY id DESC LIMIT $3",
                )
                .bind(tenant.slug())
                .bind(below)
                .bind(BATCH)
                .fetch_all(&mut *pool)
                .await
                .map_err(db_err)
            })?;
            let last = rows.len() < BATCH as usize;
            for r in &rows {
                let id: i64 = r.try_get("id").map_err(db_err)?;
                below = id;
                // An unreadable entry must not hide the others.
                let Ok(mut msg) = decode_parts::<OutboxMessage>(
                    OUTBOX,
                    &id.to_string(),
                    version(r)?,
                    &record_text(r)?,
                ) else {
                    continue;
                };
                msg.id = u64::try_from(id).unwrap_or(0);
                if msg.tenant.as_ref() == Some(tenant) && keep(&msg) {
                    found.push(msg);
                    if found.len() >= limit {
                        return Ok(found);
                    }
                }
            }
            if last {
                return Ok(found);
            }
        }
    }
}
