//! Database metadata: header name -> (value, timestamp), merged key by key, newest wins.
//!
//! An empty value is a deletion marker; it stays (so replication carries the deletion)
//! until `reclaim` drops it after `reclaim_age`. Stored as JSON `{"name": ["value", "ts"]}`.

use common::constraints::{MAX_META_COUNT, MAX_META_OVERALL_SIZE};
use common::Timestamp;
use std::collections::BTreeMap;

pub type Metadata = BTreeMap<String, (String, Timestamp)>;

/// Merges `updates` into `current`; returns whether anything changed.
pub fn merge(current: &mut Metadata, updates: &Metadata) -> bool {
    let mut changed = false;
    for (key, (value, ts)) in updates {
        // Header names are case-insensitive: one stored spelling per name.
        let existing = current.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned();
        match existing {
            Some(k) if current[&k].1 >= *ts => {}
            Some(k) => {
                current.remove(&k);
                current.insert(key.clone(), (value.clone(), *ts));
                changed = true;
            }
            None => {
                current.insert(key.clone(), (value.clone(), *ts));
                changed = true;
            }
        }
    }
    changed
}

/// Checks the count and total size of user metadata (`X-<kind>-Meta-*` with a value).
pub fn validate(md: &Metadata) -> Result<(), String> {
    let (mut count, mut size) = (0usize, 0usize);
    for (key, (value, _)) in md {
        let lower = key.to_ascii_lowercase();
        let name = lower.strip_prefix("x-account-meta-").or_else(|| lower.strip_prefix("x-container-meta-"));
        if let (Some(name), false) = (name, value.is_empty()) {
            count += 1;
            size += name.len() + value.len();
        }
    }
    if count > MAX_META_COUNT {
        return Err(format!("Too many metadata items; max {MAX_META_COUNT}"));
    }
    if size > MAX_META_OVERALL_SIZE {
        return Err(format!("Total metadata too large; max {MAX_META_OVERALL_SIZE}"));
    }
    Ok(())
}

pub fn to_json(md: &Metadata) -> String {
    let map: BTreeMap<&str, [String; 2]> =
        md.iter().map(|(k, (v, ts))| (k.as_str(), [v.clone(), ts.internal()])).collect();
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
}

pub fn from_json(text: &str) -> Result<Metadata, String> {
    if text.is_empty() {
        return Ok(Metadata::new());
    }
    let map: BTreeMap<String, (String, String)> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    map.into_iter()
        .map(|(k, (v, ts))| ts.parse::<Timestamp>().map(|t| (k, (v, t))).map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: u64) -> Timestamp {
        Timestamp::from_ticks(s * 100_000)
    }

    #[test]
    fn newest_wins_case_insensitively() {
        let mut md = Metadata::new();
        assert!(merge(&mut md, &[("X-Container-Meta-A".to_string(), ("1".to_string(), ts(5)))].into()));
        assert!(!merge(&mut md, &[("x-container-meta-a".to_string(), ("old".to_string(), ts(4)))].into()));
        assert!(merge(&mut md, &[("x-container-meta-a".to_string(), ("new".to_string(), ts(6)))].into()));
        assert_eq!(md.len(), 1);
        assert_eq!(md["x-container-meta-a"].0, "new");
        assert_eq!(from_json(&to_json(&md)).unwrap(), md);
    }

    #[test]
    fn limits_count_only_user_meta() {
        let mut md = Metadata::new();
        for i in 0..=MAX_META_COUNT {
            md.insert(format!("X-Container-Meta-K{i}"), ("v".into(), ts(1)));
        }
        assert!(validate(&md).is_err());
        md.insert("X-Container-Meta-K0".into(), (String::new(), ts(2)));
        assert!(validate(&md).is_ok(), "deleted keys do not count");
        md.insert("X-Container-Read".into(), ("x".repeat(5000), ts(1)));
        assert!(validate(&md).is_ok(), "ACLs are not user metadata");
    }
}
