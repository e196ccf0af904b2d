//! [`VisitStore`] on PostgreSQL: a hold locks its office's day row (`visit_days`, made on first
//! use), counts that day's visits and inserts its own in the same transaction, so two nodes
//! never give away the same counter.

use time::{Date, OffsetDateTime};

use super::outbox::outbox_record;
use super::{PgStore, Tx, db_err, json, record_text, v_current, version};
use crate::VisitStore;
use crate::envelope::decode_parts;
use crate::error::StoreError;
use crate::ids::{BookingId, TenantId};
use crate::keys::VISITS;
use crate::model::NewOutboxMessage;
use crate::visits::{NewVisit, Visit, VisitTime, busiest};

fn decode_visit(row: &sqlx::postgres::PgRow) -> Result<Visit, StoreError> {
    decode_parts(VISITS, "visit", version(row)?, &record_text(row)?)
}

async fn day_visits(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    office: &str,
    day: Date,
) -> Result<Vec<Visit>, StoreError> {
    let rows = sqlx::query(
        "SELECT v, record::text AS record FROM visits WHERE tenant = $1 AND office = $2 AND day = $3",
    )
    .bind(tenant.slug())
    .bind(office)
    .bind(day)
    .fetch_all(&mut **tx)
    .await
    .map_err(db_err)?;
    rows.iter().map(decode_visit).collect()
}

/// Locks the row of `tenant`'s `office` on `day` (made on first use): holds and moves of one
/// office and day count its visits one transaction at a time, on every node.
async fn lock_day(
    tx: &mut Tx<'_>,
    tenant: &TenantId,
    office: &str,
    day: Date,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO visit_days (tenant, office, day) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.slug())
    .bind(office)
    .bind(day)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    sqlx::query(
        "SELECT 1 FROM visit_days WHERE tenant = $1 AND office = $2 AND day = $3 FOR UPDATE",
    )
    .bind(tenant.slug())
    .bind(office)
    .bind(day)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The visit with this id, its row locked until the transaction ends; `NotFound` if none.
async fn lock_visit(tx: &mut Tx<'_>, id: &BookingId) -> Result<Visit, StoreError> {
    let row = sqlx::query("SELECT v, record::text AS record FROM visits WHERE id = $1 FOR UPDATE")
        .bind(&id.as_bytes()[..])
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound {
            what: "visit",
            key: id.to_string(),
        })?;
    decode_visit(&row)
}

/// Enqueues a visit's notifications in the transaction that changes it.
async fn enqueue(
    tx: &mut Tx<'_>,
    v: &Visit,
    notifications: &[NewOutboxMessage],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    for n in notifications {
        sqlx::query(
            "INSERT INTO outbox (id, due, finished, v, record) \
             VALUES (nextval('lotse_ids'), $1, NULL, $2, $3::jsonb)",
        )
        .bind(now)
        .bind(v_current())
        .bind(outbox_record(Some(&v.tenant), n.clone(), now)?)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

impl PgStore {
    /// Changes a visit under its day's lock, if `change` allows it, with its notifications.
    fn change_visit(
        &self,
        id: &BookingId,
        notifications: Vec<NewOutboxMessage>,
        now: OffsetDateTime,
        change: impl Fn(&mut Visit) -> Result<(), StoreError>,
    ) -> Result<Visit, StoreError> {
        self.tx(async |tx| {
            let mut v = lock_visit(tx, id).await?;
            change(&mut v)?;
            v.changed = Some(now);
            sqlx::query("UPDATE visits SET v = $2, record = $3::jsonb WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .bind(v_current())
                .bind(json(VISITS, &id.to_string(), &v)?)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            enqueue(tx, &v, &notifications, now).await?;
            Ok(v)
        })
    }
}

impl VisitStore for PgStore {
    fn hold_visit(
        &self,
        new: NewVisit,
        counters: u32,
        now: OffsetDateTime,
    ) -> Result<Visit, StoreError> {
        if new.end <= new.start {
            return Err(StoreError::InvalidInput(
                "a visit ends after it starts".into(),
            ));
        }
        let visit = Visit::new(new, now);
        self.tx(async |tx| {
            lock_day(tx, &visit.tenant, &visit.office, visit.day).await?;
            let visits = day_visits(tx, &visit.tenant, &visit.office, visit.day).await?;
            if busiest(&visits, visit.start, visit.end, now) >= counters {
                return Err(StoreError::SlotTaken);
            }
            sqlx::query(
                "INSERT INTO visits (id, tenant, office, day, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            )
            .bind(&visit.id.as_bytes()[..])
            .bind(visit.tenant.slug())
            .bind(&visit.office)
            .bind(visit.day)
            .bind(v_current())
            .bind(json(VISITS, &visit.id.to_string(), &visit)?)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
            Ok(())
        })?;
        Ok(visit)
    }

    fn confirm_visit(
        &self,
        id: &BookingId,
        name: String,
        email: String,
        notifications: Vec<NewOutboxMessage>,
        now: OffsetDateTime,
    ) -> Result<Visit, StoreError> {
        self.change_visit(id, notifications, now, |v| v.confirm(&name, &email, now))
    }

    fn cancel_visit(&self, id: &BookingId, now: OffsetDateTime) -> Result<Visit, StoreError> {
        self.change_visit(id, Vec::new(), now, Visit::cancel)
    }

    fn mark_visit(
        &self,
        id: &BookingId,
        attended: bool,
        now: OffsetDateTime,
    ) -> Result<Visit, StoreError> {
        self.change_visit(id, Vec::new(), now, |v| v.mark(attended))
    }

    fn move_visit(
        &self,
        id: &BookingId,
        to: VisitTime,
        counters: u32,
        notifications: Vec<NewOutboxMessage>,
        now: OffsetDateTime,
    ) -> Result<Visit, StoreError> {
        self.tx(async |tx| {
            // The visit's row first, then both days' rows in date order: a move never waits
            // for a lock that a move the other way holds.
            let mut v = lock_visit(tx, id).await?;
            let days = [v.day.min(to.day), v.day.max(to.day)];
            v.move_to(to)?;
            v.changed = Some(now);
            for day in days {
                lock_day(tx, &v.tenant, &v.office, day).await?;
            }
            let others: Vec<Visit> = day_visits(tx, &v.tenant, &v.office, to.day)
                .await?
                .into_iter()
                .filter(|x| x.id != *id)
                .collect();
            if busiest(&others, to.start, to.end, now) >= counters {
                return Err(StoreError::SlotTaken);
            }
            sqlx::query("UPDATE visits SET day = $2, v = $3, record = $4::jsonb WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .bind(to.day)
                .bind(v_current())
                .bind(json(VISITS, &id.to_string(), &v)?)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            enqueue(tx, &v, &notifications, now).await?;
            Ok(v)
        })
    }

    fn remind_visit(
        &self,
        id: &BookingId,
        notifications: Vec<NewOutboxMessage>,
        now: OffsetDateTime,
    ) -> Result<Visit, StoreError> {
        self.change_visit(id, notifications, now, |v| v.remind(now))
    }

    fn visits_between(&self, from: Date, to: Date) -> Result<Vec<Visit>, StoreError> {
        let rows = self.run(async |pool| {
            sqlx::query("SELECT v, record::text AS record FROM visits WHERE day BETWEEN $1 AND $2")
                .bind(from)
                .bind(to)
                .fetch_all(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        rows.iter().map(decode_visit).collect()
    }

    fn visit(&self, id: &BookingId) -> Result<Option<Visit>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT v, record::text AS record FROM visits WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        row.as_ref().map(decode_visit).transpose()
    }

    fn visits_on(
        &self,
        tenant: &TenantId,
        office: &str,
        day: Date,
    ) -> Result<Vec<Visit>, StoreError> {
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT v, record::text AS record FROM visits \
                 WHERE tenant = $1 AND office = $2 AND day = $3",
            )
            .bind(tenant.slug())
            .bind(office)
            .bind(day)
            .fetch_all(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        let mut visits: Vec<Visit> = rows.iter().map(decode_visit).collect::<Result<_, _>>()?;
        visits.sort_by_key(|v| (v.start, v.created));
        Ok(visits)
    }
}
