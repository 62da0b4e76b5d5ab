//! `make bench`: a benchmark, not a test. It measures the release binaries and the pipeline, prints a
//! table with each figure next to its target, and writes target/bench/report.json. A missed target is
//! reported, never an error: the exit status says only whether the benchmark itself could run.

mod aws;
mod coldstart;
mod endpoints;
mod offers;
mod pipeline;
mod product;
mod releases;
mod report;
mod runtime_api;
mod scenarios;
mod server;
mod sim;
mod statemachine;
mod stats;
mod throughput;

use std::path::{Path, PathBuf};

use report::Report;

/// How the Product Ingestion runs pace the jobs they wait for inside an invocation (pipeline.rs).
const INGESTION_PACE: &str = "production pacing: IngestionOptions::default() (a draft edit's job read every 2 s, \
up to 60 s; a new submission's job read every 2 s until it has started) against the emulator's default 2 s draft \
job, in real time; submissions run on the simulated clock";

pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const USAGE: &str =
    "usage: bench [--runs N] [--pipelines N] [--python PATH] [--bin-dir DIR] [--out FILE] [--cold-starts-only]
             [--releases-only]
  --runs N        cold starts per function and for the peer (default 20)
  --pipelines N   concurrent pipelines in the throughput run (default 100)
  --python PATH   a Python with cloudpub installed, for the peer (skipped when absent)
  --bin-dir DIR   where the release bootstraps are (default target/release)
  --out FILE      the JSON report (default target/bench/report.json)
  --cold-starts-only
                  only sections 1 and 2 (the cold starts, the floor and the peer), for a quick look
  --releases-only only section 6 (releases: one manifest to many plans and offers, simulated time;
                  needs no release binaries), for a quick look";

struct Options {
    runs: usize,
    pipelines: usize,
    python: Option<PathBuf>,
    bin_dir: PathBuf,
    out: PathBuf,
    cold_starts_only: bool,
    releases_only: bool,
}

fn options() -> BenchResult<Options> {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let mut options = Options {
        runs: 20,
        pipelines: 100,
        python: None,
        bin_dir: coldstart::default_bin_dir(),
        out: target.join("bench/report.json"),
        cold_starts_only: false,
        releases_only: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--runs" => options.runs = value()?.parse()?,
            "--pipelines" => options.pipelines = value()?.parse()?,
            "--python" => options.python = Some(value()?.into()),
            "--bin-dir" => options.bin_dir = value()?.into(),
            "--out" => options.out = value()?.into(),
            "--cold-starts-only" => options.cold_starts_only = true,
            "--releases-only" => options.releases_only = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    if options.cold_starts_only && options.releases_only {
        return Err(
            format!("--cold-starts-only and --releases-only exclude each other\n{USAGE}").into(),
        );
    }
    if options.runs == 0 || options.pipelines == 0 {
        return Err("--runs and --pipelines must be at least 1".into());
    }
    Ok(options)
}

/// The workspace's release `opt-level`, as the binaries were built with it.
fn release_opt_level() -> String {
    let manifest = include_str!("../../../Cargo.toml");
    let release = manifest
        .split("[profile.release]")
        .nth(1)
        .unwrap_or_default();
    release
        .lines()
        .take_while(|line| !line.starts_with('['))
        .find_map(|line| line.trim().strip_prefix("opt-level"))
        .map(|value| {
            value
                .trim_start_matches([' ', '='])
                .trim()
                .trim_matches('"')
                .to_owned()
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The machine, and what was measured on it: the release binaries, unless only the releases (all
/// simulated time) were run.
fn environment(releases_only: bool) -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let measured = if releases_only {
        format!(
            "no binaries measured (--releases-only: simulated time; the bench is a {} build)",
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        )
    } else {
        format!(
            "release binaries (opt-level {}, LTO, stripped)",
            release_opt_level()
        )
    };
    format!(
        "{measured}, {} Linux {}, {cpus} CPUs, load average {} at start\n\
         (deployed on arm64 Graviton: absolute times differ)",
        std::env::consts::ARCH,
        kernel.trim(),
        load.join(" ")
    )
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let options = options()?;
    let logs = options
        .out
        .parent()
        .map_or_else(|| PathBuf::from("logs"), |p| p.join("logs"));
    if logs.exists() {
        std::fs::remove_dir_all(&logs)?;
    }
    std::fs::create_dir_all(&logs)?;
    let args: Vec<String> = std::env::args().skip(1).collect();

    let cold = if options.releases_only {
        coldstart::ColdStarts::default()
    } else {
        eprintln!(
            "bench: cold starts ({} runs per function and the floor) ...",
            options.runs
        );
        coldstart::ours(&options.bin_dir, options.runs, &logs).await?
    };
    let (peer, peer_note) = match &options.python {
        _ if options.releases_only => (None, Some("not run: --releases-only".to_owned())),
        Some(python) if python.exists() => {
            eprintln!("bench: peer cold starts ...");
            (
                Some(coldstart::peer(python, options.runs, &logs).await?),
                None,
            )
        }
        Some(python) => (None, Some(format!("{} does not exist", python.display()))),
        None => (None, Some("no --python given".to_owned())),
    };
    let pipeline_sections = !options.cold_starts_only && !options.releases_only;
    let scenarios = if pipeline_sections {
        eprintln!("bench: API calls and waiting cost ...");
        scenarios::run().await?
    } else {
        scenarios::Scenarios::default()
    };
    let mut throughput = Vec::new();
    for api in offers::APIS.into_iter().filter(|_| pipeline_sections) {
        eprintln!(
            "bench: throughput, {} ({} pipelines) ...",
            api.title(),
            options.pipelines
        );
        throughput.push(throughput::run(api, options.pipelines).await?);
    }
    let releases = if options.cold_starts_only {
        Vec::new()
    } else {
        releases::run().await?
    };

    let mut report = Report {
        command: if cfg!(debug_assertions) {
            format!("bench {} (a debug build)", args.join(" "))
        } else {
            format!("make bench (target/release/bench {})", args.join(" "))
        },
        environment: environment(options.releases_only),
        cold_start: cold.rows,
        floor: cold.floor,
        peer,
        peer_note,
        ratios: Vec::new(),
        api_driver: "each function's handle() called in-process by an interpreter of the real \
                     infra/statemachine/publish.asl.json (Choice, Wait, Retry, Catch, Parallel as defined); \
                     build-finished against local S3 and Step Functions stand-ins; not the e2e harness"
            .into(),
        ingestion_pace: INGESTION_PACE.into(),
        api_calls: scenarios.api,
        waiting: scenarios.timelines,
        price_per_1000_transitions_usd: scenarios::PRICE_PER_TRANSITION * 1000.0,
        throughput,
        releases,
        checks: Vec::new(),
    };
    report.evaluate();
    print!("{}", report.render());
    if let Some(dir) = options.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&options.out, serde_json::to_string_pretty(&report)?)?;
    println!("\nreport: {}", options.out.display());
    Ok(())
}
