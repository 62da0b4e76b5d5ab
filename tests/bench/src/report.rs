//! The printed table and the JSON report, with each figure next to its target.

use std::fmt::Write as _;

use serde::Serialize;

use crate::coldstart::{ColdRow, PeerRow};
use crate::scenarios::{ApiScenario, HISTORY_LIMIT, Timeline};
use crate::throughput::Throughput;

pub const INIT_MEDIAN_MS: f64 = 15.0;
pub const INIT_P95_MS: f64 = 30.0;
pub const PEER_SPEEDUP: f64 = 20.0;
pub const PEAK_RSS_MIB: f64 = 24.0;
pub const BINARY_MIB: f64 = 8.0;
pub const POLLS_16_DAYS: u64 = 100;
pub const HISTORY_16_DAYS: u64 = 2_000;

/// One figure against its target.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub target: String,
    pub subject: String,
    pub figure: String,
    pub met: bool,
    /// By how much it was missed, when it was.
    pub miss: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub command: String,
    pub environment: String,
    pub cold_start: Vec<ColdRow>,
    pub peer: Option<PeerRow>,
    pub peer_note: Option<String>,
    pub api_driver: String,
    pub api_calls: Vec<ApiScenario>,
    pub waiting: Vec<Timeline>,
    pub price_per_1000_transitions_usd: f64,
    pub throughput: Option<Throughput>,
    pub checks: Vec<Check>,
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn below(target: &str, subject: &str, figure: f64, limit: f64, unit: &str) -> Check {
    let met = figure < limit;
    Check {
        target: target.to_owned(),
        subject: subject.to_owned(),
        figure: format!("{figure:.1} {unit}"),
        met,
        miss: (!met).then(|| {
            format!(
                "over by {:.1} {unit} ({:+.0} %)",
                figure - limit,
                (figure / limit - 1.0) * 100.0
            )
        }),
    }
}

impl Report {
    /// Every target, evaluated.
    pub fn evaluate(&mut self) {
        let mut checks = Vec::new();
        for row in &self.cold_start {
            let subject = format!("{} [{}]", row.function, row.secret);
            checks.push(below(
                "init median < 15 ms",
                &subject,
                row.init.median_ms,
                INIT_MEDIAN_MS,
                "ms",
            ));
            checks.push(below(
                "init p95 < 30 ms",
                &subject,
                row.init.p95_ms,
                INIT_P95_MS,
                "ms",
            ));
            checks.push(below(
                "peak RSS < 24 MiB",
                &subject,
                mib(row.peak_rss_kib),
                PEAK_RSS_MIB,
                "MiB",
            ));
            if let Some(peer) = &self.peer {
                let speedup = peer.init.median_ms / row.init.median_ms.max(f64::EPSILON);
                let met = speedup >= PEER_SPEEDUP;
                checks.push(Check {
                    target: "init >= 20x faster than the peer (median)".into(),
                    subject: subject.clone(),
                    figure: format!("{speedup:.1}x"),
                    met,
                    miss: (!met).then(|| format!("short by {:.1}x", PEER_SPEEDUP - speedup)),
                });
            }
            if row.deployed {
                let mebibytes = row.size_bytes as f64 / 1_048_576.0;
                let met = mebibytes < BINARY_MIB && row.stripped;
                let over_kib = (mebibytes - BINARY_MIB) * 1024.0;
                checks.push(Check {
                    target: "stripped binary < 8 MiB".into(),
                    subject: row.function.clone(),
                    figure: format!(
                        "{} bytes = {mebibytes:.3} MiB, stripped: {}",
                        row.size_bytes, row.stripped
                    ),
                    met,
                    miss: (!met).then(|| {
                        if row.stripped {
                            format!(
                                "over by {over_kib:.1} KiB ({:+.2} %)",
                                (mebibytes / BINARY_MIB - 1.0) * 100.0
                            )
                        } else {
                            "not stripped".into()
                        }
                    }),
                });
            }
        }
        if let Some(fresh) = self.api_calls.first() {
            let met = fresh.total == fresh.minimum_total
                && fresh.endpoints.iter().all(|e| e.actual == e.minimum);
            let extra: Vec<String> = fresh
                .endpoints
                .iter()
                .filter(|e| e.actual != e.minimum)
                .map(|e| format!("{} {} vs {}", e.endpoint, e.actual, e.minimum))
                .collect();
            checks.push(Check {
                target: "API calls = minimum (fresh publish)".into(),
                subject: fresh.name.clone(),
                figure: format!("{} calls, minimum {}", fresh.total, fresh.minimum_total),
                met,
                miss: (!met).then(|| extra.join("; ")),
            });
        }
        if let Some(duplicate) = self.api_calls.get(1) {
            let (puts, publishes) = (
                duplicate.count("PUT offer (draft)"),
                duplicate.count("POST publish"),
            );
            let met = puts == 0 && publishes == 0;
            checks.push(Check {
                target: "0 PUT and 0 publish (duplicate event)".into(),
                subject: duplicate.name.clone(),
                figure: format!("{puts} PUT, {publishes} publish"),
                met,
                miss: (!met).then(|| format!("{puts} PUT, {publishes} publish too many")),
            });
        }
        if let Some(t) = self
            .waiting
            .iter()
            .find(|t| t.name.starts_with("16-day") && t.polling.starts_with("adaptive"))
        {
            let fixed = self
                .waiting
                .iter()
                .find(|f| f.name == t.name && f.polling.starts_with("fixed"));
            let against = fixed.map_or(String::new(), |f| format!(" (fixed 5 min: {})", f.polls));
            let met = t.polls < POLLS_16_DAYS;
            checks.push(Check {
                target: "polls < 100 (16-day publication)".into(),
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
                target: "history events < 2,000 (16-day publication)".into(),
                subject: t.polling.clone(),
                figure: format!("{}{against}", t.history_events),
                met,
                miss: (!met).then(|| format!("{} over", t.history_events + 1 - HISTORY_16_DAYS)),
            });
        }
        if let Some(t) = &self.throughput {
            let met = t.finished_live == t.pipelines && t.problems.is_empty();
            checks.push(Check {
                target: "every pipeline live with its version (throughput)".into(),
                subject: format!("{} pipelines", t.pipelines),
                figure: format!("{}/{}", t.finished_live, t.pipelines),
                met,
                miss: (!met).then(|| t.problems.join("; ")),
            });
        }
        self.checks = checks;
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let o = &mut out;
        let _ = writeln!(o, "marketplace-publisher benchmark: {}", self.environment);
        let _ = writeln!(o, "command: {}", self.command);
        self.render_cold(o);
        self.render_peer(o);
        self.render_api(o);
        self.render_waiting(o);
        self.render_throughput(o);
        self.render_checks(o);
        out
    }

    fn render_cold(&self, o: &mut String) {
        let runs = self.cold_start.first().map_or(0, |r| r.init.samples);
        let _ = writeln!(
            o,
            "\n1. Cold start of the release bootstraps, {runs} runs each after one discarded run"
        );
        let _ = writeln!(
            o,
            "   init = spawn -> first request for work; response = spawn -> first response to a real event against the CPP emulator"
        );
        let _ = writeln!(
            o,
            "   RSS = VmHWM at the first request for work, and after the first invocation (max over runs)"
        );
        let _ = writeln!(
            o,
            "   {:<21} {:<27} {:>13} {:>13} {:>9} {:>9} {:>8} {:>13} {:>13}",
            "function",
            "client secret",
            "init p50",
            "init p95",
            "resp p50",
            "resp p95",
            "RSS init",
            "RSS peak",
            "binary"
        );
        for row in &self.cold_start {
            let size = row.size_bytes as f64 / 1_048_576.0;
            let _ = writeln!(
                o,
                "   {:<21} {:<27} {:>13} {:>13} {:>9} {:>9} {:>8} {:>13} {:>13}",
                row.function,
                row.secret,
                mark(
                    format!("{:.1} ms", row.init.median_ms),
                    row.init.median_ms < INIT_MEDIAN_MS
                ),
                mark(
                    format!("{:.1} ms", row.init.p95_ms),
                    row.init.p95_ms < INIT_P95_MS
                ),
                format!("{:.1} ms", row.first_response.median_ms),
                format!("{:.1} ms", row.first_response.p95_ms),
                format!("{:.1} MiB", mib(row.init_rss_kib)),
                mark(
                    format!("{:.1} MiB", mib(row.peak_rss_kib)),
                    mib(row.peak_rss_kib) < PEAK_RSS_MIB
                ),
                mark(format!("{size:.3} MiB"), size < BINARY_MIB && row.stripped),
            );
        }
        let stripped = self.cold_start.iter().all(|r| r.stripped);
        let _ = writeln!(
            o,
            "   targets: init p50 < {INIT_MEDIAN_MS} ms, init p95 < {INIT_P95_MS} ms, peak RSS < {PEAK_RSS_MIB} MiB, binary < {BINARY_MIB} MiB stripped (all stripped: {})",
            if stripped { "yes" } else { "NO" }
        );
    }

    fn render_peer(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\n2. Peer: the same init measure for a Python Lambda built on Red Hat's cloudpub"
        );
        let Some(peer) = &self.peer else {
            let _ = writeln!(
                o,
                "   not measured: {}",
                self.peer_note.as_deref().unwrap_or("no Python given")
            );
            return;
        };
        let _ = writeln!(o, "   {}: {}", peer.name, peer.what);
        let _ = writeln!(
            o,
            "   (AWS's Python runtime client, which a real Python Lambda loads too, is not counted: this favours the peer)"
        );
        let _ = writeln!(
            o,
            "   init p50 {:.1} ms, p95 {:.1} ms, RSS at init {:.1} MiB",
            peer.init.median_ms,
            peer.init.p95_ms,
            mib(peer.init_rss_kib)
        );
        let _ = writeln!(
            o,
            "   {:<21} {:<27} {:>18} {:>12} {:>12}",
            "ours / theirs", "client secret", "init p50", "init p95", "RSS init"
        );
        for row in &self.cold_start {
            let ratio = row.init.median_ms / peer.init.median_ms;
            let _ = writeln!(
                o,
                "   {:<21} {:<27} {:>18} {:>12} {:>12}",
                row.function,
                row.secret,
                mark(
                    format!("{ratio:.3} ({:.0}x)", 1.0 / ratio),
                    1.0 / ratio >= PEER_SPEEDUP
                ),
                format!("{:.3}", row.init.p95_ms / peer.init.p95_ms),
                format!(
                    "{:.3}",
                    row.init_rss_kib as f64 / peer.init_rss_kib.max(1) as f64
                ),
            );
        }
        let _ = writeln!(
            o,
            "   target: init at least {PEER_SPEEDUP}x faster than the peer's (ratio <= {:.3})",
            1.0 / PEER_SPEEDUP
        );
    }

    fn render_api(&self, o: &mut String) {
        let _ = writeln!(o, "\n3. CPP API calls per pipeline");
        let _ = writeln!(o, "   driver: {}", self.api_driver);
        for scenario in &self.api_calls {
            let _ = writeln!(o, "   {}: {}", scenario.name, scenario.outcome);
            let _ = writeln!(
                o,
                "     {:<26} {:>6} {:>7}  why (minimum)",
                "endpoint", "actual", "minimum"
            );
            for e in &scenario.endpoints {
                let flag = if e.actual == e.minimum {
                    ""
                } else {
                    "  <- differs"
                };
                let _ = writeln!(
                    o,
                    "     {:<26} {:>6} {:>7}  {}{flag}",
                    e.endpoint, e.actual, e.minimum, e.why
                );
            }
            let _ = writeln!(
                o,
                "     {:<26} {:>6} {:>7}",
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
    }

    fn render_waiting(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "\n4. Waiting cost of one publication (publish to preview, auto go-live, live), simulated time"
        );
        let _ = writeln!(
            o,
            "   {:<19} {:<39} {:>6} {:>13} {:>11} {:>16} {:>10} {:>8}",
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
                "   {:<19} {:<39} {:>6.2} {:>13} {:>11} {:>16} {:>10} {:>8}",
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
            "   targets (16-day publication, adaptive): polls < {POLLS_16_DAYS}, history events < {HISTORY_16_DAYS}"
        );
    }

    fn render_throughput(&self, o: &mut String) {
        let Some(t) = &self.throughput else {
            return;
        };
        let _ = writeln!(
            o,
            "\n5. Throughput: {} pipelines for {} offers at once against one emulator, handlers in-process (tokio)",
            t.pipelines, t.pipelines
        );
        let _ = writeln!(o, "   faults: {}", t.fault_plan);
        let _ = writeln!(
            o,
            "   wall time {:.2} s for {:.2} simulated days; {} CPP requests, {} answered 429 ({:.1} %); {} Task retries by the state machine",
            t.wall_seconds,
            t.simulated_days,
            t.cpp_requests,
            t.throttled,
            t.throttled_share * 100.0,
            t.task_retries
        );
        let _ = writeln!(
            o,
            "   handler latency over {} invocations: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            t.invocations,
            t.handler_latency.median_ms,
            t.handler_latency.p99_ms,
            t.handler_latency.max_ms
        );
        for (function, s) in &t.latency_by_function {
            let _ = writeln!(
                o,
                "     {:<22} {:>5} calls  p50 {:>7.1} ms  p99 {:>7.1} ms",
                function, s.samples, s.median_ms, s.p99_ms
            );
        }
        let _ = writeln!(
            o,
            "   latencies are real time, with the real Retry-After waits (1 s per 429) and queueing: the pipelines move in\n   \
             lockstep, so each round runs {} invocations at once on this machine; simulated time moves only when every\n   \
             pipeline waits, so wall time is mostly the slowest throttled call of each round",
            t.pipelines
        );
        let _ = writeln!(
            o,
            "   finished correctly (execution succeeded live, version in production): {}/{}",
            t.finished_live, t.pipelines
        );
        for problem in t.problems.iter().take(10) {
            let _ = writeln!(o, "     {problem}");
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
