//! [`LoginStore`] on sled: one tree, keyed by a kind byte and the SHA-256 of the secret.

use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::SledStore;
use crate::LoginStore;
use crate::accounts::SecretHash;
use crate::envelope::{decode, encode};
use crate::error::StoreError;
use crate::keys::{CITIZEN_LINKS, CITIZEN_LOGIN};
use crate::login::{CitizenLink, CitizenSession, LoginKind, LogoutIndex, PendingSignIn, Seen};

fn key(kind: LoginKind, hash: &SecretHash) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = kind as u8;
    k[1..].copy_from_slice(hash.as_bytes());
    k
}

impl SledStore {
    /// Inserts unless the key is taken; `false` if it was.
    fn login_insert<T: serde::Serialize>(
        &self,
        kind: LoginKind,
        hash: &SecretHash,
        record: &T,
    ) -> Result<bool, StoreError> {
        let k = key(kind, hash);
        let bytes = encode(CITIZEN_LOGIN, &k, record)?;
        let inserted = self
            .inner
            .citizen_login
            .compare_and_swap(k, None::<&[u8]>, Some(bytes))?
            .is_ok();
        if inserted {
            self.flush()?;
        }
        Ok(inserted)
    }

    fn login_get<T: DeserializeOwned>(
        &self,
        kind: LoginKind,
        hash: &SecretHash,
    ) -> Result<Option<T>, StoreError> {
        let k = key(kind, hash);
        match self.inner.citizen_login.get(k)? {
            Some(b) => decode(CITIZEN_LOGIN, &k, &b).map(Some),
            None => Ok(None),
        }
    }

    fn login_remove<T: DeserializeOwned>(
        &self,
        kind: LoginKind,
        hash: &SecretHash,
    ) -> Result<Option<T>, StoreError> {
        let k = key(kind, hash);
        let removed = self.inner.citizen_login.remove(k)?;
        match removed {
            Some(b) => {
                self.flush()?;
                decode(CITIZEN_LOGIN, &k, &b).map(Some)
            }
            None => Ok(None),
        }
    }
}

impl LoginStore for SledStore {
    fn create_citizen_session(&self, session: &CitizenSession) -> Result<(), StoreError> {
        if self.login_insert(LoginKind::Session, &session.hash, session)? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists {
                what: "citizen session",
                key: "(secret)".into(),
            })
        }
    }

    fn citizen_session(&self, hash: &SecretHash) -> Result<Option<CitizenSession>, StoreError> {
        self.login_get(LoginKind::Session, hash)
    }

    fn delete_citizen_session(&self, hash: &SecretHash) -> Result<bool, StoreError> {
        Ok(self
            .login_remove::<CitizenSession>(LoginKind::Session, hash)?
            .is_some())
    }

    fn put_pending_sign_in(&self, pending: &PendingSignIn) -> Result<(), StoreError> {
        if self.login_insert(LoginKind::Pending, &pending.hash, pending)? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists {
                what: "sign-in",
                key: "(secret)".into(),
            })
        }
    }

    fn take_pending_sign_in(&self, hash: &SecretHash) -> Result<Option<PendingSignIn>, StoreError> {
        // sled's remove is atomic: of two racing callers one gets the record.
        self.login_remove(LoginKind::Pending, hash)
    }

    fn put_logout_index(&self, index: &LogoutIndex) -> Result<(), StoreError> {
        let k = key(LoginKind::LogoutIndex, &index.hash);
        let bytes = encode(CITIZEN_LOGIN, &k, index)?;
        self.inner.citizen_login.insert(k, bytes)?;
        self.flush()
    }

    fn take_logout_index(&self, hash: &SecretHash) -> Result<Option<LogoutIndex>, StoreError> {
        self.login_remove(LoginKind::LogoutIndex, hash)
    }

    fn first_use(&self, hash: &SecretHash, expires: OffsetDateTime) -> Result<bool, StoreError> {
        self.login_insert(LoginKind::Seen, hash, &Seen { expires })
    }

    fn sweep_login(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut gone = 0;
        for item in self.inner.citizen_login.iter() {
            let (k, v) = item?;
            // Every kind of record has its `expires`; the rest of it is not read here.
            let seen: Seen = decode(CITIZEN_LOGIN, &k, &v)?;
            if seen.expires <= now
                && self
                    .inner
                    .citizen_login
                    .compare_and_swap(&k, Some(v), None::<&[u8]>)?
                    .is_ok()
            {
                gone += 1;
            }
        }
        if gone > 0 {
            self.flush()?;
        }
        Ok(gone)
    }

    fn link_citizen(&self, link: &CitizenLink) -> Result<(), StoreError> {
        let mut k = link.citizen.as_bytes().to_vec();
        k.extend_from_slice(link.draft.as_bytes());
        let bytes = encode(CITIZEN_LINKS, &k, link)?;
        if self
            .inner
            .citizen_links
            .compare_and_swap(&k, None::<&[u8]>, Some(bytes))?
            .is_ok()
        {
            self.flush()?;
        }
        Ok(())
    }

    fn sweep_citizen_links(&self) -> Result<u64, StoreError> {
        let mut gone = 0;
        for item in self.inner.citizen_links.iter() {
            let (k, v) = item?;
            let link: CitizenLink = decode(CITIZEN_LINKS, &k, &v)?;
            let draft = match link.draft.parse::<crate::DraftId>() {
                Ok(id) => crate::DraftStore::draft(self, &id)?.is_some(),
                Err(_) => false,
            };
            let submission = match link
                .submission
                .as_deref()
                .map(str::parse::<crate::SubmissionId>)
            {
                Some(Ok(id)) => crate::SubmissionStore::submission(self, &id)?.is_some(),
                _ => false,
            };
            if !draft
                && !submission
                && self
                    .inner
                    .citizen_links
                    .compare_and_swap(&k, Some(v), None::<&[u8]>)?
                    .is_ok()
            {
                gone += 1;
            }
        }
        if gone > 0 {
            self.flush()?;
        }
        Ok(gone)
    }

    fn citizen_links(&self, citizen: &SecretHash) -> Result<Vec<CitizenLink>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.citizen_links.scan_prefix(citizen.as_bytes()) {
            let (k, v) = item?;
            out.push(decode::<CitizenLink>(CITIZEN_LINKS, &k, &v)?);
        }
        out.sort_by_key(|l| l.created);
        Ok(out)
    }

    fn set_citizen_submission(
        &self,
        citizen: &SecretHash,
        draft: &str,
        submission: &str,
    ) -> Result<bool, StoreError> {
        let mut k = citizen.as_bytes().to_vec();
        k.extend_from_slice(draft.as_bytes());
        loop {
            let Some(old) = self.inner.citizen_links.get(&k)? else {
                return Ok(false);
            };
            let mut link: CitizenLink = decode(CITIZEN_LINKS, &k, &old)?;
            link.submission = Some(submission.to_string());
            let new = encode(CITIZEN_LINKS, &k, &link)?;
            if self
                .inner
                .citizen_links
                .compare_and_swap(&k, Some(old), Some(new))?
                .is_ok()
            {
                self.flush()?;
                return Ok(true);
            }
        }
    }
}
