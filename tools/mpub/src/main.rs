//! mpub: see, go live, dry-run and cancel the publications of a deployed pipeline.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use mpub::CliError;
use mpub::cancel::{Patience, cancel};
use mpub::go_live::{Which, go_live, publication};
use mpub::plan::{plan, plan_table};
use mpub::release;
use mpub::render::status_table;
use mpub::stage::status;
use mpub::stepfunctions::StepFunctions;
use mpub::target::{aws_config, state_machine_arn, state_machine_of};
use serde::Serialize;

/// The operator's side of the Azure Marketplace publishing pipeline.
///
/// Step Functions is reached through the standard AWS environment (AWS_REGION, AWS_PROFILE,
/// AWS_ENDPOINT_URL_SFN); `plan` and `cancel` call Microsoft with the functions' variables
/// (CPP_TENANT_ID, CPP_CLIENT_ID, CPP_CLIENT_SECRET or CPP_CLIENT_SECRET_ARN, ...).
#[derive(Parser)]
#[command(name = "mpub", version)]
struct Cli {
    /// The deployed stack: its StateMachineArn output names the state machine.
    #[arg(long, global = true, env = "MPUB_STACK")]
    stack: Option<String>,
    /// The publishing state machine's ARN (instead of --stack).
    #[arg(long, global = true, env = "MPUB_STATE_MACHINE_ARN")]
    state_machine: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// In-flight and recent publications: stage, step, next check, expected end.
    Status {
        /// Only this offer's publications.
        offer: Option<String>,
        /// How many of the newest executions to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Takes a publication that stopped at preview live: EXECUTION, or OFFER PLAN VERSION.
    GoLive {
        #[arg(required = true, num_args = 1..=3, value_names = ["EXECUTION | OFFER", "PLAN", "VERSION"])]
        target: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Dry run: what the pipeline would do with this manifest, writing nothing.
    Plan { manifest: PathBuf },
    /// Cancels Microsoft's operation of a running publication, then stops its execution.
    Cancel {
        execution: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// How long to wait for Microsoft to report the operation canceled.
        #[arg(long, default_value_t = 1800)]
        wait_seconds: u64,
        /// How often to look meanwhile.
        #[arg(long, default_value_t = 30)]
        poll_seconds: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("MPUB_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mpub: {e}");
            ExitCode::from(e.code)
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let json = cli.json;
    if let Command::Plan { manifest } = &cli.command {
        let runs = plan(manifest).await?;
        return print(json, &runs, || plan_table(&runs));
    }
    if let Command::GoLive { target, .. } = &cli.command {
        which(target)?;
    }
    let sdk = aws_config().await;
    // An execution ARN names its state machine: go-live and cancel of one need no --stack.
    let named = match &cli.command {
        Command::GoLive { target, .. } if target.len() == 1 => state_machine_of(&target[0]),
        Command::Cancel { execution, .. } => state_machine_of(execution),
        _ => None,
    };
    let arn = match (named, cli.stack.is_some() || cli.state_machine.is_some()) {
        (Some(arn), false) => arn,
        _ => state_machine_arn(&sdk, cli.stack.as_deref(), cli.state_machine.as_deref()).await?,
    };
    let sfn = StepFunctions::new(&sdk, arn);
    match cli.command {
        Command::Status { offer, limit } => {
            let lines = status(&sfn, offer.as_deref(), limit).await?;
            print(json, &lines, || status_table(&lines))
        }
        Command::GoLive { target, yes } => {
            if let [arn] = target.as_slice()
                && let Some(release) = release::find(&sfn, arn).await?
            {
                let outcomes =
                    release::go_live_release(&sdk, &release, |prompt| yes || ask(prompt)).await?;
                return print(json, &outcomes, || release::go_live_lines(&outcomes));
            }
            let chosen = publication(&sfn, &which(&target)?).await?;
            let outcome = go_live(&sfn, &chosen, |prompt| yes || ask(prompt)).await?;
            print(json, &outcome, || {
                if outcome.started {
                    format!("go-live started: {}\n", outcome.go_live_arn)
                } else {
                    format!(
                        "a go-live of this publication was started before: {} ({})\n",
                        outcome.go_live_arn,
                        outcome.go_live_status.as_deref().unwrap_or("unknown")
                    )
                }
            })
        }
        Command::Cancel {
            execution,
            yes,
            wait_seconds,
            poll_seconds,
        } => {
            let patience = Patience {
                wait: Duration::from_secs(wait_seconds),
                every: Duration::from_secs(poll_seconds.max(1)),
            };
            let outcome = cancel(&sfn, &execution, patience, |prompt| yes || ask(prompt)).await?;
            print(json, &outcome, || {
                let operation = match &outcome.operation {
                    Some(id) => format!("Microsoft's operation {id} canceled; "),
                    None => String::new(),
                };
                let stopped = if outcome.execution_stopped {
                    "execution stopped"
                } else {
                    "the execution had ended on its own"
                };
                format!("{}: {operation}{stopped}\n", outcome.target)
            })
        }
        Command::Plan { .. } => Ok(()),
    }
}

fn which(target: &[String]) -> Result<Which, CliError> {
    match target {
        [execution] => Ok(Which::Execution(execution.clone())),
        [offer, plan, version] => Ok(Which::Version {
            offer: offer.clone(),
            plan: plan.clone(),
            version: version.clone(),
        }),
        _ => Err(CliError::usage(
            "go-live takes EXECUTION, or OFFER PLAN VERSION",
        )),
    }
}

fn print<T: Serialize>(
    json: bool,
    value: &T,
    table: impl FnOnce() -> String,
) -> Result<(), CliError> {
    let text = if json {
        serde_json::to_string_pretty(value)
            .map(|t| t + "\n")
            .unwrap_or_default()
    } else {
        table()
    };
    print!("{text}");
    Ok(())
}

/// Asks on the terminal; without one (a script), the answer is no: pass --yes.
fn ask(prompt: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        eprintln!("{prompt}\nmpub: no terminal to confirm on; pass --yes");
        return false;
    }
    eprint!("{prompt} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}
