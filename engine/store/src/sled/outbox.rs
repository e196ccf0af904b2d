//! [`Outbox`] on sled: one tree of deliveries, claimed and updated with compare-and-swap.

use sled::IVec;
use time::{Duration, OffsetDateTime};

use super::SledStore;
use crate::Outbox;
use crate::envelope::{decode, encode};
use crate::error::StoreError;
use crate::ids::TenantId;
use crate::keys::OUTBOX;
use crate::model::{DeliveryState, NewOutboxMessage, OutboxMessage, new_outbox_message};

impl SledStore {
    fn update_outbox(
        &self,
        id: u64,
        change: impl Fn(&mut OutboxMessage),
    ) -> Result<(), StoreError> {
        let key = id.to_be_bytes();
        loop {
            let Some(old) = self.inner.outbox.get(key)? else {
                return Err(StoreError::NotFound {
                    what: "outbox message",
                    key: id.to_string(),
                });
            };
            let mut msg: OutboxMessage = decode(OUTBOX, &key, &old)?;
            change(&mut msg);
            let new = encode(OUTBOX, &key, &msg)?;
            if self
                .inner
                .outbox
                .compare_and_swap(key, Some(old), Some(new))?
                .is_ok()
            {
                return Ok(());
            }
        }
    }
}

impl Outbox for SledStore {
    fn enqueue(
        &self,
        tenant: Option<&TenantId>,
        message: NewOutboxMessage,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let id = self.next_id()?;
        let key = id.to_be_bytes();
        let msg = new_outbox_message(id, tenant, message, now);
        self.inner.outbox.insert(key, encode(OUTBOX, &key, &msg)?)?;
        Ok(id)
    }

    fn claim(
        &self,
        now: OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut claimed = Vec::new();
        for item in self.inner.outbox.iter() {
            if claimed.len() >= limit {
                break;
            }
            let (key, old) = item?;
            let Ok(mut msg) = decode::<OutboxMessage>(OUTBOX, &key, &old) else {
                continue; // an unreadable entry must not block the others
            };
            let due = match msg.state {
                DeliveryState::Pending => msg.next_attempt <= now,
                DeliveryState::Claimed { lease_until } => lease_until <= now,
                DeliveryState::Delivered { .. } | DeliveryState::Failed { .. } => false,
            };
            if !due {
                continue;
            }
            msg.state = DeliveryState::Claimed {
                lease_until: now + lease,
            };
            let new = encode(OUTBOX, &key, &msg)?;
            // Lost race: another worker claimed it first.
            if self
                .inner
                .outbox
                .compare_and_swap(&key, Some(old), Some(new))?
                .is_ok()
            {
                claimed.push(msg);
            }
        }
        Ok(claimed)
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
            m.last_error = Some(error.clone());
            match retry_at {
                Some(at) => {
                    m.next_attempt = at;
                    m.state = DeliveryState::Pending;
                }
                None => m.state = DeliveryState::Failed { at: now },
            }
        })
    }

    fn outbox_backlog(&self, now: OffsetDateTime) -> Result<(u64, u64), StoreError> {
        let (mut due, mut waiting) = (0, 0);
        for item in self.inner.outbox.iter() {
            let (key, value) = item?;
            let Ok(msg) = decode::<OutboxMessage>(OUTBOX, &key, &value) else {
                continue;
            };
            let at = match msg.state {
                DeliveryState::Pending => msg.next_attempt,
                DeliveryState::Claimed { lease_until } => lease_until,
                DeliveryState::Delivered { .. } | DeliveryState::Failed { .. } => continue,
            };
            if at <= now {
                due += 1;
            } else {
                waiting += 1;
            }
        }
        Ok((due, waiting))
    }

    fn prune_outbox(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut pruned = 0;
        for item in self.inner.outbox.iter() {
            let (key, value) = item?;
            let Ok(msg) = decode::<OutboxMessage>(OUTBOX, &key, &value) else {
                continue;
            };
            let finished = match msg.state {
                DeliveryState::Delivered { at } | DeliveryState::Failed { at } => at <= before,
                DeliveryState::Pending | DeliveryState::Claimed { .. } => false,
            };
            if finished
                && self
                    .inner
                    .outbox
                    .compare_and_swap(&key, Some(value), None::<IVec>)?
                    .is_ok()
            {
                pruned += 1;
            }
        }
        Ok(pruned)
    }

    fn requeue(&self, id: u64, now: OffsetDateTime) -> Result<bool, StoreError> {
        let key = id.to_be_bytes();
        loop {
            let Some(old) = self.inner.outbox.get(key)? else {
                return Err(StoreError::NotFound {
                    what: "outbox message",
                    key: id.to_string(),
                });
            };
            let mut msg: OutboxMessage = decode(OUTBOX, &key, &old)?;
            if !matches!(msg.state, DeliveryState::Failed { .. }) {
                return Ok(false);
            }
            msg.state = DeliveryState::Pending;
            msg.next_attempt = now;
            let new = encode(OUTBOX, &key, &msg)?;
            if self
                .inner
                .outbox
                .compare_and_swap(key, Some(old), Some(new))?
                .is_ok()
            {
                return Ok(true);
            }
        }
    }

    fn tenant_outbox(
        &self,
        tenant: &TenantId,
        before: Option<u64>,
        limit: usize,
        keep: &dyn Fn(&OutboxMessage) -> bool,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut found = Vec::new();
        if limit == 0 {
            return Ok(found);
        }
        let range = match before {
            Some(id) => self.inner.outbox.range(..id.to_be_bytes()),
            None => self.inner.outbox.range::<&[u8], _>(..),
        };
        for item in range.rev() {
            let (key, value) = item?;
            let Ok(msg) = decode::<OutboxMessage>(OUTBOX, &key, &value) else {
                continue; // an unreadable entry must not hide the others
            };
            if msg.tenant.as_ref() == Some(tenant) && keep(&msg) {
                found.push(msg);
                if found.len() >= limit {
                    break;
                }
            }
        }
        Ok(found)
    }

    fn outbox_message(&self, id: u64) -> Result<Option<OutboxMessage>, StoreError> {
        let key = id.to_be_bytes();
        match self.inner.outbox.get(key)? {
            Some(v) => decode(OUTBOX, &key, &v).map(Some),
            None => Ok(None),
        }
    }
}
