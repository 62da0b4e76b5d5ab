//! AWS outbound identity federation, locally: an STS stand-in that signs web identity tokens
//! (`sts`), and Entra ID's side, federated identity credentials that a client assertion must
//! match (`credentials`), with the RS256 JWTs both use (`jwt`).

pub(crate) mod credentials;
pub(crate) mod jwt;
pub(crate) mod sts;

pub use credentials::FederatedCredential;

/// The audience AWS tokens for Entra carry.
pub const ENTRA_AUDIENCE: &str = "api://AzureADTokenExchange";
/// The role a caller gets when its access key is not mapped to another (`/_emulator/federation/callers`).
pub const DEFAULT_CALLER_ROLE: &str =
    "arn:aws:iam::111122223333:role/marketplace-publisher-functions";
/// Where the issuer lives on the emulator: `{base}/sts-issuer` (discovery and JWKS under it).
pub const ISSUER_PATH: &str = "/sts-issuer";
