//! Setting and removing image properties: the rules shared by create (`POST`) and JSON
//! patch (`PATCH`, Glance's `application/openstack-images-v2.1-json-patch`).

use super::schema::{CONTAINER_FORMATS, DISK_FORMATS, READ_ONLY, VISIBILITIES};
use super::store::Image;
use crate::error::{Result, ShimError};
use serde_json::Value;

fn bad(msg: String) -> ShimError {
    ShimError::BadRequest(msg)
}

fn string_in(key: &str, v: &Value, allowed: &[&str]) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
        _ => Err(bad(format!("Invalid value {v} for {key}: expected one of {allowed:?}"))),
    }
}

fn int(key: &str, v: &Value) -> Result<i64> {
    v.as_i64().filter(|n| *n >= 0).ok_or_else(|| bad(format!("Invalid value {v} for {key}: expected an integer >= 0")))
}

fn boolean(key: &str, v: &Value) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
            Ok(s.eq_ignore_ascii_case("true"))
        }
        _ => Err(bad(format!("Invalid value {v} for {key}: expected a boolean"))),
    }
}

/// Sets one property. `admin` may set `owner` and make images public.
pub fn set(img: &mut Image, key: &str, v: &Value, admin: bool) -> Result<()> {
    if READ_ONLY.contains(&key) || key == "id" {
        return Err(ShimError::Forbidden(format!("Attribute '{key}' is read-only.")));
    }
    match key {
        "name" => {
            img.name = match v {
                Value::Null => None,
                Value::String(s) if s.len() <= 255 => Some(s.clone()),
                _ => return Err(bad(format!("Invalid value {v} for name"))),
            }
        }
        "visibility" => {
            let vis = string_in(key, v, VISIBILITIES)?.ok_or_else(|| bad("visibility cannot be null".into()))?;
            if vis == "public" && !admin {
                return Err(ShimError::Forbidden("You are not authorized to publicize images.".into()));
            }
            img.visibility = vis;
        }
        "protected" => img.protected = boolean(key, v)?,
        "os_hidden" => img.os_hidden = boolean(key, v)?,
        "min_disk" => img.min_disk = int(key, v)?,
        "min_ram" => img.min_ram = int(key, v)?,
        "disk_format" | "container_format" if img.status != "queued" => {
            return Err(ShimError::Forbidden(format!("Attribute '{key}' can be only replaced for a queued image.")));
        }
        "disk_format" => img.disk_format = string_in(key, v, DISK_FORMATS)?,
        "container_format" => img.container_format = string_in(key, v, CONTAINER_FORMATS)?,
        "owner" if !admin => return Err(ShimError::Forbidden("Attribute 'owner' is reserved.".into())),
        "owner" => img.owner = v.as_str().map(str::to_owned),
        "tags" => {
            let tags = v.as_array().ok_or_else(|| bad("tags must be a list".into()))?;
            let mut out: Vec<String> = Vec::new();
            for t in tags {
                let t = t.as_str().filter(|t| t.len() <= 255).ok_or_else(|| bad(format!("Invalid tag {t}")))?;
                if !out.iter().any(|o| o == t) {
                    out.push(t.to_string());
                }
            }
            img.tags = out;
        }
        _ => {
            let s = v
                .as_str()
                .ok_or_else(|| bad(format!("Invalid value {v} for {key}: additional properties are strings")))?;
            if key.is_empty() || key.len() > 255 {
                return Err(bad(format!("Invalid property name {key:?}")));
            }
            img.properties.insert(key.to_string(), s.to_string());
        }
    }
    Ok(())
}

/// Removes an additional property; base properties cannot be removed.
pub fn remove(img: &mut Image, key: &str) -> Result<()> {
    if img.properties.remove(key).is_some() {
        return Ok(());
    }
    const BASE: &[&str] = &[
        "id",
        "name",
        "visibility",
        "protected",
        "os_hidden",
        "min_disk",
        "min_ram",
        "disk_format",
        "container_format",
        "owner",
        "tags",
    ];
    if BASE.contains(&key) || READ_ONLY.contains(&key) {
        return Err(ShimError::Forbidden(format!("Properties {key} must not be removed.")));
    }
    Err(ShimError::Conflict(format!("Property {key} does not exist.")))
}

/// Applies a JSON patch document (`add`, `replace`, `remove` of top-level properties).
pub fn apply(img: &mut Image, ops: &Value, admin: bool) -> Result<()> {
    let ops = ops.as_array().ok_or_else(|| bad("A JSON patch is a list of operations".into()))?;
    for op in ops {
        let kind = op.get("op").and_then(Value::as_str).ok_or_else(|| bad(format!("Operation without 'op': {op}")))?;
        let path =
            op.get("path").and_then(Value::as_str).ok_or_else(|| bad(format!("Operation without 'path': {op}")))?;
        let key = path
            .strip_prefix('/')
            .filter(|k| !k.is_empty() && !k.contains('/'))
            .ok_or_else(|| bad(format!("Invalid JSON pointer for this resource: '{path}'")))?
            .replace("~1", "/")
            .replace("~0", "~");
        match kind {
            "add" | "replace" => {
                let v = op.get("value").ok_or_else(|| bad(format!("Operation without 'value': {op}")))?;
                let exists = img.properties.contains_key(&key) || !is_additional(&key);
                if kind == "replace" && !exists {
                    return Err(ShimError::Conflict(format!("Property {key} does not exist.")));
                }
                set(img, &key, v, admin)?;
            }
            "remove" => remove(img, &key)?,
            other => return Err(bad(format!("Operation {other:?} is not supported"))),
        }
    }
    Ok(())
}

fn is_additional(key: &str) -> bool {
    !matches!(
        key,
        "name"
            | "visibility"
            | "protected"
            | "os_hidden"
            | "min_disk"
            | "min_ram"
            | "disk_format"
            | "container_format"
            | "owner"
            | "tags"
    ) && !READ_ONLY.contains(&key)
        && key != "id"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn img() -> Image {
        Image::queued("i".into(), Some("p".into()), 0)
    }

    #[test]
    fn patch_ops() {
        let mut i = img();
        let ops = json!([
            {"op": "replace", "path": "/name", "value": "cirros"},
            {"op": "add", "path": "/kernel_id", "value": "k"},
            {"op": "add", "path": "/tags", "value": ["a", "a", "b"]},
            {"op": "replace", "path": "/min_ram", "value": 64},
        ]);
        apply(&mut i, &ops, false).unwrap();
        assert_eq!(i.name.as_deref(), Some("cirros"));
        assert_eq!(i.properties["kernel_id"], "k");
        assert_eq!(i.tags, ["a", "b"]);
        assert_eq!(i.min_ram, 64);
        apply(&mut i, &json!([{"op": "remove", "path": "/kernel_id"}]), false).unwrap();
        assert!(i.properties.is_empty());
        let err = |ops: Value, i: &mut Image| apply(i, &ops, false).unwrap_err();
        assert!(matches!(err(json!([{"op": "remove", "path": "/kernel_id"}]), &mut i), ShimError::Conflict(_)));
        assert!(matches!(
            err(json!([{"op": "replace", "path": "/nope", "value": "x"}]), &mut i),
            ShimError::Conflict(_)
        ));
        assert!(matches!(
            err(json!([{"op": "add", "path": "/status", "value": "active"}]), &mut i),
            ShimError::Forbidden(_)
        ));
        assert!(matches!(err(json!([{"op": "remove", "path": "/name"}]), &mut i), ShimError::Forbidden(_)));
        assert!(matches!(
            err(json!([{"op": "add", "path": "/visibility", "value": "public"}]), &mut i),
            ShimError::Forbidden(_)
        ));
        assert!(matches!(err(json!([{"op": "add", "path": "/x", "value": 3}]), &mut i), ShimError::BadRequest(_)));
        assert!(matches!(err(json!([{"op": "move", "path": "/x"}]), &mut i), ShimError::BadRequest(_)));
        apply(&mut i, &json!([{"op": "add", "path": "/visibility", "value": "public"}]), true).unwrap();
        i.status = "active".into();
        assert!(matches!(
            err(json!([{"op": "replace", "path": "/disk_format", "value": "raw"}]), &mut i),
            ShimError::Forbidden(_)
        ));
    }
}
