//! A per-process memory of recently verified SCIM tokens, so that an authenticated request costs
//! no database round trip, and the listener that makes every server forget a tenant's tokens
//! the moment the database announces a change to them.
//!
//! Why this is safe: a trigger (migration `scim_auth_notify`) announces every change that can
//! end a token early (revocation, retirement, the tenant's SCIM switch or sign-in type,
//! deletion) on [`CHANNEL`], after the change commits. The listener polls its own `LISTEN`
//! session every [`POLL_EVERY`], so a revocation reaches every server within that. Nothing is
//! remembered while the listener is not connected to a real session (one that hears
//! announcements sent by another connection, on one server process throughout), a
//! verification that raced with a change is not remembered (generation check), expiry and the
//! end of an overlap window are checked on every hit, and no verification is trusted for longer
//! than [`RECHECK_AFTER`] in any case: should an announcement be lost, a revoked token is
//! refused everywhere within that bound ([`REFUSED_EVERYWHERE_WITHIN`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::RunQueryDsl as _;

use super::listener;
use super::service::{self, Rejection, Verified};
use crate::db::{CrossTenant, Db};
use crate::error::Result;
use crate::ids::TenantId;
use crate::secret::sha256;

/// The notification channel the trigger announces changes on; the payload is the tenant id.
pub const CHANNEL: &str = "insights_scim_auth";
/// The longest a verification is trusted without asking the database again (one indexed
/// lookup per token and server every two seconds): counted from before the question was asked,
/// so a token revoked after the answer's snapshot is refused by then even if no announcement
/// arrives.
pub const RECHECK_AFTER: Duration = Duration::from_secs(2);
/// What **Revoke now** promises about the other servers: [`RECHECK_AFTER`], plus a request
/// that was already past authentication.
pub const REFUSED_EVERYWHERE_WITHIN: Duration = Duration::from_secs(3);
/// How often the listener reads its session for announcements.
pub(super) const POLL_EVERY: Duration = Duration::from_millis(20);
/// How long [`TokenCache::catch_up`] waits for its own announcement.
pub(super) const CATCH_UP_LIMIT: Duration = Duration::from_secs(2);
/// The payload prefix of a catch-up announcement: `catch-up:<instance>:<ticket>`.
const CATCH_UP: &str = "catch-up:";
/// The payload prefix of the listener's check that announcements reach it.
pub(super) const PROBE: &str = "probe:";
/// More remembered tokens than any deployment has tenants; past it the memory starts over.
const MAX_ENTRIES: usize = 50_000;

/// Verifies SCIM tokens, from memory when the same token was verified recently. Cheap to clone;
/// the listener stops when the last clone is dropped.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("listening", &self.is_listening())
            .finish_non_exhaustive()
    }
}

pub(super) struct Inner {
    /// Tells this process's catch-up announcements apart from other servers'.
    instance: uuid::Uuid,
    /// The last catch-up ticket handed out, and the last one the listener saw come back.
    tickets_issued: AtomicU64,
    tickets_seen: AtomicU64,
    /// Keyed by tenant and SHA-256 of the token: the plaintext is never kept. Looking a digest
    /// up in a map is not constant-time, which is fine: an attacker cannot choose digests.
    entries: RwLock<HashMap<Key, Entry>>,
    /// True while the listener holds a live `LISTEN` session; without it nothing is remembered.
    pub(super) listening: AtomicBool,
    /// Bumped (under the write lock) whenever something is forgotten.
    generation: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    tenant: TenantId,
    digest: [u8; 32],
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    verified: Verified,
    /// When the database was asked: the entry is trusted until [`RECHECK_AFTER`] after that.
    asked_at: Instant,
}

impl TokenCache {
    /// A cache that remembers nothing: every verification asks the database.
    pub fn disabled() -> Self {
        Self {
            inner: Arc::new(Inner {
                instance: uuid::Uuid::new_v4(),
                tickets_issued: AtomicU64::new(0),
                tickets_seen: AtomicU64::new(0),
                entries: RwLock::default(),
                listening: AtomicBool::new(false),
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// Starts the listener on a connection of its own (not from the pool). Tokens are
    /// remembered once it listens; until then, and whenever it loses its session, every
    /// verification asks the database. Behind a transaction pooler without a listen URL of its
    /// own (`INSIGHTS_LISTEN_DATABASE_URL`) there is no session to listen on: nothing is
    /// remembered.
    pub fn listening(db: &Db) -> Self {
        let cache = Self::disabled();
        if !db.can_listen() {
            tracing::info!(
                "behind a transaction pooler without INSIGHTS_LISTEN_DATABASE_URL: SCIM tokens are checked against the database on every request"
            );
            return cache;
        }
        let weak = Arc::downgrade(&cache.inner);
        let db = db.clone();
        let started = std::thread::Builder::new()
            .name("scim-auth-listener".into())
            .spawn(move || listener::listen(&weak, &db));
        if let Err(error) = started {
            tracing::warn!(%error, "could not start the SCIM token listener; tokens are checked against the database on every request");
        }
        cache
    }

    /// Whether verified tokens are being remembered (the listener is connected).
    pub fn is_listening(&self) -> bool {
        self.inner.listening.load(Ordering::Acquire)
    }

    /// The verification of this token of this tenant if it is remembered (no database work):
    /// lets a server keep serving a tenant's known token while unknown ones are throttled.
    pub fn remembered(
        &self,
        tenant: TenantId,
        presented: &str,
        now: DateTime<Utc>,
    ) -> Option<Verified> {
        self.inner.recall(
            &Key {
                tenant,
                digest: sha256(presented),
            },
            now,
        )
    }

    /// [`service::verify`], answered from memory when this token of this tenant was accepted
    /// recently and nothing about it changed since. Rejections are never remembered.
    pub async fn verify(
        &self,
        db: &Db,
        tenant: TenantId,
        presented: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Verified, Rejection>> {
        let key = Key {
            tenant,
            digest: sha256(presented),
        };
        if let Some(verified) = self.inner.recall(&key, now) {
            return Ok(Ok(verified));
        }
        let generation = self.inner.generation.load(Ordering::Acquire);
        let asked_at = Instant::now();
        let presented = presented.to_owned();
        let outcome = db
            .run(tenant, move |conn| {
                service::verify(conn, tenant, &presented, now)
            })
            .await?;
        match outcome {
            // Older tokens stopped working just now: forget them here at once rather than
            // when the announcement comes back.
            Ok(verified) if verified.retired_older => self.inner.forget(Some(tenant)),
            Ok(verified) => self.inner.remember(key, verified, generation, asked_at),
            Err(_) => {}
        }
        Ok(outcome)
    }

    /// Returns once this server has acted on every change committed before the call, so that
    /// a revocation made here is in force here when the admin sees it confirmed. (Other servers
    /// act on it within [`POLL_EVERY`].) Gives up after `CATCH_UP_LIMIT` by forgetting
    /// everything, which is just as safe.
    pub async fn catch_up(&self, db: &Db) -> Result<()> {
        if !self.is_listening() {
            return Ok(());
        }
        let ticket = self.inner.tickets_issued.fetch_add(1, Ordering::AcqRel) + 1;
        // Announcements reach a listener in commit order, so when this one is back, every
        // earlier change has been acted on.
        let payload = format!("{CATCH_UP}{}:{ticket}", self.inner.instance);
        db.run_across_tenants(CrossTenant::TokenAnnouncements, move |conn| -> Result<()> {
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<diesel::sql_types::Text, _>(CHANNEL)
                .bind::<diesel::sql_types::Text, _>(payload)
                .execute(conn)?;
            Ok(())
        })
        .await?;
        let deadline = Instant::now() + CATCH_UP_LIMIT;
        while self.inner.tickets_seen.load(Ordering::Acquire) < ticket {
            if Instant::now() >= deadline || !self.is_listening() {
                self.inner.forget(None);
                break;
            }
            tokio::time::sleep(POLL_EVERY / 4).await;
        }
        Ok(())
    }
}

impl Inner {
    fn recall(&self, key: &Key, now: DateTime<Utc>) -> Option<Verified> {
        if !self.listening.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(key)?;
        (entry.asked_at.elapsed() < RECHECK_AFTER && now < entry.verified.valid_until)
            .then_some(entry.verified)
    }

    /// Remembers a verification that was asked at `asked_at` and `generation`, unless something
    /// was forgotten since (the database may have answered from before the change).
    fn remember(&self, key: Key, verified: Verified, generation: u64, asked_at: Instant) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if !self.listening.load(Ordering::Acquire)
            || self.generation.load(Ordering::Acquire) != generation
        {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, Entry { verified, asked_at });
    }

    fn forget(&self, tenant: Option<TenantId>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        match tenant {
            Some(tenant) => entries.retain(|key, _| key.tenant != tenant),
            None => entries.clear(),
        }
    }

    pub(super) fn set_listening(&self, listening: bool) {
        // Forget first: whatever was remembered may have missed announcements.
        self.forget(None);
        self.listening.store(listening, Ordering::Release);
    }
}

impl Inner {
    pub(super) fn announced(&self, payload: &str) {
        if payload.starts_with(PROBE) {
            // Another listener checking its session.
            return;
        }
        if let Some(ticket) = payload.strip_prefix(CATCH_UP) {
            // Another server's catch-up changes nothing; ours is noted.
            if let Some((instance, ticket)) = ticket.split_once(':')
                && instance.parse() == Ok(self.instance)
                && let Ok(ticket) = ticket.parse::<u64>()
            {
                self.tickets_seen.fetch_max(ticket, Ordering::AcqRel);
            }
            return;
        }
        // An announcement we cannot read forgets everything rather than nothing.
        self.forget(payload.parse::<TenantId>().ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TokenId;

    fn remembered(cache: &TokenCache, tenant: TenantId) -> Key {
        let inner = &cache.inner;
        inner.listening.store(true, Ordering::Release);
        let key = Key {
            tenant,
            digest: sha256(&tenant.to_string()),
        };
        let verified = Verified {
            tenant,
            token: TokenId::new_random(),
            scim_enabled: true,
            openid: true,
            paused: false,
            adoption: crate::stored::Adoption::Ask,
            shadow: None,
            valid_until: Utc::now() + chrono::Duration::days(1),
            retired_older: false,
        };
        inner.remember(
            key,
            verified,
            inner.generation.load(Ordering::Acquire),
            Instant::now(),
        );
        key
    }

    #[test]
    fn announcements_forget_their_tenant_and_catch_ups_only_count_tickets() {
        let cache = TokenCache::disabled();
        let inner = &cache.inner;
        let (acme, other) = (TenantId::new_random(), TenantId::new_random());
        let (acme_key, other_key) = (remembered(&cache, acme), remembered(&cache, other));

        inner.announced(&format!("{CATCH_UP}{}:7", uuid::Uuid::new_v4()));
        inner.announced(&format!("{CATCH_UP}{}:not-a-number", inner.instance));
        assert_eq!(inner.tickets_seen.load(Ordering::Acquire), 0);
        assert!(inner.recall(&acme_key, Utc::now()).is_some());
        inner.announced(&format!("{PROBE}{}", uuid::Uuid::new_v4()));
        assert!(
            inner.recall(&acme_key, Utc::now()).is_some(),
            "a probe forgets nothing"
        );
        inner.announced(&format!("{CATCH_UP}{}:3", inner.instance));
        assert_eq!(inner.tickets_seen.load(Ordering::Acquire), 3);

        inner.announced(&acme.to_string());
        assert!(inner.recall(&acme_key, Utc::now()).is_none());
        assert!(inner.recall(&other_key, Utc::now()).is_some());
        inner.announced("something else");
        assert!(inner.recall(&other_key, Utc::now()).is_none());
    }

    #[test]
    fn a_verification_that_raced_with_a_change_is_not_remembered() -> Result<(), &'static str> {
        let cache = TokenCache::disabled();
        let inner = &cache.inner;
        let tenant = TenantId::new_random();
        let key = remembered(&cache, tenant);
        let verified = inner.recall(&key, Utc::now()).ok_or("not remembered")?;
        let started = inner.generation.load(Ordering::Acquire);
        inner.forget(Some(tenant));
        inner.remember(key, verified, started, Instant::now());
        assert!(inner.recall(&key, Utc::now()).is_none());
        inner.set_listening(false);
        inner.remember(
            key,
            verified,
            inner.generation.load(Ordering::Acquire),
            Instant::now(),
        );
        assert!(inner.recall(&key, Utc::now()).is_none());
        Ok(())
    }

    #[test]
    fn no_verification_is_trusted_past_the_recheck_bound() -> Result<(), &'static str> {
        let cache = TokenCache::disabled();
        let inner = &cache.inner;
        let tenant = TenantId::new_random();
        let key = remembered(&cache, tenant);
        let verified = inner.recall(&key, Utc::now()).ok_or("not remembered")?;
        let generation = inner.generation.load(Ordering::Acquire);
        let asked = Instant::now()
            .checked_sub(RECHECK_AFTER)
            .ok_or("clock too young")?;
        inner.remember(key, verified, generation, asked);
        assert!(
            inner.recall(&key, Utc::now()).is_none(),
            "asked {RECHECK_AFTER:?} ago: asked again"
        );
        let asked = Instant::now()
            .checked_sub(RECHECK_AFTER / 2)
            .ok_or("clock too young")?;
        inner.remember(key, verified, generation, asked);
        assert!(inner.recall(&key, Utc::now()).is_some());
        assert!(REFUSED_EVERYWHERE_WITHIN > RECHECK_AFTER);
        Ok(())
    }
}
