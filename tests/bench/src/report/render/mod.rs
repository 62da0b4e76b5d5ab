//! The printed table: each section's figures next to their targets (`cold.rs`: sections 1 and 2;
//! `releases.rs`: section 6). A section that did not run is left out.

use std::fmt::Write as _;

mod cold;
mod releases;

use super::{HISTORY_16_DAYS, POLLS_16_DAYS, Report};
use crate::scenarios::{ApiScenario, HISTORY_LIMIT};
use crate::throughput::Throughput;

impl Report {
    pub fn render(&self) -> String {
        let mut out = String::new();
        let o = &mut out;
        let _ = writeln!(o, "marketplace-publisher benchmark: {}", self.environment);
        let _ = writeln!(o, "command: {}", self.command);
        if !self.cold_start.is_empty() {
            self.render_cold(o);
            self.render_peer(o);
        }
        if !self.api_calls.is_empty() {
            self.render_api(o);
        }
        if !self.waiting.is_empty() {
            self.render_waiting(o);
        }
        self.render_throughput(o);
        self.render_releases(o);
        self.render_checks(o);
        out
    }

    fn render_api(&self, o: &mut String) {
        let _ = writeln!(o, "\n3. API calls per pipeline");
        let _ = writeln!(o, "   driver: {}", self.api_driver);
        let _ = writeln!(o, "   Product Ingestion jobs: {}", self.ingestion_pace);
        for scenario in &self.api_calls {
            render_scenario(o, scenario);
        }
    }

    fn render_waiting(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\n4. Waiting cost of one publication (publish to preview, auto go-live, live), simulated time"
        );
        let _ = writeln!(
            o,
            "   {:<17} {:<19} {:<39} {:>6} {:>13} {:>11} {:>15} {:>10} {:>8}",
            "api",
            "timeline",
            "polling",
            "days",
            "polls (p+g)",
            "transitions",
            "history events",
            "to 25,000",
            "cost"
        );
        for t in &self.waiting {
            let margin = if t.history_margin >= 0 {
                format!("{}", t.history_margin)
            } else {
                format!("OVER {}", -t.history_margin)
            };
            let _ = writeln!(
                o,
                "   {:<17} {:<19} {:<39} {:>6.2} {:>13} {:>11} {:>15} {:>10} {:>8}",
                t.api.title(),
                t.name,
                t.polling,
                t.simulated_days,
                format!("{} ({}+{})", t.polls, t.polls_publish, t.polls_go_live),
                t.transitions,
                t.history_events,
                margin,
                format!("${:.4}", t.cost_usd)
            );
        }
        let mut durations: Vec<String> = Vec::new();
        for t in &self.waiting {
            let line = format!("{} {}: {}", t.api.title(), t.name, t.durations);
            if !durations.contains(&line) {
                durations.push(line);
            }
        }
        let _ = writeln!(o, "   durations: {}", durations.join("; "));
        let _ = writeln!(
            o,
            "   cost at ${:.3} per 1,000 state transitions (Standard workflows, no free tier); events per the model in tests/bench/src/statemachine.rs",
            self.price_per_1000_transitions_usd
        );
        if self.waiting.iter().any(|t| t.history_margin < 0) {
            let _ = writeln!(
                o,
                "   OVER: Step Functions would end that execution at {HISTORY_LIMIT} events (the run here is not cut off, to show the full count)"
            );
        }
        let _ = writeln!(
            o,
            "   targets (16-day publication, adaptive, each API): polls < {POLLS_16_DAYS}, history events < {HISTORY_16_DAYS}"
        );
    }

    fn render_throughput(&self, o: &mut String) {
        let Some(first) = self.throughput.first() else {
            return;
        };
        let _ = writeln!(
            o,
            "\n5. Throughput: {} pipelines at once, each for its own offer, against one emulator per API, handlers in-process (tokio)",
            first.pipelines
        );
        let _ = writeln!(
            o,
            "   latencies are real time, with the real Retry-After waits (1 s per 429) and queueing: the pipelines move in\n   \
             lockstep, so each round runs {} invocations at once on this machine; simulated time moves only when every\n   \
             pipeline waits, so wall time is mostly the slowest throttled call of each round",
            first.pipelines
        );
        for t in &self.throughput {
            render_run(o, t, &self.ingestion_pace);
        }
    }

    fn render_checks(&self, o: &mut String) {
        let met = self.checks.iter().filter(|c| c.met).count();
        let _ = writeln!(
            o,
            "\nTargets: {met} met, {} missed",
            self.checks.len() - met
        );
        for c in self.checks.iter().filter(|c| !c.met) {
            let _ = writeln!(
                o,
                "   MISSED {}: {} = {} ({})",
                c.target,
                c.subject,
                c.figure,
                c.miss.as_deref().unwrap_or_default()
            );
        }
    }
}

fn mark(figure: String, met: bool) -> String {
    format!("{figure} {}", if met { "ok" } else { "MISS" })
}

fn render_scenario(o: &mut String, scenario: &ApiScenario) {
    let _ = writeln!(
        o,
        "   {}, {}: {}",
        scenario.api.title(),
        scenario.name,
        scenario.outcome
    );
    let _ = writeln!(
        o,
        "     {:<28} {:>6} {:>7}  why (minimum)",
        "endpoint", "actual", "minimum"
    );
    for e in &scenario.endpoints {
        let _ = writeln!(
            o,
            "     {:<28} {:>6} {:>7}  {}",
            e.endpoint, e.actual, e.minimum, e.why
        );
        let note = match (e.actual.cmp(&e.minimum), &e.over) {
            (std::cmp::Ordering::Equal, _) => continue,
            (std::cmp::Ordering::Less, _) => {
                format!("{} under the minimum", e.minimum - e.actual)
            }
            (std::cmp::Ordering::Greater, Some(why)) => {
                format!("{} over: {why}", e.actual - e.minimum)
            }
            (std::cmp::Ordering::Greater, None) => {
                format!("{} over, not explained", e.actual - e.minimum)
            }
        };
        let _ = writeln!(o, "     {:<28} {:>6} {:>7}  <- {note}", "", "", "");
    }
    let _ = writeln!(
        o,
        "     {:<28} {:>6} {:>7}",
        "total", scenario.total, scenario.minimum_total
    );
    if !scenario.aws_calls.is_empty() {
        let calls: Vec<String> = scenario
            .aws_calls
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(o, "     AWS: {}", calls.join(", "));
    }
}

/// One API's throughput run.
fn render_run(o: &mut String, t: &Throughput, ingestion_pace: &str) {
    let title = t.api.title();
    let _ = writeln!(o, "   {title}");
    let _ = writeln!(o, "     faults: {}", t.fault_plan);
    let _ = writeln!(
        o,
        "     wall time {:.2} s for {:.2} simulated days; {} {title} requests, {} answered 429 ({:.1} %); {} Task retries by the state machine",
        t.wall_seconds,
        t.simulated_days,
        t.requests,
        t.throttled,
        t.throttled_share * 100.0,
        t.task_retries
    );
    let by: Vec<String> = t
        .throttled_by_endpoint
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(o, "     429s by endpoint: {}", by.join(", "));
    let _ = writeln!(
        o,
        "     handler latency over {} invocations: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        t.invocations,
        t.handler_latency.median_ms,
        t.handler_latency.p99_ms,
        t.handler_latency.max_ms
    );
    for (function, s) in &t.latency_by_function {
        let _ = writeln!(
            o,
            "       {:<22} {:>5} calls  p50 {:>7.1} ms  p99 {:>7.1} ms",
            function, s.samples, s.median_ms, s.p99_ms
        );
    }
    if t.api == shared::config::Api::ProductIngestion {
        let _ = writeln!(o, "     job pacing: {ingestion_pace}");
    }
    let _ = writeln!(
        o,
        "     finished correctly (execution succeeded live, version with the build's image in live): {}/{}",
        t.finished_live, t.pipelines
    );
    for problem in t.problems.iter().take(10) {
        let _ = writeln!(o, "       {problem}");
    }
}
