//! An in-process server in place of the socket (the lab's simulator): the client builds the
//! same request bytes and reads the same reply bytes through the same parsers, without
//! loopback TCP (which caps a lab at the ports the kernel can recycle).

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use reqwest::header::HeaderMap;

/// A request as it would go over the wire.
pub struct LocalRequest {
    /// `/v1/chat/completions?…`: the URL's path and query (the host is the socket's job).
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A reply: status and headers, then the body as it is produced.
pub struct LocalReply {
    pub status: u16,
    pub headers: HeaderMap,
    /// Body chunks; an `Err` is the connection breaking, in the words a socket would use.
    pub body: BoxStream<'static, Result<Bytes, String>>,
}

/// A server reached without a socket. `Err` = no reply at all (the connection was reset),
/// with the cause in the words a socket would use.
pub trait LocalServer: Send + Sync {
    fn exchange(&self, req: LocalRequest) -> BoxFuture<'static, Result<LocalReply, String>>;
}

/// A reply being read, from a socket or from a [`LocalServer`].
pub(super) enum Reply {
    Http(reqwest::Response),
    Local(LocalReply),
}

impl Reply {
    pub(super) fn status(&self) -> u16 {
        match self {
            Reply::Http(r) => r.status().as_u16(),
            Reply::Local(r) => r.status,
        }
    }

    pub(super) fn headers(&self) -> &HeaderMap {
        match self {
            Reply::Http(r) => r.headers(),
            Reply::Local(r) => &r.headers,
        }
    }

    /// The next body chunk, `None` at its end; `Err` names the innermost cause.
    pub(super) async fn chunk(&mut self) -> Result<Option<Bytes>, String> {
        match self {
            Reply::Http(r) => r
                .chunk()
                .await
                .map_err(|e| super::transport::root_cause(&e)),
            Reply::Local(r) => r.body.next().await.transpose(),
        }
    }
}
