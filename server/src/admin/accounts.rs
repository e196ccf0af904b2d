//! Staff accounts from the command line and the sign-in check: argon2id password hashes,
//! sessions and API tokens (only their SHA-256 is stored). No HTTP here.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use lotse_store::{
    Account, AccountId, AccountStore, ApiToken, ApiTokenId, OsEntropy, Role, SecretHash, Session,
    StoreError, TenantId, new_secret,
};
use time::OffsetDateTime;

use super::AdminError;

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// argon2id with the crate's defaults (19 MiB, 2 passes): OWASP's minimum recommendation.
pub fn default_params() -> Params {
    Params::default()
}

/// Hashes a password into a PHC string with a fresh salt.
pub fn hash_password(password: &str, params: Params) -> Result<String, AdminError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AdminError::Invalid(format!(
            "Das Passwort muss mindestens {MIN_PASSWORD} Zeichen lang sein."
        )));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the PHC string (its own parameters are used).
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// What a new account needs.
#[derive(Clone, Copy)]
pub struct NewAccount<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password: &'a str,
}

/// A new account of `tenant`.
pub fn create_account(
    store: &impl AccountStore,
    tenant: &TenantId,
    new: NewAccount<'_>,
    params: Params,
    now: OffsetDateTime,
) -> Result<Account, AdminError> {
    let NewAccount {
        login,
        display_name,
        role,
        password,
    } = new;
    let login = Account::check_login(login)?;
    let account = Account {
        id: AccountId::generate(&mut OsEntropy)?,
        tenant: tenant.clone(),
        display_name: if display_name.trim().is_empty() {
            login.clone()
        } else {
            display_name.trim().to_string()
        },
        login,
        role,
        password_hash: hash_password(password, params)?,
        disabled: false,
        created: now,
    };
    store.create_account(&account)?;
    Ok(account)
}

/// The tenant's account with this login, or `NotFound`.
pub fn find(
    store: &impl AccountStore,
    tenant: &TenantId,
    login: &str,
) -> Result<Account, AdminError> {
    store
        .account_by_login(tenant, login)?
        .ok_or(AdminError::NotFound)
}

/// Changes an account and ends its sessions, so a new role or a disabling counts at once.
pub fn update(store: &impl AccountStore, account: &Account) -> Result<(), AdminError> {
    store.update_account(account)?;
    store.delete_sessions_of(&account.id)?;
    Ok(())
}

/// Creates an API token for `account`: returns the record and the secret, which is shown once
/// and stored only as its SHA-256.
pub fn create_token(
    store: &impl AccountStore,
    account: &Account,
    label: &str,
    now: OffsetDateTime,
) -> Result<(ApiToken, String), AdminError> {
    let secret = new_secret(&mut OsEntropy, "lotse_")?;
    let token = ApiToken {
        id: ApiTokenId::generate(&mut OsEntropy)?,
        hash: SecretHash::of(&secret),
        tenant: account.tenant.clone(),
        account: account.id,
        label: label.trim().chars().take(200).collect(),
        created: now,
        revoked: false,
    };
    store.create_api_token(&token)?;
    Ok((token, secret))
}

/// Starts a session for `account`: returns the cookie value (the only copy of the secret).
pub fn start_session(
    store: &impl AccountStore,
    account: &Account,
    now: OffsetDateTime,
    ttl: time::Duration,
) -> Result<String, StoreError> {
    let secret = new_secret(&mut OsEntropy, "")?;
    store.create_session(&Session {
        hash: SecretHash::of(&secret),
        account: account.id,
        tenant: account.tenant.clone(),
        created: now,
        expires: now + ttl,
    })?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cheap() -> Params {
        Params::new(8, 1, 1, None).unwrap()
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("korrekt-pferd-batterie", cheap()).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("korrekt-pferd-batterie", &h));
        assert!(!verify_password("korrekt-pferd-batteriE", &h));
        assert!(!verify_password("korrekt-pferd-batterie", "kein hash"));
        assert!(hash_password("kurz", cheap()).is_err());
    }
}
