//! The flavors every cloud has (devstack's `m1.*` set): fixed, so no database is needed.

use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flavor {
    pub id: &'static str,
    pub name: &'static str,
    pub ram_mb: u64,
    pub vcpus: u32,
    pub disk_gb: u64,
}

pub const FLAVORS: &[Flavor] = &[
    Flavor { id: "1", name: "m1.tiny", ram_mb: 512, vcpus: 1, disk_gb: 1 },
    Flavor { id: "2", name: "m1.small", ram_mb: 2048, vcpus: 1, disk_gb: 20 },
    Flavor { id: "3", name: "m1.medium", ram_mb: 4096, vcpus: 2, disk_gb: 40 },
    Flavor { id: "4", name: "m1.large", ram_mb: 8192, vcpus: 4, disk_gb: 80 },
    Flavor { id: "5", name: "m1.xlarge", ram_mb: 16384, vcpus: 8, disk_gb: 160 },
    Flavor { id: "42", name: "m1.nano", ram_mb: 128, vcpus: 1, disk_gb: 1 },
    Flavor { id: "84", name: "m1.micro", ram_mb: 192, vcpus: 1, disk_gb: 1 },
];

/// A flavor by id (or, as clients also send, by name).
pub fn find(id: &str) -> Option<&'static Flavor> {
    FLAVORS.iter().find(|f| f.id == id).or_else(|| FLAVORS.iter().find(|f| f.name == id))
}

fn links(base: &str, id: &str) -> Value {
    json!([
        {"rel": "self", "href": format!("{base}/v2.1/flavors/{id}")},
        {"rel": "bookmark", "href": format!("{base}/flavors/{id}")},
    ])
}

pub fn summary_json(f: &Flavor, base: &str) -> Value {
    json!({"id": f.id, "name": f.name, "links": links(base, f.id)})
}

pub fn detail_json(f: &Flavor, base: &str) -> Value {
    json!({
        "id": f.id, "name": f.name, "ram": f.ram_mb, "vcpus": f.vcpus, "disk": f.disk_gb,
        "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": false, "swap": "",
        "rxtx_factor": 1.0, "os-flavor-access:is_public": true, "links": links(base, f.id),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn lookup() {
        assert_eq!(super::find("42").unwrap().name, "m1.nano");
        assert_eq!(super::find("m1.small").unwrap().id, "2");
        assert!(super::find("99").is_none());
    }
}
