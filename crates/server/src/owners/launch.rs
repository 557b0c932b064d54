//! Where a new owner's browser comes from: a warm one from the pool, or a cold one when it
//! needs what the pool's browsers lack (a profile's state, a proxy). Sessions and standalone
//! browsers both start theirs here.

use browser::Browser;
use store::Uuid;

use super::{OwnerError, Owners};
use crate::profiles::{ProfileLease, Profiles};
use crate::proxies::ProxyChoice;

impl Owners {
    /// A browser for a new session or standalone browser, and the lease of its profile if it
    /// starts from one. A proxy is checked first, so that a refusal is a clear error with
    /// nothing launched.
    pub(crate) async fn launch_browser(
        &self,
        profiles: &Profiles,
        profile_id: Option<Uuid>,
        proxy: Option<&ProxyChoice>,
    ) -> Result<(Browser, Option<ProfileLease>), OwnerError> {
        if let Some(proxy) = proxy {
            proxy.check().await?;
        }
        let customize = |options: &mut browser::LaunchOptions| {
            if let Some(proxy) = proxy {
                options.proxy = Some(proxy.upstream.clone());
                options.ignore_cert_errors = proxy.ignore_cert_errors;
            }
        };
        match profile_id {
            Some(profile_id) => {
                let (browser, lease) = profiles.launch(self.pool(), profile_id, customize).await?;
                Ok((browser, Some(lease)))
            }
            None if proxy.is_some() => Ok((self.pool().launch_cold(customize).await?, None)),
            None => Ok((self.pool().acquire().await?, None)),
        }
    }
}
