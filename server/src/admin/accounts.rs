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
        totp_secret: None,
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

/// Seconds per TOTP code (RFC 6238's default, what authenticator apps assume).
pub const TOTP_STEP: u64 = 30;

fn totp(secret_base32: &str) -> Option<totp_rs::TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .ok()?;
    // SHA-1, 6 digits, 30 s and one step either side for clock drift: what every
    // authenticator app shows for an otpauth URI without further parameters.
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, TOTP_STEP, bytes).ok()
}

/// A new TOTP secret: 160 random bits (RFC 4226's recommendation), base32 without padding.
pub fn new_totp_secret() -> Result<String, AdminError> {
    let mut bytes = [0u8; 20];
    lotse_store::Entropy::fill_bytes(&mut OsEntropy, &mut bytes)
        .map_err(|e| AdminError::Internal(format!("no randomness: {e}")))?;
    let t = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, TOTP_STEP, bytes.to_vec());
    Ok(t.get_secret_base32())
}

/// The time step whose code `code` is, if it is the code of the secret at `now` (or one step
/// before or after); `None` for a wrong or malformed code. Spaces in the code are ignored.
pub fn totp_step(secret_base32: &str, code: &str, now: OffsetDateTime) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_base32)?;
    let at = u64::try_from(now.unix_timestamp()).ok()?;
    // The crate compares in constant time; the step is looked up once the code is known good.
    if !t.check(&code, at) {
        return None;
    }
    let step = at / TOTP_STEP;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|s| t.generate(s * TOTP_STEP) == code)
}

/// The current code of a secret (for tests and for checking a set-up).
pub fn totp_code(secret_base32: &str, now: OffsetDateTime) -> Option<String> {
    let at = u64::try_from(now.unix_timestamp()).ok()?;
    Some(totp(secret_base32)?.generate(at))
}

/// The `otpauth://` URI an authenticator app reads (as text or a QR code made from it).
pub fn totp_uri(secret_base32: &str, issuer: &str, login: &str) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits=6&period={TOTP_STEP}",
        enc(issuer),
        enc(login),
        enc(issuer)
    )
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

    #[test]
    fn totp_matches_rfc_6238_and_names_the_step() {
        // RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at 59 s is 94287082
        // (8 digits); its last 6 digits are what a 6-digit app shows.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let at = OffsetDateTime::from_unix_timestamp(59).unwrap();
        assert_eq!(totp_code(secret, at).unwrap(), "287082");
        assert_eq!(totp_step(secret, "287 082", at), Some(1));
        let later = OffsetDateTime::from_unix_timestamp(1_111_111_109).unwrap();
        assert_eq!(totp_code(secret, later).unwrap(), "081804");
        // One step of drift either side; two steps are too many.
        let next = later + time::Duration::seconds(30);
        assert_eq!(totp_step(secret, "081804", next), Some(1_111_111_109 / 30));
        assert_eq!(
            totp_step(secret, "081804", later + time::Duration::seconds(61)),
            None
        );
        assert_eq!(totp_step(secret, "000000", later), None);
        assert_eq!(totp_step(secret, "08180", later), None);
        assert_eq!(totp_step("nicht base32!", "081804", later), None);
        let fresh = new_totp_secret().unwrap();
        assert_eq!(fresh.len(), 32);
        let uri = totp_uri(&fresh, "Stadt Heinsberg", "sb");
        assert!(
            uri.starts_with("otpauth://totp/Stadt%20Heinsberg:sb?secret="),
            "{uri}"
        );
    }
}
