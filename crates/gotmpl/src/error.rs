//! Errors, worded as Go's `text/template` words them so users see familiar messages.

/// A template failed to parse: `template: name:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template: {template}:{line}: {message}")]
pub struct ParseError {
    /// Name of the template whose source was being parsed.
    pub template: String,
    pub line: usize,
    pub message: String,
}

/// A template failed while executing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// Failure at a node: `template: name:1:3: executing "name" at <.Foo>: message`.
    #[error("template: {location}: executing \"{template}\" at <{context}>: {message}")]
    At {
        /// `source-name:line:column`.
        location: String,
        /// The template being executed.
        template: String,
        /// The failing node, as source text.
        context: String,
        message: String,
    },
    #[error("template: no template \"{name}\" associated with template \"{set}\"")]
    NoTemplate { name: String, set: String },
    #[error("template: {name}: \"{name}\" is an incomplete or empty template")]
    Incomplete { name: String },
}
