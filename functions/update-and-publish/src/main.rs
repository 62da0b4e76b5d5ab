use lambda_runtime::{Error, run, service_fn};
use shared::deps::Deps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = Deps::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    run(service_fn(|event| update_and_publish::handle(event, &deps))).await
}
