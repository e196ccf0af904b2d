//! [`VisitStore`] on sled: a visit under its id, and each office's day as the list of its visit
//! ids. Holds, confirmations and cancellations of one store are serialized by a lock (sled
//! serves one process), counted on the day's visits, and written in one transaction.

use std::sync::PoisonError;

use sled::Transactional;
use sled::transaction::abort;
use time::{Date, OffsetDateTime};

use super::{SledStore, tx_err};
use crate::VisitStore;
use crate::envelope::{decode, encode};
use crate::error::StoreError;
use crate::ids::{BookingId, TenantId};
use crate::keys::{OUTBOX, VISIT_DAYS, VISITS};
use crate::model::{NewOutboxMessage, new_outbox_message};
use crate::visits::{NewVisit, Visit, VisitTime, busiest};

fn day_key(tenant: &TenantId, office: &str, day: Date) -> Vec<u8> {
    format!("{}\u{0}{office}\u{0}{day}", tenant.slug()).into_bytes()
}

impl SledStore {
    /// The offices' day lists from the visits (after an import, which carries only the
    /// visits): every visit under its day, so that holds count it.
    pub(super) fn rebuild_visit_days(&self) -> Result<(), StoreError> {
        let mut days: std::collections::BTreeMap<Vec<u8>, Vec<BookingId>> = Default::default();
        for entry in self.inner.visits.iter() {
            let (k, b) = entry?;
            let v: Visit = decode(VISITS, &k, &b)?;
            days.entry(day_key(&v.tenant, &v.office, v.day))
                .or_default()
                .push(v.id);
        }
        self.inner.visit_days.clear()?;
        for (key, ids) in days {
            self.inner
                .visit_days
                .insert(key.as_slice(), encode(VISIT_DAYS, &key, &ids)?)?;
        }
        Ok(())
    }

    fn day_visits(&self, key: &[u8]) -> Result<(Vec<BookingId>, Vec<Visit>), StoreError> {
        let ids: Vec<BookingId> = match self.inner.visit_days.get(key)? {
            Some(b) => decode(VISIT_DAYS, key, &b)?,
            None => Vec::new(),
        };
        let mut visits = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(v) = self.visit(id)? {
                visits.push(v);
            }
        }
        Ok((ids, visits))
    }

    /// Changes a visit (and the outbox) under the lock, if `change` allows it.
    fn change_visit(
        &self,
        id: &BookingId,
        notifications: Vec<NewOutboxMessage>,
        now: OffsetDateTime,
        change: impl Fn(&mut Visit) -> Result<(), StoreError>,
    ) -> Result<Visit, StoreError> {
        let i = &self.inner;
        let _serial = i.visit_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(mut v) = self.visit(id)? else {
            return Err(StoreError::NotFound {
                what: "visit",
                key: id.to_string(),
            });
        };
        change(&mut v)?;
        v.changed = Some(now);
        let key = *id.as_bytes();
        (&i.visits, &i.outbox).transaction(|(visits, outbox)| {
            visits.insert(&key[..], encode(VISITS, &key, &v).map_err(tx_err)?)?;
            for n in &notifications {
                let oid = self.next_id_tx(outbox)?;
                let okey = oid.to_be_bytes();
                let msg = new_outbox_message(oid, Some(&v.tenant), n.clone(), now);
                outbox.insert(&okey, encode(OUTBOX, &okey, &msg).map_err(tx_err)?)?;
            }
            Ok(())
        })?;
        self.flush()?;
        Ok(v)
    }
}

impl VisitStore for SledStore {
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
        let i = &self.inner;
        let _serial = i.visit_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let dkey = day_key(&new.tenant, &new.office, new.day);
        let (mut ids, visits) = self.day_visits(&dkey)?;
        if busiest(&visits, new.start, new.end, now) >= counters {
            return Err(StoreError::SlotTaken);
        }
        // The day keeps the visits that still matter: expired holds and cancellations go.
        ids.retain(|id| visits.iter().any(|v| v.id == *id && v.occupies(now)));
        ids.push(new.id);
        let visit = Visit::new(new, now);
        let vkey = *visit.id.as_bytes();
        (&i.visits, &i.visit_days).transaction(|(vt, dt)| {
            if vt.get(&vkey[..])?.is_some() {
                return abort(StoreError::AlreadyExists {
                    what: "visit",
                    key: visit.id.to_string(),
                });
            }
            vt.insert(&vkey[..], encode(VISITS, &vkey, &visit).map_err(tx_err)?)?;
            dt.insert(
                dkey.as_slice(),
                encode(VISIT_DAYS, &dkey, &ids).map_err(tx_err)?,
            )?;
            Ok(())
        })?;
        self.flush()?;
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
        let i = &self.inner;
        let _serial = i.visit_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(mut v) = self.visit(id)? else {
            return Err(StoreError::NotFound {
                what: "visit",
                key: id.to_string(),
            });
        };
        let old_key = day_key(&v.tenant, &v.office, v.day);
        let new_key = day_key(&v.tenant, &v.office, to.day);
        v.move_to(to)?;
        v.changed = Some(now);
        let (mut new_ids, visits) = self.day_visits(&new_key)?;
        let others: Vec<Visit> = visits.into_iter().filter(|x| x.id != *id).collect();
        if busiest(&others, to.start, to.end, now) >= counters {
            return Err(StoreError::SlotTaken);
        }
        new_ids.retain(|x| others.iter().any(|o| o.id == *x && o.occupies(now)));
        new_ids.push(*id);
        let old_ids = if old_key == new_key {
            None
        } else {
            let (mut ids, _) = self.day_visits(&old_key)?;
            ids.retain(|x| x != id);
            Some(ids)
        };
        let key = *id.as_bytes();
        (&i.visits, &i.visit_days, &i.outbox).transaction(|(vt, dt, outbox)| {
            vt.insert(&key[..], encode(VISITS, &key, &v).map_err(tx_err)?)?;
            dt.insert(
                new_key.as_slice(),
                encode(VISIT_DAYS, &new_key, &new_ids).map_err(tx_err)?,
            )?;
            if let Some(ids) = &old_ids {
                dt.insert(
                    old_key.as_slice(),
                    encode(VISIT_DAYS, &old_key, ids).map_err(tx_err)?,
                )?;
            }
            for n in &notifications {
                let oid = self.next_id_tx(outbox)?;
                let okey = oid.to_be_bytes();
                let msg = new_outbox_message(oid, Some(&v.tenant), n.clone(), now);
                outbox.insert(&okey, encode(OUTBOX, &okey, &msg).map_err(tx_err)?)?;
            }
            Ok(())
        })?;
        self.flush()?;
        Ok(v)
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
        let mut out = Vec::new();
        for entry in self.inner.visits.iter() {
            let (k, b) = entry?;
            let v: Visit = decode(VISITS, &k, &b)?;
            if v.day >= from && v.day <= to {
                out.push(v);
            }
        }
        Ok(out)
    }

    fn visit(&self, id: &BookingId) -> Result<Option<Visit>, StoreError> {
        let key = id.as_bytes();
        match self.inner.visits.get(key)? {
            Some(b) => decode(VISITS, key, &b).map(Some),
            None => Ok(None),
        }
    }

    fn visits_on(
        &self,
        tenant: &TenantId,
        office: &str,
        day: Date,
    ) -> Result<Vec<Visit>, StoreError> {
        let (_, mut visits) = self.day_visits(&day_key(tenant, office, day))?;
        visits.retain(|v| v.tenant == *tenant);
        visits.sort_by_key(|v| (v.start, v.created));
        Ok(visits)
    }
}
