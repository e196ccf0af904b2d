//! Attachments (Nachweise): files a citizen uploads, kept once per content. The key is the
//! file's SHA-256, checked while the bytes are stored, so two citizens uploading the same lease
//! share one copy and a stored file always has the hash its records name. Stored and read as
//! streams: a 20 MB file is never held whole in memory. Backend-neutral.

use std::fmt;
use std::io::Read;

use sha2::{Digest, Sha256};

use crate::error::StoreError;

/// The SHA-256 of an attachment's bytes: its key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttachmentHash([u8; 32]);

impl AttachmentHash {
    pub fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The hash of `bytes` (for small files and tests; uploads hash while they stream).
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }
}

impl fmt::Display for AttachmentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for AttachmentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttachmentHash({self})")
    }
}

impl std::str::FromStr for AttachmentHash {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || StoreError::InvalidInput("an attachment hash is 64 hex digits".into());
        if s.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(s.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
                .map_err(|_| bad())?;
        }
        Ok(Self(out))
    }
}

/// Reads through to `inner` while hashing and counting what passed.
pub(crate) struct Hashing<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha256,
    pub(crate) size: u64,
}

impl<'a> Hashing<'a> {
    pub(crate) fn new(inner: &'a mut dyn Read) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    /// The hash of everything read, refused unless it is `expected`.
    pub(crate) fn check(self, expected: &AttachmentHash) -> Result<u64, StoreError> {
        let got = AttachmentHash(self.hasher.finalize().into());
        if got == *expected {
            Ok(self.size)
        } else {
            Err(StoreError::InvalidInput(format!(
                "the attachment's bytes have the SHA-256 {got}, not {expected}"
            )))
        }
    }
}

impl Read for Hashing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}
