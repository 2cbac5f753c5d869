//! The `insights` binary: parses the command line and runs the command.

use std::process::ExitCode;

use clap::Parser as _;
use server::cli::{Cli, Command};
use server::{commands, telemetry};

/// mimalloc returns freed memory to the system within milliseconds and keeps little per thread;
/// with glibc's allocator every thread arena kept its peak, and a burst of large SCIM bodies
/// parsed on the blocking pool left the server at several times its working memory for good.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);
    let settings = cli.settings;
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => commands::serve(settings).await,
        Command::Migrate => commands::migrate(settings).await,
        Command::Tenant(command) => commands::tenant(settings, command).await,
        Command::Token(command) => commands::token(settings, command).await,
        Command::Admin(command) => commands::admin(settings, command).await,
        Command::SecretKey => {
            commands::secret_key();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, with the causes joined, for scripts and people alike.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
