//! The ring file servers load (`object.ring`, ...). Body, version 1:
//!
//! ```text
//! part_power u8 | build version u64 | device slots u32 | per slot: present u8 [device] |
//! replica rows u32 | per row: length u32, device ids u16 * length
//! ```

use std::path::Path;

use super::codec::{ReadResult, Reader, Writer};
use super::container::{self, Kind};
use crate::ring::Ring;
use crate::RingError;

/// The ring file format this build writes (and the only one it reads).
pub const RING_FORMAT_VERSION: u32 = 1;

pub(crate) const KIND: Kind = Kind { magic: b"SWLTRING", name: "ring", version: RING_FORMAT_VERSION };

pub(crate) fn encode(ring: &Ring) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(ring.part_power());
    w.u64(ring.version());
    w.u32(ring.device_slots().len() as u32);
    for slot in ring.device_slots() {
        match slot {
            Some(d) => {
                w.u8(1);
                w.device(d);
            }
            None => w.u8(0),
        }
    }
    w.u32(ring.replica2part2dev().len() as u32);
    for row in ring.replica2part2dev() {
        w.u16s(row);
    }
    w.buf
}

pub(crate) fn decode_body(body: &[u8]) -> ReadResult<Ring> {
    let mut r = Reader::new(body);
    let part_power = r.u8()?;
    let version = r.u64()?;
    let slots = r.u32()? as usize;
    let mut devs = Vec::with_capacity(slots.min(1 << 16));
    for _ in 0..slots {
        devs.push(if r.u8()? == 1 { Some(r.device()?) } else { None });
    }
    let rows = r.u32()? as usize;
    let mut table = Vec::with_capacity(rows.min(64));
    for _ in 0..rows {
        table.push(r.u16s()?);
    }
    r.finish()?;
    Ring::new(part_power, version, devs, table).map_err(|e| e.to_string())
}

pub(crate) fn load(path: &Path) -> Result<Ring, RingError> {
    let body = container::read(path, &KIND)?;
    decode_body(&body).map_err(|why| RingError::corrupt(path, why))
}

pub(crate) fn save(ring: &Ring, path: &Path) -> Result<(), RingError> {
    container::write(path, &KIND, &encode(ring))
}
