//! `Store`: the async face of the broker that servers use. It keeps SQLite off the tokio
//! runtime (every call runs on the device's blocking pool: at most `workers_per_device`
//! threads per device, so one slow disk cannot take every thread), caches open
//! connections per DB, quarantines DBs that turn out to be damaged, and batches row merges.
//!
//! Batching (group commit): `merge_rows` queues the rows on the DB's handle; the first
//! caller to find no writer running starts one on the device pool, which takes everything
//! queued (up to `max_batch_rows`), merges it in one transaction, commits, answers every
//! waiter, and repeats until the queue is empty. N concurrent PUTs into one container cost
//! one commit per batch instead of N.
//!
//! Durability: with `group_sync` (the default) the writer connection commits without an
//! fsync, and every write call (`write`, `merge_rows`) waits for the device filesystem's
//! [`GroupSync`] before it returns. That one `syncfs` covers every DB written on the
//! filesystem since, and the object server's small writes too when they share a process, so
//! commits of many DBs share one device flush instead of paying one `fdatasync` each.
//! Without it, each commit is fsynced. Either way a caller is answered only after its rows
//! are on disk, so a 2xx is never sent for a row that is not.

use super::db::{CommitSync, Db, DbInfo, DbInit};
use super::disk::{self, DbLocation};
use super::error::{BrokerError, Result};
use super::rows::{MergeOutcome, Rows};
use super::DbKind;
use common::group_sync::GroupSync;
use common::HashPathSecret;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{oneshot, Semaphore};

/// Tuning and placement of a store; every field has a sensible default.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub devices: PathBuf,
    pub mount_check: bool,
    /// Blocking threads one device may use at once.
    pub workers_per_device: usize,
    /// DB handles (with their open connections) kept cached.
    pub max_open_dbs: usize,
    /// Rows merged in one transaction at most.
    pub max_batch_rows: usize,
    /// Make commits durable with the filesystem's group sync instead of an fsync each.
    pub group_sync: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            devices: PathBuf::from("/srv/node"),
            mount_check: true,
            workers_per_device: 4,
            max_open_dbs: 256,
            max_batch_rows: 2000,
            group_sync: true,
        }
    }
}

/// Connections of one open DB, and its queue of rows waiting for the writer.
struct Handle {
    writer: Mutex<Option<Db>>,
    readers: Mutex<Vec<Db>>,
    queue: Mutex<Queue>,
    /// Set when the file was quarantined: cached connections must not be reused.
    dead: AtomicBool,
}

type Waiter = oneshot::Sender<Result<MergeOutcome>>;

#[derive(Default)]
struct Queue {
    pending: Vec<(Rows, Waiter)>,
    running: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves only plain data behind; keep going.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reports an error to every waiter of a failed batch (errors are not `Clone`).
fn copy_err(e: &BrokerError) -> BrokerError {
    match e {
        BrokerError::NotFound(p) => BrokerError::NotFound(p.clone()),
        BrokerError::Unmounted(d) => BrokerError::Unmounted(d.clone()),
        BrokerError::BadInput(m) => BrokerError::BadInput(m.clone()),
        BrokerError::Quarantined { path, to, reason } => {
            BrokerError::Quarantined { path: path.clone(), to: to.clone(), reason: reason.clone() }
        }
        other => BrokerError::Failed(other.to_string()),
    }
}

pub struct Store {
    kind: DbKind,
    cfg: StoreConfig,
    secret: HashPathSecret,
    handles: Mutex<HashMap<PathBuf, Arc<Handle>>>,
    pools: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Each device's filesystem group sync, opened on its first write.
    groups: Mutex<HashMap<String, Arc<GroupSync>>>,
    batches: AtomicU64,
    batched_rows: AtomicU64,
}

/// How much group commit saved: batches committed and the rows they carried.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchStats {
    pub batches: u64,
    pub rows: u64,
}

/// What happened to a whole DB sent by a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallOutcome {
    /// There was no local copy: the sent DB is now it.
    Installed,
    /// A local copy existed: the sent rows were merged into it.
    Merged,
}

impl Store {
    pub fn new(kind: DbKind, cfg: StoreConfig, secret: HashPathSecret) -> Arc<Store> {
        Arc::new(Store {
            kind,
            cfg,
            secret,
            handles: Mutex::default(),
            pools: Mutex::default(),
            groups: Mutex::default(),
            batches: AtomicU64::new(0),
            batched_rows: AtomicU64::new(0),
        })
    }

    pub fn kind(&self) -> DbKind {
        self.kind
    }

    pub fn config(&self) -> &StoreConfig {
        &self.cfg
    }

    /// Batches committed by `merge_rows` so far, and their rows.
    pub fn batch_stats(&self) -> BatchStats {
        BatchStats { batches: self.batches.load(Ordering::Relaxed), rows: self.batched_rows.load(Ordering::Relaxed) }
    }

    /// Where the DB of `account[/container]` lives on `device`, partition `partition`.
    pub fn location(&self, device: &str, partition: u32, account: &str, container: Option<&str>) -> DbLocation {
        DbLocation { device: device.to_string(), partition, hash: self.secret.hash_hex(account, container, None) }
    }

    pub fn db_path(&self, loc: &DbLocation) -> Result<PathBuf> {
        disk::db_path(&self.cfg.devices, self.kind, loc)
    }

    /// The device's scratch directory (received DBs land here before install).
    pub fn tmp_dir(&self, device: &str) -> Result<PathBuf> {
        common::path::validate_device(device).map_err(|e| BrokerError::BadDevice(e.to_string()))?;
        Ok(self.cfg.devices.join(device).join("tmp"))
    }

    /// Runs `f` on `device`'s blocking pool, after checking the device is mounted.
    pub async fn run<T, F>(&self, device: &str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T> + Send + 'static,
    {
        let sem = {
            let mut pools = lock(&self.pools);
            let n = self.cfg.workers_per_device.max(1);
            pools.entry(device.to_string()).or_insert_with(|| Arc::new(Semaphore::new(n))).clone()
        };
        let permit = sem.acquire_owned().await.map_err(|_| BrokerError::WorkerGone)?;
        let (devices, dev, mount_check) = (self.cfg.devices.clone(), device.to_string(), self.cfg.mount_check);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            disk::check_device(&devices, &dev, mount_check)?;
            f()
        })
        .await
        .map_err(|_| BrokerError::WorkerGone)?
    }

    fn handle(&self, path: &Path) -> Arc<Handle> {
        let mut handles = lock(&self.handles);
        if let Some(h) = handles.get(path) {
            return h.clone();
        }
        if handles.len() >= self.cfg.max_open_dbs {
            // Drop idle handles (nobody else holds them, no batch queued).
            handles.retain(|_, h| Arc::strong_count(h) > 1 || lock(&h.queue).running);
        }
        let h = Arc::new(Handle {
            writer: Mutex::new(None),
            readers: Mutex::new(Vec::new()),
            queue: Mutex::new(Queue::default()),
            dead: AtomicBool::new(false),
        });
        handles.insert(path.to_owned(), h.clone());
        h
    }

    fn forget(&self, path: &Path) {
        if let Some(h) = lock(&self.handles).remove(path) {
            h.dead.store(true, Ordering::SeqCst);
            lock(&h.writer).take();
            lock(&h.readers).clear();
        }
    }

    /// Quarantines the DB when `e` says its file is damaged; passes other errors through.
    fn screen(self: &Arc<Self>, loc: &DbLocation, path: &Path, e: BrokerError) -> BrokerError {
        let Some(reason) = e.corruption_reason() else { return e };
        self.forget(path);
        match disk::quarantine(&self.cfg.devices, self.kind, loc, &format!("{reason}: {e}")) {
            Ok(to) => BrokerError::Quarantined { path: path.to_owned(), to, reason: reason.to_string() },
            Err(qe) => {
                tracing::error!(error = %qe, db = %path.display(), "could not quarantine damaged database");
                e
            }
        }
    }

    /// Creates the DB at `loc`; `Ok(false)` when it already existed.
    pub async fn create(self: &Arc<Self>, loc: &DbLocation, init: DbInit) -> Result<bool> {
        let path = self.db_path(loc)?;
        let kind = self.kind;
        self.run(&loc.device, move || {
            if path.is_file() {
                return Ok(false);
            }
            match Db::create_at_version(&path, kind, &init, None) {
                Ok(()) => Ok(true),
                Err(BrokerError::AlreadyExists(_)) => Ok(false),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Whether the DB file exists (without opening it).
    pub async fn exists(self: &Arc<Self>, loc: &DbLocation) -> Result<bool> {
        let path = self.db_path(loc)?;
        self.run(&loc.device, move || Ok(path.is_file())).await
    }

    /// Runs `f` with the DB's writer connection (serialized with batches and other writes);
    /// returns once what it committed is durable.
    pub async fn write<T, F>(self: &Arc<Self>, loc: &DbLocation, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<T> + Send + 'static,
    {
        let path = self.db_path(loc)?;
        let (store, loc2) = (self.clone(), loc.clone());
        let written = self
            .run(&loc.device, move || {
                let h = store.handle(&path);
                let mut w = lock(&h.writer);
                let r = Self::with_writer(&mut w, &path, store.kind, store.commit_sync(), f);
                drop(w);
                r.map_err(|e| store.screen(&loc2, &path, e))
            })
            .await?;
        self.make_durable(&loc.device).await?;
        Ok(written)
    }

    /// How the writer connections commit (see the module docs).
    fn commit_sync(&self) -> CommitSync {
        if self.cfg.group_sync {
            CommitSync::Deferred
        } else {
            CommitSync::Each
        }
    }

    /// Returns once every commit made on `device` so far is durable: at once when each
    /// commit was fsynced, else after the device filesystem's next group sync.
    async fn make_durable(&self, device: &str) -> Result<()> {
        if !self.cfg.group_sync {
            return Ok(());
        }
        let cached = lock(&self.groups).get(device).cloned();
        let group = match cached {
            Some(g) => g,
            None => {
                // Opening the group opens and stats the device: file I/O, so on its pool.
                let dir = self.cfg.devices.join(device);
                let g =
                    self.run(device, move || GroupSync::for_path(&dir).map_err(|e| BrokerError::io(&dir, e))).await?;
                lock(&self.groups).entry(device.to_string()).or_insert(g).clone()
            }
        };
        group.wait().await.map_err(|e| BrokerError::io(&self.cfg.devices.join(device), e))
    }

    fn with_writer<T>(
        slot: &mut Option<Db>,
        path: &Path,
        kind: DbKind,
        sync: CommitSync,
        f: impl FnOnce(&mut Db) -> Result<T>,
    ) -> Result<T> {
        if slot.is_none() {
            *slot = Some(Db::open_with(path, kind, sync)?);
        }
        match slot.as_mut() {
            Some(db) => f(db),
            None => Err(BrokerError::NotFound(path.to_owned())),
        }
    }

    /// Runs `f` with a reader connection (WAL: readers see the last commit, never block).
    pub async fn read<T, F>(self: &Arc<Self>, loc: &DbLocation, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T> + Send + 'static,
    {
        let path = self.db_path(loc)?;
        let (store, loc2) = (self.clone(), loc.clone());
        self.run(&loc.device, move || {
            let h = store.handle(&path);
            let pooled = lock(&h.readers).pop();
            let db = match pooled {
                Some(db) => db,
                None => Db::open(&path, store.kind).map_err(|e| store.screen(&loc2, &path, e))?,
            };
            let r = f(&db).map_err(|e| store.screen(&loc2, &path, e));
            let mut readers = lock(&h.readers);
            if !h.dead.load(Ordering::SeqCst) && readers.len() < 2 {
                readers.push(db);
            }
            r
        })
        .await
    }

    /// The DB's info (timestamps, stats, hash, max row).
    pub async fn info(self: &Arc<Self>, loc: &DbLocation) -> Result<DbInfo> {
        self.read(loc, |db| db.info()).await
    }

    /// Merges rows, batched with other callers' rows for the same DB into one transaction;
    /// returns once the batch's commit is durable.
    pub async fn merge_rows(self: &Arc<Self>, loc: &DbLocation, rows: Rows) -> Result<MergeOutcome> {
        let wrong_kind = match (self.kind, &rows) {
            (DbKind::Container, Rows::Containers(v)) => !v.is_empty(),
            (DbKind::Account, Rows::Objects(v)) => !v.is_empty(),
            _ => false,
        };
        if wrong_kind {
            return Err(BrokerError::BadInput("rows of the wrong kind for this database".into()));
        }
        let path = self.db_path(loc)?;
        let h = self.handle(&path);
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut q = lock(&h.queue);
            q.pending.push((rows, tx));
            !std::mem::replace(&mut q.running, true)
        };
        if start {
            let (store, loc2) = (self.clone(), loc.clone());
            tokio::spawn(async move {
                let (h2, path2, store2, loc3) = (h.clone(), path.clone(), store.clone(), loc2.clone());
                let res = store
                    .run(&loc2.device, move || {
                        store2.drain(&h2, &path2, &loc3);
                        Ok(())
                    })
                    .await;
                if let Err(e) = res {
                    // The writer never started (device gone): fail everything queued.
                    let mut q = lock(&h.queue);
                    for (_, w) in q.pending.drain(..) {
                        let _ = w.send(Err(copy_err(&e)));
                    }
                    q.running = false;
                }
            });
        }
        let merged = rx.await.map_err(|_| BrokerError::WorkerGone)??;
        self.make_durable(&loc.device).await?;
        Ok(merged)
    }

    /// The writer loop: merge everything queued, one transaction per round.
    fn drain(self: &Arc<Self>, h: &Arc<Handle>, path: &Path, loc: &DbLocation) {
        /// Clears `running` even if a merge panics, so the next caller starts a writer.
        struct Running<'a>(&'a Handle);
        impl Drop for Running<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    lock(&self.0.queue).running = false;
                }
            }
        }
        let _guard = Running(h);
        loop {
            let batch: Vec<(Rows, Waiter)> = {
                let mut q = lock(&h.queue);
                if q.pending.is_empty() {
                    q.running = false;
                    return;
                }
                let mut n = 0;
                let take = q
                    .pending
                    .iter()
                    .take_while(|(r, _)| {
                        n += r.len().max(1);
                        n <= self.cfg.max_batch_rows || n == r.len().max(1)
                    })
                    .count()
                    .max(1);
                q.pending.drain(..take).collect()
            };
            let (rows, waiters) = combine(batch);
            let mut w = lock(&h.writer);
            let result =
                Self::with_writer(&mut w, path, self.kind, self.commit_sync(), |db| db.merge_rows(&rows, None));
            drop(w);
            let result = result.map_err(|e| self.screen(loc, path, e));
            if result.is_ok() {
                self.batches.fetch_add(1, Ordering::Relaxed);
                self.batched_rows.fetch_add(rows.len() as u64, Ordering::Relaxed);
            }
            for waiter in waiters {
                let _ = waiter.send(match &result {
                    Ok(o) => Ok(*o),
                    Err(e) => Err(copy_err(e)),
                });
            }
        }
    }

    /// Quarantines the DB at `loc` (e.g. an auditor found it damaged).
    pub async fn quarantine(self: &Arc<Self>, loc: &DbLocation, reason: &str) -> Result<PathBuf> {
        let path = self.db_path(loc)?;
        let (store, loc2, reason) = (self.clone(), loc.clone(), reason.to_string());
        self.run(&loc.device, move || {
            store.forget(&path);
            disk::quarantine(&store.cfg.devices, store.kind, &loc2, &reason)
        })
        .await
    }

    /// Writes a consistent copy of the DB to `dest` (to send a whole DB to a peer).
    pub async fn snapshot(self: &Arc<Self>, loc: &DbLocation, dest: PathBuf) -> Result<()> {
        self.read(loc, move |db| db.snapshot_to(&dest)).await
    }

    /// Every DB on `device`.
    pub async fn walk(self: &Arc<Self>, device: &str) -> Result<Vec<DbLocation>> {
        let (devices, kind, dev) = (self.cfg.devices.clone(), self.kind, device.to_string());
        self.run(device, move || disk::walk(&devices, kind, &dev)).await
    }

    /// Removes the DB's directory (a replicator reclaiming a long-deleted DB).
    pub async fn remove(self: &Arc<Self>, loc: &DbLocation) -> Result<()> {
        let path = self.db_path(loc)?;
        let store = self.clone();
        self.run(&loc.device, move || {
            store.forget(&path);
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            std::fs::remove_dir_all(&dir).map_err(|e| BrokerError::io(&dir, e))
        })
        .await
    }

    /// Takes a whole DB sent by a peer (already written to `uploaded` in the device's tmp
    /// dir): checks it and that it belongs at `loc`, then installs it when there is no
    /// local copy, or merges its rows, metadata, timestamps and sync points into the local
    /// copy. `remote_id` is the sender's DB id. The uploaded file is removed either way.
    pub async fn install(
        self: &Arc<Self>,
        loc: &DbLocation,
        uploaded: PathBuf,
        remote_id: String,
    ) -> Result<InstallOutcome> {
        let target = self.db_path(loc)?;
        let (store, loc2) = (self.clone(), loc.clone());
        let up = uploaded.clone();
        let prepared = self
            .run(&loc.device, move || {
                let mut db = Db::open(&up, store.kind).map_err(|e| bad_upload(&up, e))?;
                db.check_integrity().map_err(|e| bad_upload(&up, e))?;
                let info = db.info()?;
                let hash = store.secret.hash_hex(&info.account, info.container.as_deref(), None);
                if hash != loc2.hash || info.container.is_some() != (store.kind == DbKind::Container) {
                    return Err(BrokerError::BadInput(format!("database for {hash} sent to {}", loc2.hash)));
                }
                if target.is_file() {
                    return Ok(Some(db));
                }
                db.newid(&remote_id, &loc2.device)?;
                drop(db);
                let dir = target.parent().map(Path::to_path_buf).unwrap_or_default();
                std::fs::create_dir_all(&dir).map_err(|e| BrokerError::io(&dir, e))?;
                match std::fs::hard_link(&up, &target) {
                    Ok(()) => {
                        std::fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| BrokerError::io(&dir, e))?;
                        Ok(None)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Db::open(&up, store.kind).map(Some),
                    Err(e) => Err(BrokerError::io(&target, e)),
                }
            })
            .await;
        let outcome = match prepared {
            Ok(None) => Ok(InstallOutcome::Installed),
            Ok(Some(sent)) => self.merge_whole(loc, sent).await.map(|()| InstallOutcome::Merged),
            Err(e) => Err(e),
        };
        let _ = tokio::fs::remove_file(&uploaded).await;
        outcome
    }

    /// Merges everything of `sent` into the local DB at `loc`, in batches.
    async fn merge_whole(self: &Arc<Self>, loc: &DbLocation, sent: Db) -> Result<()> {
        let sent = Arc::new(Mutex::new(sent));
        let s = sent.clone();
        let (req, syncs) = self
            .run(&loc.device, move || {
                let db = lock(&s);
                Ok((db.sync_request()?, db.get_syncs(true)?))
            })
            .await?;
        let mut point = -1;
        loop {
            let s = sent.clone();
            let rows = self.run(&loc.device, move || lock(&s).items_since(point, 1000)).await?;
            let Some(next) = max_rowid(&rows) else { break };
            let source = req.id.clone();
            self.write(loc, move |db| db.merge_rows(&rows, Some(&source))).await?;
            point = next;
        }
        self.write(loc, move |db| {
            db.update_metadata(&req.metadata, false)?;
            db.merge_timestamps(req.created_at, req.put_timestamp, req.delete_timestamp)?;
            db.merge_syncs(&syncs, true)
        })
        .await?;
        // Closing a connection is file I/O too: do it on the pool.
        self.run(&loc.device, move || {
            drop(sent);
            Ok(())
        })
        .await
    }
}

fn bad_upload(path: &Path, e: BrokerError) -> BrokerError {
    BrokerError::BadInput(format!("received database {} is not usable: {e}", path.display()))
}

fn max_rowid(rows: &Rows) -> Option<i64> {
    match rows {
        Rows::Objects(v) => v.last().and_then(|r| r.rowid),
        Rows::Containers(v) => v.last().and_then(|r| r.rowid),
    }
}

/// Joins queued row sets into one (they are all of the store's kind).
fn combine(batch: Vec<(Rows, Waiter)>) -> (Rows, Vec<Waiter>) {
    let mut objects = Vec::new();
    let mut containers = Vec::new();
    let mut waiters = Vec::with_capacity(batch.len());
    for (rows, w) in batch {
        match rows {
            Rows::Objects(v) => objects.extend(v),
            Rows::Containers(v) => containers.extend(v),
        }
        waiters.push(w);
    }
    let rows = if containers.is_empty() { Rows::Objects(objects) } else { Rows::Containers(containers) };
    (rows, waiters)
}
