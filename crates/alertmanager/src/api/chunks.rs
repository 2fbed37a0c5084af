//! An answer made of shared parts, sent part by part: the groups answer is mostly groups'
//! kept encodings, and copying them into one 44 MB buffer per answer (with the page faults
//! of a fresh allocation that size) cost more than encoding what changed.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};

/// The parts of one answer, in order.
#[derive(Clone, Debug, Default)]
pub struct Chunks {
    parts: Arc<[Bytes]>,
    len: u64,
}

impl Chunks {
    pub fn new(parts: Vec<Bytes>) -> Self {
        let len = parts.iter().map(|p| p.len() as u64).sum();
        Chunks {
            parts: parts.into(),
            len,
        }
    }

    /// The answer's size in bytes.
    pub fn len(&self) -> usize {
        usize::try_from(self.len).unwrap_or(usize::MAX)
    }

    /// The answer in one buffer.
    #[cfg(test)]
    pub fn to_vec(&self) -> Vec<u8> {
        self.parts.iter().flat_map(|p| p.iter().copied()).collect()
    }

    /// A response body sending the parts one after another, its length known up front.
    pub fn body(&self) -> ChunksBody {
        ChunksBody {
            chunks: self.clone(),
            next: 0,
            remaining: self.len,
        }
    }
}

#[derive(Debug)]
pub struct ChunksBody {
    chunks: Chunks,
    next: usize,
    remaining: u64,
}

impl Body for ChunksBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        loop {
            let Some(part) = this.chunks.parts.get(this.next) else {
                return Poll::Ready(None);
            };
            this.next += 1;
            if !part.is_empty() {
                this.remaining -= part.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(part.clone()))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}
