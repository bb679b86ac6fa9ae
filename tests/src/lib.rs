//! Helpers for whole-cluster tests: a cluster on free ports in a temp dir, tempauth
//! logins, and the path to the real Python clients installed by `scripts/bootstrap.sh --python`.

use reqwest::{Client, Method, RequestBuilder};
use saio::{Cluster, ClusterOptions};
use std::path::PathBuf;
use tempfile::TempDir;

/// A running cluster and the temp dir holding its data (removed on drop).
pub struct TestCluster {
    pub cluster: Cluster,
    pub http: Client,
    _dir: TempDir,
}

/// A logged-in user: token and storage URL.
#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
    pub url: String,
}

impl TestCluster {
    pub async fn start() -> TestCluster {
        Self::start_with(|_| {}).await
    }

    /// A cluster whose options (the proxy's config among them) `tune` changed first.
    pub async fn start_with(tune: impl FnOnce(&mut ClusterOptions)) -> TestCluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut opts = ClusterOptions::ephemeral(dir.path());
        tune(&mut opts);
        let cluster = Cluster::start(opts).await.expect("cluster starts");
        let http = Client::builder().pool_max_idle_per_host(0).build().expect("http client");
        TestCluster { cluster, http, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.cluster.proxy_url(), path)
    }

    pub fn auth_url(&self) -> String {
        self.url("/auth/v1.0")
    }

    pub async fn login(&self, user: &str, key: &str) -> Session {
        let resp = self
            .http
            .get(self.auth_url())
            .header("X-Auth-User", user)
            .header("X-Auth-Key", key)
            .send()
            .await
            .expect("auth request");
        assert_eq!(resp.status(), 200, "login {user}");
        let h = resp.headers();
        Session {
            token: h["x-auth-token"].to_str().expect("token").to_string(),
            url: h["x-storage-url"].to_str().expect("url").to_string(),
        }
    }

    /// Runs the real `swift` CLI (python-swiftclient) as `user`/`key` against this cluster.
    pub fn swift_cli(&self, user: &str, key: &str, args: &[&str], cwd: &std::path::Path) -> CliOutput {
        let out = std::process::Command::new(venv_bin("swift"))
            .args(["-A", &self.auth_url(), "-U", user, "-K", key])
            .args(args)
            .current_dir(cwd)
            .output()
            .expect("run swift");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        CliOutput { ok: out.status.success(), stdout, all }
    }

    /// Runs the python checks `tests/s3_py/<script>` with the venv's clients against this
    /// cluster (the proxy URL first, then `args`), with no AWS config of the user's; fails the
    /// test with everything it printed unless it exits 0 having printed `done`.
    pub fn python_checks(&self, script: &str, args: &[&str], done: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/s3_py").join(script);
        let out = tokio::task::block_in_place(|| {
            std::process::Command::new(venv_bin("python"))
                .arg(path)
                .arg(self.cluster.proxy_url())
                .args(args)
                .env("AWS_CONFIG_FILE", "/dev/null")
                .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
                .output()
                .expect("run python")
        });
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "{script} {args:?} failed:\n{text}");
        assert!(text.contains(done), "{script} {args:?} did not finish:\n{text}");
    }

    /// A request straight to a storage server (`url` names the node) carrying `headers`,
    /// signed with the cluster's backend key as the proxy and the daemons sign theirs.
    pub fn backend(&self, method: Method, url: &str, headers: &[(&str, &str)]) -> RequestBuilder {
        let parsed = reqwest::Url::parse(url).expect("a storage server URL");
        let path_and_query = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_string(),
        };
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            map.append(name, reqwest::header::HeaderValue::from_str(value).expect("a header value"));
        }
        self.cluster.secrets.backend.signer.sign(&method, &path_and_query, &mut map);
        self.http.request(method, parsed).headers(map)
    }

    /// A request to `<storage url><path>` with the session's token.
    pub fn req(&self, s: &Session, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{}", s.url, path)).header("X-Auth-Token", &s.token)
    }
}

/// What a CLI run printed: `all` is stdout then stderr, for failure messages.
pub struct CliOutput {
    pub ok: bool,
    pub stdout: String,
    pub all: String,
}

/// The venv the test setup creates (`scripts/bootstrap.sh --python`).
pub fn venv_bin(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join(".venv/bin").join(name);
    assert!(path.exists(), "{} missing: run scripts/bootstrap.sh --python (scripts/test.sh does)", path.display());
    path
}
