//! Every figure against its target (`cold.rs`: the cold starts; `releases.rs`: the releases). A
//! missed target is reported, never an error.

mod cold;
pub mod releases;

use shared::config::Api;

use super::{Check, HISTORY_16_DAYS, PI_FRESH_EXTRA, POLLS_16_DAYS, Ratios, Report};
use crate::scenarios::ApiScenario;

/// Each endpoint whose count differs from its minimum, as `name actual vs minimum`.
fn differing(scenario: &ApiScenario) -> Vec<String> {
    scenario
        .endpoints
        .iter()
        .filter(|e| e.actual != e.minimum)
        .map(|e| format!("{} {} vs {}", e.endpoint, e.actual, e.minimum))
        .collect()
}

/// CPP meets its minimum exactly.
fn cpp_fresh(fresh: &ApiScenario) -> Check {
    let met =
        fresh.total == fresh.minimum_total && fresh.endpoints.iter().all(|e| e.actual == e.minimum);
    Check {
        target: "CPP API calls = minimum (fresh publish)".into(),
        subject: fresh.name.clone(),
        figure: format!("{} calls, minimum {}", fresh.total, fresh.minimum_total),
        met,
        miss: (!met).then(|| differing(fresh).join("; ")),
    }
}

/// Product Ingestion: at most `PI_FRESH_EXTRA` over the minimum, every extra call explained, and
/// no endpoint under its minimum (that would be a step the workflow skipped, or a wrong minimum).
fn ingestion_fresh(fresh: &ApiScenario) -> Check {
    let over: u64 = fresh
        .endpoints
        .iter()
        .map(|e| e.actual.saturating_sub(e.minimum))
        .sum();
    let unexplained: Vec<String> = fresh
        .endpoints
        .iter()
        .filter(|e| e.actual < e.minimum || (e.actual > e.minimum && e.over.is_none()))
        .map(|e| format!("{} {} vs {}", e.endpoint, e.actual, e.minimum))
        .collect();
    let met = unexplained.is_empty() && fresh.total <= fresh.minimum_total + PI_FRESH_EXTRA;
    Check {
        target: format!(
            "Product Ingestion calls <= minimum + {PI_FRESH_EXTRA}, each extra explained (fresh publish)"
        ),
        subject: fresh.name.clone(),
        figure: format!(
            "{} calls, minimum {}, {over} over ({})",
            fresh.total,
            fresh.minimum_total,
            differing(fresh).join("; ")
        ),
        met,
        miss: (!met).then(|| {
            if unexplained.is_empty() {
                format!("{over} over the minimum")
            } else {
                format!("not explained: {}", unexplained.join("; "))
            }
        }),
    }
}

/// Nothing is written again on a duplicate storage event.
fn duplicate(api: Api, duplicate: &ApiScenario) -> Check {
    let writes: &[&str] = match api {
        Api::Cpp => &["PUT offer (draft)", "POST publish"],
        Api::ProductIngestion => &["POST configure (draft)", "POST configure (preview)"],
    };
    let counts: Vec<String> = writes
        .iter()
        .map(|w| format!("{} {w}", duplicate.count(w)))
        .collect();
    let met = writes.iter().all(|w| duplicate.count(w) == 0);
    Check {
        target: format!("{}: 0 writes (duplicate event)", api.title()),
        subject: duplicate.name.clone(),
        figure: counts.join(", "),
        met,
        miss: (!met).then(|| format!("{} too many", counts.join(", "))),
    }
}

impl Report {
    /// Every target, evaluated.
    pub fn evaluate(&mut self) {
        self.ratios = self
            .cold_start
            .iter()
            .map(|row| Ratios {
                function: row.function.clone(),
                credential: row.credential.clone(),
                init_vs_floor: self.floor_factor(row),
                peer_speedup: self.peer_speedup(row),
            })
            .collect();
        let mut checks = Vec::new();
        self.cold_start_checks(&mut checks);
        for api in crate::offers::APIS {
            self.api_checks(api, &mut checks);
        }
        self.release_checks(&mut checks);
        self.checks = checks;
    }

    fn scenario(&self, api: Api, prefix: &str) -> Option<&ApiScenario> {
        self.api_calls
            .iter()
            .find(|s| s.api == api && s.name.starts_with(prefix))
    }

    /// API calls, waiting cost and throughput of one API.
    fn api_checks(&self, api: Api, checks: &mut Vec<Check>) {
        if let Some(fresh) = self.scenario(api, "fresh") {
            checks.push(match api {
                Api::Cpp => cpp_fresh(fresh),
                Api::ProductIngestion => ingestion_fresh(fresh),
            });
        }
        if let Some(scenario) = self.scenario(api, "duplicate") {
            checks.push(duplicate(api, scenario));
        }
        let title = api.title();
        if let Some(t) = self.waiting.iter().find(|t| {
            t.api == api && t.name.starts_with("16-day") && t.polling.starts_with("adaptive")
        }) {
            let fixed = self
                .waiting
                .iter()
                .find(|f| f.api == api && f.name == t.name && f.polling.starts_with("fixed"));
            let against = fixed.map_or(String::new(), |f| format!(" (fixed 5 min: {})", f.polls));
            let met = t.polls < POLLS_16_DAYS;
            checks.push(Check {
                target: format!("{title}: polls < 100 (16-day publication)"),
                subject: t.polling.clone(),
                figure: format!("{}{against}", t.polls),
                met,
                miss: (!met).then(|| format!("{} over", t.polls + 1 - POLLS_16_DAYS)),
            });
            let against = fixed.map_or(String::new(), |f| {
                format!(" (fixed 5 min: {})", f.history_events)
            });
            let met = t.history_events < HISTORY_16_DAYS;
            checks.push(Check {
                target: format!("{title}: history events < 2,000 (16-day publication)"),
                subject: t.polling.clone(),
                figure: format!("{}{against}", t.history_events),
                met,
                miss: (!met).then(|| format!("{} over", t.history_events + 1 - HISTORY_16_DAYS)),
            });
        }
        if let Some(t) = self.throughput.iter().find(|t| t.api == api) {
            let met = t.finished_live == t.pipelines && t.problems.is_empty();
            checks.push(Check {
                target: format!("{title}: every pipeline live with its version (throughput)"),
                subject: format!("{} pipelines", t.pipelines),
                figure: format!("{}/{}", t.finished_live, t.pipelines),
                met,
                miss: (!met).then(|| t.problems.join("; ")),
            });
        }
    }
}
