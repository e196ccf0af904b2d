//! [`AccountStore`] on PostgreSQL (migration 0002): staff accounts, sessions and API tokens.
//! Same semantics as the sled store; the shared suite checks both.

use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::{PgStore, db_err, is_unique_violation, json, record_text, v_current, version};
use crate::AccountStore;
use crate::accounts::{Account, ApiToken, SecretHash, Session};
use crate::envelope::decode_parts;
use crate::error::StoreError;
use crate::ids::{AccountId, ApiTokenId, TenantId, hex};
use crate::keys::{ACCOUNTS, API_TOKENS, SESSIONS};

fn decode_account(row: &PgRow) -> Result<Account, StoreError> {
    let id: Vec<u8> = row.try_get("id").map_err(db_err)?;
    decode_parts(ACCOUNTS, &hex(&id), version(row)?, &record_text(row)?)
}

fn decode_token(row: &PgRow) -> Result<ApiToken, StoreError> {
    decode_parts(API_TOKENS, "(hash)", version(row)?, &record_text(row)?)
}

impl AccountStore for PgStore {
    fn create_account(&self, account: &Account) -> Result<(), StoreError> {
        let mut account = account.clone();
        account.login = Account::check_login(&account.login)?;
        let record = json(ACCOUNTS, &account.id.to_string(), &account)?;
        let done = self.run(async |pool| {
            sqlx::query(
                "INSERT INTO accounts (id, tenant, login, v, record) VALUES ($1, $2, $3, $4, $5::jsonb)",
            )
            .bind(&account.id.as_bytes()[..])
            .bind(account.tenant.slug())
            .bind(&account.login)
            .bind(v_current())
            .bind(record)
            .execute(&mut *pool)
            .await
            .map(|_| None)
            .or_else(|e| {
                if is_unique_violation(&e, "accounts_login") {
                    Ok(Some(account.login.clone()))
                } else if is_unique_violation(&e, "accounts_pkey") {
                    Ok(Some(account.id.to_string()))
                } else {
                    Err(db_err(e))
                }
            })
        })?;
        match done {
            None => Ok(()),
            Some(key) => Err(StoreError::AlreadyExists {
                what: "account",
                key,
            }),
        }
    }

    fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT id, v, record::text AS record FROM accounts WHERE id = $1")
                .bind(&id.as_bytes()[..])
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_account(&r)).transpose()
    }

    fn account_by_login(
        &self,
        tenant: &TenantId,
        login: &str,
    ) -> Result<Option<Account>, StoreError> {
        let Ok(login) = Account::check_login(login) else {
            return Ok(None);
        };
        let row = self.run(async |pool| {
            sqlx::query(
                "SELECT id, v, record::text AS record FROM accounts WHERE tenant = $1 AND login = $2",
            )
            .bind(tenant.slug())
            .bind(&login)
            .fetch_optional(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        Ok(row
            .map(|r| decode_account(&r))
            .transpose()?
            .filter(|a| &a.tenant == tenant && a.login == login))
    }

    fn accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, StoreError> {
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT id, v, record::text AS record FROM accounts WHERE tenant = $1 ORDER BY login",
            )
            .bind(tenant.slug())
            .fetch_all(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let a = decode_account(r)?;
            if &a.tenant == tenant {
                out.push(a);
            }
        }
        Ok(out)
    }

    fn update_account(&self, account: &Account) -> Result<(), StoreError> {
        self.tx(async |tx| {
            let Some(row) = sqlx::query(
                "SELECT id, v, record::text AS record FROM accounts WHERE id = $1 FOR UPDATE",
            )
            .bind(&account.id.as_bytes()[..])
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?
            else {
                return Err(StoreError::NotFound {
                    what: "account",
                    key: account.id.to_string(),
                });
            };
            let stored = decode_account(&row)?;
            // Id, tenant, login and creation time stay.
            let next = Account {
                display_name: account.display_name.clone(),
                role: account.role,
                password_hash: account.password_hash.clone(),
                disabled: account.disabled,
                totp_secret: account.totp_secret.clone(),
                ..stored
            };
            sqlx::query("UPDATE accounts SET v = $2, record = $3::jsonb WHERE id = $1")
                .bind(&account.id.as_bytes()[..])
                .bind(v_current())
                .bind(json(ACCOUNTS, &account.id.to_string(), &next)?)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }

    fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let record = json(SESSIONS, "(secret)", session)?;
        let done = self.run(async |pool| {
            sqlx::query(
                "INSERT INTO sessions (hash, account, expires, v, record) \
                 VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (hash) DO NOTHING",
            )
            .bind(&session.hash.as_bytes()[..])
            .bind(&session.account.as_bytes()[..])
            .bind(session.expires)
            .bind(v_current())
            .bind(record)
            .execute(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        if done.rows_affected() == 0 {
            return Err(StoreError::AlreadyExists {
                what: "session",
                key: "(secret)".into(),
            });
        }
        Ok(())
    }

    fn session(&self, hash: &SecretHash) -> Result<Option<Session>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT v, record::text AS record FROM sessions WHERE hash = $1")
                .bind(&hash.as_bytes()[..])
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_parts(SESSIONS, "(secret)", version(&r)?, &record_text(&r)?))
            .transpose()
    }

    fn delete_session(&self, hash: &SecretHash) -> Result<bool, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM sessions WHERE hash = $1")
                .bind(&hash.as_bytes()[..])
                .execute(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected() > 0)
    }

    fn delete_sessions_of(&self, account: &AccountId) -> Result<u64, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM sessions WHERE account = $1")
                .bind(&account.as_bytes()[..])
                .execute(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected())
    }

    fn sweep_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let done = self.run(async |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires <= $1")
                .bind(now)
                .execute(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        Ok(done.rows_affected())
    }

    fn create_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let record = json(API_TOKENS, &token.id.to_string(), token)?;
        let done = self.run(async |pool| {
            sqlx::query(
                "INSERT INTO api_tokens (hash, id, tenant, created, v, record) \
                 VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
            )
            .bind(&token.hash.as_bytes()[..])
            .bind(&token.id.as_bytes()[..])
            .bind(token.tenant.slug())
            .bind(token.created)
            .bind(v_current())
            .bind(record)
            .execute(&mut *pool)
            .await
            .map(|_| true)
            .or_else(|e| {
                if is_unique_violation(&e, "api_tokens_pkey")
                    || is_unique_violation(&e, "api_tokens_id")
                {
                    Ok(false)
                } else {
                    Err(db_err(e))
                }
            })
        })?;
        if !done {
            return Err(StoreError::AlreadyExists {
                what: "API token",
                key: token.id.to_string(),
            });
        }
        Ok(())
    }

    fn api_token(&self, hash: &SecretHash) -> Result<Option<ApiToken>, StoreError> {
        let row = self.run(async |pool| {
            sqlx::query("SELECT v, record::text AS record FROM api_tokens WHERE hash = $1")
                .bind(&hash.as_bytes()[..])
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| decode_token(&r)).transpose()
    }

    fn api_tokens(&self, tenant: &TenantId) -> Result<Vec<ApiToken>, StoreError> {
        let rows = self.run(async |pool| {
            sqlx::query(
                "SELECT v, record::text AS record FROM api_tokens WHERE tenant = $1 \
                 ORDER BY created, id",
            )
            .bind(tenant.slug())
            .fetch_all(&mut *pool)
            .await
            .map_err(db_err)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let t = decode_token(r)?;
            if &t.tenant == tenant {
                out.push(t);
            }
        }
        out.sort_by_key(|t| t.created);
        Ok(out)
    }

    fn revoke_api_token(&self, tenant: &TenantId, id: &ApiTokenId) -> Result<bool, StoreError> {
        self.tx(async |tx| {
            let Some(row) = sqlx::query(
                "SELECT hash, v, record::text AS record FROM api_tokens \
                 WHERE id = $1 AND tenant = $2 FOR UPDATE",
            )
            .bind(&id.as_bytes()[..])
            .bind(tenant.slug())
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?
            else {
                return Ok(false);
            };
            let mut token = decode_token(&row)?;
            if &token.tenant != tenant {
                return Ok(false);
            }
            token.revoked = true;
            let hash: Vec<u8> = row.try_get("hash").map_err(db_err)?;
            sqlx::query("UPDATE api_tokens SET v = $2, record = $3::jsonb WHERE hash = $1")
                .bind(hash)
                .bind(v_current())
                .bind(json(API_TOKENS, &id.to_string(), &token)?)
                .execute(&mut **tx)
                .await
                .map_err(db_err)?;
            Ok(true)
        })
    }
}
