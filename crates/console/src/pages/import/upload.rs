//! Receiving an upload: the multipart form's small fields in memory, the file spooled to a
//! temporary file as it arrives, so that a 50 MB file costs a few kilobytes of memory. Every
//! chunk must arrive within [`CHUNK_TIMEOUT`] and the whole upload within [`UPLOAD_TIMEOUT`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use actix_multipart::Multipart;
use tokio::io::AsyncWriteExt as _;

use super::MAX_FILE_BYTES;
use super::tokio_stream_free::{next_chunk, next_field};

/// The longest pause between two parts of an upload.
pub const CHUNK_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a whole upload may take (50 MB at about 1.5 Mbit/s).
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// The fields of the upload form.
pub struct Upload {
    /// The CSRF token field.
    pub csrf: String,
    /// What to import.
    pub kind: String,
    /// The file's name as the browser sent it (at most 200 characters).
    pub file_name: String,
    /// The file's content, spooled.
    pub file: Option<SpooledFile>,
}

/// A temporary file that is removed when dropped.
#[derive(Debug)]
pub struct SpooledFile {
    path: PathBuf,
    /// Bytes written.
    pub len: usize,
}

impl SpooledFile {
    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SpooledFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads the form; the message says what is wrong with an upload that cannot be used.
pub async fn read_upload(mut payload: Multipart) -> Result<Upload, String> {
    let deadline = Instant::now() + UPLOAD_TIMEOUT;
    let mut upload = Upload {
        csrf: String::new(),
        kind: String::new(),
        file_name: String::new(),
        file: None,
    };
    while let Some(mut field) = within(deadline, next_field(&mut payload))
        .await?
        .map_err(|_| "The upload could not be read.".to_owned())?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            upload.file_name = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .map(|f| f.chars().take(200).collect())
                .unwrap_or_else(|| "upload.csv".into());
            upload.file = Some(spool(&mut field, deadline).await?);
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = within(deadline, next_chunk(&mut field)).await? {
            let chunk = chunk.map_err(|_| "The upload was interrupted.".to_owned())?;
            if bytes.len() + chunk.len() > 4096 {
                return Err("A field of the form is too long.".into());
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "csrf" => upload.csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "kind" => upload.kind = String::from_utf8_lossy(&bytes).into_owned(),
            _ => {}
        }
    }
    Ok(upload)
}

async fn spool(
    field: &mut actix_multipart::Field,
    deadline: Instant,
) -> Result<SpooledFile, String> {
    let cannot_store = |_| "The upload could not be stored for checking; try again.".to_owned();
    let path = std::env::temp_dir().join(format!(
        "insights-upload-{}.csv",
        tenancy::secret::random_alphanumeric(16)
    ));
    let mut spooled = SpooledFile { path, len: 0 };
    let mut file = tokio::fs::File::create(spooled.path())
        .await
        .map_err(cannot_store)?;
    while let Some(chunk) = within(deadline, next_chunk(field)).await? {
        let chunk = chunk.map_err(|_| "The upload was interrupted.".to_owned())?;
        spooled.len += chunk.len();
        if spooled.len > MAX_FILE_BYTES {
            return Err(format!(
                "The file is larger than {} MB.",
                MAX_FILE_BYTES / (1024 * 1024)
            ));
        }
        file.write_all(&chunk).await.map_err(cannot_store)?;
    }
    file.flush().await.map_err(cannot_store)?;
    Ok(spooled)
}

/// `step` if it completes within the chunk timeout and before the upload's deadline.
async fn within<T>(deadline: Instant, step: impl Future<Output = T>) -> Result<T, String> {
    let limit = CHUNK_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
    tokio::time::timeout(limit, step).await.map_err(|_| {
        "The upload stalled or took too long. Check your connection and upload the file again."
            .to_owned()
    })
}
