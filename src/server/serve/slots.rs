//! Connection slots: how many connections are open, from whom, and how far
//! each has got, so that no one client address can take what everyone
//! shares.
//!
//! - A client address holds at most `per_address` open connections (0: no
//!   share); one more is refused. IPv6 clients count by their /64, which
//!   one host usually holds whole. Trusted proxies are exempt: every visitor
//!   behind them shares their address.
//! - When all `max_total` slots are taken, one connection is closed to make
//!   room, chosen in this order:
//!   1. one opened over `YOUNG` ago that waits idle (a keep-alive connection
//!      between requests, or one that has sent nothing);
//!   2. one opened over `YOUNG` ago part-way through a request's headers;
//!   3. one opened less than `YOUNG` ago, whatever it has sent (its bytes
//!      may not have been read yet, so a visitor's new connection is not
//!      taken for a silent one);
//!
//!   within each, the address holding the most slots first (so a crowd of
//!   one address makes room before a lone visitor), then the fewest bytes
//!   sent, then the oldest. A connection whose request is being answered is
//!   never closed for room; when every slot is answering, the new connection
//!   waits.

use super::progress::Progress;
use std::{
    cmp::Reverse,
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::{oneshot, Notify};

/// How long a new connection is spared when room is made.
pub const YOUNG: Duration = Duration::from_secs(1);

/// The address a share is counted by: an IPv4 address (an IPv4-mapped IPv6
/// address is taken as IPv4), or an IPv6 address's first 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey(u128);

impl ClientKey {
    pub fn of(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(v4) => Self(u128::from(u32::from(v4))),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(u128::from(u32::from(v4))),
                None => Self(u128::from(v6) >> 64 | 1 << 127),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotRules {
    pub max_total: usize,
    /// 0: no share per address.
    pub per_address: usize,
    /// Addresses without a share (trusted proxies).
    pub exempt: Arc<[IpAddr]>,
}

/// What `Slots::admit` decided for a new connection.
pub enum Admission {
    /// Serve it; the slot is given back when `Slot` is dropped, and `closed`
    /// fires if the slot is taken back to make room.
    Admitted {
        slot: Slot,
        progress: Arc<Progress>,
        closed: oneshot::Receiver<()>,
    },
    /// Its address holds its share already.
    OverShare,
    /// Every slot is answering a request: wait for `Slots::freed`.
    Full,
}

struct Open {
    key: ClientKey,
    opened: Instant,
    progress: Arc<Progress>,
    close: oneshot::Sender<()>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, Open>,
    per_key: HashMap<ClientKey, usize>,
}

impl Table {
    fn remove(&mut self, id: u64) -> Option<Open> {
        let open = self.open.remove(&id)?;
        if let Some(count) = self.per_key.get_mut(&open.key) {
            *count -= 1;
            if *count == 0 {
                self.per_key.remove(&open.key);
            }
        }
        Some(open)
    }

    /// The connection to close for room at `now`, if any may be.
    fn least_sending(&self, now: Instant) -> Option<u64> {
        self.open
            .iter()
            .filter_map(|(id, open)| {
                let unanswered = open.progress.unanswered_bytes()?;
                let young = now.saturating_duration_since(open.opened) < YOUNG;
                let holds = self.per_key.get(&open.key).copied().unwrap_or(0);
                let rank = if young {
                    (2, Reverse(holds), 0, *id)
                } else {
                    (u8::from(unanswered > 0), Reverse(holds), unanswered, *id)
                };
                Some((rank, *id))
            })
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, id)| id)
    }
}

pub struct Slots {
    rules: SlotRules,
    table: Mutex<Table>,
    freed: Notify,
}

impl Slots {
    pub fn new(rules: SlotRules) -> Arc<Self> {
        Arc::new(Self {
            rules,
            table: Mutex::new(Table::default()),
            freed: Notify::new(),
        })
    }

    /// Takes a slot for a connection from `address` opened at `now`,
    /// closing the least-sending connection if every slot is taken.
    pub fn admit(self: &Arc<Self>, address: IpAddr, now: Instant) -> Admission {
        let key = ClientKey::of(address);
        let mut table = self
            .table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let shared = self.rules.per_address > 0 && !self.rules.exempt.contains(&address);
        if shared && table.per_key.get(&key).copied().unwrap_or(0) >= self.rules.per_address {
            return Admission::OverShare;
        }
        if table.open.len() >= self.rules.max_total.max(1) {
            let Some(victim) = table.least_sending(now) else {
                return Admission::Full;
            };
            if let Some(evicted) = table.remove(victim) {
                // The connection's task may have ended already: nothing to close.
                let _ = evicted.close.send(());
            }
        }
        let id = table.next_id;
        table.next_id += 1;
        let progress = Arc::new(Progress::default());
        let (close, closed) = oneshot::channel();
        table.open.insert(
            id,
            Open {
                key,
                opened: now,
                progress: progress.clone(),
                close,
            },
        );
        *table.per_key.entry(key).or_default() += 1;
        Admission::Admitted {
            slot: Slot {
                slots: self.clone(),
                id,
            },
            progress,
            closed,
        }
    }

    /// Completes once a slot has been given back since the last call.
    pub async fn freed(&self) {
        self.freed.notified().await;
    }

    /// Open connections, and those from `address`.
    #[cfg(test)]
    fn open(&self, address: IpAddr) -> (usize, usize) {
        let table = self
            .table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let from = table.per_key.get(&ClientKey::of(address)).copied();
        (table.open.len(), from.unwrap_or(0))
    }
}

/// One connection's slot, given back when dropped.
pub struct Slot {
    slots: Arc<Slots>,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = self
            .slots
            .table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        table.remove(self.id);
        drop(table);
        // One accept loop waits at most; a permit is kept if it is not waiting yet.
        self.slots.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(max_total: usize, per_address: usize, exempt: &[IpAddr]) -> Arc<Slots> {
        Slots::new(SlotRules {
            max_total,
            per_address,
            exempt: exempt.into(),
        })
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    struct Held {
        _slot: Slot,
        progress: Arc<Progress>,
        closed: oneshot::Receiver<()>,
    }

    impl Held {
        fn was_closed(&mut self) -> bool {
            self.closed.try_recv().is_ok()
        }

        fn sent(&self, bytes: u64) {
            self.progress.received(bytes);
        }
    }

    /// Admitted long enough ago not to be young.
    fn admit(slots: &Arc<Slots>, address: &str) -> Held {
        admit_at(slots, address, Instant::now() - YOUNG * 2)
    }

    fn admit_at(slots: &Arc<Slots>, address: &str, now: Instant) -> Held {
        match slots.admit(ip(address), now) {
            Admission::Admitted {
                slot,
                progress,
                closed,
            } => Held {
                _slot: slot,
                progress,
                closed,
            },
            Admission::OverShare => panic!("{address} refused: over its share"),
            Admission::Full => panic!("{address} refused: full"),
        }
    }

    #[test]
    fn an_address_past_its_share_is_refused_and_others_are_not() {
        let slots = rules(100, 2, &[]);
        let _held = [admit(&slots, "10.0.0.1"), admit(&slots, "10.0.0.1")];
        assert!(matches!(
            slots.admit(ip("10.0.0.1"), Instant::now()),
            Admission::OverShare
        ));
        let _other = admit(&slots, "10.0.0.2");
        assert_eq!(slots.open(ip("10.0.0.1")), (3, 2));
    }

    #[test]
    fn a_slot_given_back_makes_room_in_the_share() {
        let slots = rules(100, 1, &[]);
        let first = admit(&slots, "10.0.0.1");
        drop(first);
        let _second = admit(&slots, "10.0.0.1");
        assert_eq!(slots.open(ip("10.0.0.1")), (1, 1));
    }

    #[test]
    fn trusted_proxies_have_no_share() {
        let slots = rules(100, 1, &[ip("10.0.0.9")]);
        let _held: Vec<_> = (0..5).map(|_| admit(&slots, "10.0.0.9")).collect();
        assert_eq!(slots.open(ip("10.0.0.9")), (5, 5));
    }

    #[test]
    fn ipv6_clients_share_by_their_64_and_mapped_ipv4_counts_as_ipv4() {
        let slots = rules(100, 1, &[]);
        let _one = admit(&slots, "2001:db8:1:2::1");
        assert!(matches!(
            slots.admit(ip("2001:db8:1:2:ffff::7"), Instant::now()),
            Admission::OverShare
        ));
        let _next_net = admit(&slots, "2001:db8:1:3::1");
        let _v4 = admit(&slots, "192.0.2.1");
        assert!(matches!(
            slots.admit(ip("::ffff:192.0.2.1"), Instant::now()),
            Admission::OverShare
        ));
    }

    #[test]
    fn when_full_idle_connections_make_room_before_half_sent_ones() {
        let slots = rules(3, 0, &[]);
        let mut half_sent = admit(&slots, "10.0.0.1");
        half_sent.sent(10);
        let mut idle = admit(&slots, "10.0.0.2");
        idle.sent(50);
        idle.progress.request_began();
        idle.progress.request_ended();
        let mut barely_sent = admit(&slots, "10.0.0.3");
        barely_sent.sent(2);

        let now = Instant::now();
        let mut new = admit_at(&slots, "10.0.0.4", now);
        assert!(idle.was_closed());
        assert!(!half_sent.was_closed() && !barely_sent.was_closed());

        let _newer = admit_at(&slots, "10.0.0.5", now);
        assert!(barely_sent.was_closed(), "fewest bytes first");
        assert!(!half_sent.was_closed());
        assert!(!new.was_closed(), "a young connection goes last");
    }

    #[test]
    fn a_young_connection_makes_room_only_when_nothing_else_can() {
        let slots = rules(2, 0, &[]);
        let now = Instant::now();
        let mut young = admit_at(&slots, "10.0.0.1", now);
        let mut half_sent = admit(&slots, "10.0.0.2");
        half_sent.sent(500);
        let _new = admit_at(&slots, "10.0.0.3", now);
        assert!(half_sent.was_closed() && !young.was_closed());
        let _newer = admit_at(&slots, "10.0.0.4", now);
        assert!(young.was_closed(), "the oldest of the young");
    }

    #[test]
    fn among_equals_the_address_holding_most_makes_room_first() {
        let slots = rules(3, 0, &[]);
        let mut lone = admit(&slots, "10.0.0.1");
        let mut crowd = [admit(&slots, "10.0.0.2"), admit(&slots, "10.0.0.2")];
        let _new = admit(&slots, "10.0.0.3");
        assert!(!lone.was_closed());
        assert_eq!(
            crowd
                .iter_mut()
                .map(Held::was_closed)
                .filter(|closed| *closed)
                .count(),
            1
        );
        assert_eq!(slots.open(ip("10.0.0.2")), (3, 1));
    }

    #[test]
    fn among_young_connections_the_crowded_address_makes_room_before_a_lone_visitor() {
        let slots = rules(4, 0, &[]);
        let now = Instant::now();
        // The visitor's request is not read yet: it looks silent.
        let mut visitor = admit_at(&slots, "10.0.0.1", now);
        let mut crowd = [
            admit_at(&slots, "10.0.0.2", now),
            admit_at(&slots, "10.0.0.2", now),
            admit_at(&slots, "10.0.0.2", now),
        ];
        for held in &crowd {
            held.sent(25);
        }
        let _new = admit_at(&slots, "10.0.0.3", now);
        let _newer = admit_at(&slots, "10.0.0.4", now);
        assert!(!visitor.was_closed());
        let closed: Vec<bool> = crowd.iter_mut().map(Held::was_closed).collect();
        assert_eq!(closed, [true, true, false], "the oldest of the crowd first");
    }

    #[test]
    fn connections_being_answered_are_never_closed_for_room() {
        let slots = rules(2, 0, &[]);
        let mut busy = [admit(&slots, "10.0.0.1"), admit(&slots, "10.0.0.2")];
        for held in &busy {
            held.progress.request_began();
        }
        assert!(matches!(
            slots.admit(ip("10.0.0.3"), Instant::now()),
            Admission::Full
        ));
        assert!(busy.iter_mut().all(|held| !held.was_closed()));
        busy[0].progress.request_ended();
        let _new = admit(&slots, "10.0.0.3");
        assert!(busy[0].was_closed());
    }
}
