//! Email: the messages Portcullis sends (a plain-text part and a simple HTML part, from the
//! templates below, compiled in) and the outbox that delivers them over SMTP off the request
//! path: a bounded queue, one worker started with the background tasks, a few retries. A
//! stopping server gives what is still queued (or waiting for a retry) one last attempt.
//! Failures are counted in `/metrics` and logged without the message, which carries a link.

use crate::state::AppState;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use portcullis_domain::{Email, Error};
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Emails waiting for the worker; beyond this a new one is dropped (and counted).
const QUEUE_CAPACITY: usize = 256;
/// Delivery attempts per email, with these pauses between them.
const RETRY_PAUSES: [Duration; 2] = [Duration::from_secs(3), Duration::from_secs(10)];
/// How long a stopping server keeps delivering what is queued.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// `PORTCULLIS_SMTP_URL`: it may carry a password, so it is never printed.
#[derive(Clone)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    pub fn new(url: String) -> Self {
        Self(url)
    }

    /// lettre's URL form. A plain `smtp://` URL upgrades with STARTTLS whenever the server offers
    /// it (contract section 7), which lettre spells `tls=opportunistic`.
    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, Error> {
        let mut url = self.0.clone();
        if url.starts_with("smtp://") && !url.contains("tls=") {
            url.push_str(if url.contains('?') { "&" } else { "?" });
            url.push_str("tls=opportunistic");
        }
        AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
            .map(|builder| builder.timeout(Some(Duration::from_secs(30))).build())
            .map_err(|e| Error::validation(format!("PORTCULLIS_SMTP_URL is not usable: {e}")))
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SmtpUrl(<redacted>)")
    }
}

/// One email to send.
pub struct OutgoingEmail {
    /// For metrics and logs: `invitation`, `password_reset`.
    pub kind: &'static str,
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
}

type Worker = (
    mpsc::Receiver<OutgoingEmail>,
    AsyncSmtpTransport<Tokio1Executor>,
);

/// The queue in front of the SMTP server; without `PORTCULLIS_SMTP_URL` nothing is sent.
pub struct Outbox {
    sender: Option<mpsc::Sender<OutgoingEmail>>,
    worker: Mutex<Option<Worker>>,
    from: Mailbox,
}

impl Outbox {
    pub fn new(smtp_url: Option<&SmtpUrl>, from: &str) -> Result<Self, Error> {
        let from: Mailbox = from.parse().map_err(|e| {
            Error::validation(format!("PORTCULLIS_EMAIL_FROM is not a mailbox: {e}"))
        })?;
        let (sender, worker) = match smtp_url {
            Some(url) => {
                let transport = url.transport()?;
                let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
                (Some(sender), Some((receiver, transport)))
            }
            None => (None, None),
        };
        Ok(Self {
            sender,
            worker: Mutex::new(worker),
            from,
        })
    }

    /// Whether email is configured at all.
    pub fn is_enabled(&self) -> bool {
        self.sender.is_some()
    }

    fn take_worker(&self) -> Option<Worker> {
        self.worker.lock().expect("outbox lock").take()
    }
}

impl AppState {
    /// Queues the email; never waits and never fails the request.
    pub(crate) fn send_email(&self, email: OutgoingEmail) {
        let Some(sender) = &self.outbox.sender else {
            return;
        };
        let kind = email.kind;
        if let Err(e) = sender.try_send(email) {
            self.metrics.email(kind, "dropped");
            tracing::warn!(kind, reason = %e, "email dropped: the outbox is full or closed");
        }
    }

    /// The delivery worker, if email is configured and no worker runs yet.
    pub(crate) fn start_email_worker(&self) -> Option<EmailWorker> {
        let (receiver, transport) = self.outbox.take_worker()?;
        let (stop, stopping) = watch::channel(false);
        let task = tokio::spawn(deliver_until_stopped(
            self.clone(),
            receiver,
            transport,
            stopping,
        ));
        Some(EmailWorker { task, stop })
    }
}

/// The running delivery worker.
pub(crate) struct EmailWorker {
    task: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl EmailWorker {
    /// Takes no new email, gives each queued one a last attempt (a pending retry is made at
    /// once), and gives up after `DRAIN_TIMEOUT`.
    pub(crate) async fn drain(mut self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(DRAIN_TIMEOUT, &mut self.task)
            .await
            .is_err()
        {
            self.task.abort();
            tracing::error!("stopped before every queued email was delivered");
        }
    }
}

async fn deliver_until_stopped(
    state: AppState,
    mut receiver: mpsc::Receiver<OutgoingEmail>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    mut stopping: watch::Receiver<bool>,
) {
    loop {
        let email = tokio::select! {
            email = receiver.recv() => email,
            _ = stopping.wait_for(|stop| *stop) => None,
        };
        let Some(email) = email else { break };
        deliver(&state, &transport, email, &mut stopping).await;
    }
    receiver.close();
    while let Ok(email) = receiver.try_recv() {
        deliver(&state, &transport, email, &mut stopping).await;
    }
}

/// Sends with retries; once the server is stopping, a failed attempt is the last.
async fn deliver(
    state: &AppState,
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    email: OutgoingEmail,
    stopping: &mut watch::Receiver<bool>,
) {
    let kind = email.kind;
    let message = match build(&state.outbox.from, email) {
        Ok(message) => message,
        Err(e) => {
            state.metrics.email(kind, "failed");
            tracing::error!(kind, error = %e, "could not build an email");
            return;
        }
    };
    for attempt in 0.. {
        let error = match transport.send(message.clone()).await {
            Ok(_) => {
                state.metrics.email(kind, "sent");
                return;
            }
            Err(error) => error,
        };
        let pause = RETRY_PAUSES.get(attempt).filter(|_| !*stopping.borrow());
        let Some(pause) = pause else {
            state.metrics.email(kind, "failed");
            tracing::error!(kind, attempts = attempt + 1, error = %error, "email delivery failed; giving up");
            return;
        };
        state.metrics.email(kind, "deferred");
        tracing::warn!(kind, attempt = attempt + 1, error = %error, "email delivery failed; will retry");
        tokio::select! {
            () = tokio::time::sleep(*pause) => {}
            _ = stopping.wait_for(|stop| *stop) => {}
        }
    }
}

fn build(from: &Mailbox, email: OutgoingEmail) -> Result<Message, String> {
    let to: Mailbox = email.to.as_str().parse().map_err(|e| format!("{e}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(email.subject)
        .multipart(MultiPart::alternative_plain_html(email.text, email.html))
        .map_err(|e| e.to_string())
}

/// `&`, `<`, `>`, `"` and `'` escaped, for names people chose.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// "Ada invited you to join Acme on Portcullis".
pub(crate) fn invitation_email(
    to: Email,
    organization: &str,
    inviter: Option<&str>,
    role: &str,
    link: &str,
) -> OutgoingEmail {
    let inviter = inviter.unwrap_or("An administrator");
    let subject = format!("{inviter} invited you to join {organization} on Portcullis");
    let text = format!(
        "{inviter} invited you to join {organization} as {role}.\n\n\
         Accept the invitation here:\n{link}\n\n\
         The link works once, for 7 days. If you did not expect this invitation, ignore this email.\n"
    );
    let html = format!(
        "<!doctype html>\n<html><body>\n\
         <p>{inviter} invited you to join <strong>{organization}</strong> as {role}.</p>\n\
         <p><a href=\"{link}\">Accept the invitation</a></p>\n\
         <p>The link works once, for 7 days. If you did not expect this invitation, ignore this email.</p>\n\
         </body></html>\n",
        inviter = escape_html(inviter),
        organization = escape_html(organization),
        role = escape_html(role),
        link = escape_html(link),
    );
    OutgoingEmail {
        kind: "invitation",
        to,
        subject,
        text,
        html,
    }
}

pub(crate) fn password_reset_email(to: Email, link: &str) -> OutgoingEmail {
    let text = format!(
        "Someone asked to reset the password of your Portcullis account.\n\n\
         Choose a new password here:\n{link}\n\n\
         The link works once, for 1 hour. If you did not ask for this, ignore this email: your password stays as it is.\n"
    );
    let html = format!(
        "<!doctype html>\n<html><body>\n\
         <p>Someone asked to reset the password of your Portcullis account.</p>\n\
         <p><a href=\"{link}\">Choose a new password</a></p>\n\
         <p>The link works once, for 1 hour. If you did not ask for this, ignore this email: your password stays as it is.</p>\n\
         </body></html>\n",
        link = escape_html(link),
    );
    OutgoingEmail {
        kind: "password_reset",
        to,
        subject: "Reset your Portcullis password".to_owned(),
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_names_the_organization_and_the_inviter_and_escapes_html() {
        let to = Email::parse("bob@example.com").unwrap();
        let email = invitation_email(
            to,
            "Acme <R&D>",
            Some("ada@example.com"),
            "developer",
            "https://auth.example.com/console/invitations/accept?token=abc",
        );
        assert_eq!(
            email.subject,
            "ada@example.com invited you to join Acme <R&D> on Portcullis"
        );
        assert!(email.text.contains("?token=abc"));
        assert!(email.html.contains("Acme &lt;R&amp;D&gt;"));
        assert!(!email.html.contains("<R&D>"));
    }

    #[test]
    fn the_smtp_url_is_never_printed_and_plain_smtp_upgrades_when_offered() {
        let url = SmtpUrl::new("smtp://user:hunter22@127.0.0.1:2525".into());
        assert_eq!(format!("{url:?}"), "SmtpUrl(<redacted>)");
        assert!(url.transport().is_ok());
        assert!(SmtpUrl::new("ftp://x".into()).transport().is_err());
        assert!(Outbox::new(None, "not a mailbox").is_err());
        assert!(
            !Outbox::new(None, "Portcullis <portcullis@localhost>")
                .unwrap()
                .is_enabled()
        );
    }
}
