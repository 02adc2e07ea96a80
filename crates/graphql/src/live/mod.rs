//! Live subscriptions: the hub that fans committed events out to websocket connections, and
//! the `Subscription` root that turns them into API.md's payloads.

mod access;
mod hub;
mod published;
mod subscription;

use std::sync::Arc;

pub use hub::{ConnectionQueue, Hub, LiveStats};
pub(crate) use subscription::SubscriptionRoot;

use crate::loaders::Loaders;
use crate::{RequestInfo, Services, Viewer};

/// What one websocket connection carries for its subscriptions.
pub(crate) struct LiveConnection {
    queue: Arc<ConnectionQueue>,
    /// The hash of the session token the connection authenticated with, to re-check it.
    token_hash: Option<[u8; 32]>,
    loaders: Arc<Loaders>,
}

/// The context data of one websocket connection: its viewer, the hash of the session token
/// it authenticated with (`None` for anonymous), its queue in the hub, and what is known of the
/// client (operations other than subscriptions may run over the socket too).
pub fn connection_data(
    services: &Services,
    viewer: Viewer,
    token_hash: Option<[u8; 32]>,
    queue: Arc<ConnectionQueue>,
    info: RequestInfo,
) -> async_graphql::Data {
    let loaders = Arc::new(Loaders::new(services, &viewer));
    let mut data = async_graphql::Data::default();
    data.insert(LiveConnection {
        queue,
        token_hash,
        loaders: loaders.clone(),
    });
    data.insert(loaders);
    data.insert(viewer);
    data.insert(info);
    data
}
