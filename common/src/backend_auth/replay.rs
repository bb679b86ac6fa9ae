//! Nonces seen within the replay window, in two generations: a nonce is remembered for
//! between one and two `span`s, and a signature older than half a span is refused by its
//! time anyway.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// At most this many nonces per generation; beyond it a node answering at an absurd rate
/// refuses new requests rather than grow without bound.
const MAX_PER_GENERATION: usize = 4_000_000;

pub(super) struct Nonces {
    span: Duration,
    inner: Mutex<Generations>,
}

struct Generations {
    started: SystemTime,
    current: HashSet<u128>,
    previous: HashSet<u128>,
}

impl Nonces {
    pub(super) fn new(span: Duration) -> Nonces {
        let g = Generations { started: SystemTime::now(), current: HashSet::new(), previous: HashSet::new() };
        Nonces { span, inner: Mutex::new(g) }
    }

    /// Records `nonce` (32 hex digits); false if it was seen before (or the table is full).
    pub(super) fn first_use(&self, nonce: &str, now: SystemTime) -> bool {
        let Ok(n) = u128::from_str_radix(nonce, 16) else { return false };
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if now.duration_since(g.started).unwrap_or_default() >= self.span {
            g.previous = std::mem::take(&mut g.current);
            g.started = now;
        }
        if g.previous.contains(&n) || g.current.len() >= MAX_PER_GENERATION {
            return false;
        }
        g.current.insert(n)
    }
}
