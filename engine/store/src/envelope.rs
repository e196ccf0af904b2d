//! The format-version envelope around every JSON record: `{"v":1,"d":{...}}`.
//!
//! A newer version is refused with an error naming the record; an older one goes through
//! [`migrate`] before it is decoded. Bump [`RECORD_FORMAT`] and add a migration arm whenever a
//! record type changes incompatibly.
//!
//! A record may also be stored *packed* ([`pack`]): a two-byte marker that no JSON text starts
//! with, the expiry as big-endian Unix seconds, then the JSON deflated. The sled store packs
//! the drafts it moves to its tree of idle drafts (docs/store.md); [`decode`] unpacks
//! transparently, and [`packed_expiry`] lets the expiry sweep skip a packed draft without
//! inflating it.

use std::borrow::Cow;
use std::cell::RefCell;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{StoreError, show_key};

/// The record format this build writes.
pub const RECORD_FORMAT: u32 = 1;

#[derive(Serialize)]
struct EnvelopeOut<'a, T> {
    v: u32,
    d: &'a T,
}

#[derive(Deserialize)]
struct EnvelopeIn<T> {
    v: u32,
    d: T,
}

#[derive(Deserialize)]
struct VersionOnly {
    v: u32,
    #[allow(dead_code)]
    d: IgnoredAny,
}

pub(crate) fn encode<T: Serialize>(
    tree: &'static str,
    key: &[u8],
    record: &T,
) -> Result<Vec<u8>, StoreError> {
    encode_sized(tree, key, record, 256)
}

/// Like [`encode`], with a size hint (e.g. the stored record's length) that spares the
/// buffer's regrowth.
pub(crate) fn encode_sized<T: Serialize>(
    tree: &'static str,
    key: &[u8],
    record: &T,
    size_hint: usize,
) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(size_hint);
    serde_json::to_writer(
        &mut out,
        &EnvelopeOut {
            v: RECORD_FORMAT,
            d: record,
        },
    )
    .map_err(|e| StoreError::Corrupt {
        tree,
        key: show_key(key),
        reason: format!("cannot encode: {e}"),
    })?;
    Ok(out)
}

/// The first bytes of a packed record: a NUL (no JSON text starts with one) and the packing's
/// version.
const PACKED: [u8; 2] = [0x00, 0x01];
/// Marker and expiry.
const PACKED_HEADER: usize = PACKED.len() + 8;
/// The most a packed record may inflate to: a guard against a corrupted or hostile length,
/// far above any draft (a workflow's answers are limited to a request's size).
const PACKED_LIMIT: u64 = 64 * 1024 * 1024;

thread_local! {
    // One (de)compressor per thread, reset for each record: a new one allocates and clears
    // tens of kilobytes of state, which cost more than packing a draft.
    static DEFLATE: RefCell<flate2::Compress> =
        RefCell::new(flate2::Compress::new(flate2::Compression::fast(), false));
    static INFLATE: RefCell<flate2::Decompress> = RefCell::new(flate2::Decompress::new(false));
}

/// Packs an encoded record (its JSON envelope) with its expiry in front.
pub(crate) fn pack(json: &[u8], expires_unix: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(PACKED_HEADER + json.len() / 2 + 64);
    out.extend_from_slice(&PACKED);
    out.extend_from_slice(&expires_unix.to_be_bytes());
    let packed = DEFLATE.with(|deflate| {
        let mut deflate = deflate.borrow_mut();
        deflate.reset();
        // Each round either finishes or fills the buffer, which then grows: a few rounds.
        for _ in 0..64 {
            let read = usize::try_from(deflate.total_in()).unwrap_or(usize::MAX);
            let rest = json.get(read..).unwrap_or_default();
            match deflate.compress_vec(rest, &mut out, flate2::FlushCompress::Finish) {
                Ok(flate2::Status::StreamEnd) => return true,
                Ok(_) => out.reserve(out.capacity().max(64)),
                Err(_) => return false,
            }
        }
        false
    });
    // Not packed (which deflate into a Vec does not do): the JSON is a valid record as well.
    if packed { out } else { json.to_vec() }
}

/// Whether `bytes` are a packed record.
pub(crate) fn is_packed(bytes: &[u8]) -> bool {
    bytes.starts_with(&PACKED)
}

/// The expiry stored in front of a packed record, without inflating it; `None` for a record
/// that is not packed (or too short to be one).
pub(crate) fn packed_expiry(bytes: &[u8]) -> Option<i64> {
    if !is_packed(bytes) {
        return None;
    }
    let raw: [u8; 8] = bytes.get(PACKED.len()..PACKED_HEADER)?.try_into().ok()?;
    Some(i64::from_be_bytes(raw))
}

/// The record's JSON: `bytes` themselves, or inflated if they are packed.
pub(crate) fn unpack<'a>(
    tree: &'static str,
    key: &[u8],
    bytes: &'a [u8],
) -> Result<Cow<'a, [u8]>, StoreError> {
    unpack_at_most(tree, key, bytes, PACKED_LIMIT)
}

fn unpack_at_most<'a>(
    tree: &'static str,
    key: &[u8],
    bytes: &'a [u8],
    limit: u64,
) -> Result<Cow<'a, [u8]>, StoreError> {
    if !is_packed(bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    let corrupt = |reason: String| StoreError::Corrupt {
        tree,
        key: show_key(key),
        reason,
    };
    let deflated = bytes
        .get(PACKED_HEADER..)
        .ok_or_else(|| corrupt("packed record is cut short".into()))?;
    let mut json = Vec::with_capacity(deflated.len() * 4 + 64);
    INFLATE.with(|inflate| {
        let mut inflate = inflate.borrow_mut();
        inflate.reset(false);
        // Each round makes progress or ends: the bound only guards against a decoder that
        // would not.
        for _ in 0..1024 {
            let read = usize::try_from(inflate.total_in()).unwrap_or(usize::MAX);
            let rest = deflated.get(read..).unwrap_or_default();
            let status = inflate
                .decompress_vec(rest, &mut json, flate2::FlushDecompress::None)
                .map_err(|e| corrupt(format!("packed record does not inflate: {e}")))?;
            if status == flate2::Status::StreamEnd {
                return Ok(());
            }
            let all_read = inflate.total_in() >= deflated.len() as u64;
            if json.len() < json.capacity() {
                if all_read {
                    // Room left, nothing more to read, and the stream has not ended.
                    return Err(corrupt("packed record is cut short".into()));
                }
            } else if json.len() as u64 > limit {
                return Err(corrupt(format!(
                    "packed record inflates to more than {limit} bytes"
                )));
            } else {
                // Doubles, but never past the limit (and one byte to see it crossed).
                let room = usize::try_from(limit + 1).unwrap_or(usize::MAX);
                json.reserve(json.capacity().min(room.saturating_sub(json.len())));
            }
        }
        Err(corrupt("packed record does not inflate".into()))
    })?;
    Ok(Cow::Owned(json))
}

/// Decodes a record, migrating older versions and refusing newer ones.
pub(crate) fn decode<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    let bytes = &*unpack(tree, key, bytes)?;
    let corrupt = |e: serde_json::Error| StoreError::Corrupt {
        tree,
        key: show_key(key),
        reason: e.to_string(),
    };
    match serde_json::from_slice::<EnvelopeIn<T>>(bytes) {
        Ok(env) if env.v == RECORD_FORMAT => return Ok(env.d),
        Ok(_) => {}
        Err(first) => {
            // Not the current shape: find out whether the version explains it.
            let Ok(head) = serde_json::from_slice::<VersionOnly>(bytes) else {
                return Err(corrupt(first));
            };
            if head.v == RECORD_FORMAT {
                return Err(StoreError::Corrupt {
                    tree,
                    key: show_key(key),
                    reason: format!("record does not match its type: {first}"),
                });
            }
        }
    }
    let env: EnvelopeIn<Value> = serde_json::from_slice(bytes).map_err(corrupt)?;
    if env.v > RECORD_FORMAT {
        return Err(StoreError::NewerFormat {
            tree,
            key: show_key(key),
            found: env.v,
            supported: RECORD_FORMAT,
        });
    }
    let migrated = migrate(tree, env.v, env.d).ok_or_else(|| StoreError::NoMigration {
        tree,
        key: show_key(key),
        found: env.v,
    })?;
    serde_json::from_value(migrated).map_err(corrupt)
}

/// Decodes a record kept as its version and payload apart (the PostgreSQL layout: a `v`
/// column beside the JSON of `d`), with the same rules as [`decode`].
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn decode_parts<T: DeserializeOwned>(
    tree: &'static str,
    key: &str,
    version: u32,
    payload: &str,
) -> Result<T, StoreError> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt {
        tree,
        key: key.to_owned(),
        reason: e.to_string(),
    };
    if version == RECORD_FORMAT {
        return serde_json::from_str(payload).map_err(corrupt);
    }
    if version > RECORD_FORMAT {
        return Err(StoreError::NewerFormat {
            tree,
            key: key.to_owned(),
            found: version,
            supported: RECORD_FORMAT,
        });
    }
    let value: Value = serde_json::from_str(payload).map_err(corrupt)?;
    let migrated = migrate(tree, version, value).ok_or_else(|| StoreError::NoMigration {
        tree,
        key: key.to_owned(),
        found: version,
    })?;
    serde_json::from_value(migrated).map_err(corrupt)
}

/// Decodes only the fields a caller needs (serde skips the rest), when the record has the
/// current version. Anything else falls back to [`decode`] of the full type `Full` and
/// `project`.
pub(crate) fn decode_head<H: DeserializeOwned, Full: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
    project: impl FnOnce(Full) -> H,
) -> Result<H, StoreError> {
    let bytes = &*unpack(tree, key, bytes)?;
    match serde_json::from_slice::<EnvelopeIn<H>>(bytes) {
        Ok(env) if env.v == RECORD_FORMAT => Ok(env.d),
        _ => decode::<Full>(tree, key, bytes).map(project),
    }
}

/// The migration hook: turns the payload of an older record `version` into the current shape,
/// or `None` if no migration exists. Version 1 is the first format, so nothing migrates yet.
fn migrate(tree: &'static str, version: u32, payload: Value) -> Option<Value> {
    match (tree, version) {
        // Real arms look like: ("drafts", 1) => Some(add_field(payload, "locale", "de")).
        #[cfg(test)]
        ("test_records", 0) => Some(serde_json::json!({ "renamed": payload.get("old")? })),
        _ => {
            let _ = payload;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn newer_records_are_refused_with_their_key() {
        let err = decode::<Value>("drafts", b"k1", br#"{"v":99,"d":{}}"#).unwrap_err();
        assert_eq!(err.code(), "LOT-S005");
        assert!(err.to_string().contains("drafts/k1"));
    }

    #[test]
    fn garbage_is_reported_as_corrupt() {
        let err = decode::<Value>("drafts", b"k2", b"\x00\xffgarbage").unwrap_err();
        assert_eq!(err.code(), "LOT-S006");
    }

    #[test]
    fn older_records_go_through_the_migration_hook() {
        #[derive(Deserialize)]
        struct Current {
            renamed: u32,
        }
        let rec: Current = decode("test_records", b"k4", br#"{"v":0,"d":{"old":7}}"#).unwrap();
        assert_eq!(rec.renamed, 7);
    }

    #[test]
    fn packed_records_decode_like_their_json_and_carry_their_expiry() {
        let json = br#"{"v":1,"d":{"note":"Bitte am Vormittag anrufen","n":[1,2,3]}}"#;
        let packed = pack(json, 1_798_761_600);
        assert!(is_packed(&packed));
        assert_eq!(packed_expiry(&packed), Some(1_798_761_600));
        assert_eq!(packed_expiry(json), None);
        assert_eq!(
            decode::<Value>("drafts", b"k5", &packed).unwrap(),
            decode::<Value>("drafts", b"k5", json).unwrap()
        );
        // A newer record stays a newer record when packed.
        let newer = pack(br#"{"v":99,"d":{}}"#, 0);
        let err = decode::<Value>("drafts", b"k6", &newer).unwrap_err();
        assert_eq!(err.code(), "LOT-S005");
    }

    #[test]
    fn packing_round_trips_tiny_huge_and_incompressible_records() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut noise = String::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.push_str(&format!("{x:016x}"));
        }
        for text in [
            String::new(),
            "a".repeat(3_000_000), // inflates to over a thousand times its packed size
            noise,                 // barely compresses
        ] {
            let json = serde_json::to_vec(&serde_json::json!({"v": 1, "d": {"t": text}})).unwrap();
            let packed = pack(&json, -5);
            assert!(is_packed(&packed));
            assert_eq!(packed_expiry(&packed), Some(-5));
            assert_eq!(&*unpack("drafts", b"k8", &packed).unwrap(), &json[..]);
        }
    }

    #[test]
    fn a_packed_record_that_inflates_past_the_limit_is_refused() {
        let json =
            serde_json::to_vec(&serde_json::json!({"v": 1, "d": "a".repeat(100_000)})).unwrap();
        let packed = pack(&json, 0);
        assert!(packed.len() < 1_000, "{}", packed.len());
        let err = unpack_at_most("drafts", b"k9", &packed, 10_000).unwrap_err();
        assert_eq!(err.code(), "LOT-S006");
        assert!(err.to_string().contains("more than 10000 bytes"), "{err}");
        // At its exact size it passes.
        let exact = json.len() as u64;
        assert_eq!(
            &*unpack_at_most("drafts", b"k9", &packed, exact).unwrap(),
            &json[..]
        );
    }

    #[test]
    fn damaged_packed_records_are_named_not_guessed() {
        let json = br#"{"v":1,"d":{"note":"Rueckruf erbeten"}}"#;
        let packed = pack(json, 0);
        for (what, bytes) in [
            ("cut short", packed[..5].to_vec()),
            ("truncated stream", packed[..packed.len() - 3].to_vec()),
            (
                "garbage stream",
                [&packed[..PACKED_HEADER], &b"\xff\xfe\xfd"[..]].concat(),
            ),
        ] {
            let err = decode::<Value>("drafts", b"k7", &bytes).unwrap_err();
            assert_eq!(err.code(), "LOT-S006", "{what}: {err}");
            assert!(err.to_string().contains("drafts/k7"), "{what}: {err}");
        }
    }

    #[test]
    fn older_records_without_migration_are_named() {
        let err = decode::<Value>("drafts", b"k3", br#"{"v":0,"d":{}}"#).unwrap_err();
        assert_eq!(err.code(), "LOT-S007");
    }
}
