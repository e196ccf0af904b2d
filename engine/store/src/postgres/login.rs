//! [`LoginStore`] on PostgreSQL (migration 0009): one table keyed by kind and SHA-256.
//! Same semantics as the sled store; the shared suite checks both.

use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::{PgStore, db_err, json, record_text, v_current, version};
use crate::LoginStore;
use crate::accounts::SecretHash;
use crate::envelope::decode_parts;
use crate::error::StoreError;
use crate::keys::{CITIZEN_LINKS, CITIZEN_LOGIN};
use crate::login::{CitizenLink, CitizenSession, LoginKind, LogoutIndex, PendingSignIn, Seen};

impl PgStore {
    /// Inserts unless the key is taken; `false` if it was.
    fn login_insert<T: serde::Serialize>(
        &self,
        kind: LoginKind,
        hash: &SecretHash,
        expires: OffsetDateTime,
        record: &T,
    ) -> Result<bool, StoreError> {
        let record = json(CITIZEN_LOGIN, "(secret)", record)?;
        let done = self.run(async |pool| {
            sqlx::query(
                "INSERT INTO citizen_login (kind, key, expires, v, record) \
                 VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (kind, key) DO NOTHING",
            )
            .bind(kind.code())
            .bind(&hash.as_bytes()[..])
            .bind(expires)
            .bind(v_current())
            .bind(record)
            .execute(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        Ok(done.rows_affected() == 1)
    }

    fn login_get<T: DeserializeOwned>(
        &self,
        kind: LoginKind,
        hash: &SecretHash,
        remove: bool,
    ) -> Result<Option<T>, StoreError> {
        let sql = if remove {
            "DELETE FROM citizen_login WHERE kind = $1 AND key = $2 \
             RETURNING v, record::text AS record"
        } else {
            "SELECT v, record::text AS record FROM citizen_login WHERE kind = $1 AND key = $2"
        };
        let row = self.run(async |pool| {
            sqlx::query(sql)
                .bind(kind.code())
                .bind(&hash.as_bytes()[..])
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_parts(CITIZEN_LOGIN, "(secret)", version(&r)?, &record_text(&r)?))
            .transpose()
    }
}

impl LoginStore for PgStore {
    fn create_citizen_session(&self, session: &CitizenSession) -> Result<(), StoreError> {
        if self.login_insert(LoginKind::Session, &session.hash, session.expires, session)? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists {
                what: "citizen session",
                key: "(secret)".into(),
            })
        }
    }

    fn citizen_session(&self, hash: &SecretHash) -> Result<Option<CitizenSession>, StoreError> {
        self.login_get(LoginKind::Session, hash, false)
    }

    fn delete_citizen_session(&self, hash: &SecretHash) -> Result<bool, StoreError> {
        Ok(self
            .login_get::<CitizenSession>(LoginKind::Session, hash, true)?
            .is_some())
    }

    fn put_pending_sign_in(&self, pending: &PendingSignIn) -> Result<(), StoreError> {
        if self.login_insert(LoginKind::Pending, &pending.hash, pending.expires, pending)? {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists {
                what: "sign-in",
                key: "(secret)".into(),
            })
        }
    }

    fn take_pending_sign_in(&self, hash: &SecretHash) -> Result<Option<PendingSignIn>, StoreError> {
        self.login_get(LoginKind::Pending, hash, true)
    }

    fn put_logout_index(&self, index: &LogoutIndex) -> Result<(), StoreError> {
        let record = json(CITIZEN_LOGIN, "(secret)", index)?;
        self.run(async |pool| {
            sqlx::query(
                "INSERT INTO citizen_login (kind, key, expires, v, record) \
                 VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (kind, key) \
                 DO UPDATE SET expires = EXCLUDED.expires, v = EXCLUDED.v, record = EXCLUDED.record",
            )
            .bind(LoginKind::LogoutIndex.code())
            .bind(&index.hash.as_bytes()[..])
            .bind(index.expires)
            .bind(v_current())
            .bind(record)
            .execute(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        Ok(())
    }

    fn take_logout_index(&self, hash: &SecretHash) -> Result<Option<LogoutIndex>, StoreError> {
        self.login_get(LoginKind::LogoutIndex, hash, true)
    }

    fn first_use(&self, hash: &SecretHash, expires: OffsetDateTime) -> Result<bool, StoreError> {
        self.login_insert(LoginKind::Seen, hash, expires, &Seen { expires })
    }

    fn sweep_login(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM citizen_login WHERE expires <= $1")
                .bind(now)
                .execute(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected())
    }

    fn link_citizen(&self, link: &CitizenLink) -> Result<(), StoreError> {
        let record = json(CITIZEN_LINKS, "(citizen)", link)?;
        self.run(async |pool| {
            sqlx::query(
                "INSERT INTO citizen_links (citizen, draft, created, v, record) \
                 VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (citizen, draft) DO NOTHING",
            )
            .bind(&link.citizen.as_bytes()[..])
            .bind(&link.draft)
            .bind(link.created)
            .bind(v_current())
            .bind(record)
            .execute(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        Ok(())
    }

    fn citizen_links(&self, citizen: &SecretHash) -> Result<Vec<CitizenLink>, StoreError> {
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT v, record::text AS record FROM citizen_links WHERE citizen = $1 \
                 ORDER BY created, draft",
            )
            .bind(&citizen.as_bytes()[..])
            .fetch_all(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        rows.iter()
            .map(|r| decode_parts(CITIZEN_LINKS, "(citizen)", version(r)?, &record_text(r)?))
            .collect()
    }

    fn sweep_citizen_links(&self) -> Result<u64, StoreError> {
        // Ids are stored as bytes, links name them in hex; a name that is not hex names
        // nothing (CASE keeps `decode` from seeing it).
        let done = self.run(async |pool| {
            sqlx::query(
                "DELETE FROM citizen_links l \
                 WHERE NOT EXISTS (SELECT 1 FROM drafts d WHERE d.id = \
                     CASE WHEN l.draft ~ '^([0-9a-f]{2})+$' THEN decode(l.draft, 'hex') END) \
                   AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = \
                     CASE WHEN l.record->>'submission' ~ '^([0-9a-f]{2})+$' \
                          THEN decode(l.record->>'submission', 'hex') END)",
            )
            .execute(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        Ok(done.rows_affected())
    }

    fn set_citizen_submission(
        &self,
        citizen: &SecretHash,
        draft: &str,
        submission: &str,
    ) -> Result<bool, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query(
                "UPDATE citizen_links SET record = jsonb_set(record, '{submission}', to_jsonb($3::text)) \
                 WHERE citizen = $1 AND draft = $2",
            )
            .bind(&citizen.as_bytes()[..])
            .bind(draft)
            .bind(submission)
            .execute(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        Ok(done.rows_affected() > 0)
    }
}
