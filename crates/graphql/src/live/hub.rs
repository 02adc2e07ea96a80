//! The hub: one per process. Subscriptions register under topics; each committed event is
//! handed, as one shared value, to the subscriptions of its topics, through a bounded queue per
//! websocket connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use convene_domain::ports::EventSink;
use convene_domain::{Event, Topic};
use tokio::sync::{Notify, mpsc};

use super::published::Published;

/// What a subscription receives.
#[derive(Clone)]
pub(crate) enum Delivery {
    Event(Arc<Published>),
    /// Events may have been missed: re-check access and catch up from the database.
    Resync,
}

struct Listener {
    tx: mpsc::UnboundedSender<Delivery>,
    queue: Arc<ConnectionQueue>,
    topics: Vec<Topic>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    listeners: HashMap<u64, Arc<Listener>>,
    by_topic: HashMap<Topic, HashMap<u64, Arc<Listener>>>,
}

/// Counters for `/metrics`.
#[derive(Default)]
struct Stats {
    connections: AtomicU64,
    subscriptions: AtomicU64,
    published: AtomicU64,
    delivered: AtomicU64,
    overflows: AtomicU64,
    queued: AtomicU64,
}

/// A snapshot of the hub's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Open websocket connections.
    pub connections: u64,
    /// Live subscriptions.
    pub subscriptions: u64,
    /// Committed events the hub received.
    pub published: u64,
    /// Events queued for a subscription (one event heard by ten subscriptions counts ten).
    pub delivered: u64,
    /// Connections closed because their queue was full.
    pub overflows: u64,
    /// Events waiting in queues now.
    pub queued: u64,
}

#[derive(Default)]
pub struct Hub {
    registry: Mutex<Registry>,
    stats: Arc<Stats>,
}

impl Hub {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// The queue of one websocket connection: at most `capacity` events wait in it, and at most
    /// `max_subscriptions` subscriptions share it.
    pub fn connection_queue(
        &self,
        capacity: usize,
        max_subscriptions: usize,
    ) -> Arc<ConnectionQueue> {
        self.stats.connections.fetch_add(1, Ordering::Relaxed);
        Arc::new(ConnectionQueue {
            capacity,
            max_subscriptions,
            subscriptions: AtomicUsize::new(0),
            pending: AtomicUsize::new(0),
            overflowed: AtomicBool::new(false),
            notify: Notify::new(),
            stats: self.stats.clone(),
        })
    }

    pub fn stats(&self) -> LiveStats {
        let s = &self.stats;
        LiveStats {
            connections: s.connections.load(Ordering::Relaxed),
            subscriptions: s.subscriptions.load(Ordering::Relaxed),
            published: s.published.load(Ordering::Relaxed),
            delivered: s.delivered.load(Ordering::Relaxed),
            overflows: s.overflows.load(Ordering::Relaxed),
            queued: s.queued.load(Ordering::Relaxed),
        }
    }

    /// Registers interest in `topics`. Registration comes before any read of the database,
    /// so that nothing committed afterwards can be missed.
    pub(crate) fn listen(
        self: &Arc<Self>,
        topics: Vec<Topic>,
        queue: Arc<ConnectionQueue>,
    ) -> Listening {
        let (tx, rx) = mpsc::unbounded_channel();
        let listener = Arc::new(Listener {
            tx,
            queue: queue.clone(),
            topics,
        });
        let mut registry = self.lock();
        registry.next_id += 1;
        let id = registry.next_id;
        for topic in &listener.topics {
            registry
                .by_topic
                .entry(*topic)
                .or_default()
                .insert(id, listener.clone());
        }
        registry.listeners.insert(id, listener);
        self.stats.subscriptions.fetch_add(1, Ordering::Relaxed);
        Listening {
            id,
            rx,
            queue,
            hub: self.clone(),
        }
    }

    fn unlisten(&self, id: u64) {
        let mut registry = self.lock();
        let Some(listener) = registry.listeners.remove(&id) else {
            return;
        };
        for topic in &listener.topics {
            if let Some(listeners) = registry.by_topic.get_mut(topic) {
                listeners.remove(&id);
                if listeners.is_empty() {
                    registry.by_topic.remove(topic);
                }
            }
        }
        self.stats.subscriptions.fetch_sub(1, Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // The registry stays consistent even if a holder panicked: every update is one insert
        // or remove.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn deliver(&self, listener: &Listener, delivery: Delivery) {
        if listener.queue.reserve() {
            if listener.tx.send(delivery).is_ok() {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
            } else {
                listener.queue.release();
            }
        }
    }
}

impl EventSink for Hub {
    fn publish(&self, event: Event) {
        self.stats.published.fetch_add(1, Ordering::Relaxed);
        let published = Arc::new(Published::new(event));
        let registry = self.lock();
        let mut earlier: Option<&HashMap<u64, Arc<Listener>>> = None;
        for topic in event.topics().iter() {
            let Some(listeners) = registry.by_topic.get(&topic) else {
                continue;
            };
            for (id, listener) in listeners {
                // A subscription filed under both topics of an event hears it once.
                if earlier.is_some_and(|earlier| earlier.contains_key(id)) {
                    continue;
                }
                self.deliver(listener, Delivery::Event(published.clone()));
            }
            earlier = Some(listeners);
        }
    }

    fn resync(&self) {
        let registry = self.lock();
        for listener in registry.listeners.values() {
            self.deliver(listener, Delivery::Resync);
        }
    }
}

/// One websocket connection's share of the hub: a bound on the events waiting for it, and the
/// signal that it overflowed.
pub struct ConnectionQueue {
    capacity: usize,
    max_subscriptions: usize,
    subscriptions: AtomicUsize,
    pending: AtomicUsize,
    overflowed: AtomicBool,
    notify: Notify,
    stats: Arc<Stats>,
}

impl ConnectionQueue {
    /// A place for one more subscription on the connection, or `None` when it has its
    /// maximum already.
    pub(crate) fn subscription_slot(self: &Arc<Self>) -> Option<SubscriptionSlot> {
        if self.subscriptions.fetch_add(1, Ordering::AcqRel) >= self.max_subscriptions {
            self.subscriptions.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(SubscriptionSlot(self.clone()))
    }

    /// The most subscriptions the connection may hold at once.
    pub(crate) fn max_subscriptions(&self) -> usize {
        self.max_subscriptions
    }

    /// Takes a slot for one event; on a full queue, marks the connection overflowed instead.
    fn reserve(&self) -> bool {
        if self.overflowed.load(Ordering::Acquire) {
            return false;
        }
        if self.pending.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            if !self.overflowed.swap(true, Ordering::AcqRel) {
                self.stats.overflows.fetch_add(1, Ordering::Relaxed);
                self.notify.notify_waiters();
            }
            return false;
        }
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        true
    }

    fn release(&self) {
        self.pending.fetch_sub(1, Ordering::AcqRel);
        self.stats.queued.fetch_sub(1, Ordering::Relaxed);
    }

    /// Completes once an event found the queue full: the connection must close, and its
    /// client resume from its last cursor.
    pub async fn overflowed(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.overflowed.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for ConnectionQueue {
    fn drop(&mut self) {
        self.stats.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One subscription's place on its connection, given back when dropped.
pub(crate) struct SubscriptionSlot(Arc<ConnectionQueue>);

impl Drop for SubscriptionSlot {
    fn drop(&mut self) {
        self.0.subscriptions.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A registered subscription's end of the hub; dropping it unregisters.
pub(crate) struct Listening {
    id: u64,
    rx: mpsc::UnboundedReceiver<Delivery>,
    queue: Arc<ConnectionQueue>,
    hub: Arc<Hub>,
}

impl Listening {
    /// The next delivery, in the order the hub heard them; `None` once the hub is gone.
    pub(crate) async fn recv(&mut self) -> Option<Delivery> {
        let delivery = self.rx.recv().await?;
        self.queue.release();
        Some(delivery)
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.hub.unlisten(self.id);
        self.rx.close();
        while self.rx.try_recv().is_ok() {
            self.queue.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use convene_domain::ids::{GroupId, PostId, ThreadId, UserId};
    use uuid::Uuid;

    use super::*;

    fn reply(thread: ThreadId) -> Event {
        Event::ReplyAdded {
            group: GroupId::from_uuid(Uuid::now_v7()),
            thread,
            post: PostId::from_uuid(Uuid::now_v7()),
        }
    }

    fn received(listening: &mut Listening) -> Vec<Event> {
        let mut events = Vec::new();
        while let Ok(delivery) = listening.rx.try_recv() {
            listening.queue.release();
            if let Delivery::Event(published) = delivery {
                events.push(published.event);
            }
        }
        events
    }

    #[test]
    fn events_reach_the_subscriptions_of_their_topic_only() {
        let hub = Hub::new();
        let queue = hub.connection_queue(16, 8);
        let thread = ThreadId::from_uuid(Uuid::now_v7());
        let other = ThreadId::from_uuid(Uuid::now_v7());
        let mut here = hub.listen(vec![Topic::Thread(thread)], queue.clone());
        let mut there = hub.listen(vec![Topic::Thread(other)], queue);
        let event = reply(thread);
        hub.publish(event);
        assert_eq!(received(&mut here), [event]);
        assert_eq!(received(&mut there), []);
    }

    #[test]
    fn a_subscription_under_both_topics_of_an_event_hears_it_once() {
        let hub = Hub::new();
        let group = GroupId::from_uuid(Uuid::now_v7());
        let user = UserId::from_uuid(Uuid::now_v7());
        let mut both = hub.listen(
            vec![Topic::Group(group), Topic::User(user)],
            hub.connection_queue(16, 8),
        );
        let event = Event::MembershipChanged {
            group,
            user,
            membership: None,
        };
        hub.publish(event);
        assert_eq!(received(&mut both), [event]);
    }

    #[test]
    fn a_full_queue_overflows_once_and_takes_nothing_more() {
        let hub = Hub::new();
        let thread = ThreadId::from_uuid(Uuid::now_v7());
        let queue = hub.connection_queue(3, 8);
        let mut listening = hub.listen(vec![Topic::Thread(thread)], queue.clone());
        for _ in 0..10 {
            hub.publish(reply(thread));
        }
        assert!(queue.overflowed.load(Ordering::Acquire));
        let stats = hub.stats();
        assert_eq!((stats.delivered, stats.queued, stats.overflows), (3, 3, 1));
        assert_eq!(received(&mut listening).len(), 3);
        hub.publish(reply(thread));
        assert_eq!(received(&mut listening), []);
    }

    #[test]
    fn dropping_a_subscription_unregisters_it_and_frees_its_queue() {
        let hub = Hub::new();
        let thread = ThreadId::from_uuid(Uuid::now_v7());
        let queue = hub.connection_queue(8, 8);
        let listening = hub.listen(vec![Topic::Thread(thread)], queue.clone());
        hub.publish(reply(thread));
        assert_eq!(hub.stats().queued, 1);
        drop(listening);
        let stats = hub.stats();
        assert_eq!((stats.subscriptions, stats.queued), (0, 0));
        assert!(hub.lock().by_topic.is_empty());
        drop(queue);
        assert_eq!(hub.stats().connections, 0);
    }
}
