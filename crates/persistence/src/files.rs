//! Shared files (slides, papers, recordings) in an object store, so that a cloud bucket can
//! replace the local directory without touching callers. Uploads are streamed: a file of any
//! size costs a few megabytes of memory.

mod name;
mod sniff;

use std::io::{self, Read as _, Seek as _};
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use convene_domain::ports::FileStore;
use convene_domain::{DomainError, DomainResult, StoredFile};
use futures_util::stream::{BoxStream, StreamExt as _, TryStreamExt as _};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt as _, WriteMultipart};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// Bytes read from the upload per blocking call; the first read is also what the type is
/// decided from, so it must cover an Office document's first entries (64 KiB is plenty).
const READ_CHUNK: u64 = 1024 * 1024;
/// The part size of multipart uploads (S3's minimum for all but the last part).
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts written concurrently; with `PART_SIZE` and `READ_CHUNK` this bounds an upload's
/// memory to about 16 MiB.
const PARTS_IN_FLIGHT: usize = 2;
/// Where uploaded files go under the store's root.
const PREFIX: &str = "presentations";

/// The object store holding shared files.
#[derive(Clone, Debug)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
}

/// A stored file's bytes, as asked for.
pub struct ReadFile {
    /// The bytes of `range`, in order.
    pub body: BoxStream<'static, io::Result<Bytes>>,
    /// The bytes `body` holds: the requested range with its end clamped to the size.
    pub range: Range<u64>,
    /// The size of the whole file.
    pub total_size: u64,
}

impl Files {
    /// Files on local disk under `root`, created if missing. Writes are fsynced before
    /// `put` returns, so that a file a committed row points to survives a crash.
    pub fn local(root: &std::path::Path) -> io::Result<Self> {
        std::fs::create_dir_all(root)?;
        let store = LocalFileSystem::new_with_prefix(root)
            .map_err(io::Error::other)?
            .with_fsync(true);
        Ok(Self {
            store: Arc::new(store),
        })
    }

    /// The bytes of the file at `key`, all of them or those of `range` (read with a ranged
    /// request, so that a short range of a long recording costs little). Returns `NotFound`
    /// for a key that names no file, and `Invalid` for an empty range or one starting at or
    /// after the end of the file.
    pub async fn read(&self, key: &str, range: Option<Range<u64>>) -> DomainResult<ReadFile> {
        let location = parse_key(key).ok_or(DomainError::NotFound)?;
        if range.as_ref().is_some_and(|range| range.is_empty()) {
            return Err(DomainError::invalid("range", "is empty"));
        }
        let options = GetOptions::new().with_range(range.clone().map(GetRange::Bounded));
        match self.store.get_opts(&location, options).await {
            Ok(found) => Ok(ReadFile {
                range: found.range.clone(),
                total_size: found.meta.size,
                body: found.into_stream().map_err(io::Error::other).boxed(),
            }),
            Err(object_store::Error::NotFound { .. }) => Err(DomainError::NotFound),
            Err(err) => {
                // Stores report a range past the end in their own ways; ask for the size.
                if let Some(range) = range {
                    let size = self.store.head(&location).await.map(|meta| meta.size);
                    if size.is_ok_and(|size| range.start >= size) {
                        return Err(DomainError::invalid("range", "starts after the end"));
                    }
                }
                Err(DomainError::internal(format_args!("reading {key}: {err}")))
            }
        }
    }

    /// Streams `reader` (whose first chunk is `first`) into a new object at `location`.
    async fn upload(
        &self,
        location: &Path,
        first: Bytes,
        reader: &mut ChunkReader,
    ) -> DomainResult<()> {
        let upload = self
            .store
            .put_multipart(location)
            .await
            .map_err(|err| DomainError::internal(format_args!("starting upload: {err}")))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut chunk = first;
        let streamed: DomainResult<()> = async {
            loop {
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|err| DomainError::internal(format_args!("writing: {err}")))?;
                writer.put(chunk);
                chunk = reader.next().await?;
                if chunk.is_empty() {
                    return Ok(());
                }
            }
        }
        .await;
        if let Err(err) = streamed {
            if let Err(abort) = writer.abort().await {
                tracing::warn!(error = %abort, %location, "aborting a failed upload");
            }
            return Err(err);
        }
        // On failure `finish` aborts the upload itself.
        writer
            .finish()
            .await
            .map_err(|err| DomainError::internal(format_args!("completing upload: {err}")))?;
        Ok(())
    }
}

#[async_trait]
impl FileStore for Files {
    async fn put(&self, filename: &str, file: std::fs::File) -> DomainResult<StoredFile> {
        let filename = name::for_display(filename);
        let mut reader = ChunkReader::new(file);
        let first = reader.next().await?;
        if first.is_empty() {
            return Err(DomainError::invalid("file", "is empty"));
        }
        // Decided before anything is written, so that a refused file leaves no trace.
        let content_type = sniff::content_type(&first)
            .map_err(|found| DomainError::invalid("file", format!("type not allowed: {found}")))?;
        let key = format!("{PREFIX}/{}", Uuid::now_v7().simple());
        self.upload(&Path::from(key.as_str()), first, &mut reader)
            .await?;
        let (byte_size, sha256) = reader.finish();
        Ok(StoredFile {
            key,
            filename,
            content_type: content_type.to_owned(),
            byte_size,
            sha256,
        })
    }

    async fn delete(&self, key: &str) -> DomainResult<()> {
        let Some(location) = parse_key(key) else {
            return Ok(());
        };
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(DomainError::internal(format_args!("deleting {key}: {err}"))),
        }
    }
}

/// A key as stored; `None` for one that cannot name a file (empty, or with `..` or empty
/// segments), which no upload produces.
fn parse_key(key: &str) -> Option<Path> {
    Path::parse(key)
        .ok()
        .filter(|path| path.parts().next().is_some())
}

/// Reads a file from its start in chunks on the blocking pool, hashing as it goes.
struct ChunkReader {
    /// Away while a read is in flight; gone after a failed one.
    state: Option<(std::fs::File, Sha256)>,
    rewound: bool,
    size: u64,
}

impl ChunkReader {
    fn new(file: std::fs::File) -> Self {
        Self {
            state: Some((file, Sha256::new())),
            rewound: false,
            size: 0,
        }
    }

    /// The next chunk of up to `READ_CHUNK` bytes; empty at the end of the file.
    async fn next(&mut self) -> DomainResult<Bytes> {
        let (mut file, mut hasher) = self
            .state
            .take()
            .ok_or_else(|| DomainError::internal("reading an upload after a failed read"))?;
        let rewind = !self.rewound;
        let (file, hasher, chunk) = tokio::task::spawn_blocking(move || {
            // The upload may be a clone of a file handle someone already read from.
            if rewind {
                file.rewind()?;
            }
            let mut chunk = Vec::with_capacity(READ_CHUNK as usize);
            file.by_ref().take(READ_CHUNK).read_to_end(&mut chunk)?;
            hasher.update(&chunk);
            Ok::<_, io::Error>((file, hasher, chunk))
        })
        .await
        .map_err(DomainError::internal)?
        .map_err(|err| DomainError::internal(format_args!("reading an upload: {err}")))?;
        self.state = Some((file, hasher));
        self.rewound = true;
        self.size += chunk.len() as u64;
        Ok(Bytes::from(chunk))
    }

    /// The size read and its SHA-256 in lowercase hex.
    fn finish(self) -> (u64, String) {
        let digest = self
            .state
            .map(|(_, hasher)| hex::encode(hasher.finalize()))
            .unwrap_or_default();
        (self.size, digest)
    }
}

#[cfg(test)]
mod tests;
