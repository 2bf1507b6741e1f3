//! A real SMTP server for the email tests: `smtp_sink.py` (aiosmtpd) started as a process on a
//! free port, writing each message it receives into a directory as JSON.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL: &str = "the email tests need Python's aiosmtpd in target/smtp-venv: run `bash .ci/run`, or \
     `python3 -m venv target/smtp-venv && target/smtp-venv/bin/pip install aiosmtpd==1.4.6` \
     (or point PORTCULLIS_TEST_SMTP_PYTHON at a python that has it)";

pub struct SmtpSink {
    pub port: u16,
    directory: PathBuf,
    child: Child,
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl SmtpSink {
    /// Starts the server and waits until it accepts connections. Panics, saying how to install
    /// it, when aiosmtpd is missing: these tests never skip silently.
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    /// The same, on `port` (a port a server was already told to deliver to).
    pub async fn start_on(port: u16) -> Self {
        let python = std::env::var_os("PORTCULLIS_TEST_SMTP_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target/smtp-venv/bin/python"));
        assert!(python.exists(), "{} not found: {INSTALL}", python.display());
        let directory =
            std::env::temp_dir().join(format!("pcl-smtp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&directory).expect("the sink's directory");
        let mut child = Command::new(&python)
            .arg(workspace().join("tests/support/smtp_sink.py"))
            .arg(port.to_string())
            .arg(&directory)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL}", python.display()));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().expect("the sink's status") {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    use std::io::Read;
                    let _ = pipe.read_to_string(&mut stderr);
                }
                panic!("the SMTP sink exited ({status}): {stderr}\n{INSTALL}");
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP sink did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            port,
            directory,
            child,
        }
    }

    /// `smtp://127.0.0.1:PORT`, for `PORTCULLIS_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Value> {
        let mut messages: Vec<Value> = std::fs::read_dir(&self.directory)
            .expect("the sink's directory")
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .map(|path| {
                let text = std::fs::read_to_string(&path).expect("a message");
                serde_json::from_str(&text).expect("a JSON message")
            })
            .collect();
        messages.sort_by_key(|m| m["subject"].to_string());
        messages
    }

    /// The first message to `to`, waiting up to 20 s for it.
    pub async fn message_to(&self, to: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(message) = self.messages().into_iter().find(|m| {
                m["to"]
                    .as_array()
                    .is_some_and(|to_list| to_list.iter().any(|t| t == to))
            }) {
                return message;
            }
            assert!(
                Instant::now() < deadline,
                "no email to {to} arrived; received: {:?}",
                self.messages()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}
