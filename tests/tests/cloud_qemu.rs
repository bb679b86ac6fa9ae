//! The `qemu` driver, when `qemu-system-x86_64` is installed (scripts/bootstrap.sh installs
//! Debian's qemu-system-x86): a Debian kernel plus a busybox initramfs built here boots
//! under TCG and its console line comes back through openstacksdk; a whole-disk image with
//! a hand-made boot sector boots through the firmware. The kernel is the host's
//! `/boot/vmlinuz-*` if readable, else Debian's `linux-image-amd64` kernel and
//! `busybox-static` fetched with `apt-get download` (cached under the target dir). Disk
//! images that would make qemu open host files (backing files, external data files, vmdk
//! extents) or that are not the format they claim put their server in ERROR; a clean
//! qcow2 boots.

mod cloud_support;

use cloud_support::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const VM_LINE: &str = "SWIFTLET-VM-BOOTED";
const DISK_LINE: &str = "SWIFTLET-DISK-BOOTED";

fn qemu_present() -> bool {
    let runs = |bin: &str| Command::new(bin).arg("--version").output().is_ok_and(|o| o.status.success());
    let found = runs("qemu-system-x86_64") && runs("qemu-img");
    if !found {
        eprintln!(
            "SKIPPED: qemu-system-x86_64 or qemu-img is not installed (apt-get install qemu-system-x86 qemu-utils)"
        );
    }
    found
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Downloads a Debian package and extracts the files matching `pattern` into `dir`.
fn extract_deb(package: &str, pattern: &str, dir: &Path) -> Result<(), String> {
    let work = tempfile::tempdir_in(dir).map_err(|e| e.to_string())?;
    run(Command::new("apt-get").args(["download", "-q", package]).current_dir(work.path()))?;
    let deb = std::fs::read_dir(work.path())
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or_else(|| format!("apt-get download {package} left no .deb"))?;
    let script = r#"dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards "$3""#;
    run(Command::new("sh").args(["-c", script, "sh"]).arg(&deb).arg(dir).arg(pattern))?;
    Ok(())
}

/// The kernel and a static busybox, or why they cannot be had here.
fn vm_assets() -> Result<(PathBuf, PathBuf), String> {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tiny-vm");
    std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
    let kernel = cache.join("vmlinuz");
    if !kernel.exists() {
        let host = std::fs::read_dir("/boot")
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-")))
            .find(|p| std::fs::File::open(p).is_ok());
        match host {
            Some(p) => {
                std::fs::copy(&p, &kernel).map_err(|e| e.to_string())?;
            }
            None => {
                // linux-image-amd64 is a metapackage: the kernel is in the package it depends on.
                let deps = run(Command::new("apt-cache").args(["depends", "linux-image-amd64"]))?;
                let package = deps
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("Depends: ").filter(|p| p.starts_with("linux-image-")))
                    .ok_or_else(|| format!("no kernel package in `apt-cache depends linux-image-amd64`: {deps}"))?
                    .to_string();
                extract_deb(&package, "./boot/vmlinuz-*", &cache)?;
                let found = std::fs::read_dir(cache.join("boot"))
                    .map_err(|e| e.to_string())?
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-")))
                    .ok_or_else(|| format!("{package} holds no /boot/vmlinuz-*"))?;
                std::fs::rename(found, &kernel).map_err(|e| e.to_string())?;
                let _ = std::fs::remove_dir_all(cache.join("boot"));
            }
        }
    }
    let busybox = cache.join("busybox");
    if !busybox.exists() {
        extract_deb("busybox-static", "./bin/busybox", &cache)?;
        std::fs::rename(cache.join("bin/busybox"), &busybox).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir_all(cache.join("bin"));
    }
    Ok((kernel, busybox))
}

/// A `newc` cpio archive (the initramfs format the kernel unpacks).
fn cpio(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let pad = |out: &mut Vec<u8>| out.resize(out.len().next_multiple_of(4), 0);
    let trailer: (&str, u32, &[u8]) = ("TRAILER!!!", 0, &[]);
    for (ino, (name, mode, data)) in entries.iter().chain([&trailer]).enumerate() {
        let fields = [ino as u32 + 1, *mode, 0, 0, 1, 0, data.len() as u32, 0, 0, 0, 0, name.len() as u32 + 1, 0];
        out.extend_from_slice(b"070701");
        for f in fields {
            out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        pad(&mut out);
        out.extend_from_slice(data);
        pad(&mut out);
    }
    out
}

/// A 512-byte boot sector: x86 real-mode code that writes a line to COM1 and halts.
fn boot_sector() -> Vec<u8> {
    let msg = format!("{DISK_LINE}\r\n\0");
    // xor ax,ax; mov ds,ax; cld; mov si,msg; mov dx,0x3f8; l: lodsb; test al,al; jz h;
    // out dx,al; jmp l; h: cli; hlt; jmp h
    let mut code = vec![
        0x31, 0xC0, 0x8E, 0xD8, 0xFC, 0xBE, 0, 0, 0xBA, 0xF8, 0x03, 0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8,
        0xFA, 0xF4, 0xEB, 0xFC,
    ];
    let at = 0x7C00 + code.len() as u16;
    code[6..8].copy_from_slice(&at.to_le_bytes());
    code.extend_from_slice(msg.as_bytes());
    code.resize(510, 0);
    code.extend_from_slice(&[0x55, 0xAA]);
    code.resize(1 << 20, 0);
    code
}

const OPENSTACKSDK: &str = r#"
import json, os, time, openstack
conn = openstack.connect(auth_url=os.environ["OS_AUTH_URL"], username="demo", password="demo",
                         project_name="demo", user_domain_id="default", project_domain_id="default")
server = conn.compute.create_server(name="tiny", image_id=os.environ["IMAGE"], flavor_id="84", networks="none")
server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60, interval=0.2)
start, output = time.time(), ""
while os.environ["LINE"] not in output and time.time() - start < 90:
    time.sleep(0.5)
    output = conn.compute.get_server_console_output(server)["output"]
conn.compute.delete_server(server)
conn.compute.wait_for_delete(server, wait=30, interval=0.2)
print(json.dumps({"status": server.status, "output": output, "boot_seconds": round(time.time() - start, 1)}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kernel_and_busybox_initramfs_boot_to_a_console_line() {
    if !qemu_present() {
        return;
    }
    let (kernel, busybox) = match tokio::task::block_in_place(vm_assets) {
        Ok(a) => a,
        Err(why) => {
            eprintln!("SKIPPED: no kernel for the tiny VM: {why}");
            return;
        }
    };
    let init = format!(
        "#!/bin/busybox sh\n/bin/busybox echo {VM_LINE} $(/bin/busybox uname -r)\nwhile true; do /bin/busybox sleep 3600; done\n"
    );
    let busybox = std::fs::read(busybox).unwrap();
    let initramfs =
        cpio(&[("bin", 0o40755, b""), ("bin/busybox", 0o100755, &busybox), ("init", 0o100755, init.as_bytes())]);

    let t = Env::start().await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let kernel_id = upload_image(
        &t,
        &demo,
        json!({"name": "vmlinuz", "disk_format": "aki", "container_format": "aki"}),
        std::fs::read(kernel).unwrap(),
    )
    .await;
    let ramdisk_id =
        upload_image(&t, &demo, json!({"name": "initrd", "disk_format": "ari", "container_format": "ari"}), initramfs)
            .await;
    let props = json!({"name": "tiny", "disk_format": "ami", "container_format": "ami", "kernel_id": kernel_id,
                       "ramdisk_id": ramdisk_id, "os_command_line": "console=ttyS0 quiet", "hypervisor_type": "qemu"});
    let image = upload_image(&t, &demo, props, vec![0; 64 << 10]).await;
    let env = [("OS_AUTH_URL", identity_url(&t)), ("IMAGE", image), ("LINE", VM_LINE.to_string())];
    let out = tokio::task::block_in_place(|| python_json(OPENSTACKSDK, &env));
    assert_eq!(out["status"], "ACTIVE");
    let output = out["output"].as_str().unwrap();
    assert!(output.contains(VM_LINE), "console: {output}");
    eprintln!("tiny VM printed its line {}s after ACTIVE", out["boot_seconds"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_disk_image_boots_through_the_firmware() {
    if !qemu_present() {
        return;
    }
    let t = Env::start().await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let props = json!({"name": "mbr", "disk_format": "raw", "container_format": "bare", "hypervisor_type": "qemu"});
    let image = upload_image(&t, &demo, props, boot_sector()).await;
    let servers = format!("{}/servers", t.compute_url());
    let r = t
        .http
        .post(&servers)
        .header("x-auth-token", &demo.id)
        .header("openstack-api-version", "compute 2.37")
        .json(&json!({"server": {"name": "mbr", "imageRef": image, "flavorRef": "42", "networks": "auto"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["server"]["id"].as_str().unwrap().to_string();
    let s = wait_server(&t, &demo, &id, 30, |s| s["status"] != "BUILD").await;
    assert_eq!(s["status"], "ACTIVE", "{s}");
    assert_eq!(s["addresses"]["auto_allocated_network"][0]["addr"], "10.0.2.15");
    let console = |len: Value| {
        t.http
            .post(format!("{servers}/{id}/action"))
            .header("x-auth-token", &demo.id)
            .json(&json!({"os-getConsoleOutput": {"length": len}}))
            .send()
    };
    let mut output = String::new();
    for _ in 0..300 {
        output =
            console(Value::Null).await.unwrap().json::<Value>().await.unwrap()["output"].as_str().unwrap().to_string();
        if output.contains(DISK_LINE) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(output.contains(DISK_LINE), "console: {output}");
    let last: Value = console(json!(1)).await.unwrap().json().await.unwrap();
    assert_eq!(last["output"].as_str().unwrap().lines().count(), 1);
    let r = t.http.delete(format!("{servers}/{id}")).header("x-auth-token", &demo.id).send().await.unwrap();
    assert_eq!(r.status(), 204);
}

/// Boots `image` on the qemu host and waits until it leaves BUILD.
async fn boot_and_settle(t: &Env, token: &Token, name: &str, image: &str) -> Value {
    let r = t
        .http
        .post(format!("{}/servers", t.compute_url()))
        .header("x-auth-token", &token.id)
        .header("openstack-api-version", "compute 2.37")
        .json(&json!({"server": {"name": name, "imageRef": image, "flavorRef": "42", "networks": "none"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["server"]["id"].as_str().unwrap().to_string();
    wait_server(t, token, &id, 60, |s| s["status"] != "BUILD").await
}

async fn console_of(t: &Env, token: &Token, id: &str) -> String {
    let url = format!("{}/servers/{id}/action", t.compute_url());
    let r = t.http.post(url).header("x-auth-token", &token.id).json(&json!({"os-getConsoleOutput": {}})).send();
    r.await.unwrap().json::<Value>().await.unwrap()["output"].as_str().unwrap_or_default().to_string()
}

fn qemu_img(args: &[&str], dir: &Path) {
    run(Command::new("qemu-img").args(args).current_dir(dir)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disks_that_reach_host_files_or_lie_about_their_format_are_refused() {
    if !qemu_present() {
        return;
    }
    let host = tempfile::tempdir().unwrap();
    let dir = host.path();
    // Host files a guest must never see: each holds a bootable sector, so a guest that
    // reached one would print DISK_LINE.
    let victim = dir.join("other-tenant.raw");
    std::fs::write(&victim, boot_sector()).unwrap();
    let victim = victim.to_str().unwrap().to_string();
    qemu_img(&["create", "-q", "-f", "qcow2", "-b", &victim, "-F", "raw", "backing.qcow2"], dir);
    let data_file = dir.join("data-file.raw");
    let opts = format!("data_file={},data_file_raw=on", data_file.display());
    qemu_img(&["create", "-q", "-f", "qcow2", "-o", &opts, "external.qcow2", "1M"], dir);
    std::fs::write(&data_file, boot_sector()).unwrap();
    // Its own victim: qemu's image locks would keep a second VM off the first one.
    let extent_victim = dir.join("extent-victim.raw");
    std::fs::write(&extent_victim, boot_sector()).unwrap();
    let victim2 = extent_victim.display();
    let descriptor = format!(
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n\
         # Extent description\nRW 2048 FLAT \"{victim2}\" 0\n\n# The Disk Data Base\n#DDB\n\
         ddb.virtualHWVersion = \"4\"\nddb.adapterType = \"ide\"\n"
    );
    std::fs::write(dir.join("extent.vmdk"), descriptor).unwrap();
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();

    let t = Env::start().await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let cases = [
        ("backing", "qcow2", read("backing.qcow2"), "backing file"),
        ("data-file", "qcow2", read("external.qcow2"), "external data file"),
        ("extent", "vmdk", read("extent.vmdk"), "vmdk"),
        ("liar", "qcow2", boot_sector(), "declared qcow2 but its data is raw"),
    ];
    let mut wrong = Vec::new();
    for (name, format, data, why) in cases {
        let props = json!({"name": name, "disk_format": format, "container_format": "bare", "hypervisor_type": "qemu"});
        let image = upload_image(&t, &demo, props, data).await;
        let s = boot_and_settle(&t, &demo, name, &image).await;
        let id = s["id"].as_str().unwrap().to_string();
        if s["status"] != "ERROR" {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            let read_host_file = console_of(&t, &demo, &id).await.contains(DISK_LINE);
            wrong.push(format!("{name}: {} (the guest read a host file: {read_host_file})", s["status"]));
            continue;
        }
        let fault = s["fault"]["message"].as_str().unwrap();
        if !fault.contains(&format!("Image {image} was refused")) || !fault.contains(why) {
            wrong.push(format!("{name}: fault {fault:?} does not say {why:?}"));
        }
        assert!(console_of(&t, &demo, &id).await.is_empty(), "{name}: no VM ran");
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_qcow2_boots_from_its_private_copy() {
    if !qemu_present() {
        return;
    }
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("mbr.raw"), boot_sector()).unwrap();
    qemu_img(&["convert", "-q", "-f", "raw", "-O", "qcow2", "mbr.raw", "mbr.qcow2"], host.path());
    let t = Env::start().await;
    let demo = login(&t, "demo", "demo", "demo").await;
    let props = json!({"name": "mbr", "disk_format": "qcow2", "container_format": "bare", "hypervisor_type": "qemu"});
    let image = upload_image(&t, &demo, props, std::fs::read(host.path().join("mbr.qcow2")).unwrap()).await;
    let s = boot_and_settle(&t, &demo, "qcow", &image).await;
    assert_eq!(s["status"], "ACTIVE", "{s}");
    let id = s["id"].as_str().unwrap().to_string();
    let mut output = String::new();
    for _ in 0..300 {
        output = console_of(&t, &demo, &id).await;
        if output.contains(DISK_LINE) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(output.contains(DISK_LINE), "console: {output}");
    // The VM's disk is the host's own conversion, not the cached user file.
    let instance = t.dir.path().join("cloud/compute/qemu1/instances").join(&id);
    let boot: Value = serde_json::from_slice(&std::fs::read(instance.join("boot.json")).unwrap()).unwrap();
    assert_eq!(boot["disk"][0], instance.join("disk").to_str().unwrap());
    assert_eq!(boot["disk"][1], "qcow2");
    let r = t.http.delete(format!("{}/servers/{id}", t.compute_url())).header("x-auth-token", &demo.id).send();
    assert_eq!(r.await.unwrap().status(), 204);
}
