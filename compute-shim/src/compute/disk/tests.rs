//! With the real `qemu-img` (Debian's qemu-utils); skipped where it is not installed.

use super::*;
use serde_json::json;

fn qemu_img_present() -> bool {
    let found = std::process::Command::new("qemu-img").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIPPED: qemu-img is not installed (apt-get install qemu-utils)");
    }
    found
}

fn qemu_img(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("qemu-img").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "qemu-img {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn policy() -> DiskPolicy {
    DiskPolicy { qemu_img: "qemu-img".into(), max_virtual_size: 1 << 30 }
}

/// The refusal for `file` declared `format`, or `None` if it passed (and was converted).
async fn refusal(dir: &Path, file: &str, format: &str) -> Option<DiskRefusal> {
    let dst = dir.join(format!("{file}.private"));
    match policy().make_private_disk("img", &dir.join(file), format, &dst).await {
        Ok(()) => None,
        Err(DiskError::Refused { image, refusal }) => {
            assert_eq!(image, "img");
            assert!(!dst.exists() && !dst.with_extension("converting").exists(), "nothing left behind");
            Some(refusal)
        }
        Err(e) => panic!("{file}: {e}"),
    }
}

#[tokio::test]
async fn images_that_reach_other_files_or_lie_are_refused() {
    if !qemu_img_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let victim = dir.join("victim.raw");
    std::fs::write(&victim, vec![7u8; 1 << 20]).unwrap();
    let victim = victim.to_str().unwrap().to_string();
    qemu_img(dir, &["create", "-q", "-f", "qcow2", "-b", &victim, "-F", "raw", "backing.qcow2"]);
    qemu_img(dir, &["create", "-q", "-f", "qcow2", "-o", "data_file=external.raw", "external.qcow2", "1M"]);
    std::fs::write(
        dir.join("extent.vmdk"),
        format!(
            "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n\
             # Extent description\nRW 2048 FLAT \"{victim}\" 0\n\n# The Disk Data Base\n#DDB\n"
        ),
    )
    .unwrap();
    qemu_img(dir, &["create", "-q", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", "split.vmdk", "1M"]);
    qemu_img(dir, &["create", "-q", "-f", "qcow2", "huge.qcow2", "2T"]);

    assert_eq!(refusal(dir, "backing.qcow2", "qcow2").await, Some(DiskRefusal::BackingFile(victim.clone())));
    let external = dir.join("external.raw").display().to_string();
    assert!(
        matches!(refusal(dir, "external.qcow2", "qcow2").await, Some(DiskRefusal::DataFile(d)) if d.ends_with("external.raw")),
        "{external}"
    );
    assert_eq!(refusal(dir, "extent.vmdk", "vmdk").await, Some(DiskRefusal::VmdkCreateType("monolithicFlat".into())));
    assert_eq!(
        refusal(dir, "split.vmdk", "vmdk").await,
        Some(DiskRefusal::VmdkCreateType("twoGbMaxExtentSparse".into()))
    );
    let mismatch = |declared: &str, found: &str| {
        Some(DiskRefusal::FormatMismatch { declared: declared.into(), found: found.into() })
    };
    assert_eq!(refusal(dir, "victim.raw", "qcow2").await, mismatch("qcow2", "raw"), "a raw file declared qcow2");
    assert_eq!(refusal(dir, "backing.qcow2", "raw").await, mismatch("raw", "qcow2"), "a qcow2 declared raw");
    assert_eq!(
        refusal(dir, "huge.qcow2", "qcow2").await,
        Some(DiskRefusal::TooLarge { size: 2 << 40, limit: 1 << 30 })
    );
    assert_eq!(refusal(dir, "victim.raw", "ploop").await, Some(DiskRefusal::UnsupportedFormat("ploop".into())));
    std::fs::write(dir.join("garbage.qcow2"), b"QFI\xfb not really").unwrap();
    assert!(matches!(refusal(dir, "garbage.qcow2", "qcow2").await, Some(DiskRefusal::Unreadable(_))));
}

#[tokio::test]
async fn clean_images_become_a_private_qcow2_without_a_backing_file() {
    if !qemu_img_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut data = vec![0u8; 1 << 20];
    data[..4].copy_from_slice(b"disk");
    std::fs::write(dir.join("plain.raw"), &data).unwrap();
    qemu_img(dir, &["convert", "-q", "-f", "raw", "-O", "qcow2", "plain.raw", "clean.qcow2"]);
    qemu_img(dir, &["convert", "-q", "-f", "raw", "-O", "vmdk", "plain.raw", "clean.vmdk"]);
    for (file, format) in [("plain.raw", "raw"), ("clean.qcow2", "qcow2"), ("clean.vmdk", "vmdk"), ("plain.raw", "ami")]
    {
        assert_eq!(refusal(dir, file, format).await, None, "{file} as {format}");
        let private = dir.join(format!("{file}.private"));
        let info = policy().info(&private).await.unwrap();
        assert_eq!(info["format"], PRIVATE_FORMAT);
        assert!(info.get("backing-filename").is_none());
        assert_eq!(info["virtual-size"], 1 << 20);
        std::fs::remove_file(private).unwrap();
    }
}

#[test]
fn judging_info_documents() {
    let info = |format: &str, extra: Value| {
        let mut v = json!({"format": format, "virtual-size": 4096, "filename": "/c/img"});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    assert_eq!(judge(&info("raw", json!({})), "iso", 4096), Ok(()));
    assert_eq!(judge(&info("vpc", json!({})), "vhd", 4096), Ok(()));
    assert!(matches!(judge(&info("raw", json!({})), "raw", 4095), Err(DiskRefusal::TooLarge { .. })));
    let vmdk = |create: &str, extents: Value| {
        info("vmdk", json!({"format-specific": {"type": "vmdk", "data": {"create-type": create, "extents": extents}}}))
    };
    assert_eq!(judge(&vmdk("streamOptimized", json!([{"filename": "/c/img"}])), "vmdk", 4096), Ok(()));
    let two = json!([{"filename": "/c/img"}, {"filename": "/etc/shadow"}]);
    assert_eq!(
        judge(&vmdk("monolithicSparse", two), "vmdk", 4096),
        Err(DiskRefusal::VmdkExtents("/c/img, /etc/shadow".into()))
    );
    let elsewhere = json!([{"filename": "/etc/shadow"}]);
    assert!(matches!(judge(&vmdk("monolithicSparse", elsewhere), "vmdk", 4096), Err(DiskRefusal::VmdkExtents(_))));
    let refusal = DiskError::Refused { image: "i1".into(), refusal: DiskRefusal::BackingFile("/etc/shadow".into()) };
    assert_eq!(refusal.to_string(), "Image i1 was refused: it names a backing file (/etc/shadow).");
}
