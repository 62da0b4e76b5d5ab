//! Reads a manifest object from S3, refusing one over the size limit without downloading it.

use aws_sdk_s3::primitives::ByteStream;
use shared::workflow::request::MAX_MANIFEST_BYTES;
use shared::workflow::{ErrorName, WorkflowError};

use crate::aws_error;
use crate::event::ObjectRef;

/// Reads the manifest `object` names; a missing object is `InvalidInput` naming bucket and key.
pub async fn read_manifest(
    s3: &aws_sdk_s3::Client,
    object: &ObjectRef,
) -> Result<Vec<u8>, WorkflowError> {
    let response = s3
        .get_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .set_version_id(object.version_id.clone())
        .send()
        .await
        .map_err(|error| {
            if error.as_service_error().is_some_and(|e| e.is_no_such_key()) {
                WorkflowError::invalid_input(format!(
                    "manifest object {object} does not exist (bucket {:?}, key {:?})",
                    object.bucket, object.key
                ))
            } else {
                aws_error::from_sdk(
                    &format!("reading {object}"),
                    &error,
                    ErrorName::InvalidInput,
                )
            }
        })?;
    let declared = response.content_length().unwrap_or_default();
    if declared > MAX_MANIFEST_BYTES as i64 {
        return Err(too_large(object, &format!("{declared} bytes")));
    }
    match read_capped(response.body, MAX_MANIFEST_BYTES).await {
        Ok(Capped::Within(bytes)) => Ok(bytes),
        Ok(Capped::Over) => Err(too_large(object, "over the limit")),
        Err(e) => Err(WorkflowError::new(
            aws_error::TRANSIENT,
            format!("reading {object}: {e}"),
        )),
    }
}

/// A body read up to a limit.
#[derive(Debug, PartialEq, Eq)]
pub enum Capped {
    Within(Vec<u8>),
    Over,
}

/// Reads at most `limit` bytes and stops there, in case the declared length was absent or wrong.
pub async fn read_capped(
    mut body: ByteStream,
    limit: usize,
) -> Result<Capped, aws_sdk_s3::primitives::ByteStreamError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if bytes.len() + chunk.len() > limit {
            return Ok(Capped::Over);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Capped::Within(bytes))
}

fn too_large(object: &ObjectRef, size: &str) -> WorkflowError {
    WorkflowError::invalid_input(format!(
        "manifest object {object} is {size}; a manifest may be at most {MAX_MANIFEST_BYTES} bytes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_stop_at_the_limit() {
        let within = read_capped(ByteStream::from(vec![b'x'; 10]), 10).await;
        assert_eq!(within.unwrap(), Capped::Within(vec![b'x'; 10]));
        let over = read_capped(ByteStream::from(vec![b'x'; 11]), 10).await;
        assert_eq!(over.unwrap(), Capped::Over);
    }
}
