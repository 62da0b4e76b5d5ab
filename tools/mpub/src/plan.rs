//! `mpub plan MANIFEST`: a dry run. The manifest is validated as build-finished validates it, the
//! offer is read as update-and-publish reads it, and what that run would do is printed; nothing is
//! written and nothing is started.

use std::path::Path;
use std::time::{Duration, SystemTime};

use shared::deps::Deps;
use shared::table::{Column, render};
use shared::workflow::{ErrorName, Manifest, ManifestRules, PublishRequest};
use time::OffsetDateTime;
use update_and_publish::DryRun;

use crate::error::CliError;

/// The dry run's reads must end by then.
const DEADLINE: Duration = Duration::from_secs(120);

pub async fn plan(manifest: &Path) -> Result<Vec<DryRun>, CliError> {
    let bytes = std::fs::read(manifest)
        .map_err(|e| CliError::refused(format!("{}: {e}", manifest.display())))?;
    let deps = Deps::from_env()
        .await
        .map_err(|e| CliError::refused(format!("{}: {}", e.name.as_str(), e.message)))?;
    let now = deps.clock.now();
    let rules = ManifestRules {
        default_publisher: deps.config.publisher_id.as_deref(),
        default_api: deps.config.marketplace_api,
        sas_min_validity_days: deps.config.sas_min_validity_days,
        now: OffsetDateTime::from(now),
    };
    let requests = match Manifest::parse(&bytes, &rules) {
        Ok(Manifest::Single(request)) => vec![request],
        Ok(Manifest::Release(release)) => release.offers,
        Err(e) => {
            return Err(CliError::refused(format!(
                "{}: {}: {}",
                manifest.display(),
                e.name.as_str(),
                e.message
            )));
        }
    };
    let mut rows = Vec::new();
    for request in &requests {
        rows.extend(dry_run_offer(&deps, now, request).await?);
    }
    Ok(rows)
}

/// One offer's plans, read through its own API.
async fn dry_run_offer(
    deps: &Deps,
    now: SystemTime,
    request: &PublishRequest,
) -> Result<Vec<DryRun>, CliError> {
    let market = deps.market_until(request.api(), SystemTime::now() + DEADLINE);
    update_and_publish::dry_run(&market, &deps.config, now, request)
        .await
        .map_err(|e| {
            let refused = format!(
                "{}: the run would fail: {}: {}",
                request.target(),
                e.name.as_str(),
                e.message
            );
            if matches!(
                e.name,
                ErrorName::Transient | ErrorName::Throttled | ErrorName::Unauthorized
            ) {
                CliError::unreachable(refused)
            } else {
                CliError::refused(refused)
            }
        })
}

pub fn plan_table(runs: &[DryRun]) -> String {
    let columns = [
        Column {
            heading: "TARGET",
            max: 60,
        },
        Column {
            heading: "API",
            max: 16,
        },
        Column {
            heading: "VERSION",
            max: 20,
        },
        Column {
            heading: "WRITE",
            max: 16,
        },
        Column {
            heading: "RETIRES",
            max: 40,
        },
        Column {
            heading: "OFFER",
            max: 50,
        },
        Column {
            heading: "THEN",
            max: 50,
        },
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let retires = match (
                r.evicted_versions.as_slice(),
                r.deprecated_versions.as_slice(),
            ) {
                ([], []) => String::new(),
                (evicted, []) => format!("removes {}", evicted.join(", ")),
                (_, deprecated) => format!("deprecates {}", deprecated.join(", ")),
            };
            vec![
                r.target.clone(),
                r.api.to_owned(),
                r.version.clone(),
                match r.write {
                    "add" => "adds the version".to_owned(),
                    _ => "nothing (present)".to_owned(),
                },
                retires,
                r.busy_with.clone().unwrap_or_else(|| "free".to_owned()),
                r.publish.clone(),
            ]
        })
        .collect();
    let mut out = render(&columns, &rows);
    out.push_str("dry run: nothing was written and nothing was started\n");
    out
}
