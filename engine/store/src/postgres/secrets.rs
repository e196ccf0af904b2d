//! [`SecretStore`] on PostgreSQL: the `node_secrets` table, created with
//! `INSERT … ON CONFLICT DO NOTHING`, so that nodes starting together agree on the first value.

use super::{PgStore, db_err};
use crate::SecretStore;
use crate::error::StoreError;

impl SecretStore for PgStore {
    fn secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.run(async |pool| {
            sqlx::query_scalar("SELECT value FROM node_secrets WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *pool)
                .await
                .map_err(db_err)
        })
    }

    fn secret_or_insert(&self, name: &str, fresh: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.run(async |pool| {
            sqlx::query(
                "INSERT INTO node_secrets (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(fresh)
            .execute(&mut *pool)
            .await
            .map_err(db_err)?;
            sqlx::query_scalar("SELECT value FROM node_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *pool)
                .await
                .map_err(db_err)
        })
    }
}
