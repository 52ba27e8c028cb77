//! The event channel from the engine to whoever listens (CLI, TUI, tests): bounded in
//! memory without ever blocking the engine or losing an event.
//!
//! A fast stream emits one `delta` per frame; a consumer that prints or draws slower than
//! that would queue without limit. Once [`CAPACITY`] events wait, a `delta` that follows a
//! `delta` of the same attempt is appended to it instead of queued: the text is kept whole
//! and in order, only the number of `delta` events shrinks. Other events are always queued
//! (never dropped, never reordered), and there are few of them (a handful per attempt).

use crate::event::{Delta, Event, TimedEvent};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;
pub use tokio::sync::mpsc::error::TryRecvError;

/// How many events may wait before consecutive deltas are merged.
pub const CAPACITY: usize = 1024;

struct Shared {
    queue: Mutex<State>,
    ready: Notify,
    senders: AtomicUsize,
}

struct State {
    events: VecDeque<TimedEvent>,
    /// The receiver is gone: events are dropped (nobody can read them).
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain data behind the lock; a poisoned lock is still consistent.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The sending side; cheap to clone. Sending never blocks and never fails the run.
pub struct EventSink {
    shared: Arc<Shared>,
}

/// The receiving side.
pub struct EventStream {
    shared: Arc<Shared>,
}

/// A new channel.
pub fn event_channel() -> (EventSink, EventStream) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(State {
            events: VecDeque::new(),
            closed: false,
        }),
        ready: Notify::new(),
        senders: AtomicUsize::new(1),
    });
    (
        EventSink {
            shared: shared.clone(),
        },
        EventStream { shared },
    )
}

impl Clone for EventSink {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::AcqRel);
        EventSink {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for EventSink {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last sender: wake the receiver so it sees the end.
            self.shared.ready.notify_one();
        }
    }
}

impl EventSink {
    /// Queues `ev` (merging it into a waiting delta when the queue is full). `Err` when
    /// the receiver is gone.
    pub fn send(&self, ev: TimedEvent) -> Result<(), TimedEvent> {
        {
            let mut st = self.shared.lock();
            if st.closed {
                return Err(ev);
            }
            if st.events.len() >= CAPACITY
                && let Some(back) = st.events.back_mut()
                && let (
                    Event::Delta(Delta { hop, attempt, text }),
                    Event::Delta(Delta {
                        hop: h,
                        attempt: a,
                        text: more,
                    }),
                ) = (&mut back.event, &ev.event)
                && (*hop, *attempt) == (*h, *a)
            {
                text.push_str(more);
                back.t_ms = ev.t_ms;
            } else {
                st.events.push_back(ev);
            }
        }
        self.shared.ready.notify_one();
        Ok(())
    }

    /// The receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }
}

impl EventStream {
    /// The next event; `None` once every sender is gone and the queue is empty.
    pub async fn recv(&mut self) -> Option<TimedEvent> {
        loop {
            match self.try_recv() {
                Ok(ev) => return Some(ev),
                Err(TryRecvError::Disconnected) => return None,
                // `notify_one` keeps a permit when nobody waits: no wake-up is lost.
                Err(TryRecvError::Empty) => self.shared.ready.notified().await,
            }
        }
    }

    /// Waits for at least one event, then moves up to `limit` into `out`; returns how many
    /// (0 = the channel ended).
    pub async fn recv_many(&mut self, out: &mut Vec<TimedEvent>, limit: usize) -> usize {
        let Some(first) = self.recv().await else {
            return 0;
        };
        out.push(first);
        let mut n = 1;
        let mut st = self.shared.lock();
        while n < limit {
            let Some(ev) = st.events.pop_front() else {
                break;
            };
            out.push(ev);
            n += 1;
        }
        n
    }

    /// An event if one waits.
    pub fn try_recv(&mut self) -> Result<TimedEvent, TryRecvError> {
        // Read the sender count before the queue: a last send is queued before its sender
        // drops, so an empty queue after a zero count is the true end.
        let live = self.shared.senders.load(Ordering::Acquire) > 0;
        match self.shared.lock().events.pop_front() {
            Some(ev) => Ok(ev),
            None if live => Err(TryRecvError::Empty),
            None => Err(TryRecvError::Disconnected),
        }
    }

    /// How many events wait.
    pub fn len(&self) -> usize {
        self.shared.lock().events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.closed = true;
        st.events.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::WaitFinished;

    fn delta(t_ms: u64, attempt: u32, text: &str) -> TimedEvent {
        TimedEvent {
            t_ms,
            event: Event::Delta(Delta {
                hop: 0,
                attempt,
                text: text.into(),
            }),
        }
    }

    fn wait_finished(t_ms: u64) -> TimedEvent {
        TimedEvent {
            t_ms,
            event: Event::WaitFinished(WaitFinished::elapsed(0, 1)),
        }
    }

    #[test]
    fn a_lagging_consumer_gets_merged_deltas_and_every_other_event_in_order() {
        let (tx, mut rx) = event_channel();
        for i in 0..CAPACITY as u64 {
            tx.send(delta(i, 1, "a")).unwrap();
        }
        // Full: these merge into the last queued delta.
        for i in 0..10_000u64 {
            tx.send(delta(5000 + i, 1, "b")).unwrap();
        }
        assert_eq!(rx.len(), CAPACITY);
        // A non-delta is queued even when full; a delta of another attempt too.
        tx.send(wait_finished(20_000)).unwrap();
        tx.send(delta(20_001, 2, "c")).unwrap();
        tx.send(delta(20_002, 2, "d")).unwrap();
        drop(tx);
        let mut all = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            all.push(ev);
        }
        assert_eq!(all.len(), CAPACITY + 2);
        let Event::Delta(Delta { text, .. }) = &all[CAPACITY - 1].event else {
            panic!("{:?}", all[CAPACITY - 1]);
        };
        assert_eq!(text.len(), 10_001);
        assert_eq!(all[CAPACITY - 1].t_ms, 14_999);
        assert_eq!(all[CAPACITY].event.name(), "wait_finished");
        assert_eq!(
            all[CAPACITY + 1].event,
            Event::Delta(Delta {
                hop: 0,
                attempt: 2,
                text: "cd".into()
            })
        );
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[tokio::test]
    async fn recv_ends_when_the_last_sender_drops() {
        let (tx, mut rx) = event_channel();
        let tx2 = tx.clone();
        let task = tokio::spawn(async move {
            tx2.send(wait_finished(1)).unwrap();
            drop(tx2);
        });
        assert_eq!(rx.recv().await.map(|e| e.t_ms), Some(1));
        task.await.unwrap();
        tx.send(wait_finished(2)).unwrap();
        drop(tx);
        let mut batch = Vec::new();
        assert_eq!(rx.recv_many(&mut batch, 10).await, 1);
        assert_eq!(rx.recv().await, None);
        // A dropped receiver makes sends fail (and frees nothing later).
        let (tx, rx) = event_channel();
        drop(rx);
        assert!(tx.is_closed());
        assert!(tx.send(wait_finished(3)).is_err());
    }
}
