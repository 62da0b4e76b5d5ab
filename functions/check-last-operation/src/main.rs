use check_last_operation::ReportDelivery;
use lambda_runtime::{Error, run, service_fn};
use shared::deps::Deps;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let deps = Deps::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "cold start failed"))?;
    let delivery = ReportDelivery::from_env();
    run(service_fn(|event| {
        check_last_operation::serve(event, &deps, &delivery)
    }))
    .await
}
