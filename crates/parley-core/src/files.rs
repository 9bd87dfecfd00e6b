//! Uploaded files on local disk under `<data dir>/uploads/<workspace>/<attachment id>`.
//! Names on disk are ids, never client-supplied names, so no path can be smuggled in.

use parley_domain::{AttachmentId, WorkspaceId};
use std::path::PathBuf;

#[derive(Clone)]
pub struct Files {
    root: PathBuf,
}

impl Files {
    pub fn new(root: PathBuf) -> Self {
        Files { root }
    }

    fn path(&self, ws: WorkspaceId, id: AttachmentId) -> PathBuf {
        self.root.join(ws.to_string()).join(id.to_string())
    }

    /// Writes to a temporary name and renames, so a crash never leaves a half file under the
    /// final name, and syncs before the rename so an acknowledged upload survives power loss.
    pub async fn save(
        &self,
        ws: WorkspaceId,
        id: AttachmentId,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        let path = self.path(ws, id);
        let dir = path.parent().expect("has parent").to_owned();
        tokio::fs::create_dir_all(&dir).await?;
        let tmp = dir.join(format!(".{id}.part"));
        {
            use tokio::io::AsyncWriteExt;
            let mut f = tokio::fs::File::create(&tmp).await?;
            f.write_all(bytes).await?;
            f.sync_all().await?;
        }
        tokio::fs::rename(&tmp, &path).await
    }

    pub async fn read(&self, ws: WorkspaceId, id: AttachmentId) -> std::io::Result<Vec<u8>> {
        tokio::fs::read(self.path(ws, id)).await
    }
}
