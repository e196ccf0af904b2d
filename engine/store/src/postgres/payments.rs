//! [`PaymentStore`] on PostgreSQL: the `payments` table, one row per application (tenant and
//! submit key unique), saved with a revision check in one UPDATE. Commits are synchronous:
//! a payment is durable when the call returns.

use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::{PgStore, db_err, json, record_text, to_i64, v_current, version};
use crate::PaymentStore;
use crate::envelope::decode_parts;
use crate::error::StoreError;
use crate::ids::{IdempotencyKey, PaymentId, TenantId};
use crate::keys::PAYMENTS;
use crate::payments::Payment;

fn decode_payment(row: &PgRow) -> Result<Payment, StoreError> {
    let id: Vec<u8> = row.try_get("id").map_err(db_err)?;
    decode_parts(
        PAYMENTS,
        &crate::ids::hex(&id),
        version(row)?,
        &record_text(row)?,
    )
}

impl PaymentStore for PgStore {
    fn create_payment(&self, payment: &Payment) -> Result<Payment, StoreError> {
        let record = json(PAYMENTS, &payment.id.to_string(), payment)?;
        let revision = to_i64("revision", payment.revision)?;
        self.run(async |pool| {
            let inserted = sqlx::query(
                "INSERT INTO payments (id, tenant, key, revision, open, updated, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) \
                 ON CONFLICT (tenant, key) DO NOTHING",
            )
            .bind(&payment.id.as_bytes()[..])
            .bind(payment.tenant.slug())
            .bind(payment.key.as_str())
            .bind(revision)
            .bind(payment.open)
            .bind(payment.updated)
            .bind(v_current())
            .bind(record)
            .execute(&mut *pool)
            .await
            .map_err(db_err)?;
            if inserted.rows_affected() == 1 {
                return Ok(payment.clone());
            }
            let row = sqlx::query(
                "SELECT id, v, record::text AS record FROM payments WHERE tenant = $1 AND key = $2",
            )
            .bind(payment.tenant.slug())
            .bind(payment.key.as_str())
            .fetch_one(&mut *pool)
            .await
            .map_err(db_err)?;
            decode_payment(&row)
        })
    }

    fn payment(&self, id: &PaymentId) -> Result<Option<Payment>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT id, v, record::text AS record FROM payments WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        row.as_ref().map(decode_payment).transpose()
    }

    fn payment_by_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<Option<Payment>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query(
                "SELECT id, v, record::text AS record FROM payments WHERE tenant = $1 AND key = $2",
            )
            .bind(tenant.slug())
            .bind(key.as_str())
            .fetch_optional(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        row.as_ref().map(decode_payment).transpose()
    }

    fn save_payment(
        &self,
        mut payment: Payment,
        expected_revision: u64,
    ) -> Result<Result<Payment, Payment>, StoreError> {
        let Some(current) = self.payment(&payment.id)? else {
            return Err(StoreError::NotFound {
                what: "payment",
                key: payment.id.to_string(),
            });
        };
        if current.revision != expected_revision {
            return Ok(Err(current));
        }
        payment.tenant = current.tenant.clone();
        payment.key = current.key.clone();
        payment.created = current.created;
        payment.revision = expected_revision + 1;
        let record = json(PAYMENTS, &payment.id.to_string(), &payment)?;
        let (expected, next) = (
            to_i64("revision", expected_revision)?,
            to_i64("revision", payment.revision)?,
        );
        let updated = self.run(async |pool| {
            sqlx::query(
                "UPDATE payments SET revision = $3, open = $4, updated = $5, v = $6, \
                 record = $7::jsonb WHERE id = $1 AND revision = $2",
            )
            .bind(&payment.id.as_bytes()[..])
            .bind(expected)
            .bind(next)
            .bind(payment.open)
            .bind(payment.updated)
            .bind(v_current())
            .bind(record)
            .execute(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        if updated.rows_affected() == 1 {
            return Ok(Ok(payment));
        }
        match self.payment(&payment.id)? {
            Some(now) => Ok(Err(now)),
            None => Err(StoreError::NotFound {
                what: "payment",
                key: payment.id.to_string(),
            }),
        }
    }

    fn open_payments(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Payment>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT id, v, record::text AS record FROM payments \
                 WHERE open AND updated <= $1 ORDER BY updated LIMIT $2",
            )
            .bind(before)
            .bind(limit)
            .fetch_all(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        rows.iter().map(decode_payment).collect()
    }
}
