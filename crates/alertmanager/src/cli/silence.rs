//! `amtool silence [query]`, `add`, `expire`, `update` and `import`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use clap::{Args, Subcommand};
use jiff::{SignedDuration, Timestamp};

use super::client::{Client, ClientError};
use super::wire::{GettableSilence, PostableSilence, Silence, SilenceMatcher};
use super::{Session, alertname_first, parse_rfc3339};
use crate::api::model::format_time;
use crate::labels::parse_matcher;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SilenceArgs {
    #[command(subcommand)]
    command: Option<SilenceCommand>,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Subcommand)]
enum SilenceCommand {
    /// Add a new alertmanager silence.
    Add(AddArgs),
    /// Expire alertmanager silences.
    Expire {
        /// IDs of silences to expire.
        #[arg(value_name = "silence-ids")]
        ids: Vec<String>,
    },
    /// Import silences from a JSON file (as `query -o json` writes) or standard input.
    Import(ImportArgs),
    /// Query Alertmanager silences (the default).
    Query(QueryArgs),
    /// Update silences.
    Update(UpdateArgs),
}

#[derive(Debug, Args)]
struct AddArgs {
    /// Username for the CreatedBy field (default: the current user).
    #[arg(short, long)]
    author: Option<String>,
    /// Require a comment to be set.
    #[arg(long = "require-comment", hide = true, default_value = "true", action = clap::ArgAction::Set)]
    require_comment: bool,
    /// Duration of the silence.
    #[arg(short, long, default_value = "1h")]
    duration: String,
    /// When the silence starts (RFC 3339).
    #[arg(long)]
    start: Option<String>,
    /// When the silence ends (RFC 3339; overrides --duration).
    #[arg(long)]
    end: Option<String>,
    /// A comment to help describe the silence.
    #[arg(short, long, default_value = "")]
    comment: String,
    /// Matchers; a bare first word is the alert name.
    #[arg(value_name = "matcher-groups")]
    matchers: Vec<String>,
}

#[derive(Debug, Args)]
struct QueryArgs {
    /// Show expired silences instead of active.
    #[arg(long)]
    expired: bool,
    /// Only show silence IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Show silences that belong to this creator.
    #[arg(long = "created-by", default_value = "")]
    created_by: String,
    /// Show silences that will expire or have expired within a duration.
    #[arg(long, value_parser = super::go_duration)]
    within: Option<std::time::Duration>,
    /// Query filter; a bare first word is the alert name.
    #[arg(value_name = "matcher-groups")]
    matchers: Vec<String>,
}

#[derive(Debug, Args)]
struct UpdateArgs {
    /// Only show silence IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Duration of the silence, from its start.
    #[arg(short, long)]
    duration: Option<String>,
    /// When the silence starts (RFC 3339).
    #[arg(long)]
    start: Option<String>,
    /// When the silence ends (RFC 3339; overrides --duration).
    #[arg(long)]
    end: Option<String>,
    /// A new comment.
    #[arg(short, long)]
    comment: Option<String>,
    /// IDs of the silences to update.
    #[arg(value_name = "update-ids")]
    ids: Vec<String>,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// Create new silences even when one with the ID exists.
    #[arg(short, long)]
    force: bool,
    /// Number of concurrent requests.
    #[arg(short, long = "worker", default_value_t = 8)]
    workers: usize,
    /// JSON file with silences (standard input when absent).
    #[arg(value_name = "input-file")]
    file: Option<String>,
}

pub(super) async fn run(session: &mut Session, args: SilenceArgs) -> Result<(), String> {
    match args.command {
        None => query(session, args.query).await,
        Some(SilenceCommand::Query(q)) => query(session, q).await,
        Some(SilenceCommand::Add(a)) => add(session, a).await,
        Some(SilenceCommand::Expire { ids }) => expire(session, ids).await,
        Some(SilenceCommand::Update(u)) => update(session, u).await,
        Some(SilenceCommand::Import(i)) => import(session, i).await,
    }
}

/// API matchers from command-line matchers.
fn parse_matchers(args: &[String]) -> Result<Vec<SilenceMatcher>, String> {
    args.iter()
        .map(|arg| {
            let m = parse_matcher(arg).map_err(|e| e.to_string())?;
            Ok(SilenceMatcher {
                is_equal: Some(m.match_type().is_equal()),
                is_regex: m.match_type().is_regex(),
                name: m.name().to_owned(),
                value: m.value().to_owned(),
            })
        })
        .collect()
}

/// A Prometheus duration (`1h`, `2d`); zero is refused.
fn silence_duration(text: &str) -> Result<SignedDuration, String> {
    let d = pm_common::config::Duration::parse(text).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("silence duration must be greater than 0".into());
    }
    SignedDuration::try_from(d.as_std()).map_err(|e| e.to_string())
}

fn add_duration(t: Timestamp, d: SignedDuration) -> Result<Timestamp, String> {
    t.checked_add(d).map_err(|e| e.to_string())
}

/// The user running amtool, as Go's `user.Current` finds it: the password database entry of
/// our uid, else `$USER`.
fn username() -> String {
    use std::os::unix::fs::MetadataExt as _;
    let from_passwd = std::fs::metadata("/proc/self").ok().and_then(|meta| {
        let uid = meta.uid().to_string();
        let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
        passwd.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            (fields.nth(1)? == uid).then(|| name.to_owned())
        })
    });
    from_passwd
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_default()
}

async fn add(session: &mut Session, a: AddArgs) -> Result<(), String> {
    let args = alertname_first(a.matchers, |m| parse_matcher(m).is_ok());
    let matchers = parse_matchers(&args)?;
    if matchers.is_empty() {
        return Err("no matchers specified".into());
    }
    let starts_at = match a.start.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_rfc3339(s)?,
        None => Timestamp::now(),
    };
    let ends_at = match a.end.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_rfc3339(s)?,
        None => add_duration(starts_at, silence_duration(&a.duration)?)?,
    };
    if starts_at > ends_at {
        return Err("silence cannot start after it ends".into());
    }
    if a.require_comment && a.comment.is_empty() {
        return Err("comment required by config".into());
    }
    let silence = PostableSilence {
        id: String::new(),
        silence: Silence {
            comment: a.comment,
            created_by: a.author.unwrap_or_else(username),
            ends_at: format_time(ends_at),
            matchers,
            starts_at: format_time(starts_at),
        },
    };
    let id = session
        .client
        .post_silence(&silence)
        .await
        .map_err(|e| e.to_string())?;
    session.out.push_str(&id);
    session.out.push('\n');
    Ok(())
}

fn ends_at(s: &GettableSilence) -> Timestamp {
    s.silence.ends_at.parse().unwrap_or(Timestamp::MIN)
}

async fn query(session: &mut Session, q: QueryArgs) -> Result<(), String> {
    let filter = alertname_first(q.matchers, |m| parse_matcher(m).is_ok());
    let silences = session
        .client
        .silences(&filter)
        .await
        .map_err(|e| e.to_string())?;
    let now = Timestamp::now();
    let within = q
        .within
        .filter(|d| !d.is_zero())
        .and_then(|d| SignedDuration::try_from(d).ok());
    let mut shown: Vec<GettableSilence> = silences
        .into_iter()
        .filter(|s| {
            let end = ends_at(s);
            let in_window = match within {
                None => true,
                Some(w) if q.expired => now.checked_sub(w).is_ok_and(|from| end >= from),
                Some(w) => now.checked_add(w).is_ok_and(|until| end <= until),
            };
            let state_ok = if q.expired { end <= now } else { end >= now };
            state_ok
                && in_window
                && (q.created_by.is_empty() || s.silence.created_by == q.created_by)
        })
        .collect();
    if q.quiet {
        for s in &shown {
            session.out.push_str(&s.id);
            session.out.push('\n');
        }
    } else {
        session.out.push_str(&session.format.silences(&mut shown));
    }
    Ok(())
}

async fn expire(session: &mut Session, ids: Vec<String>) -> Result<(), String> {
    if ids.is_empty() {
        return Err("no silence IDs specified".into());
    }
    for id in &ids {
        session
            .client
            .expire_silence(id)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn update(session: &mut Session, u: UpdateArgs) -> Result<(), String> {
    if u.ids.is_empty() {
        return Err("no silence IDs specified".into());
    }
    let mut updated = Vec::with_capacity(u.ids.len());
    for id in &u.ids {
        let mut s = session
            .client
            .silence(id)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(start) = u.start.as_deref().filter(|t| !t.is_empty()) {
            s.silence.starts_at = format_time(parse_rfc3339(start)?);
        }
        let starts_at: Timestamp = s.silence.starts_at.parse().map_err(|e| format!("{e}"))?;
        if let Some(end) = u.end.as_deref().filter(|t| !t.is_empty()) {
            s.silence.ends_at = format_time(parse_rfc3339(end)?);
        } else if let Some(d) = u.duration.as_deref().filter(|t| !t.is_empty()) {
            s.silence.ends_at = format_time(add_duration(starts_at, silence_duration(d)?)?);
        }
        if starts_at > ends_at(&s) {
            return Err("silence cannot start after it ends".into());
        }
        if let Some(comment) = u.comment.as_ref().filter(|c| !c.is_empty()) {
            s.silence.comment.clone_from(comment);
        }
        let GettableSilence {
            id,
            status,
            updated_at,
            silence,
        } = s;
        let posted = PostableSilence { id, silence };
        let id = session
            .client
            .post_silence(&posted)
            .await
            .map_err(|e| e.to_string())?;
        updated.push(GettableSilence {
            id,
            status,
            updated_at,
            silence: posted.silence,
        });
    }
    if u.quiet {
        for s in &updated {
            session.out.push_str(&s.id);
            session.out.push('\n');
        }
    } else {
        session.out.push_str(&session.format.silences(&mut updated));
    }
    Ok(())
}

/// Posts one imported silence; an ID the server does not know is created afresh.
async fn import_one(client: &Client, mut silence: PostableSilence) -> Result<String, ClientError> {
    match client.post_silence(&silence).await {
        Err(ClientError::Api { code: 404, .. }) => {
            silence.id.clear();
            client.post_silence(&silence).await
        }
        other => other,
    }
}

async fn import(session: &mut Session, i: ImportArgs) -> Result<(), String> {
    let text = match &i.file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("open {path}: {e}"))?,
        None => std::io::read_to_string(std::io::stdin()).map_err(|e| e.to_string())?,
    };
    let mut silences: Vec<PostableSilence> = serde_json::from_str(&text)
        .map_err(|e| format!("couldn't unmarshal input data, is it JSON?: {e}"))?;
    if i.force {
        for s in &mut silences {
            s.id.clear();
        }
    }
    let count = silences.len();
    let queue = Arc::new(Mutex::new(silences.into_iter().collect::<VecDeque<_>>()));
    let results = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..i.workers.clamp(1, count.max(1)) {
        let (client, queue, results) = (session.client.clone(), queue.clone(), results.clone());
        workers.spawn(async move {
            loop {
                let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
                let Some(silence) = next else { break };
                let id = silence.id.clone();
                let result = import_one(&client, silence).await;
                if let Ok(mut r) = results.lock() {
                    r.push((id, result));
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let results = std::mem::take(&mut *results.lock().map_err(|e| e.to_string())?);
    let mut failed = 0;
    for (id, result) in results {
        match result {
            Ok(new_id) => {
                session.out.push_str(&new_id);
                session.out.push('\n');
            }
            Err(e) => {
                failed += 1;
                session
                    .err
                    .push_str(&format!("Error adding silence id='{id}': {e}\n"));
            }
        }
    }
    if failed > 0 {
        return Err(format!("couldn't import {failed} out of {count} silences"));
    }
    Ok(())
}
