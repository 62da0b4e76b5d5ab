use build_finished::{Deps, handle};
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps =
        Deps::from_env().inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    lambda_runtime::run(service_fn(|event| handle(event, &deps))).await
}
