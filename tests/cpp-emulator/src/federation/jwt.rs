//! RS256 JWTs: signed with the stand-in's fixed test key, verified against a JWKS document.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{Value, json};

/// A test key (2048-bit RSA, PKCS#8): it signs tokens for tests only and is public on purpose.
const KEY_PKCS8: &[u8] = include_bytes!("../../fixtures/sts-signing-key.pk8");
pub(crate) const KEY_ID: &str = "RSA_0";

pub(crate) struct Signer {
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &KEY_ID).finish()
    }
}

impl Signer {
    pub(crate) fn new() -> Result<Self, String> {
        let key = RsaKeyPair::from_pkcs8(KEY_PKCS8).map_err(|e| format!("signing key: {e}"))?;
        Ok(Self {
            key,
            rng: SystemRandom::new(),
        })
    }

    /// `header.claims.signature`, RS256.
    pub(crate) fn sign(&self, claims: &Value) -> Result<String, String> {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": KEY_ID});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &self.rng,
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "signing failed".to_owned())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// The issuer's `.well-known/jwks.json`.
    pub(crate) fn jwks(&self) -> Value {
        let public = RsaPublicKeyComponents::<Vec<u8>>::from(self.key.public());
        json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID,
            "n": URL_SAFE_NO_PAD.encode(&public.n), "e": URL_SAFE_NO_PAD.encode(&public.e)}]})
    }
}

/// Why a JWT is refused before its claims are looked at.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unreadable {
    Malformed(String),
    BadSignature,
}

/// The claims of `token` if its RS256 signature verifies against a key of `jwks`.
pub(crate) fn verify(token: &str, jwks: &Value) -> Result<Value, Unreadable> {
    let malformed = |why: &str| Unreadable::Malformed(why.to_owned());
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("not a JWT of three parts"));
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| malformed("not base64url"))
    };
    let header: Value =
        serde_json::from_slice(&decode(header)?).map_err(|_| malformed("header is not JSON"))?;
    if header["alg"] != "RS256" {
        return Err(malformed("only RS256 is accepted"));
    }
    let key = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["kid"] == header["kid"])
        .ok_or(Unreadable::BadSignature)?;
    let component = |name: &str| {
        key[name]
            .as_str()
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .ok_or(Unreadable::BadSignature)
    };
    let public = RsaPublicKeyComponents {
        n: component("n")?,
        e: component("e")?,
    };
    let signed = &token[..token.len() - signature.len() - 1];
    public
        .verify(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &decode(signature)?,
        )
        .map_err(|_| Unreadable::BadSignature)?;
    serde_json::from_slice(&decode(claims)?).map_err(|_| malformed("claims are not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_and_a_changed_one_does_not() {
        let signer = Signer::new().unwrap();
        let token = signer.sign(&json!({"sub": "a", "exp": 1})).unwrap();
        assert_eq!(verify(&token, &signer.jwks()).unwrap()["sub"], "a");
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(json!({"sub": "b", "exp": 1}).to_string());
        parts[1] = &forged;
        assert_eq!(
            verify(&parts.join("."), &signer.jwks()),
            Err(Unreadable::BadSignature)
        );
        assert!(matches!(
            verify("x.y", &signer.jwks()),
            Err(Unreadable::Malformed(_))
        ));
    }
}
