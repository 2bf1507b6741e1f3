use clap::{CommandFactory, Parser, Subcommand};
use portcullis_domain::SystemClock;
use portcullis_persistence::Store;
use portcullis_server::{Application, Settings, shutdown_signal};
use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

/// Portcullis: multi-tenant, organization-scoped authentication and authorization.
#[derive(Parser)]
#[command(name = "portcullis", version)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(flatten)]
    client: portcullis_cli::GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Server(ServerCommand),
    #[command(flatten)]
    Client(portcullis_cli::Command),
}

#[derive(Subcommand)]
enum ServerCommand {
    /// Migrate the database, then serve (the default).
    Serve,
    /// Migrate the database and exit.
    Migrate,
    /// Read a password from standard input and print its argon2 PHC string.
    HashPassword,
    /// Print the OpenAPI spec (what `openapi.json` holds).
    Openapi,
    /// Print a completion script for bash, zsh or fish.
    Completions { shell: clap_complete::Shell },
}

fn main() -> ExitCode {
    return_large_blocks_to_the_system();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(start()),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Each argon2 hash allocates a 19 MiB block. Once such a block is freed, glibc raises its mmap
/// threshold above it and keeps later ones in the heap, so a login flood leaves hundreds of MiB
/// resident. A fixed threshold makes every large block an mmap, returned to the system on free.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; it runs once, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

async fn start() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        // The client commands talk to a server; they log nothing and have their own exit codes.
        Some(Command::Client(command)) => return portcullis_cli::run(cli.client, command).await,
        Some(Command::Server(command)) => command,
        None => ServerCommand::Serve,
    };
    let filter = EnvFilter::try_new(&cli.settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(cli.settings, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings, command: ServerCommand) -> Result<(), String> {
    match command {
        ServerCommand::Serve => serve(settings).await,
        ServerCommand::Migrate => {
            let store = Store::connect(&settings.database_url)
                .await
                .map_err(|e| e.to_string())?;
            store.migrate().await.map_err(|e| e.to_string())?;
            eprintln!("database is up to date");
            Ok(())
        }
        ServerCommand::HashPassword => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            let password = input
                .strip_suffix('\n')
                .map(|p| p.strip_suffix('\r').unwrap_or(p))
                .unwrap_or(&input);
            if password.is_empty() {
                return Err("standard input holds no password".into());
            }
            println!(
                "{}",
                portcullis_api::passwords::hash_blocking(password).map_err(|e| e.to_string())?
            );
            Ok(())
        }
        ServerCommand::Openapi => {
            println!("{}", portcullis_api::spec_json());
            Ok(())
        }
        ServerCommand::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "portcullis",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let bind = settings.bind.clone();
    let app = Application::build(settings, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(%bind, port = app.port(), "portcullis listening");
    app.run_until_stopped(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}
