//! A compute host's image cache: images come from the image service with the user's token
//! (as nova-compute gets them from Glance), are checked against their MD5 `checksum`, and
//! are kept per host under `images/<id>` so reboots and later boots need no download.

use crate::error::{Result, ShimError};
use crate::web;
use common::http::{empty, HttpClient};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use md5::{Digest, Md5};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The image record, as the image service shows it to the user.
pub async fn image_meta(client: &HttpClient, image_url: &str, token: &str, id: &str) -> Result<Value> {
    let req = Request::get(format!("{image_url}/v2/images/{id}"))
        .header("x-auth-token", token)
        .body(empty())
        .map_err(|e| ShimError::Internal(e.to_string()))?;
    let resp = client.send(req, Duration::from_secs(30)).await?;
    match resp.status() {
        StatusCode::OK => serde_json::from_slice(&web::read_body(resp.into_body(), 1 << 20).await?)
            .map_err(|e| ShimError::Internal(format!("image service answered: {e}"))),
        StatusCode::NOT_FOUND => Err(ShimError::NotFound(format!("Image {id} could not be found."))),
        s => Err(ShimError::Internal(format!("image service answered {s} for image {id}"))),
    }
}

/// The cached file of an image, downloading and verifying it first if needed.
pub async fn cached(client: &HttpClient, image_url: &str, token: &str, meta: &Value, dir: &Path) -> Result<PathBuf> {
    let id = meta["id"].as_str().ok_or_else(|| ShimError::Internal("image record without id".into()))?;
    if meta["status"] != "active" {
        return Err(ShimError::Internal(format!("Image {id} is not active.")));
    }
    let path = dir.join(id);
    if tokio::fs::try_exists(&path).await? {
        return Ok(path);
    }
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{id}.{}", web::new_hex_id()));
    let result = download(client, image_url, token, meta, id, &tmp).await;
    match result {
        Ok(()) => {
            tokio::fs::rename(&tmp, &path).await?;
            Ok(path)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(e)
        }
    }
}

async fn download(client: &HttpClient, image_url: &str, token: &str, meta: &Value, id: &str, tmp: &Path) -> Result<()> {
    let req = Request::get(format!("{image_url}/v2/images/{id}/file"))
        .header("x-auth-token", token)
        .body(empty())
        .map_err(|e| ShimError::Internal(e.to_string()))?;
    let resp = client.send(req, Duration::from_secs(60)).await?;
    if !resp.status().is_success() {
        return Err(ShimError::Internal(format!(
            "image service answered {} for the data of image {id}",
            resp.status()
        )));
    }
    let mut file = tokio::fs::File::create(tmp).await?;
    let mut md5 = Md5::new();
    let mut size = 0u64;
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ShimError::Internal(format!("downloading image {id}: {e}")))?;
        if let Ok(data) = frame.into_data() {
            md5.update(&data);
            size += data.len() as u64;
            file.write_all(&data).await?;
        }
    }
    file.sync_all().await?;
    let got = hex::encode(md5.finalize());
    let want = meta["checksum"].as_str().unwrap_or_default();
    if got != want || meta["size"].as_u64().is_some_and(|s| s != size) {
        return Err(ShimError::Internal(format!(
            "Image {id} failed verification: checksum {got} ({size} bytes), expected {want}"
        )));
    }
    Ok(())
}
