//! Storage traits (work in progress).
