//! `/v2/schemas/image(s)`: the JSON schema clients (python-glanceclient's models) validate
//! image records against, with the same property types Glance publishes.

use crate::error::{Result, ShimError};
use serde_json::{json, Value};

pub const DISK_FORMATS: &[&str] = &["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"];
pub const CONTAINER_FORMATS: &[&str] = &["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"];
pub const VISIBILITIES: &[&str] = &["public", "private", "shared", "community"];

/// Properties only the service sets.
pub const READ_ONLY: &[&str] = &[
    "status",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "direct_url",
    "self",
    "file",
    "schema",
    "stores",
    "locations",
];

fn image() -> Value {
    let nullable_enum = |values: &[&str]| {
        let mut e: Vec<Value> = vec![Value::Null];
        e.extend(values.iter().map(|v| json!(v)));
        json!({"type": ["null", "string"], "enum": e})
    };
    let uuid_ref = json!({"type": ["null", "string"], "description": "ID of an image stored in Glance"});
    let ro = |t: Value| json!({"type": t, "readOnly": true});
    json!({
        "name": "image",
        "properties": {
            "id": {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"},
            "name": {"type": ["null", "string"], "maxLength": 255},
            "status": {"type": "string", "readOnly": true,
                       "enum": ["queued", "saving", "active", "killed", "deleted", "uploading", "importing",
                                "pending_delete", "deactivated"]},
            "visibility": {"type": "string", "enum": VISIBILITIES},
            "protected": {"type": "boolean"},
            "os_hidden": {"type": "boolean"},
            "checksum": ro(json!(["null", "string"])),
            "os_hash_algo": ro(json!(["null", "string"])),
            "os_hash_value": ro(json!(["null", "string"])),
            "owner": {"type": ["null", "string"], "maxLength": 255},
            "size": ro(json!(["null", "integer"])),
            "virtual_size": ro(json!(["null", "integer"])),
            "container_format": nullable_enum(CONTAINER_FORMATS),
            "disk_format": nullable_enum(DISK_FORMATS),
            "created_at": ro(json!("string")),
            "updated_at": ro(json!("string")),
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}},
            "direct_url": ro(json!("string")),
            "min_ram": {"type": "integer"},
            "min_disk": {"type": "integer"},
            "self": ro(json!("string")),
            "file": ro(json!("string")),
            "stores": ro(json!("string")),
            "schema": ro(json!("string")),
            "locations": {"type": "array", "items": {"type": "object"}},
            "kernel_id": uuid_ref,
            "ramdisk_id": uuid_ref,
            "hypervisor_type": {"type": "string"},
            "architecture": {"type": "string"},
            "os_distro": {"type": "string"},
            "os_version": {"type": "string"},
        },
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    })
}

pub fn get(name: &str) -> Result<Value> {
    match name {
        "image" => Ok(image()),
        "images" => Ok(json!({
            "name": "images",
            "properties": {
                "images": {"type": "array", "items": image()},
                "schema": {"type": "string"},
                "first": {"type": "string"},
                "next": {"type": "string"},
            },
            "links": [
                {"rel": "first", "href": "{first}"},
                {"rel": "next", "href": "{next}"},
                {"rel": "describedby", "href": "{schema}"},
            ],
        })),
        other => Err(ShimError::NotFound(format!("No schema {other:?}"))),
    }
}
