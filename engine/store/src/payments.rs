//! Payments an application waits for before it reaches the office (`payment:` in a workflow):
//! one record per application, found by id (the citizen's pay links) and by the application's
//! submit key (a double click, a crash between storing and answering). The application service
//! keeps what it needs in `data` (the pending submission, the platform's answers); the store only
//! knows whether the reconciliation job must still look at it (`open`).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::ids::{IdempotencyKey, PaymentId, TenantId};

/// One application's payment.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: PaymentId,
    pub tenant: TenantId,
    /// The application's submit key: at most one payment per application.
    pub key: IdempotencyKey,
    /// Bumped by every save ([`crate::PaymentStore::save_payment`] compares it).
    pub revision: u64,
    /// Whether the reconciliation job still has to ask the platform (requested and not final,
    /// or paid and not yet handed to the office).
    pub open: bool,
    /// The application service's record, opaque to the store.
    pub data: Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: OffsetDateTime,
}

impl fmt::Debug for Payment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `data` holds the citizen's answers: never in a log.
        f.debug_struct("Payment")
            .field("id", &self.id)
            .field("tenant", &self.tenant.slug())
            .field("revision", &self.revision)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

/// The index key of a payment by tenant and submit key.
pub(crate) fn payment_key(tenant: &TenantId, key: &IdempotencyKey) -> Vec<u8> {
    let mut k = tenant.slug().as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(key.as_str().as_bytes());
    k
}
