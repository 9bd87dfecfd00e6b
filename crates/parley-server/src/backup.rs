//! `parley backup` and `parley restore`: an online, consistent backup of a SQLite installation
//! (database + uploads + manifest) and its restore into an empty data directory.
//!
//! # Why the backup is consistent
//!
//! 1. The database is copied first, with `VACUUM INTO` on a read-only connection of the backup's
//!    own (`parley_store_sqlite::backup::snapshot`). It is one read transaction: in WAL mode it
//!    sees exactly the transactions committed before it began, whatever the server writes
//!    meanwhile. So the copy is the database as of one instant S — every conversation with
//!    gapless sequence numbers, `last_seq` matching its events, every acknowledged message (an
//!    `ack` is sent after the commit) up to S.
//! 2. The uploads are copied *after* the snapshot. An upload is written (synced, renamed into
//!    place) before its `attachments` row is inserted (`Parley::upload`), and files are never
//!    changed or deleted afterwards. So every attachment row in the snapshot had its file in
//!    place before S, and a copy started after S finds it. The reverse order would miss the
//!    files uploaded between the copy and the snapshot. Files uploaded after S may be copied
//!    too; nothing references them, they are harmless.
//! 3. The backup then checks that every attachment referenced by the copied database has its
//!    file, with the recorded size, and writes `manifest.json` last (time, version, backend,
//!    schema version, counts, the SHA-256 of `parley.db`). A directory without a manifest is an
//!    interrupted backup, and `restore` refuses it.
//!
//! PostgreSQL is backed up with `pg_dump` (also one snapshot), and then — in the same order, for
//! the same reason — the uploads with `parley backup --uploads-only`.

use crate::Settings;
use anyhow::{bail, Context};
use parley_store_sqlite::backup as sqlite;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "manifest.json";
pub const DATABASE: &str = "parley.db";
pub const UPLOADS: &str = "uploads";
const FORMAT: u32 = 1;

const POSTGRES_BACKUP: &str = "this server uses PostgreSQL; `parley backup` copies SQLite \
databases only. Back up the database with pg_dump, e.g. \
`pg_dump --format=custom --file=parley.dump \"$PARLEY_DATABASE_URL\"`, and after it the \
uploaded files with `parley backup --uploads-only --out DIR` (see docs/deploy.md)";

const POSTGRES_RESTORE: &str = "this server uses PostgreSQL; restore the database with \
pg_restore into an empty database, e.g. `pg_restore --no-owner --dbname=\"$PARLEY_DATABASE_URL\" \
parley.dump`, and the uploaded files with `parley restore --uploads-only --from DIR` \
(see docs/deploy.md)";

/// `manifest.json` of a backup directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// When the backup finished (RFC 3339, UTC). The database is as of its start.
    pub created_at: String,
    pub parley_version: String,
    /// The backend of the server it was taken from: "sqlite" or "postgres".
    pub backend: String,
    /// The database copy; absent in an uploads-only backup.
    pub database: Option<DatabaseEntry>,
    pub uploads: UploadsEntry,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseEntry {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    pub schema_version: i64,
    pub counts: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadsEntry {
    pub dir: String,
    pub files: u64,
    pub bytes: u64,
}

enum Backend {
    Sqlite { url: String, path: PathBuf },
    Postgres,
}

fn backend(settings: &Settings) -> anyhow::Result<Backend> {
    let url = settings.database_url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else if url.starts_with("sqlite:") {
        let path = sqlite::database_path(&url)?;
        Ok(Backend::Sqlite { url, path })
    } else {
        bail!("database URL must start with sqlite:// or postgres://")
    }
}

/// Writes a backup into `out`, which must not exist or be an empty directory. With
/// `uploads_only`, copies the uploads directory only (the PostgreSQL case, after `pg_dump`).
pub async fn backup(
    settings: &Settings,
    out: &Path,
    uploads_only: bool,
) -> anyhow::Result<Manifest> {
    let backend = backend(settings)?;
    let db = match (&backend, uploads_only) {
        (Backend::Postgres, false) => bail!(POSTGRES_BACKUP),
        (Backend::Sqlite { url, path }, false) => {
            if !path.is_file() {
                bail!("there is no SQLite database at {}", path.display());
            }
            Some(url.clone())
        }
        (_, true) => None,
    };
    let created = prepare_empty_dir(out, "the backup directory")?;
    let result = backup_into(settings, &backend, db.as_deref(), out).await;
    if result.is_err() {
        remove_created(out, &[DATABASE, UPLOADS, ".manifest.json.part"], created);
    }
    result
}

async fn backup_into(
    settings: &Settings,
    backend: &Backend,
    db_url: Option<&str>,
    out: &Path,
) -> anyhow::Result<Manifest> {
    let uploads = settings.data_dir.join(UPLOADS);
    if let Ok(u) = uploads.canonicalize() {
        if out.canonicalize()?.starts_with(&u) {
            bail!(
                "the backup directory must not be inside the uploads directory {}",
                u.display()
            );
        }
    }
    // 1. The database, as of one instant.
    let mut inspection = None;
    let database = match db_url {
        Some(url) => {
            let file = out.join(DATABASE);
            sqlite::snapshot(url, &file).await?;
            let seen = sqlite::inspect(&file)
                .await
                .context("checking the copied database")?;
            let (bytes, sha256) = blocking({
                let file = file.clone();
                move || {
                    std::fs::File::open(&file)?.sync_all()?;
                    sha256_file(&file)
                }
            })
            .await?;
            let entry = DatabaseEntry {
                file: DATABASE.into(),
                bytes,
                sha256,
                schema_version: seen.schema_version,
                counts: seen
                    .counts
                    .iter()
                    .map(|(k, v)| (k.to_string(), *v))
                    .collect(),
            };
            inspection = Some(seen);
            Some(entry)
        }
        None => None,
    };
    // 2. The files, after the snapshot (see the module documentation).
    let (files, bytes) = blocking({
        let (src, dst) = (uploads.clone(), out.join(UPLOADS));
        move || copy_tree(&src, &dst)
    })
    .await
    .with_context(|| format!("copying {}", uploads.display()))?;
    // 3. Every file the database references is there.
    if let Some(seen) = inspection {
        let root = out.join(UPLOADS);
        blocking(move || check_attachments(&root, &seen.attachments))
            .await
            .context("the live uploads directory lacks files its database references")?;
    }
    let manifest = Manifest {
        format: FORMAT,
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)?,
        parley_version: env!("CARGO_PKG_VERSION").into(),
        backend: match backend {
            Backend::Sqlite { .. } => "sqlite".into(),
            Backend::Postgres => "postgres".into(),
        },
        database,
        uploads: UploadsEntry {
            dir: UPLOADS.into(),
            files,
            bytes,
        },
    };
    // 4. The manifest last: it marks the backup complete.
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    blocking({
        let out = out.to_owned();
        move || {
            let part = out.join(".manifest.json.part");
            std::fs::write(&part, text)?;
            std::fs::File::open(&part)?.sync_all()?;
            std::fs::rename(&part, out.join(MANIFEST))?;
            sync_dir(&out)
        }
    })
    .await?;
    Ok(manifest)
}

/// Restores the backup in `from` into the configured data directory, which must be empty (or
/// not exist), after checking the backup. With `uploads_only`, restores the files only, into
/// an empty `uploads` directory (the PostgreSQL case, next to `pg_restore`).
pub async fn restore(
    settings: &Settings,
    from: &Path,
    uploads_only: bool,
) -> anyhow::Result<Manifest> {
    let manifest = read_manifest(from)?;
    let backend = backend(settings)?;
    let db_path = match (&backend, uploads_only) {
        (Backend::Postgres, false) => bail!(POSTGRES_RESTORE),
        (Backend::Sqlite { path, .. }, false) => Some(path.clone()),
        (_, true) => None,
    };
    // 1. The backup is intact: checksum, integrity, schema, every referenced file present.
    if db_path.is_some() {
        let Some(entry) = &manifest.database else {
            bail!(
                "{} holds only uploads (taken with --uploads-only); restore them with --uploads-only",
                from.display()
            );
        };
        verify_database(from, entry).await?;
    }
    verify_uploads(from, &manifest).await?;
    // 2. The target is empty.
    let data_dir = settings.data_dir.clone();
    let uploads = data_dir.join(UPLOADS);
    if let Some(db) = &db_path {
        for p in [
            db.clone(),
            with_suffix(db, "-wal"),
            with_suffix(db, "-journal"),
        ] {
            if p.exists() {
                bail!(
                    "refusing to restore: a database already exists at {}; restore needs an empty data directory",
                    p.display()
                );
            }
        }
        if !is_empty_or_missing(&data_dir)? {
            bail!(
                "refusing to restore: the data directory {} is not empty; restore needs an empty data directory",
                data_dir.display()
            );
        }
    } else if !is_empty_or_missing(&uploads)? {
        bail!(
            "refusing to restore: the uploads directory {} is not empty",
            uploads.display()
        );
    }
    // 3. Copy: files first, the database last (under a temporary name, renamed when complete).
    let created_data_dir = !data_dir.exists();
    if created_data_dir {
        create_private_dir(&data_dir)?;
    }
    let db_part = db_path.as_ref().map(|db| with_suffix(db, ".restoring"));
    let result = blocking({
        let (from, uploads, db_path, db_part) = (
            from.to_owned(),
            uploads.clone(),
            db_path.clone(),
            db_part.clone(),
        );
        let expected = manifest.database.as_ref().map(|d| d.sha256.clone());
        move || -> anyhow::Result<()> {
            copy_tree(&from.join(UPLOADS), &uploads)?;
            if let (Some(db), Some(part), Some(expected)) = (db_path, db_part, expected) {
                if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::copy(from.join(DATABASE), &part)?;
                std::fs::File::open(&part)?.sync_all()?;
                let (_, sha) = sha256_file(&part)?;
                if sha != expected {
                    bail!("the copied database does not match the backup's checksum");
                }
                std::fs::rename(&part, &db)?;
                if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
                    sync_dir(parent)?;
                }
            }
            Ok(())
        }
    })
    .await;
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&uploads);
        if let Some(p) = &db_part {
            let _ = std::fs::remove_file(p);
        }
        if created_data_dir {
            let _ = std::fs::remove_dir(&data_dir);
        }
        return Err(e.context(format!("restoring into {}", data_dir.display())));
    }
    Ok(manifest)
}

fn read_manifest(from: &Path) -> anyhow::Result<Manifest> {
    let path = from.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{} is not a complete Parley backup: {MANIFEST} is missing (an interrupted backup has none)",
            from.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let m: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a Parley backup manifest", path.display()))?;
    if m.format != FORMAT {
        bail!(
            "{} has backup format {}; this Parley reads format {FORMAT}",
            path.display(),
            m.format
        );
    }
    Ok(m)
}

async fn verify_database(from: &Path, entry: &DatabaseEntry) -> anyhow::Result<()> {
    let file = from.join(&entry.file);
    if entry.file != DATABASE {
        bail!(
            "unexpected database file name {:?} in the manifest",
            entry.file
        );
    }
    let (bytes, sha) = blocking({
        let file = file.clone();
        move || sha256_file(&file)
    })
    .await
    .with_context(|| format!("reading {}", file.display()))?;
    if sha != entry.sha256 || bytes != entry.bytes {
        bail!(
            "checksum mismatch: {} has sha256 {sha} ({bytes} bytes) but the manifest records {} ({} bytes); the backup is damaged, nothing was restored",
            file.display(),
            entry.sha256,
            entry.bytes
        );
    }
    let seen = sqlite::inspect(&file).await?;
    let newest = sqlite::latest_schema_version();
    if seen.schema_version > newest {
        bail!(
            "the backup has database schema {} but this Parley ({}) knows schema {newest} at most; restore it with the Parley version that made it ({} or newer)",
            seen.schema_version,
            env!("CARGO_PKG_VERSION"),
            from.display()
        );
    }
    let root = from.join(UPLOADS);
    blocking(move || check_attachments(&root, &seen.attachments))
        .await
        .context("the backup is incomplete; nothing was restored")
}

async fn verify_uploads(from: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let root = from.join(UPLOADS);
    if !root.is_dir() {
        bail!("{} is missing from the backup", root.display());
    }
    let (files, bytes) = blocking(move || count_tree(&root)).await?;
    if (files, bytes) != (manifest.uploads.files, manifest.uploads.bytes) {
        bail!(
            "the backup's uploads hold {files} files ({bytes} bytes) but the manifest records {} ({} bytes); the backup is damaged, nothing was restored",
            manifest.uploads.files,
            manifest.uploads.bytes
        );
    }
    Ok(())
}

/// Every attachment row has its file at `root/<workspace>/<id>` with the recorded size.
fn check_attachments(
    root: &Path,
    attachments: &[(uuid::Uuid, uuid::Uuid, i64)],
) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    for (ws, id, size) in attachments {
        let p = root.join(ws.to_string()).join(id.to_string());
        match std::fs::metadata(&p) {
            Ok(m) if m.is_file() && m.len() as i64 == *size => {}
            Ok(m) => missing.push(format!("{ws}/{id} ({} bytes, expected {size})", m.len())),
            Err(_) => missing.push(format!("{ws}/{id}")),
        }
    }
    if !missing.is_empty() {
        let n = missing.len();
        missing.truncate(5);
        bail!(
            "{n} referenced file(s) missing or of the wrong size under {}: {}",
            root.display(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// Creates `dir` (private to the owner) or accepts it if it is an empty directory. Returns
/// whether it was created.
fn prepare_empty_dir(dir: &Path, what: &str) -> anyhow::Result<bool> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!(
                "refusing: {what} {} exists and is not a directory",
                dir.display()
            );
        }
        if !is_empty_or_missing(dir)? {
            bail!(
                "refusing: {what} {} exists and is not empty; give a new or empty directory",
                dir.display()
            );
        }
        return Ok(false);
    }
    create_private_dir(dir)?;
    Ok(true)
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Best-effort removal of what a failed backup wrote.
fn remove_created(dir: &Path, names: &[&str], created: bool) {
    for n in names {
        let p = dir.join(n);
        if p.is_dir() {
            let _ = std::fs::remove_dir_all(&p);
        } else {
            let _ = std::fs::remove_file(&p);
        }
    }
    if created {
        let _ = std::fs::remove_dir(dir);
    }
}

fn is_empty_or_missing(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Copies the regular files under `src` to `dst` (created), syncing each; skips names starting
/// with a dot (uploads in progress are written as `.<id>.part`). A missing `src` copies nothing.
/// Returns the number of files and bytes copied.
fn copy_tree(src: &Path, dst: &Path) -> anyhow::Result<(u64, u64)> {
    create_private_dir(dst)?;
    let mut total = (0, 0);
    let entries = match std::fs::read_dir(src) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(total),
        Err(e) => return Err(e).with_context(|| format!("reading {}", src.display())),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        let (from, to) = (entry.path(), dst.join(&name));
        if kind.is_dir() {
            let (f, b) = copy_tree(&from, &to)?;
            total = (total.0 + f, total.1 + b);
        } else if kind.is_file() {
            let b =
                std::fs::copy(&from, &to).with_context(|| format!("copying {}", from.display()))?;
            std::fs::File::open(&to)?.sync_all()?;
            total = (total.0 + 1, total.1 + b);
        }
    }
    sync_dir(dst)?;
    Ok(total)
}

/// Files and bytes under `root`, counted like [`copy_tree`] copies them.
fn count_tree(root: &Path) -> anyhow::Result<(u64, u64)> {
    let mut total = (0, 0);
    for entry in std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            let (f, b) = count_tree(&entry.path())?;
            total = (total.0 + f, total.1 + b);
        } else if kind.is_file() {
            total = (total.0 + 1, total.1 + entry.metadata()?.len());
        }
    }
    Ok(total)
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    Ok(())
}

/// Size and hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .context("blocking task")?
}
