//! How the app proves who it is to Entra ID: a client secret (`CPP_CREDENTIAL=secret`), or a web
//! identity token of the function's own AWS role (`awsFederation`), which needs no secret anywhere.

use secrecy::SecretString;

use crate::federation::WebIdentity;
use crate::secret::ClientSecret;

#[derive(Clone, Debug)]
pub enum Credential {
    Secret(ClientSecret),
    AwsFederation(WebIdentity),
}

impl From<ClientSecret> for Credential {
    fn from(secret: ClientSecret) -> Self {
        Self::Secret(secret)
    }
}

impl From<SecretString> for Credential {
    fn from(secret: SecretString) -> Self {
        Self::Secret(secret.into())
    }
}

impl From<WebIdentity> for Credential {
    fn from(identity: WebIdentity) -> Self {
        Self::AwsFederation(identity)
    }
}
