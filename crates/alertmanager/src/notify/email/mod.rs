//! The email integration: one message per notification through the smarthost, with
//! upstream's headers (templated `Subject`, `To`, `From` by default, plus any configured),
//! text and HTML bodies as `multipart/alternative`. The SMTP conversation (TLS, authentication)
//! is in `smtp`.

use std::sync::Arc;

use lettre::message::header::{self, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Certificate, Identity, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, Message};
use pm_common::config::http::TlsConfig;

mod auth;
mod smtp;

use super::NotifyError;
use super::stage::Job;
use crate::alert::Alert;
use crate::config::receivers::EmailConfig;
use crate::template::{Expander, Templates, data_value};

const DEFAULT_SUBJECT: &str = r#"{{ template "email.default.subject" . }}"#;

#[derive(Debug)]
pub struct Email {
    cfg: EmailConfig,
    templates: Arc<Templates>,
}

fn read_pem(inline: &str, file: &str, what: &str) -> Result<Option<Vec<u8>>, NotifyError> {
    if !inline.is_empty() {
        return Ok(Some(inline.as_bytes().to_vec()));
    }
    if file.is_empty() {
        return Ok(None);
    }
    std::fs::read(file)
        .map(Some)
        .map_err(|e| NotifyError::other(format!("read {what} {file}: {e}")))
}

fn tls_parameters(tls: &TlsConfig, host: &str) -> Result<TlsParameters, NotifyError> {
    let fail = |e: lettre::transport::smtp::Error| NotifyError::other(format!("TLS config: {e}"));
    let name = if tls.server_name.is_empty() {
        host.to_owned()
    } else {
        tls.server_name.clone()
    };
    let mut builder =
        TlsParameters::builder(name).dangerous_accept_invalid_certs(tls.insecure_skip_verify);
    if let Some(ca) = read_pem(&tls.ca, &tls.ca_file, "CA file")? {
        builder = builder.add_root_certificate(Certificate::from_pem(&ca).map_err(fail)?);
    }
    let cert = read_pem(&tls.cert, &tls.cert_file, "certificate")?;
    let key = read_pem(tls.key.expose(), &tls.key_file, "key")?;
    if let (Some(cert), Some(key)) = (cert, key) {
        builder = builder.identify_with(Identity::from_pem(&cert, &key).map_err(fail)?);
    }
    builder.build_rustls().map_err(fail)
}

fn mailboxes(field: &str, value: &str) -> Result<Mailboxes, NotifyError> {
    value
        .parse::<Mailboxes>()
        .map_err(|e| NotifyError::other(format!("parse '{field}' addresses: {e}")))
}

impl Email {
    pub fn new(cfg: &EmailConfig, templates: Arc<Templates>) -> Self {
        Email {
            cfg: cfg.clone(),
            templates,
        }
    }

    /// The configured headers with upstream's defaults for `Subject`, `To` and `From`.
    fn headers(&self) -> Vec<(&str, &str)> {
        let c = &self.cfg;
        let mut headers: Vec<(&str, &str)> = c
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for (name, default) in [
            ("Subject", DEFAULT_SUBJECT),
            ("To", c.to.as_str()),
            ("From", c.from.as_str()),
        ] {
            if !c.headers.contains_key(name) {
                headers.push((name, default));
            }
        }
        headers
    }

    fn render(&self, job: &Job, alerts: &[Arc<Alert>]) -> Result<Message, NotifyError> {
        let c = &self.cfg;
        let mut t = Expander::new(&self.templates, data_value(&job.data(alerts)));
        let envelope_from = t.text(&c.from);
        let envelope_to = t.text(&c.to);
        let headers: Vec<(&str, String)> = self
            .headers()
            .into_iter()
            .map(|(k, v)| (k, t.text(v)))
            .collect();
        let text = t.text(&c.text);
        let html = t.html(&c.html);
        t.finish()
            .map_err(|e| NotifyError::other(format!("execute template: {e}")))?;

        let from = mailboxes("from", &envelope_from)?
            .into_single()
            .ok_or_else(|| NotifyError::other("parse 'from' addresses: not a single address"))?
            .email;
        let to: Vec<Address> = mailboxes("to", &envelope_to)?
            .into_iter()
            .map(|m: Mailbox| m.email)
            .collect();
        // The envelope comes from the `from` and `to` fields, the headers may differ.
        let envelope = lettre::address::Envelope::new(Some(from), to)
            .map_err(|e| NotifyError::other(format!("envelope: {e}")))?;
        let mut builder = Message::builder().message_id(None).envelope(envelope);
        let mut raw = Vec::new();
        for (name, value) in headers {
            match name {
                "From" => builder = builder.mailbox(header::From::from(mailboxes("from", &value)?)),
                "To" => builder = builder.mailbox(header::To::from(mailboxes("to", &value)?)),
                _ => raw.push((name, value)),
            }
        }
        let mut body = MultiPart::alternative().build();
        if !text.is_empty() {
            body = body.singlepart(SinglePart::plain(text));
        }
        if !html.is_empty() {
            body = body.singlepart(SinglePart::html(html));
        }
        let mut message = builder
            .multipart(body)
            .map_err(|e| NotifyError::other(format!("build message: {e}")))?;
        for (name, value) in raw {
            let name = HeaderName::new_from_ascii(name.to_owned())
                .map_err(|e| NotifyError::other(format!("header {name:?}: {e}")))?;
            message
                .headers_mut()
                .insert_raw(HeaderValue::new(name, value));
        }
        Ok(message)
    }

    /// Where and how to connect: implicit TLS when forced, else by upstream's rule (port
    /// 465); STARTTLS unless `require_tls: false`.
    fn route(&self) -> Result<smtp::Route, NotifyError> {
        let c = &self.cfg;
        let host = c.smarthost.host.clone();
        let port: u16 = c.smarthost.port.parse().map_err(|_| {
            NotifyError::other(format!("invalid smarthost port {:?}", c.smarthost.port))
        })?;
        let tls_config = c.tls_config.clone().unwrap_or_default();
        let tls =
            tls_parameters(&tls_config, &host).map_err(|e| e.context("parse TLS configuration"))?;
        let hello = if c.hello.is_empty() {
            "localhost"
        } else {
            c.hello.as_str()
        };
        Ok(smtp::Route {
            implicit_tls: c.force_implicit_tls.unwrap_or(c.smarthost.port == "465"),
            require_tls: c.require_tls.unwrap_or(true),
            hello: ClientId::Domain(hello.to_owned()),
            host,
            port,
            tls,
        })
    }

    /// Sends the message. As upstream, failures past the configuration and the templates
    /// may be retried.
    pub async fn notify(&self, job: &Job, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let message = self.render(job, alerts)?;
        let route = self.route()?;
        let c = &self.cfg;
        let creds = auth::Credentials {
            username: &c.auth_username,
            identity: &c.auth_identity,
            password: auth::Secret {
                inline: c.auth_password.expose(),
                file: &c.auth_password_file,
            },
            secret: auth::Secret {
                inline: c.auth_secret.expose(),
                file: &c.auth_secret_file,
            },
        };
        smtp::deliver(route, &creds, message.envelope(), &message.formatted()).await
    }
}
