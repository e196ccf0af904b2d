//! [`PaymentStore`] on sled: the `payments` tree (id → payment) and `payment_keys` (tenant and
//! submit key → id), written in one transaction and flushed before the call returns.

use sled::Transactional;
use time::OffsetDateTime;

use super::{SledStore, tx_err};
use crate::PaymentStore;
use crate::envelope::{decode, encode};
use crate::error::StoreError;
use crate::ids::{IdempotencyKey, PaymentId, TenantId};
use crate::keys::{PAYMENT_KEYS, PAYMENTS};
use crate::payments::{Payment, payment_key};

impl PaymentStore for SledStore {
    fn create_payment(&self, payment: &Payment) -> Result<Payment, StoreError> {
        let i = &self.inner;
        let index = payment_key(&payment.tenant, &payment.key);
        let id = *payment.id.as_bytes();
        let bytes = encode(PAYMENTS, &id, payment)?;
        let stored = (&i.payments, &i.payment_keys)
            .transaction(|(payments, keys)| {
                if let Some(first) = keys.get(&index)? {
                    let Some(record) = payments.get(&first)? else {
                        return Err(tx_err(StoreError::Corrupt {
                            tree: PAYMENT_KEYS,
                            key: payment.key.as_str().to_owned(),
                            reason: "names a payment that is not stored".into(),
                        }));
                    };
                    return decode::<Payment>(PAYMENTS, &first, &record).map_err(tx_err);
                }
                if payments.get(id)?.is_some() {
                    return Err(tx_err(StoreError::AlreadyExists {
                        what: "payment",
                        key: payment.id.to_string(),
                    }));
                }
                payments.insert(&id, bytes.clone())?;
                keys.insert(index.clone(), &id)?;
                Ok(payment.clone())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Abort(e) => e,
                sled::transaction::TransactionError::Storage(e) => e.into(),
            })?;
        self.flush()?;
        Ok(stored)
    }

    fn payment(&self, id: &PaymentId) -> Result<Option<Payment>, StoreError> {
        let key = id.as_bytes();
        match self.inner.payments.get(key)? {
            Some(b) => Ok(Some(decode(PAYMENTS, key, &b)?)),
            None => Ok(None),
        }
    }

    fn payment_by_key(
        &self,
        tenant: &TenantId,
        key: &IdempotencyKey,
    ) -> Result<Option<Payment>, StoreError> {
        let Some(id) = self.inner.payment_keys.get(payment_key(tenant, key))? else {
            return Ok(None);
        };
        match self.inner.payments.get(&id)? {
            Some(b) => Ok(Some(decode(PAYMENTS, &id, &b)?)),
            None => Ok(None),
        }
    }

    fn save_payment(
        &self,
        mut payment: Payment,
        expected_revision: u64,
    ) -> Result<Result<Payment, Payment>, StoreError> {
        let key = *payment.id.as_bytes();
        let Some(current_bytes) = self.inner.payments.get(key)? else {
            return Err(StoreError::NotFound {
                what: "payment",
                key: payment.id.to_string(),
            });
        };
        let current: Payment = decode(PAYMENTS, &key, &current_bytes)?;
        if current.revision != expected_revision {
            return Ok(Err(current));
        }
        payment.tenant = current.tenant.clone();
        payment.key = current.key.clone();
        payment.created = current.created;
        payment.revision = expected_revision + 1;
        let bytes = encode(PAYMENTS, &key, &payment)?;
        match self
            .inner
            .payments
            .compare_and_swap(key, Some(current_bytes), Some(bytes))?
        {
            Ok(()) => {
                self.flush()?;
                Ok(Ok(payment))
            }
            Err(lost) => match lost.current {
                Some(now) => Ok(Err(decode(PAYMENTS, &key, &now)?)),
                None => Err(StoreError::NotFound {
                    what: "payment",
                    key: payment.id.to_string(),
                }),
            },
        }
    }

    fn open_payments(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Payment>, StoreError> {
        // A scan: payments stay few (one per paying application, most settled within minutes).
        let mut open = Vec::new();
        for entry in self.inner.payments.iter() {
            let (k, v) = entry?;
            let p: Payment = decode(PAYMENTS, &k, &v)?;
            if p.open && p.updated <= before {
                open.push(p);
            }
        }
        open.sort_by_key(|p| p.updated);
        open.truncate(limit);
        Ok(open)
    }
}
