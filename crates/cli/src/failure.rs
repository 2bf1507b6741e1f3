use portcullis_client::Error;

/// The exit codes of contract section 13.
pub mod exit_code {
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOT_AUTHENTICATED: u8 = 4;
    pub const FORBIDDEN: u8 = 5;
}

/// Why a command failed: the line printed after `error: ` and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub exit: u8,
}

impl Failure {
    pub fn other(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit: exit_code::FAILURE,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit: exit_code::USAGE,
        }
    }

    pub fn not_logged_in() -> Self {
        Self {
            message: "no credential: run `portcullis login`, or set PORTCULLIS_TOKEN or \
                      `portcullis config set-token` to an API key"
                .into(),
            exit: exit_code::NOT_AUTHENTICATED,
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        match error {
            Error::Api { status: 401, body } => Failure {
                message: format!(
                    "{} (log in with `portcullis login`, or set PORTCULLIS_TOKEN to a valid API key)",
                    body.message
                ),
                exit: exit_code::NOT_AUTHENTICATED,
            },
            Error::Api { status: 403, body } => {
                let message = if body.missing_permissions.is_empty() {
                    body.message
                } else {
                    format!(
                        "{} (missing permissions: {})",
                        body.message,
                        body.missing_permissions.join(", ")
                    )
                };
                Failure {
                    message,
                    exit: exit_code::FORBIDDEN,
                }
            }
            Error::Api { body, .. } => Failure::other(body.message),
            Error::Unreachable { url, source } => Failure::other(format!(
                "cannot reach the server at {url} ({}): set its address with --url, \
                 PORTCULLIS_URL or `portcullis config set-url URL`",
                root_cause(&source)
            )),
            other => Failure::other(other.to_string()),
        }
    }
}

impl From<portcullis_client::GeneratedError<portcullis_client::types::ErrorBody>> for Failure {
    fn from(error: portcullis_client::GeneratedError<portcullis_client::types::ErrorBody>) -> Self {
        Error::from(error).into()
    }
}

/// reqwest's own message is "error sending request"; the useful part (refused, DNS) is deeper.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
