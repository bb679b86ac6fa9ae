//! The builder file (`object.builder`, ...). Body, version 1:
//!
//! ```text
//! metadata length u32 | metadata (JSON: settings, devices, removals, history) |
//! replica rows u32 | per row: length u32, device ids u16 * length |
//! last-move hours: length u32, u32 * length
//! ```
//! The metadata is JSON so it stays readable and extensible; the big tables are binary.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::codec::{ReadResult, Reader, Writer};
use super::container::{self, Kind};
use crate::builder::RingBuilder;
use crate::device::Device;
use crate::ring::{Ring, MAX_PART_POWER};
use crate::RingError;

pub(crate) const KIND: Kind = Kind { magic: b"SWLTBLDR", name: "builder", version: 1 };

#[derive(Serialize, Deserialize)]
struct Meta {
    part_power: u8,
    replicas: f64,
    min_part_hours: u32,
    overload: f64,
    id: String,
    version: u64,
    devs: Vec<Option<Device>>,
    removed: Vec<u32>,
    devs_changed: bool,
    last_rebalance: u64,
    dispersion: Option<f64>,
}

fn encode(b: &RingBuilder) -> Result<Vec<u8>, serde_json::Error> {
    let meta = Meta {
        part_power: b.part_power,
        replicas: b.replicas,
        min_part_hours: b.min_part_hours,
        overload: b.overload,
        id: b.id.clone(),
        version: b.version,
        devs: b.devs.clone(),
        removed: b.removed.clone(),
        devs_changed: b.devs_changed,
        last_rebalance: b.last_rebalance,
        dispersion: b.dispersion,
    };
    let json = serde_json::to_vec(&meta)?;
    let mut w = Writer::default();
    w.u32(json.len() as u32);
    w.buf.extend_from_slice(&json);
    w.u32(b.replica2part2dev.len() as u32);
    for row in &b.replica2part2dev {
        w.u16s(row);
    }
    w.u32s(&b.last_move_hour);
    Ok(w.buf)
}

pub(crate) fn decode(body: &[u8]) -> ReadResult<RingBuilder> {
    let mut r = Reader::new(body);
    let json_len = r.u32()? as usize;
    let json = body.get(4..4usize.saturating_add(json_len)).ok_or("metadata length beyond the body")?;
    let meta: Meta = serde_json::from_slice(json).map_err(|e| format!("bad metadata: {e}"))?;
    let mut r = Reader::new(&body[4 + json_len..]);
    let rows = r.u32()? as usize;
    let mut table = Vec::with_capacity(rows.min(256));
    for _ in 0..rows {
        table.push(r.u16s()?);
    }
    let last_move_hour = r.u32s()?;
    r.finish()?;
    if meta.part_power > MAX_PART_POWER || !(1.0..=255.0).contains(&meta.replicas) {
        return Err(format!("bad settings: part power {}, replicas {}", meta.part_power, meta.replicas));
    }
    let parts = 1usize << meta.part_power;
    if !last_move_hour.is_empty() && last_move_hour.len() != parts {
        return Err(format!("{} move stamps for {parts} partitions", last_move_hour.len()));
    }
    // The same checks a ring file gets: every assignment names a present device.
    Ring::new(meta.part_power, meta.version, meta.devs.clone(), table.clone()).map_err(|e| e.to_string())?;
    let mut b = RingBuilder {
        part_power: meta.part_power,
        replicas: meta.replicas,
        min_part_hours: meta.min_part_hours,
        overload: meta.overload,
        id: meta.id,
        version: meta.version,
        devs: meta.devs,
        removed: meta.removed,
        devs_changed: meta.devs_changed,
        replica2part2dev: table,
        last_move_hour,
        last_rebalance: meta.last_rebalance,
        dispersion: meta.dispersion,
        dev_parts: Vec::new(),
    };
    b.recount();
    Ok(b)
}

pub(crate) fn load(path: &Path) -> Result<RingBuilder, RingError> {
    let body = container::read(path, &KIND)?;
    decode(&body).map_err(|why| RingError::corrupt(path, why))
}

pub(crate) fn save(b: &RingBuilder, path: &Path) -> Result<(), RingError> {
    let body = encode(b).map_err(|e| RingError::InvalidArgument(format!("cannot encode builder: {e}")))?;
    container::write(path, &KIND, &body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_metadata_length_past_the_body_is_an_error_not_a_panic() {
        // Found by the fuzz target `ring_files`: a length of 1 in a 4-byte body.
        assert!(super::decode(&[1, 0, 0, 0]).is_err());
        assert!(super::decode(&[0xff, 0xff, 0xff, 0xff, b'{']).is_err());
    }
}
