//! Go's `text/template` language (work in progress).
