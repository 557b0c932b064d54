//! Browser profiles (`/profiles`): records in the store, saved browser state on disk under
//! `<data_dir>/profiles/<id>/`, and the one writer at a time that loads and saves it.
//!
//! A session or browser created with a `profileId` starts cold from the profile's saved state
//! (a warm pool browser already has a profile of its own) and holds a [`ProfileLease`]; when it
//! ends (stop, timeout, crash, shutdown) the lease closes the browser gracefully and saves its
//! cookies, local storage and IndexedDB back. Several sessions may use one profile at once:
//! saves are serialised by a per-profile lock; cookies are merged three ways (each browser's
//! own additions, changes and deletions count, others' saves stay; see `browser::profile`),
//! while local storage and IndexedDB go to the last one to end. A failed save is never
//! silent: it is logged, kept on the profile (`lastSaveError`) and returned to the owner,
//! which reports it on the session (feed message, `profileError` of its browser) or browser.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex as SyncMutex};

use browser::{Browser, Pool};
use store::{ProfileRecord, Store, StoreError, Uuid};
use tokio::sync::Mutex;

/// Why a profile operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No such profile.
    #[error("Profile not found")]
    NotFound,
    /// The store failed.
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    /// No browser could be started from the profile.
    #[error("Could not start a browser with the profile: {0}")]
    Browser(#[from] browser::BrowserError),
}

/// The profiles of this server. Cheap to clone.
#[derive(Clone)]
pub struct Profiles {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    dir: PathBuf,
    /// One lock per profile: loads and saves of one profile never overlap.
    locks: SyncMutex<HashMap<Uuid, Arc<Mutex<()>>>>,
}

/// The changes of a `PATCH /profiles/{id}`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new user id.
    pub user_id: Option<String>,
}

impl Profiles {
    /// Profiles recorded in `store`, their state kept under `dir`.
    pub fn new(store: Arc<dyn Store>, dir: PathBuf) -> Profiles {
        Profiles {
            inner: Arc::new(Inner {
                store,
                dir,
                locks: SyncMutex::default(),
            }),
        }
    }

    fn lock_of(&self, id: Uuid) -> Arc<Mutex<()>> {
        let mut locks = self
            .inner
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(id).or_default().clone()
    }

    fn state_dir(&self, id: Uuid) -> PathBuf {
        self.inner.dir.join(id.to_string())
    }

    /// A new, empty profile.
    pub async fn create(
        &self,
        name: Option<String>,
        user_id: Option<String>,
    ) -> Result<ProfileRecord, ProfileError> {
        let record = ProfileRecord::new(Uuid::now_v7(), name, user_id);
        self.inner.store.save_profile(&record).await?;
        Ok(record)
    }

    /// One profile.
    pub async fn get(&self, id: Uuid) -> Result<ProfileRecord, ProfileError> {
        self.inner
            .store
            .profile(id)
            .await?
            .ok_or(ProfileError::NotFound)
    }

    /// A page of profiles whose name contains `query`, newest first, and the total.
    pub async fn list(
        &self,
        query: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ProfileRecord>, u64), ProfileError> {
        Ok(self.inner.store.list_profiles(query, offset, limit).await?)
    }

    /// Renames a profile or changes its user id.
    pub async fn update(
        &self,
        id: Uuid,
        changes: ProfileChanges,
    ) -> Result<ProfileRecord, ProfileError> {
        let lock = self.lock_of(id);
        let _writer = lock.lock().await;
        let mut record = self.get(id).await?;
        if let Some(name) = changes.name {
            record.name = Some(name);
        }
        if let Some(user_id) = changes.user_id {
            record.user_id = Some(user_id);
        }
        record.updated_at = store::now();
        self.inner.store.save_profile(&record).await?;
        Ok(record)
    }

    /// Deletes a profile and its saved state. A session still using it keeps running; its
    /// save at the end is then skipped.
    pub async fn delete(&self, id: Uuid) -> Result<(), ProfileError> {
        let lock = self.lock_of(id);
        let _writer = lock.lock().await;
        if !self.inner.store.delete_profile(id).await? {
            return Err(ProfileError::NotFound);
        }
        let dir = self.state_dir(id);
        if let Err(e) = tokio::fs::remove_dir_all(&dir).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(profile = %id, error = %e, "cannot delete a profile's saved state");
        }
        Ok(())
    }

    /// Starts a browser from the profile's saved state and marks the profile used; the lease
    /// saves the state back when the browser's owner ends.
    pub(crate) async fn launch(
        &self,
        pool: &Pool,
        id: Uuid,
        customize: impl FnOnce(&mut browser::LaunchOptions),
    ) -> Result<(Browser, ProfileLease), ProfileError> {
        let lock = self.lock_of(id);
        let _writer = lock.lock().await;
        let mut record = self.get(id).await?;
        let seed = self.state_dir(id);
        let browser = pool
            .launch_cold(|options| {
                customize(options);
                options.profile_seed = Some(seed);
            })
            .await?;
        record.last_used_at = Some(store::now());
        if let Err(e) = self.inner.store.save_profile(&record).await {
            browser.stop().await;
            return Err(e.into());
        }
        tracing::info!(profile = %id, browser = browser.id(), "browser started from a profile");
        Ok((
            browser,
            ProfileLease {
                profiles: self.clone(),
                id,
            },
        ))
    }
}

/// A browser's hold on the profile it started from: ending it saves the browser's state back.
#[derive(Clone)]
pub(crate) struct ProfileLease {
    profiles: Profiles,
    id: Uuid,
}

impl ProfileLease {
    /// The profile held.
    pub(crate) fn id(&self) -> Uuid {
        self.id
    }

    /// Saves the browser's state into the profile and stops the browser (stopped whatever
    /// happens). The error says why the state was not saved; it is also logged and kept on the
    /// profile as `lastSaveError`.
    pub(crate) async fn save_and_stop(&self, browser: &Browser) -> Result<(), String> {
        let profiles = &self.profiles;
        let lock = profiles.lock_of(self.id);
        let _writer = lock.lock().await;
        let mut record = match profiles.inner.store.profile(self.id).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                browser.stop().await;
                tracing::info!(profile = %self.id, "profile deleted while in use; not saved");
                return Ok(());
            }
            Err(e) => {
                browser.stop().await;
                let reason = format!("the profile record could not be read: {e}");
                tracing::error!(profile = %self.id, error = %reason, "profile not saved");
                return Err(reason);
            }
        };
        let saved = browser
            .stop_saving_profile(&profiles.state_dir(self.id))
            .await;
        let now = store::now();
        record.updated_at = now;
        record.last_used_at = Some(now);
        let outcome = match saved {
            Ok(saved) => {
                record.cookie_domains = Some(saved.cookie_domains);
                record.last_save_error = None;
                tracing::info!(profile = %self.id, browser = browser.id(), "profile saved");
                Ok(())
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::error!(profile = %self.id, error = %reason, "profile not saved");
                record.last_save_error = Some(reason.clone());
                Err(reason)
            }
        };
        if let Err(e) = profiles.inner.store.save_profile(&record).await {
            let reason = format!("the profile record could not be updated: {e}");
            tracing::error!(profile = %self.id, error = %reason, "profile record not saved");
            return Err(outcome.err().unwrap_or(reason));
        }
        outcome
    }
}
