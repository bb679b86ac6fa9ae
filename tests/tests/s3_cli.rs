//! The S3 API with the real command-line clients: awscli (a 100 MiB multipart upload in
//! 5 MiB parts, downloads, `sync` of a directory tree both ways) and s3cmd (SigV4 and
//! SigV2).

use std::path::Path;
use std::process::Command;
use swiftlet_tests::{venv_bin, TestCluster};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run client");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

fn aws(t: &TestCluster, cfg: &Path, args: &[&str]) -> String {
    run(Command::new(venv_bin("aws"))
        .args(["--endpoint-url", &t.cluster.proxy_url()])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "test:tester")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", cfg)
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"))
}

/// A file tree with nested directories, an empty file and names needing escapes.
fn make_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let files: Vec<(String, Vec<u8>)> = vec![
        ("a.txt".into(), b"alpha".to_vec()),
        ("empty".into(), Vec::new()),
        ("sub/b.bin".into(), (0..300_000u32).map(|i| (i % 251) as u8).collect()),
        ("sub/deeper/c d+e.txt".into(), b"spaces and plus".to_vec()),
        ("sub/deeper/ü.txt".into(), "unicode".as_bytes().to_vec()),
    ];
    for (name, data) in &files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awscli_multipart_copy_and_sync_both_ways() {
    let t = TestCluster::start().await;
    let work = tempfile::tempdir().unwrap();
    let cfg = work.path().join("aws-config");
    std::fs::write(
        &cfg,
        "[default]\ns3 =\n    multipart_threshold = 5MB\n    multipart_chunksize = 5MB\n    addressing_style = path\n",
    )
    .unwrap();
    let big: Vec<u8> = (0..100u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let big_path = work.path().join("big.bin");
    std::fs::write(&big_path, &big).unwrap();
    let src = work.path().join("tree");
    let files = make_tree(&src);
    tokio::task::block_in_place(|| {
        aws(&t, &cfg, &["s3", "mb", "s3://cli"]);
        aws(&t, &cfg, &["s3", "cp", "--only-show-errors", big_path.to_str().unwrap(), "s3://cli/big.bin"]);
        let head = aws(&t, &cfg, &["s3api", "head-object", "--bucket", "cli", "--key", "big.bin"]);
        assert!(head.contains("\"ContentLength\": 104857600"), "{head}");
        assert!(head.contains("-20\\\""), "a 100 MiB upload in 5 MiB parts has a 20-part ETag: {head}");
        let back = work.path().join("back.bin");
        aws(&t, &cfg, &["s3", "cp", "--only-show-errors", "s3://cli/big.bin", back.to_str().unwrap()]);
        assert!(std::fs::read(&back).unwrap() == big, "the 100 MiB object reads back whole");

        aws(&t, &cfg, &["s3", "sync", "--only-show-errors", src.to_str().unwrap(), "s3://cli/tree"]);
        let ls = aws(&t, &cfg, &["s3", "ls", "--recursive", "s3://cli/tree/"]);
        assert_eq!(ls.lines().count(), files.len(), "{ls}");
        // A second sync has nothing to do.
        let again = aws(&t, &cfg, &["s3", "sync", "--only-show-errors", src.to_str().unwrap(), "s3://cli/tree"]);
        assert!(!again.contains("upload:"), "{again}");
        let dst = work.path().join("copy");
        aws(&t, &cfg, &["s3", "sync", "--only-show-errors", "s3://cli/tree", dst.to_str().unwrap()]);
        for (name, data) in &files {
            assert_eq!(&std::fs::read(dst.join(name)).unwrap(), data, "{name}");
        }
        aws(&t, &cfg, &["s3", "rm", "--only-show-errors", "--recursive", "s3://cli/"]);
        aws(&t, &cfg, &["s3", "rb", "s3://cli"]);
        let buckets = aws(&t, &cfg, &["s3", "ls"]);
        assert!(!buckets.contains("cli"), "{buckets}");
    });
}

fn s3cmd(cfg: &Path, args: &[&str]) -> String {
    run(Command::new(venv_bin("python")).arg(venv_bin("s3cmd")).arg("-c").arg(cfg).args(args))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3cmd_with_v4_and_v2_signatures() {
    let t = TestCluster::start().await;
    let work = tempfile::tempdir().unwrap();
    let host = t.cluster.proxy_url().trim_start_matches("http://").to_string();
    let file = work.path().join("f.txt");
    std::fs::write(&file, "via s3cmd").unwrap();
    tokio::task::block_in_place(|| {
        for (v2, bucket) in [(false, "s3cmd-v4"), (true, "s3cmd-v2")] {
            let cfg = work.path().join(format!("s3cfg-{bucket}"));
            std::fs::write(
                &cfg,
                format!(
                    "[default]\naccess_key = test:tester\nsecret_key = testing\nhost_base = {host}\n\
                     host_bucket = {host}\nuse_https = False\nsignature_v2 = {}\nbucket_location = us-east-1\n",
                    if v2 { "True" } else { "False" }
                ),
            )
            .unwrap();
            let url = format!("s3://{bucket}");
            s3cmd(&cfg, &["mb", &url]);
            s3cmd(&cfg, &["put", file.to_str().unwrap(), &format!("{url}/dir/f.txt")]);
            let ls = s3cmd(&cfg, &["ls", "--recursive", &url]);
            assert!(ls.contains(&format!("{url}/dir/f.txt")), "{ls}");
            let info = s3cmd(&cfg, &["info", &format!("{url}/dir/f.txt")]);
            assert!(info.contains("File size: 9"), "{info}");
            let got = work.path().join(format!("got-{bucket}"));
            s3cmd(&cfg, &["get", &format!("{url}/dir/f.txt"), got.to_str().unwrap()]);
            assert_eq!(std::fs::read_to_string(&got).unwrap(), "via s3cmd");
            s3cmd(&cfg, &["del", &format!("{url}/dir/f.txt")]);
            s3cmd(&cfg, &["rb", &url]);
        }
    });
}
