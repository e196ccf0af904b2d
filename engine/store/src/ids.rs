//! Identifiers of the store: parsed once, private fields, rendered as text. Randomness is an input
//! (the [`Entropy`] trait), so tests and the crash test are deterministic.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::StoreError;

/// A source of random bytes. Production code passes [`OsEntropy`]; tests pass
/// [`DeterministicEntropy`].
pub trait Entropy {
    /// Fills `dest` with random bytes.
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), StoreError>;
}

/// Randomness from the operating system (`getrandom`).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), StoreError> {
        getrandom::fill(dest).map_err(|e| StoreError::Entropy(e.to_string()))
    }
}

/// A predictable generator (SplitMix64) for tests, benchmarks and examples.
/// Never use it for ids that reach citizens: its output can be guessed.
#[derive(Debug, Clone)]
pub struct DeterministicEntropy {
    state: u64,
}

impl DeterministicEntropy {
    /// A generator whose whole output follows from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Entropy for DeterministicEntropy {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), StoreError> {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

fn parse_id128(kind: &'static str, text: &str) -> Result<[u8; 16], StoreError> {
    let bad = || StoreError::InvalidId {
        kind,
        reason: "expected 32 lowercase hex digits".into(),
    };
    let bytes = unhex(text).ok_or_else(bad)?;
    bytes.try_into().map_err(|_| bad())
}

macro_rules! id128 {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// A fresh random id (128 bits).
            pub fn generate(entropy: &mut impl Entropy) -> Result<Self, StoreError> {
                let mut bytes = [0u8; 16];
                entropy.fill_bytes(&mut bytes)?;
                Ok(Self(bytes))
            }

            /// The 16 raw bytes (the store key).
            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }

            #[allow(dead_code)] // not every id type is read back from a key
            pub(crate) fn from_key(kind_key: &[u8]) -> Option<Self> {
                kind_key.try_into().ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), hex(&self.0))
            }
        }

        impl FromStr for $name {
            type Err = StoreError;
            fn from_str(s: &str) -> Result<Self, StoreError> {
                parse_id128($kind, s).map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&hex(&self.0))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

id128!(
    /// A draft (an application in progress). 128 bits, rendered as 32 hex digits, which are
    /// URL-safe. [`DraftId::for_resume_code`] makes the first four bytes those of the resume
    /// code's SHA-256 and draws the other twelve at random, so the store finds a draft by its
    /// code through the draft's own key, without an index record (docs/store.md, "Drafts").
    DraftId,
    "draft id"
);

id128!(
    /// A payment an application waits for: 128 random bits, the capability in the citizen's
    /// pay and return links.
    PaymentId,
    "payment id"
);

/// How many leading bytes of a draft id come from its resume code's SHA-256.
pub(crate) const CODE_PREFIX_LEN: usize = 4;

impl DraftId {
    /// A fresh id for a draft with resume `code`: the first four bytes of the code's SHA-256,
    /// then 96 random bits. The whole id still carries about 128 bits nobody can guess: the
    /// code itself is a secret of about 79 random bits, and its hash prefix is uniform.
    pub fn for_resume_code(
        entropy: &mut impl Entropy,
        code: &ResumeCode,
    ) -> Result<Self, StoreError> {
        let mut bytes = [0u8; 16];
        bytes[..CODE_PREFIX_LEN].copy_from_slice(&code.digest()[..CODE_PREFIX_LEN]);
        entropy.fill_bytes(&mut bytes[CODE_PREFIX_LEN..])?;
        Ok(Self(bytes))
    }

    /// Whether this id starts with `code`'s prefix, i.e. the store can find it by the code
    /// without an index entry. Ids made before Lotse derived them from the code (or by
    /// [`DraftId::generate`]) do not, except by chance (one in 2^32), which costs nothing but
    /// an unused index entry.
    pub(crate) fn carries_code(&self, code: &ResumeCode) -> bool {
        self.0[..CODE_PREFIX_LEN] == code.digest()[..CODE_PREFIX_LEN]
    }
}
id128!(
    /// A submission. 128 random bits, rendered as 32 hex digits.
    SubmissionId,
    "submission id"
);

id128!(
    /// A staff account. 128 random bits, rendered as 32 hex digits; audit entries name staff
    /// by this id, never by name.
    AccountId,
    "account id"
);
id128!(
    /// A booked visit (appointment): 128 random bits; its secret link to cancel or move it.
    BookingId,
    "booking id"
);
id128!(
    /// An API token (its public id, for listing and revoking; the secret is separate).
    ApiTokenId,
    "API token id"
);

/// A tenant (a municipality): a short slug like `heinsberg` plus the three-letter prefix of its
/// references like `HEI`. Both are supplied by the caller's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "TenantRepr", into = "TenantRepr")]
pub struct TenantId {
    slug: String,
    prefix: String,
}

#[derive(Serialize, Deserialize)]
struct TenantRepr {
    slug: String,
    prefix: String,
}

impl TryFrom<TenantRepr> for TenantId {
    type Error = StoreError;
    fn try_from(r: TenantRepr) -> Result<Self, StoreError> {
        TenantId::new(&r.slug, &r.prefix)
    }
}

impl From<TenantId> for TenantRepr {
    fn from(t: TenantId) -> Self {
        TenantRepr {
            slug: t.slug,
            prefix: t.prefix,
        }
    }
}

impl TenantId {
    /// `slug`: 1–32 of `a-z 0-9 -`, starting with a letter or digit. `prefix`: three letters
    /// `A-Z`.
    ///
    /// ```
    /// # use lotse_store::TenantId;
    /// let t = TenantId::new("heinsberg", "HEI").unwrap();
    /// assert_eq!(t.slug(), "heinsberg");
    /// assert!(TenantId::new("Heinsberg", "HEI").is_err());
    /// ```
    pub fn new(slug: &str, prefix: &str) -> Result<Self, StoreError> {
        let slug_ok = (1..=32).contains(&slug.len())
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !slug.starts_with('-');
        if !slug_ok {
            return Err(StoreError::InvalidId {
                kind: "tenant slug",
                reason: format!("{slug:?}: expected 1-32 of a-z, 0-9, '-'"),
            });
        }
        if prefix.len() != 3 || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(StoreError::InvalidId {
                kind: "reference prefix",
                reason: format!("{prefix:?}: expected three letters A-Z"),
            });
        }
        Ok(Self {
            slug: slug.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// The slug, e.g. `heinsberg`.
    pub fn slug(&self) -> &str {
        &self.slug
    }

    /// The reference prefix, e.g. `HEI`.
    pub fn reference_prefix(&self) -> &str {
        &self.prefix
    }

    /// Key prefix for per-tenant trees: the slug and a 0 byte (slugs never contain 0).
    pub(crate) fn key_prefix(&self) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.slug.len() + 1);
        k.extend_from_slice(self.slug.as_bytes());
        k.push(0);
        k
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.slug)
    }
}

/// The reference a citizen and the office quote: `HEI-2026-000123`. Unique per tenant and year,
/// never issued twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    prefix: String,
    year: i32,
    number: u64,
}

impl Reference {
    pub(crate) fn new(prefix: &str, year: i32, number: u64) -> Self {
        Self {
            prefix: prefix.to_owned(),
            year,
            number,
        }
    }

    /// The year part.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The running number within tenant and year, starting at 1.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The three-letter prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}-{:06}", self.prefix, self.year, self.number)
    }
}

impl FromStr for Reference {
    type Err = StoreError;
    /// ```
    /// # use lotse_store::Reference;
    /// let r: Reference = "HEI-2026-000123".parse().unwrap();
    /// assert_eq!((r.year(), r.number()), (2026, 123));
    /// assert_eq!(r.to_string(), "HEI-2026-000123");
    /// ```
    fn from_str(s: &str) -> Result<Self, StoreError> {
        let bad = || StoreError::InvalidId {
            kind: "reference",
            reason: "expected the form HEI-2026-000123".into(),
        };
        let mut parts = s.trim().split('-');
        let (Some(prefix), Some(year), Some(number), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if prefix.len() != 3 || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad());
        }
        if year.len() != 4 || number.len() < 6 {
            return Err(bad());
        }
        if !year
            .bytes()
            .chain(number.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let year = year.parse().map_err(|_| bad())?;
        let number: u64 = number.parse().map_err(|_| bad())?;
        if number == 0 {
            return Err(bad());
        }
        Ok(Self::new(prefix, year, number))
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The readable alphabet of resume codes: no 0, O, 1, I, L (31 symbols).
const CODE_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LEN: usize = 16;

/// The code a citizen writes down to continue a draft later: 16 symbols of a 31-symbol
/// alphabet (about 79 bits), shown in groups of four: `K7QX-2M9D-8TFA-WN3E`.
///
/// Its `Debug` output is redacted: the code is a secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResumeCode(String);

impl ResumeCode {
    /// A fresh random code.
    pub fn generate(entropy: &mut impl Entropy) -> Result<Self, StoreError> {
        let mut code = String::with_capacity(CODE_LEN);
        let mut buf = [0u8; 32];
        while code.len() < CODE_LEN {
            entropy.fill_bytes(&mut buf)?;
            // Rejection sampling keeps every symbol equally likely: 248 = 8 * 31.
            for b in buf.iter().filter(|b| **b < 248) {
                if code.len() == CODE_LEN {
                    break;
                }
                code.push(char::from(CODE_ALPHABET[usize::from(*b % 31)]));
            }
        }
        Ok(Self(code))
    }

    /// The normalized form without dashes.
    pub(crate) fn normalized(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the normalized code: what the store keeps instead of the code in its keys.
    pub(crate) fn digest(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.normalized().as_bytes()).into()
    }
}

impl FromStr for ResumeCode {
    type Err = StoreError;
    /// Accepts lower case, spaces and dashes anywhere, as people type it.
    ///
    /// ```
    /// # use lotse_store::ResumeCode;
    /// let c: ResumeCode = "k7qx 2m9d-8tfa-wn3e".parse().unwrap();
    /// assert_eq!(c.to_string(), "K7QX-2M9D-8TFA-WN3E");
    /// assert!("K7QX-2M9D-8TFA-WN30".parse::<ResumeCode>().is_err()); // 0 is not in the alphabet
    /// ```
    fn from_str(s: &str) -> Result<Self, StoreError> {
        let mut code = String::with_capacity(CODE_LEN);
        for c in s.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let u = c.to_ascii_uppercase();
            if !u.is_ascii() || !CODE_ALPHABET.contains(&(u as u8)) {
                return Err(StoreError::InvalidId {
                    kind: "resume code",
                    reason: "contains a character outside the code alphabet".into(),
                });
            }
            code.push(u);
        }
        if code.len() != CODE_LEN {
            return Err(StoreError::InvalidId {
                kind: "resume code",
                reason: format!("expected {CODE_LEN} characters"),
            });
        }
        Ok(Self(code))
    }
}

impl fmt::Display for ResumeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                f.write_str("-")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ResumeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResumeCode(<redacted>)")
    }
}

impl Serialize for ResumeCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResumeCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Makes a repeated submit return the first submission. Up to 200 printable characters; the
/// usual key is [`IdempotencyKey::for_draft`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key of "this draft at this revision": submitting the same draft twice yields one
    /// submission.
    pub fn for_draft(draft: &DraftId, revision: u64) -> Self {
        Self(format!("draft:{draft}:{revision}"))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = StoreError;
    fn try_from(s: String) -> Result<Self, StoreError> {
        if s.is_empty() || s.len() > 200 || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(StoreError::InvalidId {
                kind: "idempotency key",
                reason: "expected 1-200 printable ASCII characters".into(),
            });
        }
        Ok(Self(s))
    }
}

impl From<IdempotencyKey> for String {
    fn from(k: IdempotencyKey) -> Self {
        k.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn resume_codes_use_only_the_readable_alphabet() {
        let mut e = DeterministicEntropy::new(7);
        for _ in 0..200 {
            let code = ResumeCode::generate(&mut e).unwrap();
            let text = code.to_string();
            assert_eq!(text.len(), 19);
            assert!(!text.contains(['0', 'O', '1', 'I', 'L']));
            assert_eq!(text.parse::<ResumeCode>().unwrap(), code);
        }
    }

    #[test]
    fn draft_ids_carry_their_resume_code_and_96_random_bits() {
        let mut e = DeterministicEntropy::new(3);
        let code = ResumeCode::generate(&mut e).unwrap();
        let other = ResumeCode::generate(&mut e).unwrap();
        let a = DraftId::for_resume_code(&mut e, &code).unwrap();
        let b = DraftId::for_resume_code(&mut e, &code).unwrap();
        assert!(a.carries_code(&code) && b.carries_code(&code));
        assert!(!a.carries_code(&other));
        assert_eq!(
            a.as_bytes()[..CODE_PREFIX_LEN],
            code.digest()[..CODE_PREFIX_LEN]
        );
        assert_ne!(
            a.as_bytes()[CODE_PREFIX_LEN..],
            b.as_bytes()[CODE_PREFIX_LEN..]
        );
        // A plain random id does not claim the code (except with probability 2^-32).
        assert!(!DraftId::generate(&mut e).unwrap().carries_code(&code));
    }

    #[test]
    fn draft_ids_round_trip_through_text() {
        let mut e = DeterministicEntropy::new(1);
        let id = DraftId::generate(&mut e).unwrap();
        assert_eq!(id.to_string().parse::<DraftId>().unwrap(), id);
        assert!("xyz".parse::<DraftId>().is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(text in "\\PC{0,40}") {
            let _ = text.parse::<ResumeCode>();
            let _ = text.parse::<Reference>();
            let _ = text.parse::<DraftId>();
            let _ = TenantId::new(&text, &text);
        }

        #[test]
        fn references_round_trip(year in 1000i32..=9999, number in 1u64..100_000_000) {
            let r = Reference::new("HEI", year, number);
            proptest::prop_assert_eq!(r.to_string().parse::<Reference>().unwrap(), r);
        }

        #[test]
        fn resume_codes_round_trip_in_any_case(seed in proptest::num::u64::ANY) {
            let code = ResumeCode::generate(&mut DeterministicEntropy::new(seed)).unwrap();
            let typed = code.to_string().to_lowercase().replace('-', " ");
            proptest::prop_assert_eq!(typed.parse::<ResumeCode>().unwrap(), code);
        }
    }

    #[test]
    fn references_render_with_six_digits_and_grow_beyond() {
        assert_eq!(
            Reference::new("HEI", 2026, 123).to_string(),
            "HEI-2026-000123"
        );
        let big = Reference::new("HEI", 2026, 1_234_567);
        assert_eq!(big.to_string().parse::<Reference>().unwrap(), big);
        assert!("HEI-2026-000000".parse::<Reference>().is_err());
    }
}
