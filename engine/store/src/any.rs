//! [`AnyStore`]: the backend chosen in the configuration, behind the same store traits, and
//! [`Backend`], the few calls that differ per backend (export, import, flush, close, limits).
//!
//! `AnyStore` holds a `Box<dyn Backend>` and dereferences to it, so a new [`Backend`] method is
//! callable on an `AnyStore` without any code here; the store traits are declared through
//! [`store_traits!`], which implements each of them for `AnyStore` from the same declaration.
//! So a new store method is written in the trait and in each backend, and nowhere else.

use std::fmt;
use std::io::{BufRead, Write};
use std::ops::Deref;

use time::OffsetDateTime;

use super::Store;
use super::codec::Progress;
use super::error::StoreError;
use super::limiter::{AttemptLimiter, LimitPolicy};
#[cfg(feature = "postgres")]
use super::postgres::PgStore;
use super::sled::SledStore;

/// Declares store traits as written and implements each for [`AnyStore`] by calling the same
/// method of the backend it holds. Methods take `&self` and named arguments and return a type
/// (that is all the store traits need; they stay object-safe).
macro_rules! store_traits {
    ($(
        $(#[$trait_attr:meta])*
        pub trait $trait:ident {
            $(
                $(#[$method_attr:meta])*
                fn $method:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;
            )*
        }
    )*) => {
        $(
            $(#[$trait_attr])*
            pub trait $trait {
                $(
                    $(#[$method_attr])*
                    fn $method(&self $(, $arg: $ty)*) -> $ret;
                )*
            }

            impl $trait for $crate::AnyStore {
                $(
                    fn $method(&self $(, $arg: $ty)*) -> $ret {
                        let backend: &dyn $crate::Backend = &**self;
                        $trait::$method(backend $(, $arg)*)
                    }
                )*
            }
        )*
    };
}

/// What differs between backends beyond the store traits. Object-safe: [`AnyStore`] holds any
/// backend as a `Box<dyn Backend>`.
pub trait Backend: Store + Send + Sync + fmt::Debug {
    /// The backend's name as in the configuration: `sled` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Whether draft reads and saves wait for something outside this process (a database round
    /// trip), so that an async caller should run them on a blocking thread. `false` for sled:
    /// they work in memory, flushed in the background.
    fn draft_calls_block(&self) -> bool;

    /// Moves drafts not edited since `before` out of the small tree of recent drafts (sled,
    /// [`SledStore::archive_idle_drafts`]); returns how many. PostgreSQL keeps one table with
    /// its own indexes and moves nothing (0).
    fn archive_idle_drafts(&self, before: OffsetDateTime) -> Result<u64, StoreError>;

    /// Attempts per key (a client address, an account) limited by `policy`, counted where
    /// every node of the installation sees them: in memory with sled (one process), in the
    /// database with PostgreSQL.
    fn attempt_limiter(&self, policy: LimitPolicy) -> Box<dyn AttemptLimiter + Send + Sync>;

    /// [`AnyStore::export_jsonl`] for any backend.
    fn export_to(
        &self,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, StoreError>;

    /// [`AnyStore::import_jsonl`] for any backend.
    fn import_from(
        &self,
        input: &mut dyn BufRead,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<u64, StoreError>;

    /// Makes everything written so far durable (sled: an fsync; PostgreSQL: nothing to do,
    /// every acknowledged write is committed). Blocking.
    fn flush(&self) -> Result<(), StoreError>;

    /// Closes the store at shutdown (sled: flush and snapshot, `false` while other clones
    /// live; PostgreSQL: close the pool). Blocking.
    fn close(self: Box<Self>) -> Result<bool, StoreError>;

    /// Another handle on the same store (both backends are cheap to clone).
    fn clone_backend(&self) -> Box<dyn Backend>;
}

/// One store of either backend. Cheap to clone (clones share the database). Every store trait
/// is implemented; [`Backend`]'s methods are reached through `Deref`.
pub struct AnyStore(Box<dyn Backend>);

impl AnyStore {
    /// Any backend as an `AnyStore`.
    pub fn new(backend: impl Backend + 'static) -> Self {
        Self(Box::new(backend))
    }

    /// Writes every record as JSON Lines (the format of [`SledStore::export_jsonl`], the same
    /// for both backends).
    pub fn export_jsonl(
        &self,
        mut out: &mut impl Write,
        mut progress: impl FnMut(Progress),
    ) -> Result<u64, StoreError> {
        self.0.export_to(&mut out, &mut progress)
    }

    /// Reads an export of either backend into this (empty) store.
    pub fn import_jsonl(
        &self,
        mut input: &mut impl BufRead,
        mut progress: impl FnMut(Progress),
    ) -> Result<u64, StoreError> {
        self.0.import_from(&mut input, &mut progress)
    }

    /// Closes the store at shutdown (see [`Backend::close`]). Blocking.
    pub fn close(self) -> Result<bool, StoreError> {
        self.0.close()
    }
}

impl Deref for AnyStore {
    type Target = dyn Backend;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl Clone for AnyStore {
    fn clone(&self) -> Self {
        Self(self.0.clone_backend())
    }
}

impl fmt::Debug for AnyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AnyStore").field(&self.0).finish()
    }
}

impl From<SledStore> for AnyStore {
    fn from(s: SledStore) -> Self {
        Self::new(s)
    }
}

#[cfg(feature = "postgres")]
impl From<PgStore> for AnyStore {
    fn from(s: PgStore) -> Self {
        Self::new(s)
    }
}
