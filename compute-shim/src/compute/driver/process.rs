//! The `process` driver: the server is a long-running shell process that prints a boot
//! banner (what it was given, and that the image checksum was verified) to its console
//! and then waits until it is stopped.

use super::BootSpec;
use std::process::Stdio;
use tokio::process::Command;

/// The banner's text uses positional arguments, so names from the API never reach the
/// shell as code.
const SCRIPT: &str = r#"echo "Swiftlet process driver: booting server $1 ($2)"
echo "image $3: $4 bytes, md5 $5 verified"
echo "$6 MB RAM, $7 vCPUs"
echo "$2 login:"
exec sleep 2147483647"#;

pub fn command(spec: &BootSpec) -> Command {
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(SCRIPT).arg("swiftlet-vm");
    c.args([
        &spec.server_id,
        &spec.name,
        &spec.image_id,
        &spec.image_size.to_string(),
        &spec.image_md5,
        &spec.ram_mb.to_string(),
        &spec.vcpus.to_string(),
    ]);
    c.stdin(Stdio::null()).stderr(Stdio::null());
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn prints_banner_without_running_names() {
        let spec = BootSpec {
            server_id: "s1".into(),
            name: "$(touch /tmp/never) `x`".into(),
            console: "/dev/null".into(),
            disk: None,
            kernel: None,
            ramdisk: None,
            cmdline: String::new(),
            ram_mb: 64,
            vcpus: 1,
            network: false,
            image_id: "i1".into(),
            image_size: 3,
            image_md5: "abc".into(),
        };
        let mut c = command(&spec);
        c.stdout(Stdio::piped()).kill_on_drop(true);
        let mut child = c.spawn().unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut text = Vec::new();
        let mut buf = [0u8; 256];
        use tokio::io::AsyncReadExt;
        while !String::from_utf8_lossy(&text).contains("login:") {
            let n = out.read(&mut buf).await.unwrap();
            assert!(n > 0, "process ended early");
            text.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&text);
        assert!(text.contains("booting server s1 ($(touch /tmp/never) `x`)"), "{text}");
        assert!(text.contains("image i1: 3 bytes, md5 abc verified"), "{text}");
        assert!(child.try_wait().unwrap().is_none(), "it keeps running");
        child.kill().await.unwrap();
    }
}
