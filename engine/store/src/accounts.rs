//! Staff accounts, their sessions and API tokens: the records the store keeps. Passwords arrive
//! already hashed (the server hashes them with argon2); session ids and API tokens are stored
//! only as their SHA-256 ([`SecretHash`]), so a copy of the store lets nobody sign in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::error::StoreError;
use super::ids::{AccountId, ApiTokenId, Entropy, TenantId, hex, unhex};

/// What a staff member may do in one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sachbearbeitung: works the Postkorb (submissions, status, messages, exports).
    CaseWorker,
    /// Tenant administrator: everything a case worker does, plus accounts and tokens.
    TenantAdmin,
    /// Form designer: workflows and previews; never sees submissions.
    FormDesigner,
}

impl Role {
    /// Every role, in the order pages list them.
    pub const ALL: [Role; 3] = [Role::CaseWorker, Role::TenantAdmin, Role::FormDesigner];

    /// The German name staff read.
    pub fn label_de(self) -> &'static str {
        match self {
            Self::CaseWorker => "Sachbearbeitung",
            Self::TenantAdmin => "Verwaltung der Kommune",
            Self::FormDesigner => "Formulargestaltung",
        }
    }

    /// The stable code (`case_worker`, `tenant_admin`, `form_designer`).
    pub fn code(self) -> &'static str {
        match self {
            Self::CaseWorker => "case_worker",
            Self::TenantAdmin => "tenant_admin",
            Self::FormDesigner => "form_designer",
        }
    }

    /// May read submissions and work on them (status, messages, exports).
    pub fn may_work_submissions(self) -> bool {
        matches!(self, Self::CaseWorker | Self::TenantAdmin)
    }

    /// May create, change and disable accounts and API tokens.
    pub fn may_manage_accounts(self) -> bool {
        matches!(self, Self::TenantAdmin)
    }

    /// May change workflows and forms.
    pub fn may_design_workflows(self) -> bool {
        matches!(self, Self::FormDesigner | Self::TenantAdmin)
    }
}

impl FromStr for Role {
    type Err = StoreError;
    /// The code or the German name's short form: `case_worker` / `sachbearbeitung`,
    /// `tenant_admin` / `administration`, `form_designer` / `gestaltung`.
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "case_worker" | "sachbearbeitung" => Ok(Self::CaseWorker),
            "tenant_admin" | "administration" | "admin" => Ok(Self::TenantAdmin),
            "form_designer" | "gestaltung" | "designer" => Ok(Self::FormDesigner),
            _ => Err(StoreError::InvalidId {
                kind: "role",
                reason: format!("{s:?}: expected case_worker, tenant_admin or form_designer"),
            }),
        }
    }
}

/// The SHA-256 of a secret (session id or API token): what the store keeps instead of the
/// secret. Random 256-bit secrets need no salt or slow hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// The hash of `secret` as the client sends it.
    pub fn of(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// The 32 raw bytes (the store key).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to tell two apart in a test failure.
        write!(f, "SecretHash({}…)", &hex(&self.0)[..8])
    }
}

impl Serialize for SecretHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for SecretHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let bytes = unhex(&s).ok_or_else(|| serde::de::Error::custom("expected hex"))?;
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// A fresh secret of 256 random bits as 64 hex digits, with `prefix` in front (e.g. `lotse_`
/// for API tokens, so scanners recognise leaked tokens).
pub fn new_secret(entropy: &mut impl Entropy, prefix: &str) -> Result<String, StoreError> {
    let mut bytes = [0u8; 32];
    entropy.fill_bytes(&mut bytes)?;
    Ok(format!("{prefix}{}", hex(&bytes)))
}

/// A staff account of one tenant. The login name is unique per tenant (case-insensitive).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub tenant: TenantId,
    /// Lower case, 1–64 of `a-z 0-9 . _ -` (see [`Account::check_login`]).
    pub login: String,
    /// Shown in the Postkorb header; never written to the audit log.
    pub display_name: String,
    pub role: Role,
    /// A PHC string (argon2id), produced by the caller.
    pub password_hash: String,
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// The shared secret of a second factor (TOTP, RFC 6238), base32, when one is set up: the
    /// sign-in then needs the current code of the staff member's authenticator app too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
}

impl Account {
    /// Normalises and checks a login name: trimmed, lower case, 1–64 of `a-z 0-9 . _ - @`.
    pub fn check_login(login: &str) -> Result<String, StoreError> {
        let login = login.trim().to_lowercase();
        let ok = (1..=64).contains(&login.len())
            && login
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@".contains(&b));
        if ok {
            Ok(login)
        } else {
            Err(StoreError::InvalidId {
                kind: "login",
                reason: "expected 1-64 of a-z, 0-9, '.', '_', '-', '@'".into(),
            })
        }
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("tenant", &self.tenant.slug())
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("totp", &self.totp_secret.is_some())
            .finish_non_exhaustive()
    }
}

/// A signed-in browser. The store knows it only by the hash of its cookie value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub hash: SecretHash,
    pub account: AccountId,
    pub tenant: TenantId,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

/// A token for machine access (`Authorization: Bearer …`), acting with its account's role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub hash: SecretHash,
    pub tenant: TenantId,
    pub account: AccountId,
    /// What it is for, e.g. `Fachverfahren Hundesteuer`.
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    pub revoked: bool,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::DeterministicEntropy;

    #[test]
    fn roles_parse_by_code_and_german_name() {
        assert_eq!("sachbearbeitung".parse::<Role>().unwrap(), Role::CaseWorker);
        assert_eq!("tenant-admin".parse::<Role>().unwrap(), Role::TenantAdmin);
        assert_eq!("form_designer".parse::<Role>().unwrap(), Role::FormDesigner);
        assert!("root".parse::<Role>().is_err());
        assert!(!Role::FormDesigner.may_work_submissions());
        assert!(!Role::CaseWorker.may_manage_accounts());
        assert!(!Role::CaseWorker.may_design_workflows());
    }

    #[test]
    fn secrets_are_long_and_their_hashes_differ() {
        let mut e = DeterministicEntropy::new(3);
        let a = new_secret(&mut e, "lotse_").unwrap();
        let b = new_secret(&mut e, "lotse_").unwrap();
        assert_eq!(a.len(), 6 + 64);
        assert_ne!(SecretHash::of(&a), SecretHash::of(&b));
        let json = serde_json::to_string(&SecretHash::of(&a)).unwrap();
        assert_eq!(
            serde_json::from_str::<SecretHash>(&json).unwrap(),
            SecretHash::of(&a)
        );
    }

    #[test]
    fn logins_are_normalised() {
        assert_eq!(Account::check_login(" A.Schmitz ").unwrap(), "a.schmitz");
        assert!(Account::check_login("").is_err());
        assert!(Account::check_login("a b").is_err());
    }
}
