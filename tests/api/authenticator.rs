//! A software passkey authenticator for the stories (1Password's `passkey`
//! crate): it answers the options the server sends as a browser would, with
//! one passkey of its own, user verification, and a signature counter.

use passkey::{
    authenticator::{Authenticator as Ctap2, UiHint, UserCheck, UserValidationMethod},
    client::{Client, DefaultClientData},
    crypto::rust_crypto::RustCryptoBackend,
    types::{
        ctap2::{Aaguid, Ctap2Error},
        webauthn::{CredentialCreationOptions, CredentialRequestOptions},
        Passkey,
    },
};
use public_suffix::PublicSuffixList;
use url::Url;

/// The user says yes, and proves who they are, to every prompt.
struct Consents;

#[async_trait::async_trait]
impl UserValidationMethod for Consents {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence,
            verification,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

/// A device holding at most one passkey, used from the page at `origin`.
pub struct Authenticator {
    client: Client<Option<Passkey>, Consents, RustCryptoBackend, PublicSuffixList, ()>,
    pub origin: Url,
}

impl Authenticator {
    pub fn new(origin: &str) -> Self {
        let mut device = Ctap2::new(Aaguid::new_empty(), None, Consents, RustCryptoBackend);
        device.set_make_credentials_with_signature_counter(true);
        Self {
            client: Client::new(device).allows_insecure_localhost(true),
            origin: Url::parse(origin).expect("an origin"),
        }
    }

    /// Answers `navigator.credentials.create(options)`: the new credential,
    /// as the browser's JSON.
    pub async fn create(&mut self, options: &str) -> Result<String, String> {
        let options: CredentialCreationOptions =
            serde_json::from_str(options).map_err(|error| error.to_string())?;
        let created = self
            .client
            .register(&self.origin, options, DefaultClientData)
            .await
            .map_err(|error| format!("{error:?}"))?;
        Ok(serde_json::to_string(&created).unwrap())
    }

    /// Answers `navigator.credentials.get(options)`: the assertion, as the
    /// browser's JSON.
    pub async fn get(&mut self, options: &str) -> Result<String, String> {
        let options: CredentialRequestOptions =
            serde_json::from_str(options).map_err(|error| error.to_string())?;
        let asserted = self
            .client
            .authenticate(&self.origin, options, DefaultClientData)
            .await
            .map_err(|error| format!("{error:?}"))?;
        Ok(serde_json::to_string(&asserted).unwrap())
    }

    /// The passkey this device holds (a copy, as a cloned device's).
    pub fn passkey(&self) -> Option<Passkey> {
        self.client.authenticator().store().clone()
    }

    /// Replaces the passkey this device holds.
    pub fn hold(&mut self, passkey: Passkey) {
        *self.client.authenticator_mut().store_mut() = Some(passkey);
    }
}
