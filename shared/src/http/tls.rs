//! The TLS configuration of every call to Microsoft. Its roots are Mozilla's, compiled in
//! (webpki-roots): reading the system's certificate files took 3–5 ms of a 5 ms cold start.

use std::sync::Arc;

/// Certificates verified against Mozilla's root program, TLS 1.2 and 1.3, aws-lc-rs as the crypto
/// provider (the one reqwest and the AWS SDK already link).
pub(crate) fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_to_microsoft_starts_with_the_roots_its_endpoints_chain_to() {
        let config = client_config().expect("a TLS configuration");
        let name = "login.microsoftonline.com"
            .try_into()
            .expect("a server name");
        rustls::ClientConnection::new(Arc::new(config.clone()), name)
            .expect("a client connection starts with this configuration");
        assert!(
            config.alpn_protocols.is_empty(),
            "HTTP/1.1 only, as negotiated by reqwest"
        );
        let names: Vec<String> = webpki_roots::TLS_SERVER_ROOTS
            .iter()
            .map(|anchor| String::from_utf8_lossy(anchor.subject.as_ref()).into_owned())
            .collect();
        // login.microsoftonline.com and api.partner.microsoft.com chain to DigiCert Global Root G2.
        assert!(
            names.iter().any(|n| n.contains("DigiCert Global Root G2")),
            "Mozilla's roots include DigiCert Global Root G2"
        );
    }
}
