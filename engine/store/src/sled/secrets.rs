//! [`SecretStore`] on sled: the `secrets` tree, name → bytes, created with a compare-and-swap.

use super::SledStore;
use crate::SecretStore;
use crate::error::StoreError;

impl SecretStore for SledStore {
    fn secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.inner.secrets.get(name)?.map(|v| v.to_vec()))
    }

    fn secret_or_insert(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
        let stored = match self
            .inner
            .secrets
            .compare_and_swap(name, None::<&[u8]>, Some(fresh))?
        {
            Ok(()) => fresh.to_vec(),
            Err(lost) => match lost.current {
                Some(first) => first.to_vec(),
                None => fresh.to_vec(), // unreachable: an absent key matches `None`
            },
        };
        // Whoever got it first, it is durable before anyone uses it.
        self.flush()?;
        Ok(stored)
    }
}
