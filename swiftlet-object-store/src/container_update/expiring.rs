//! The `.expiring_objects` queue: where the record of an object's `X-Delete-At` goes (a
//! task row named after the object, in a day's task container), as Swift lays it out.

use super::{ContainerUpdate, UpdateOp};
use common::HashPathSecret;
use std::collections::BTreeMap;

pub const EXPIRING_OBJECTS_ACCOUNT: &str = ".expiring_objects";
const EXPIRER_DIVISOR: u64 = 86400;
const EXPIRER_TASK_CONTAINERS: u128 = 100;
/// The ETag of an empty body: task rows describe no bytes.
const EMPTY_ETAG: &str = "d41d8cd98f00b204e9800998ecf8427e";

/// The expirer task container for an object expiring at `delete_at` (a day bucket, shifted
/// by the object's hash so one day's tasks spread over 100 containers, as in Swift).
pub fn expirer_container(secret: &HashPathSecret, delete_at: u64, account: &str, container: &str, obj: &str) -> String {
    let shard = (secret.hash(account, Some(container), Some(obj)) % EXPIRER_TASK_CONTAINERS) as u64;
    format!("{:010}", (delete_at / EXPIRER_DIVISOR * EXPIRER_DIVISOR).saturating_sub(shard))
}

/// The expirer's task object name: `<delete_at>-<a>/<c>/<o>`.
pub fn expirer_task_name(delete_at: u64, account: &str, container: &str, obj: &str) -> String {
    format!("{delete_at:010}-{account}/{container}/{obj}")
}

/// The update that adds (`Put`) or removes (`Delete`) the task row of `/a/c/o` expiring at
/// `delete_at`; a row that is added describes an empty body.
pub fn expirer_update(
    secret: &HashPathSecret,
    op: UpdateOp,
    delete_at: u64,
    (account, container, obj): (&str, &str, &str),
    mut headers: BTreeMap<String, String>,
) -> ContainerUpdate {
    if op == UpdateOp::Put {
        headers.insert("x-size".into(), "0".into());
        headers.insert("x-etag".into(), EMPTY_ETAG.into());
    }
    ContainerUpdate {
        op,
        account: EXPIRING_OBJECTS_ACCOUNT.into(),
        container: expirer_container(secret, delete_at, account, container, obj),
        obj: expirer_task_name(delete_at, account, container, obj),
        headers,
        container_path: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_names_like_swift() {
        let s = HashPathSecret::default();
        let c = expirer_container(&s, 1_700_050_000, "a", "c", "o");
        let v: u64 = c.parse().unwrap();
        let day = 1_700_050_000 / 86400 * 86400;
        assert!(v <= day && v > day - 100, "{c}");
        assert_eq!(expirer_task_name(5, "a", "c", "o/x"), "0000000005-a/c/o/x");
        let put = expirer_update(&s, UpdateOp::Put, 5, ("a", "c", "o"), BTreeMap::new());
        assert_eq!((put.account.as_str(), put.obj.as_str()), (EXPIRING_OBJECTS_ACCOUNT, "0000000005-a/c/o"));
        assert_eq!(put.headers.get("x-size").map(String::as_str), Some("0"));
        let delete = expirer_update(&s, UpdateOp::Delete, 5, ("a", "c", "o"), BTreeMap::new());
        assert!(delete.headers.is_empty());
    }
}
