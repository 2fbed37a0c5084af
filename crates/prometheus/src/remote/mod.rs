//! Remote storage: the remote-write receiver and sender, and the remote-read server and client,
//! speaking upstream's protocols (protobuf over HTTP, snappy block compression).
//!
//! - [`prompb`], [`writev2`]: the wire messages (remote write 1.0 and 2.0, remote read);
//! - [`codec`]: headers, compression, framing and conversions to the model;
//! - [`receiver`] and [`read_server`]: `POST /api/v1/write` and `POST /api/v1/read`;
//! - [`http`]: their axum handlers;
//! - [`queue`], [`write_storage`]: the sender, one queue per `remote_write` tailing the WAL;
//! - [`client`]: the HTTP client both the sender and remote read use;
//! - [`read_client`]: a `remote_read` endpoint as a `Queryable`;
//! - [`read_storage`]: the local TSDB merged with the `remote_read` endpoints for queries.

pub mod client;
pub mod codec;
pub mod http;
pub mod prompb;
pub mod queue;
pub mod read_client;
pub mod read_server;
pub mod read_storage;
pub mod receiver;
pub mod write_storage;
pub mod writev2;
