//! The `qemu` driver: `qemu-system-x86_64` with no default devices, the serial console
//! appended to `console.log`, and either a kernel + ramdisk (Glance's `kernel_id` /
//! `ramdisk_id`) or a whole disk that boots through the firmware.

use super::BootSpec;
use std::path::Path;
use std::process::Stdio;
use tokio::process::Command;

/// qemu option values are comma-separated: a comma inside a path is written twice.
fn opt_path(p: &Path) -> String {
    p.display().to_string().replace(',', ",,")
}

pub fn command(binary: &str, accel: &str, spec: &BootSpec) -> Command {
    let mut c = Command::new(binary);
    c.args(["-name", &spec.server_id, "-machine", "pc", "-accel", accel])
        .args(["-m", &spec.ram_mb.to_string(), "-smp", &spec.vcpus.to_string()])
        .args(["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"])
        .arg("-chardev")
        .arg(format!("file,id=console0,path={},append=on", opt_path(&spec.console)))
        .args(["-serial", "chardev:console0"]);
    if let Some(kernel) = &spec.kernel {
        c.arg("-kernel").arg(kernel).arg("-append").arg(&spec.cmdline);
    }
    if let Some(ramdisk) = &spec.ramdisk {
        c.arg("-initrd").arg(ramdisk);
    }
    if let Some((disk, format)) = &spec.disk {
        c.arg("-drive").arg(format!("file={},format={format},if=virtio", opt_path(disk)));
    }
    if spec.network {
        c.args(["-nic", "user,model=virtio-net-pci"]);
    }
    c.stdin(Stdio::null()).stdout(Stdio::null());
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_boot_arguments() {
        let spec = BootSpec {
            server_id: "s1".into(),
            name: "vm".into(),
            console: "/tmp/a,b/console.log".into(),
            disk: Some(("/d/disk".into(), "raw".into())),
            kernel: Some("/k".into()),
            ramdisk: Some("/r".into()),
            cmdline: "console=ttyS0".into(),
            ram_mb: 256,
            vcpus: 1,
            network: false,
            image_id: "i".into(),
            image_size: 0,
            image_md5: String::new(),
        };
        let c = command("qemu-system-x86_64", "tcg", &spec);
        let args: Vec<String> = c.as_std().get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let joined = args.join(" ");
        assert!(joined.contains("-accel tcg -m 256 -smp 1"), "{joined}");
        assert!(joined.contains("file,id=console0,path=/tmp/a,,b/console.log,append=on"), "{joined}");
        assert!(joined.contains("-kernel /k -append console=ttyS0 -initrd /r"), "{joined}");
        assert!(joined.contains("file=/d/disk,format=raw,if=virtio"), "{joined}");
        assert!(!joined.contains("-nic"), "networks none: no NIC");
    }
}
