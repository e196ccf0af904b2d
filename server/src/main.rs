//! The `lotse` binary: one command with subcommands. It parses arguments and hands over to the
//! engine; all product logic lives in the engine crates.

use lotse_server::cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: the server allocates many short-lived JSON values per
/// request, and glibc spent over a quarter of a step answer's time in malloc and free. Built
/// without transparent huge pages (`no_thp`): with them, the idle server was 87 MiB resident
/// instead of 47 MiB, because each touched 2 MiB region counted whole (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "lotse",
    version,
    about = "Lotse: guided application assistants for municipal service portals"
)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the payment platform simulator on loopback (docs/payment.md): prints its address,
    /// runs until Ctrl-C or SIGTERM.
    Paysim {
        /// Where to listen (a loopback address; port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// The environment variable holding the shared secret (at least 16 characters).
        #[arg(long, default_value = "LOTSE_PAYSIM_SECRET")]
        secret_env: String,
    },
    /// Run the portal: the demo county and its municipalities, with the example workflows.
    Serve {
        /// The configuration file (default: lotse.toml, if it exists). See docs/configuration.md.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Preview for form designers: reload on every change, show definition errors in the
        /// browser, explain each step, preview receipts with the scenarios' answers.
        #[arg(long)]
        dev: bool,
        /// The project folder to serve (instead of `project_dir` from the configuration).
        dir: Option<PathBuf>,
    },
    /// Load every workflow, form and template under DIR (or one file) and report every problem.
    Check {
        /// A project folder (with workflows/, forms/, pdf-templates/), a workflows folder or a file.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Print problems one per line (file:line:column) instead of with source snippets.
        #[arg(long)]
        short: bool,
        /// Fail on warnings too (a comparison that never holds, a select choice too long for a
        /// phone, ...), e.g. in the CI of a project's workflows.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Run the scenarios in workflows/<name>/scenarios/ and report what they did not reach.
    Test {
        /// A project folder, a workflows folder, one workflow's folder or one scenario file.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Fail when any step, branch, condition or rule was never reached.
        #[arg(long)]
        require_full_coverage: bool,
        /// Print every message a rejected step got, ready to copy into `expect_errors`.
        #[arg(long)]
        show_messages: bool,
    },
    /// Print a workflow's steps and branches as a Mermaid or Graphviz diagram.
    Graph {
        /// A workflow file, or the id of a workflow in the project.
        workflow: String,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
        /// The project folder to look up a workflow id in.
        #[arg(long, default_value = ".")]
        project: PathBuf,
    },
    /// Print the JSON API's OpenAPI 3.1 document (the one served at /api/v1/openapi.json).
    Openapi,
    /// The built-in demo: a citizen walks through the Hundesteuer assistant in the terminal; the
    /// submission is stored and its signed receipt written to DATA/demo-quittung.pdf.
    Demo {
        /// The project folder with the example workflows.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The data folder (sled store, development keys).
        #[arg(long, default_value = "data")]
        data: PathBuf,
    },
    /// Render and sign a receipt from a submission JSON (or a receipt model JSON), with the
    /// signing key the portal of DATA uses (DATA/keys/<tenant>/, else its store's development
    /// key).
    Render {
        input: PathBuf,
        #[arg(short, long, default_value = "quittung.pdf")]
        output: PathBuf,
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The portal's data folder (its store is DATA/store), as for `lotse serve`.
        #[arg(long, env = "LOTSE_DATA_DIR", default_value = "data")]
        data: PathBuf,
        /// The tenant that issues the receipt (its slug; by default one that offers the
        /// workflow, preferring one with its own override).
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, default_value = "VORSCHAU-0000")]
        reference: String,
    },
    /// Check a receipt's signature and embedded data; with --trust, also who signed it.
    /// Exit codes: 0 valid (and signed with a trusted certificate), 1 altered or not a signed
    /// receipt, 2 intact but the signer is not proven (no --trust, or another certificate).
    Verify {
        file: PathBuf,
        /// A PEM file with the certificate(s) the receipt must be signed with, for example the
        /// tenant's signing certificate; may be given several times.
        #[arg(long, value_name = "CERT.pem")]
        trust: Vec<PathBuf>,
    },
    /// Write every stored record as JSON Lines (to stdout or --output).
    Export {
        /// The portal's data folder (its store is DATA/store), as for `lotse serve`; a folder
        /// without a store is an error.
        #[arg(long, env = "LOTSE_DATA_DIR", default_value = "data")]
        data: PathBuf,
        /// Read from PostgreSQL instead: the environment variable that holds the database URL.
        #[arg(long, value_name = "VAR")]
        database_url_env: Option<String>,
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Create an empty store in a new data folder (DATA/store), for setting up accounts with
    /// `lotse admin` before the portal's first start. A folder with a store keeps it.
    Init {
        /// The portal's data folder, as for `lotse serve`.
        #[arg(long, env = "LOTSE_DATA_DIR", default_value = "data")]
        data: PathBuf,
    },
    /// Staff accounts and API tokens of the Postkorb (run while the portal is stopped).
    /// Passwords come from LOTSE_ADMIN_PASSWORD or, with --password-stdin, from stdin.
    Admin {
        /// The project folder whose portal/ names the tenants (the built-in demo without one).
        #[arg(long, env = "LOTSE_PROJECT_DIR", default_value = ".")]
        project: PathBuf,
        /// The data folder of the portal (its store is DATA/store); a folder without a store
        /// is an error (`lotse init` creates one).
        #[arg(long, env = "LOTSE_DATA_DIR", default_value = "data")]
        data: PathBuf,
        /// Use PostgreSQL instead: the environment variable that holds the database URL.
        #[arg(long, value_name = "VAR")]
        database_url_env: Option<String>,
        #[command(subcommand)]
        command: cli::admin::AdminCmd,
    },
    /// Restore records from JSON Lines (stdin or a file) into an empty store: a data folder
    /// without a store gets a new one.
    Import {
        input: Option<PathBuf>,
        /// The portal's data folder (its store is DATA/store), as for `lotse serve`.
        #[arg(long, env = "LOTSE_DATA_DIR", default_value = "data")]
        data: PathBuf,
        /// Write into PostgreSQL instead (migrated first): the environment variable that holds
        /// the database URL.
        #[arg(long, value_name = "VAR")]
        database_url_env: Option<String>,
    },
    /// The service catalogue (portal/leistungen/): import entries from CSV or JSON.
    Catalogue {
        #[command(subcommand)]
        command: cli::catalogue::CatalogueCmd,
    },
    /// Bring the PostgreSQL schema up to date (`[store]` of the configuration). Nodes also do
    /// this when they start.
    Migrate {
        /// The configuration file (default: lotse.toml, if it exists).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run the housekeeping once, as `lotse serve` does every `interval_minutes`: expired
    /// drafts and sessions, retention, unreferenced attachments. Prints what it removed.
    Housekeeping {
        /// The configuration file (default: lotse.toml, if it exists).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Remove unreferenced attachments stored longer ago than this (instead of
        /// `attachment_grace_minutes`; 0 after the portal was stopped, e.g. in a test).
        #[arg(long)]
        attachments_grace_seconds: Option<u32>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Option<&std::path::Path>, dev: bool, dir: Option<PathBuf>) -> anyhow::Result<()> {
    lotse_server::telemetry::init_logging();
    let mut config = lotse_server::config::Config::load(config)?;
    if let Some(dir) = dir {
        config.project_dir = dir;
    }
    let portal = lotse_server::Portal::build_mode(&config, dev)?;
    lotse_receipt::prepare()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(lotse_server::serve(portal, config.listen, dev))
}

fn housekeeping(config: Option<&std::path::Path>, grace: Option<u32>) -> anyhow::Result<()> {
    let config = lotse_server::config::Config::load(config)?;
    let portal = lotse_server::Portal::build_with(&config)?;
    let grace = grace.map(|s| time::Duration::seconds(i64::from(s)));
    let report = portal.housekeeping_once(grace)?;
    println!("{report:?}");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Cmd::Serve { config, dev, dir } => report(serve(config.as_deref(), dev, dir)),
        Cmd::Paysim { listen, secret_env } => report(cli::paysim::run(listen, &secret_env)),
        Cmd::Check {
            dir,
            short,
            deny_warnings,
        } => cli::check::run(
            &dir,
            cli::check::Output {
                short,
                deny_warnings,
            },
        ),
        Cmd::Test {
            dir,
            require_full_coverage,
            show_messages,
        } => cli::test::run(&dir, require_full_coverage, show_messages),
        Cmd::Graph {
            workflow,
            format,
            project,
        } => {
            let format = match format {
                GraphFormat::Mermaid => lotse_core::diagram::DiagramFormat::Mermaid,
                GraphFormat::Dot => lotse_core::diagram::DiagramFormat::Dot,
            };
            cli::graph::run(&workflow, &project, format)
        }
        Cmd::Openapi => {
            println!("{}", lotse_server::openapi::document());
            ExitCode::SUCCESS
        }
        Cmd::Demo { dir, data } => cli::demo::run(&dir, &data),
        Cmd::Render {
            input,
            output,
            dir,
            data,
            tenant,
            reference,
        } => report(cli::receipt::render(cli::receipt::RenderArgs {
            input: &input,
            output: &output,
            project: &dir,
            data: &data,
            tenant: tenant.as_deref(),
            reference: &reference,
        })),
        Cmd::Verify { file, trust } => cli::receipt::verify(&file, &trust),
        Cmd::Export {
            data,
            database_url_env,
            output,
        } => report(cli::data::export(
            &cli::data::Target::new(data, database_url_env),
            output.as_deref(),
        )),
        Cmd::Import {
            input,
            data,
            database_url_env,
        } => report(cli::data::import(
            &cli::data::Target::new(data, database_url_env),
            input.as_deref(),
        )),
        Cmd::Catalogue { command } => cli::catalogue::run(command),
        Cmd::Migrate { config } => report(cli::data::migrate(config.as_deref())),
        Cmd::Init { data } => report(cli::data::init(&data)),
        Cmd::Housekeeping {
            config,
            attachments_grace_seconds,
        } => report(housekeeping(config.as_deref(), attachments_grace_seconds)),
        Cmd::Admin {
            project,
            data,
            database_url_env,
            command,
        } => report(cli::admin::run(
            &project,
            &data,
            database_url_env.as_deref(),
            command,
        )),
    }
}
