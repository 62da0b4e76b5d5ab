//! `cpp-emulator`: runs the CPP and Product Ingestion emulator until SIGINT/SIGTERM. Prints
//! `listening on URL` once ready.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use cpp_emulator::{Emulator, EmulatorConfig, LiveModel, LocationStyle};

const USAGE: &str = "usage: cpp-emulator [--port N] [--clock-scale X] [--no-seed] \
[--success-status S] [--publish-succeeds-at-signoff] [--legacy-location] [--real-time-tokens] \
[--pi-page-size N] [--pi-draft-job-delay-ms MS] [--pi-live-model single|twoEntries]
(--no-seed seeds neither the CPP offer nor the Product Ingestion product)
env: CPP_CLIENT_ID, CPP_CLIENT_SECRET (accepted credentials), RUST_LOG (log filter, stderr)";

#[derive(Debug)]
struct Options {
    port: u16,
    clock_scale: f64,
    config: EmulatorConfig,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        clock_scale: 0.0,
        config: EmulatorConfig::default(),
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                options.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?;
            }
            "--clock-scale" => {
                options.clock_scale = value("--clock-scale")?
                    .parse()
                    .map_err(|e| format!("--clock-scale: {e}"))?;
            }
            "--success-status" => options.config.success_status = value("--success-status")?,
            "--no-seed" => options.config.seed_default_offer = false,
            "--publish-succeeds-at-signoff" => options.config.publish_succeeds_at_signoff = true,
            "--legacy-location" => options.config.location_style = LocationStyle::Legacy,
            "--real-time-tokens" => options.config.tokens_on_real_clock = true,
            "--pi-page-size" => {
                options.config.ingestion.page_size = value("--pi-page-size")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--pi-page-size: needs a number of at least 1")?;
            }
            "--pi-draft-job-delay-ms" => {
                let ms: u64 = value("--pi-draft-job-delay-ms")?
                    .parse()
                    .map_err(|e| format!("--pi-draft-job-delay-ms: {e}"))?;
                options.config.ingestion.draft_job_delay = std::time::Duration::from_millis(ms);
            }
            "--pi-live-model" => {
                options.config.ingestion.live_model = match value("--pi-live-model")?.as_str() {
                    "single" => LiveModel::Single,
                    "twoEntries" => LiveModel::TwoEntries,
                    other => return Err(format!("--pi-live-model: unknown model {other}")),
                };
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if let Ok(id) = std::env::var("CPP_CLIENT_ID") {
        options.config.client_id = id;
    }
    if let Ok(secret) = std::env::var("CPP_CLIENT_SECRET") {
        options.config.client_secret = secret;
    }
    Ok(options)
}

async fn stop_signal() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = terminate.recv() => Ok(()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(error) => {
            if !error.is_empty() {
                eprintln!("cpp-emulator: {error}");
            }
            eprintln!("{USAGE}");
            return if error.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };

    let emulator = match Emulator::start_on_port(options.config, options.port).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!(
                "cpp-emulator: cannot listen on port {}: {error}",
                options.port
            );
            return ExitCode::FAILURE;
        }
    };
    emulator.set_clock_scale(options.clock_scale);

    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "listening on {}", emulator.base_url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);

    let result = stop_signal().await;
    emulator.shutdown();
    tracing::info!("signal received, CPP emulator stopped");
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cpp-emulator: cannot wait for signals: {error}");
            ExitCode::FAILURE
        }
    }
}
