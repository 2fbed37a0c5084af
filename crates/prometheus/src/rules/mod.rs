//! Recording and alerting rules.

pub mod rulefmt;
