//! Notification templates: the built-in definitions plus the config's `templates:` files,
//! in a text set and an HTML set (upstream keeps both, for plain fields and HTML email), and
//! upstream's rendering of a templated config field (`tmplText`/`tmplHTML`).

mod funcs;
mod model;
#[cfg(test)]
mod tests;
mod time;

use std::path::PathBuf;

use pm_common::template::TitleRest;
use pm_gotmpl::{ExecError, FuncMap, MissingKey, ParseError, Template, Value};

pub use funcs::go_html_safe;
pub use model::data_value;

/// Our definitions of the template names upstream ships.
const DEFAULT_TMPL: &str = include_str!("default.tmpl");
const EMAIL_TMPL: &str = include_str!("email.tmpl");

/// Why templates did not load or a field did not render.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("invalid template glob {pattern:?}: {message}")]
    Glob { pattern: String, message: String },
    #[error("read template {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Parse(#[from] ParseError),
    #[error("{0}")]
    Exec(#[from] ExecError),
}

/// The loaded template sets.
#[derive(Clone, Debug)]
pub struct Templates {
    text: Template,
    html: Template,
}

/// Every function notification templates may call.
fn functions() -> FuncMap {
    let mut map = FuncMap::default();
    pm_common::template::register_shared(&mut map);
    pm_common::template::register_title(&mut map, TitleRest::Lower);
    funcs::register(&mut map);
    map
}

fn new_set(html: bool) -> Template {
    let mut t = if html {
        Template::new_html("")
    } else {
        Template::new("")
    };
    *t.funcs_mut() = functions();
    t.missing_key(MissingKey::Zero);
    t
}

impl Templates {
    /// The built-in templates only.
    pub fn builtin() -> Templates {
        Templates::load(&[]).expect("the built-in templates parse")
    }

    /// The built-in templates, then every file the globs match, in order (a later
    /// definition of a name replaces an earlier one, so users can override the defaults).
    pub fn load(globs: &[String]) -> Result<Templates, TemplateError> {
        let mut sources = vec![
            ("default.tmpl".to_owned(), DEFAULT_TMPL.to_owned()),
            ("email.tmpl".to_owned(), EMAIL_TMPL.to_owned()),
        ];
        for pattern in globs {
            let files = pm_common::glob::glob(pattern).map_err(|e| TemplateError::Glob {
                pattern: pattern.clone(),
                message: e.to_string(),
            })?;
            for path in files.into_iter().map(std::path::PathBuf::from) {
                let text =
                    std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                        path: path.clone(),
                        source,
                    })?;
                let name = path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                sources.push((name, text));
            }
        }
        let (mut text, mut html) = (new_set(false), new_set(true));
        for (name, source) in &sources {
            text.parse_named(name, source)?;
            html.parse_named(name, source)?;
        }
        Ok(Templates { text, html })
    }

    /// Renders a config field as plain text; an empty field stays empty.
    pub fn text(&self, field: &str, data: &Value) -> Result<String, TemplateError> {
        Self::render(&self.text, field, data)
    }

    /// Renders a config field with HTML escaping (the email `html` body).
    pub fn html(&self, field: &str, data: &Value) -> Result<String, TemplateError> {
        Self::render(&self.html, field, data)
    }

    fn render(set: &Template, field: &str, data: &Value) -> Result<String, TemplateError> {
        if field.is_empty() {
            return Ok(String::new());
        }
        // Plain text renders as itself (in the HTML set too, unless it holds a comment).
        if !field.contains("{{") && !field.contains("<!--") {
            return Ok(field.to_owned());
        }
        let mut set = set.clone();
        set.parse_named("", field)?;
        Ok(set.execute("", data)?)
    }
}

/// Renders several fields of one notification, keeping the first error, like upstream's
/// `tmplText` closures: the integration checks [`Expander::finish`] before sending.
pub struct Expander<'a> {
    templates: &'a Templates,
    data: Value,
    error: Option<TemplateError>,
}

impl<'a> Expander<'a> {
    pub fn new(templates: &'a Templates, data: Value) -> Self {
        Expander {
            templates,
            data,
            error: None,
        }
    }

    pub fn text(&mut self, field: &str) -> String {
        self.run(field, false)
    }

    pub fn html(&mut self, field: &str) -> String {
        self.run(field, true)
    }

    fn run(&mut self, field: &str, html: bool) -> String {
        if self.error.is_some() {
            return String::new();
        }
        let rendered = if html {
            self.templates.html(field, &self.data)
        } else {
            self.templates.text(field, &self.data)
        };
        rendered.unwrap_or_else(|err| {
            self.error = Some(err);
            String::new()
        })
    }

    /// The first error, if any field failed.
    pub fn finish(self) -> Result<(), TemplateError> {
        self.error.map_or(Ok(()), Err)
    }
}
