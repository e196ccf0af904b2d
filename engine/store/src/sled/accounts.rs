//! [`AccountStore`] on sled: accounts with their login index, sessions, API tokens.

use sled::Transactional;
use sled::transaction::abort;
use time::OffsetDateTime;

use super::SledStore;
use crate::AccountStore;
use crate::accounts::{Account, ApiToken, SecretHash, Session};
use crate::envelope::{decode, encode};
use crate::error::StoreError;
use crate::ids::{AccountId, ApiTokenId, TenantId};
use crate::keys::{ACCOUNT_LOGINS, ACCOUNTS, API_TOKENS, SESSIONS, login_key};

impl AccountStore for SledStore {
    fn create_account(&self, account: &Account) -> Result<(), StoreError> {
        let i = &self.inner;
        let login = Account::check_login(&account.login)?;
        let mut account = account.clone();
        account.login = login;
        let key = *account.id.as_bytes();
        let lkey = login_key(&account.tenant, &account.login);
        let bytes = encode(ACCOUNTS, &key, &account)?;
        (&i.accounts, &i.account_logins).transaction(|(accounts, logins)| {
            if logins.get(lkey.as_slice())?.is_some() {
                return abort(StoreError::AlreadyExists {
                    what: "account",
                    key: account.login.clone(),
                });
            }
            if accounts.get(key)?.is_some() {
                return abort(StoreError::AlreadyExists {
                    what: "account",
                    key: account.id.to_string(),
                });
            }
            accounts.insert(&key, bytes.as_slice())?;
            logins.insert(lkey.as_slice(), &key)?;
            Ok(())
        })?;
        self.flush()
    }

    fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        let key = id.as_bytes();
        match self.inner.accounts.get(key)? {
            Some(b) => decode(ACCOUNTS, key, &b).map(Some),
            None => Ok(None),
        }
    }

    fn account_by_login(
        &self,
        tenant: &TenantId,
        login: &str,
    ) -> Result<Option<Account>, StoreError> {
        let Ok(login) = Account::check_login(login) else {
            return Ok(None);
        };
        let Some(id) = self.inner.account_logins.get(login_key(tenant, &login))? else {
            return Ok(None);
        };
        let Some(id) = AccountId::from_key(&id) else {
            return Err(StoreError::Corrupt {
                tree: ACCOUNT_LOGINS,
                key: login,
                reason: "expected a 16-byte account id".into(),
            });
        };
        // The index is checked against the account it points to.
        Ok(self
            .account(&id)?
            .filter(|a| &a.tenant == tenant && a.login == login))
    }

    fn accounts(&self, tenant: &TenantId) -> Result<Vec<Account>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.account_logins.scan_prefix(tenant.key_prefix()) {
            let (_, id) = item?;
            if let Some(a) = AccountId::from_key(&id)
                .map(|id| self.account(&id))
                .transpose()?
                .flatten()
                .filter(|a| &a.tenant == tenant)
            {
                out.push(a);
            }
        }
        Ok(out)
    }

    fn update_account(&self, account: &Account) -> Result<(), StoreError> {
        let key = *account.id.as_bytes();
        loop {
            let Some(old) = self.inner.accounts.get(key)? else {
                return Err(StoreError::NotFound {
                    what: "account",
                    key: account.id.to_string(),
                });
            };
            let stored: Account = decode(ACCOUNTS, &key, &old)?;
            let next = Account {
                display_name: account.display_name.clone(),
                role: account.role,
                password_hash: account.password_hash.clone(),
                disabled: account.disabled,
                totp_secret: account.totp_secret.clone(),
                ..stored
            };
            let new = encode(ACCOUNTS, &key, &next)?;
            if self
                .inner
                .accounts
                .compare_and_swap(key, Some(old), Some(new))?
                .is_ok()
            {
                return self.flush();
            }
        }
    }

    fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        let key = session.hash.as_bytes();
        let bytes = encode(SESSIONS, key, session)?;
        match self
            .inner
            .sessions
            .compare_and_swap(key, None::<&[u8]>, Some(bytes))?
        {
            Ok(()) => Ok(()),
            Err(_) => Err(StoreError::AlreadyExists {
                what: "session",
                key: "(secret)".into(),
            }),
        }
    }

    fn session(&self, hash: &SecretHash) -> Result<Option<Session>, StoreError> {
        let key = hash.as_bytes();
        match self.inner.sessions.get(key)? {
            Some(b) => decode(SESSIONS, key, &b).map(Some),
            None => Ok(None),
        }
    }

    fn delete_session(&self, hash: &SecretHash) -> Result<bool, StoreError> {
        Ok(self.inner.sessions.remove(hash.as_bytes())?.is_some())
    }

    fn delete_sessions_of(&self, account: &AccountId) -> Result<u64, StoreError> {
        let mut n = 0;
        for item in self.inner.sessions.iter() {
            let (key, value) = item?;
            let mine =
                decode::<Session>(SESSIONS, &key, &value).is_ok_and(|s| &s.account == account);
            if mine && self.inner.sessions.remove(&key)?.is_some() {
                n += 1;
            }
        }
        if n > 0 {
            self.flush()?;
        }
        Ok(n)
    }

    fn sweep_sessions(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut n = 0;
        for item in self.inner.sessions.iter() {
            let (key, value) = item?;
            // An unreadable session can never be used: it goes too.
            let expired = decode::<Session>(SESSIONS, &key, &value)
                .ok()
                .is_none_or(|s| s.expires <= now);
            if expired && self.inner.sessions.remove(&key)?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    }

    fn create_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let key = token.hash.as_bytes();
        if self
            .api_tokens(&token.tenant)?
            .iter()
            .any(|t| t.id == token.id)
        {
            return Err(StoreError::AlreadyExists {
                what: "API token",
                key: token.id.to_string(),
            });
        }
        let bytes = encode(API_TOKENS, key, token)?;
        match self
            .inner
            .api_tokens
            .compare_and_swap(key, None::<&[u8]>, Some(bytes))?
        {
            Ok(()) => self.flush(),
            Err(_) => Err(StoreError::AlreadyExists {
                what: "API token",
                key: token.id.to_string(),
            }),
        }
    }

    fn api_token(&self, hash: &SecretHash) -> Result<Option<ApiToken>, StoreError> {
        let key = hash.as_bytes();
        match self.inner.api_tokens.get(key)? {
            Some(b) => decode(API_TOKENS, key, &b).map(Some),
            None => Ok(None),
        }
    }

    fn api_tokens(&self, tenant: &TenantId) -> Result<Vec<ApiToken>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.api_tokens.iter() {
            let (key, value) = item?;
            let t: ApiToken = decode(API_TOKENS, &key, &value)?;
            if &t.tenant == tenant {
                out.push(t);
            }
        }
        out.sort_by_key(|t| t.created);
        Ok(out)
    }

    fn revoke_api_token(&self, tenant: &TenantId, id: &ApiTokenId) -> Result<bool, StoreError> {
        for item in self.inner.api_tokens.iter() {
            let (key, value) = item?;
            let mut t: ApiToken = decode(API_TOKENS, &key, &value)?;
            if &t.id != id || &t.tenant != tenant {
                continue;
            }
            if t.revoked {
                return Ok(true);
            }
            t.revoked = true;
            let new = encode(API_TOKENS, &key, &t)?;
            // A concurrent revocation wins just as well.
            let _ = self
                .inner
                .api_tokens
                .compare_and_swap(&key, Some(value), Some(new))?;
            self.flush()?;
            return Ok(true);
        }
        Ok(false)
    }
}
