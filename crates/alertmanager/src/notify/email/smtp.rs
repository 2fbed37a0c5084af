//! One SMTP conversation in upstream's order: connect (implicit TLS when
//! `force_implicit_tls`, or by default on port 465), EHLO, STARTTLS when `require_tls`
//! (refused if the server does not offer it), authentication chosen from the server's `AUTH`
//! list, then the message. Every failure past the configuration is worth a retry, as
//! upstream's notifier reports them.

use std::fmt;

use lettre::address::Envelope;
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::Ehlo;
use lettre::transport::smtp::extension::{ClientId, Extension};
use lettre::transport::smtp::response::Response;

use super::auth::{self, Auth};
use crate::notify::NotifyError;

/// How to reach and greet the smarthost, resolved from the config.
pub(super) struct Route {
    pub host: String,
    pub port: u16,
    pub hello: ClientId,
    pub implicit_tls: bool,
    pub require_tls: bool,
    pub tls: TlsParameters,
}

/// A raw SMTP line, for the SASL exchanges lettre has no command for.
struct Line(String);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\r\n", self.0)
    }
}

fn retry(context: &str, err: impl fmt::Display) -> NotifyError {
    NotifyError::retryable_other(format!("{context}: {err}"))
}

/// The parameters of the `AUTH` line of an EHLO reply, if the server offers authentication.
fn advertised_auth(ehlo: &Response) -> Option<String> {
    ehlo.message().skip(1).find_map(|line| {
        let (keyword, params) = line.split_once(' ').unwrap_or((line, ""));
        keyword
            .eq_ignore_ascii_case("AUTH")
            .then(|| params.to_owned())
    })
}

/// Sends the message; `creds` are consulted only when the server offers authentication.
pub(super) async fn deliver(
    route: Route,
    creds: &auth::Credentials<'_>,
    envelope: &Envelope,
    message: &[u8],
) -> Result<(), NotifyError> {
    let address = (route.host.as_str(), route.port);
    let implicit = route.implicit_tls.then(|| route.tls.clone());
    let mut conn = AsyncSmtpConnection::connect_tokio1(address, None, &route.hello, implicit, None)
        .await
        .map_err(|e| {
            let what = if route.implicit_tls {
                "establish TLS connection to server"
            } else {
                "establish connection to server"
            };
            retry(what, e)
        })?;
    converse(&mut conn, &route, creds, envelope, message).await?;
    // Closing politely is best effort: the message is already accepted. After a failure the
    // connection is dropped as it is (a failed TLS upgrade leaves nothing to write to).
    let _ = conn.quit().await;
    Ok(())
}

async fn converse(
    conn: &mut AsyncSmtpConnection,
    route: &Route,
    creds: &auth::Credentials<'_>,
    envelope: &Envelope,
    message: &[u8],
) -> Result<(), NotifyError> {
    if route.require_tls && !route.implicit_tls {
        if !conn.server_info().supports_feature(Extension::StartTls) {
            return Err(NotifyError::retryable_other(format!(
                "'require_tls' is true (default) but \"{}:{}\" does not advertise the STARTTLS extension",
                route.host, route.port
            )));
        }
        conn.starttls(route.tls.clone(), &route.hello)
            .await
            .map_err(|e| retry("send STARTTLS command", e))?;
    }
    if !creds.username.is_empty() {
        // lettre keeps only the mechanisms it knows, unordered: ask again for the raw list.
        let ehlo = conn
            .command(Ehlo::new(route.hello.clone()))
            .await
            .map_err(|e| retry("send EHLO command", e))?;
        if let Some(mechanisms) = advertised_auth(&ehlo) {
            let chosen =
                auth::choose(&mechanisms, creds).map_err(|e| retry("find auth mechanism", e))?;
            if let Some(chosen) = chosen {
                authenticate(conn, &chosen, &route.host)
                    .await
                    .map_err(|e| retry(&format!("{} auth", chosen.mechanism()), e))?;
            }
        }
    }
    conn.send(envelope, message)
        .await
        .map(|_| ())
        .map_err(|e| retry("send email", e))
}

/// Runs a SASL exchange: the AUTH command, then an answer per 334 challenge until 235.
async fn authenticate(
    conn: &mut AsyncSmtpConnection,
    auth: &Auth,
    host: &str,
) -> Result<(), String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;

    let mut line = auth.command(conn.is_encrypted(), host)?;
    // Bounded: every mechanism here finishes within two challenges.
    for _ in 0..4 {
        let reply = conn.command(Line(line)).await.map_err(|e| e.to_string())?;
        if reply.has_code(235) {
            return Ok(());
        }
        if !reply.has_code(334) {
            return Err(format!(
                "unexpected reply {}: {}",
                reply.code(),
                reply.first_line().unwrap_or("")
            ));
        }
        let challenge = BASE64
            .decode(reply.first_line().unwrap_or("").trim())
            .map_err(|e| e.to_string());
        let answer = match challenge.and_then(|c| auth.answer(&c)) {
            Ok(answer) => answer,
            Err(err) => {
                // Cancel the exchange as RFC 4954 asks before giving up.
                let _ = conn.command(Line("*".into())).await;
                return Err(err);
            }
        };
        line = BASE64.encode(answer);
    }
    Err("too many authentication challenges".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::transport::smtp::response::{Category, Code, Detail, Severity};

    #[test]
    fn the_auth_line_of_an_ehlo_reply_is_found_by_keyword() {
        let code = Code::new(
            Severity::PositiveCompletion,
            Category::MailSystem,
            Detail::Zero,
        );
        let reply = Response::new(
            code,
            vec![
                "mail.example.org".into(),
                "8BITMIME".into(),
                "AUTH LOGIN PLAIN CRAM-MD5".into(),
            ],
        );
        assert_eq!(
            advertised_auth(&reply).as_deref(),
            Some("LOGIN PLAIN CRAM-MD5")
        );
        let bare = Response::new(code, vec!["mail.example.org".into(), "AUTH".into()]);
        assert_eq!(advertised_auth(&bare).as_deref(), Some(""));
        let none = Response::new(code, vec!["mail.example.org".into(), "STARTTLS".into()]);
        assert_eq!(advertised_auth(&none), None);
    }
}
