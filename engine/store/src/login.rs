//! Citizen sign-in (docs/login.md): the sessions of signed-in citizens, the sign-ins a browser
//! has started and not finished yet, and the replay cache of identity assertions. Every record
//! is known by a [`SecretHash`] only (of the cookie value, of the request id, of the assertion
//! id) and carries its own expiry; all of them are shared by the nodes of an installation.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::accounts::SecretHash;

/// What kind of record a key belongs to (one key space per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginKind {
    Session = 1,
    Pending = 2,
    Seen = 3,
    LogoutIndex = 4,
}

impl LoginKind {
    pub(crate) fn code(self) -> i16 {
        self as i16
    }
}

/// A signed-in citizen's browser. The store knows it only by the hash of its cookie value.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CitizenSession {
    pub hash: SecretHash,
    /// The stable pseudonymous id of the citizen: what drafts and submissions record.
    pub subject: String,
    /// The provider that signed the citizen in (`bundid`, an OpenID provider's name).
    pub provider: String,
    /// The trust level the provider asserted: 1 basic, 2 substantial, 3 high.
    pub trust_level: u8,
    /// The identity attributes the provider sent (by name, e.g. `family_name`), kept for the
    /// session's life only, for the prefill of workflows.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// What the provider needs to end its own session at sign-out (single logout): the ID
    /// token for OpenID Connect's `id_token_hint`. Kept for the session's life only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logout_hint: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

impl fmt::Debug for CitizenSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No personal data in a test failure or a log line: attribute names only.
        f.debug_struct("CitizenSession")
            .field("hash", &self.hash)
            .field("provider", &self.provider)
            .field("trust_level", &self.trust_level)
            .field("attributes", &self.attributes.keys().collect::<Vec<_>>())
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// A sign-in a browser started: the request sent to the identity provider, bound to the
/// browser's own cookie, waiting for the provider's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// The hash of the cookie of the browser that started it: only that browser can finish it.
    pub hash: SecretHash,
    /// The request id as sent (`ID` of the AuthnRequest, `state` of OpenID Connect): the
    /// answer must name it.
    pub request_id: String,
    /// The provider asked.
    pub provider: String,
    /// The trust level asked for: 1 basic, 2 substantial, 3 high.
    pub trust_level: u8,
    /// Where the citizen goes after signing in (a path of this portal).
    pub return_to: String,
    /// The OpenID Connect nonce and PKCE verifier, when the provider speaks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

/// Single logout started by the identity provider: which session a provider's name for the
/// citizen (the hash of its NameID) belongs to, until that session expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoutIndex {
    /// The hash of the provider's name for the citizen.
    pub hash: SecretHash,
    /// The session to end.
    pub session: SecretHash,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

/// The replay cache's record: an assertion id seen until `expires`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Seen {
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expires: OffsetDateTime,
}

/// An application of a signed-in citizen: what Mein Konto lists (across tenants). Only the
/// pseudonymous id's hash and the draft; the draft says where it stands (open, submitted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitizenLink {
    /// The SHA-256 of the citizen's pseudonymous id.
    pub citizen: SecretHash,
    pub tenant: String,
    pub draft: String,
    pub workflow_id: String,
    /// The submission the draft became, once known: the list keeps it after the draft's expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
}
