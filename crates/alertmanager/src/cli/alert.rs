//! `amtool alert [query]` and `amtool alert add`.

use clap::{Args, Subcommand};

use super::wire::{LabelSet, PostableAlert};
use super::{Session, alertname_first, parse_rfc3339};
use crate::api::model::format_time;
use crate::labels::{MatchType, parse_matcher};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AlertArgs {
    #[command(subcommand)]
    command: Option<AlertCommand>,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Subcommand)]
enum AlertCommand {
    /// View and search through current alerts (the default).
    Query(QueryArgs),
    /// Add a new alert.
    Add(AddArgs),
}

#[derive(Debug, Args)]
struct QueryArgs {
    /// Show inhibited alerts.
    #[arg(short, long)]
    inhibited: bool,
    /// Show silenced alerts.
    #[arg(short, long)]
    silenced: bool,
    /// Show active alerts.
    #[arg(short, long)]
    active: bool,
    /// Show unprocessed alerts.
    #[arg(short, long)]
    unprocessed: bool,
    /// Show alerts matching receiver (supports regex syntax).
    #[arg(short, long, default_value = "")]
    receiver: String,
    /// Query filter; a bare first word is the alert name.
    #[arg(value_name = "matcher-groups")]
    matchers: Vec<String>,
}

#[derive(Debug, Args)]
struct AddArgs {
    /// Labels of the alert; a bare first word is the alert name.
    labels: Vec<String>,
    /// Set the URL of the source that generated the alert.
    #[arg(long = "generator-url", default_value = "")]
    generator_url: String,
    /// When the alert starts (RFC 3339).
    #[arg(long)]
    start: Option<String>,
    /// When the alert ends (RFC 3339).
    #[arg(long)]
    end: Option<String>,
    /// An annotation, as name=value (repeatable).
    #[arg(long = "annotation")]
    annotations: Vec<String>,
}

pub(super) async fn run(session: &mut Session, args: AlertArgs) -> Result<(), String> {
    match args.command {
        None => query(session, args.query).await,
        Some(AlertCommand::Query(q)) => query(session, q).await,
        Some(AlertCommand::Add(a)) => add(session, a).await,
    }
}

async fn query(session: &mut Session, q: QueryArgs) -> Result<(), String> {
    let filter = alertname_first(q.matchers, |m| parse_matcher(m).is_ok());
    // No state flag means active alerts only.
    let active = q.active || !(q.silenced || q.inhibited || q.unprocessed);
    let mut params: Vec<(&str, String)> = vec![
        ("active", active.to_string()),
        ("inhibited", q.inhibited.to_string()),
        ("silenced", q.silenced.to_string()),
        ("unprocessed", q.unprocessed.to_string()),
    ];
    if !q.receiver.is_empty() {
        params.push(("receiver", q.receiver));
    }
    params.extend(filter.into_iter().map(|f| ("filter", f)));
    let mut alerts = session
        .client
        .alerts(&params)
        .await
        .map_err(|e| e.to_string())?;
    session.out.push_str(&session.format.alerts(&mut alerts));
    Ok(())
}

/// `name=value` pairs (upstream's `parseLabels`): any other operator is refused.
pub(super) fn parse_labels(args: &[String]) -> Result<LabelSet, String> {
    let mut set = LabelSet::new();
    for arg in args {
        let m = parse_matcher(arg).map_err(|e| e.to_string())?;
        if m.match_type() != MatchType::Equal {
            return Err("labels must be specified as key=value pairs".into());
        }
        set.insert(m.name().to_owned(), m.value().to_owned());
    }
    Ok(set)
}

async fn add(session: &mut Session, a: AddArgs) -> Result<(), String> {
    let labels = parse_labels(&alertname_first(a.labels, |l| {
        parse_labels(&[l.to_owned()]).is_ok()
    }))?;
    let annotations = parse_labels(&a.annotations)?;
    let time = |t: &Option<String>| -> Result<Option<String>, String> {
        t.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| parse_rfc3339(s).map(format_time))
            .transpose()
    };
    let alert = PostableAlert {
        annotations,
        ends_at: time(&a.end)?,
        starts_at: time(&a.start)?,
        generator_url: a.generator_url,
        labels,
    };
    session
        .client
        .post_alerts(&[alert])
        .await
        .map_err(|e| e.to_string())
}
