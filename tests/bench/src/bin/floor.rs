//! The floor of the cold-start benchmark: the smallest function lambda_runtime can run (it echoes its
//! event), built with the same release profile as the functions, so what it costs to start is what
//! any of them must pay before doing anything of its own.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
