//! Supervises a server's process: stop asks it to end (SIGTERM, then SIGKILL after a grace
//! period), and a process that ends by itself marks its server SHUTOFF, as Nova's power
//! state sync does.

use super::store;
use crate::db::Db;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const STOP_GRACE: Duration = Duration::from_secs(5);

pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// Ends the process and waits until it is gone.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Starts `cmd`; its stdout (when `stdout_to_console`) and stderr are appended to files in
/// the server's directory. Dropping the returned handle also ends the process.
pub async fn spawn(
    mut cmd: Command,
    console: &Path,
    stdout_to_console: bool,
    log: &Path,
    db: Db,
    server_id: String,
) -> std::io::Result<Running> {
    if stdout_to_console {
        cmd.stdout(Stdio::from(append(console).await?));
    }
    cmd.stderr(Stdio::from(append(log).await?));
    cmd.kill_on_drop(true);
    let mut child = cmd.spawn()?;
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        tokio::select! {
            status = child.wait() => {
                tracing::info!(server = %server_id, status = ?status, "server process ended by itself");
                let id = server_id.clone();
                let _ = db
                    .call(move |c| {
                        let Some(s) = store::get(c, &id)? else { return Ok(()) };
                        // Only a running server becomes SHUTOFF; a reboot or stop in progress owns the state.
                        if s.status == "ACTIVE" && s.task_state.is_none() {
                            store::set_state(c, &id, "SHUTOFF", None, store::SHUTDOWN, crate::web::now_secs())?;
                        }
                        Ok(())
                    })
                    .await;
            }
            // Asked to stop, or the handle was dropped.
            _ = rx => terminate(&mut child).await,
        }
    });
    Ok(Running { stop: Some(tx), task })
}

async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id() {
        // SAFETY: kill(2) with a pid we spawned and have not reaped (`id()` is None once
        // reaped) only sends a signal; it touches no memory.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
    }
    if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
}

async fn append(p: &Path) -> std::io::Result<std::fs::File> {
    Ok(tokio::fs::OpenOptions::new().create(true).append(true).open(p).await?.into_std().await)
}
