//! The Redis event log (DESIGN §1): a stream, a snapshot hash and a meta hash under one hash tag,
//! written only through Lua scripts so every check and write is atomic. Appends and page reads use
//! the writer connection (auto-reconnecting; following a Sentinel failover or the Cluster's slot
//! map, see `connection.rs`); blocking tail reads use their own connection so a long
//! `XREAD BLOCK` never stalls (or times out) other commands.

use super::connection::{Connector, LogConnection};
use super::url::RedisTarget;
use super::{
    AppendBatch, EventLog, Fence, LogError, LogMeta, RangeRead, Result, SnapshotChange,
    SnapshotRead,
};
use crate::keys::ClusterKeys;
use crate::protocol::{Epoch, Seq, StoredEvent};
use crate::time::now_ms;
use bytes::Bytes;
use redis::Script;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Raw stream entries: `(id, [field, value, …])`.
type RawEntries = Vec<(String, Vec<Vec<u8>>)>;
/// The four meta fields as HMGET returns them.
type RawMeta = Vec<Option<String>>;

struct Scripts {
    append: Script,
    create_epoch: Script,
    read_range: Script,
    snapshot: Script,
    retire_epoch: Script,
}

impl Scripts {
    fn load() -> Self {
        Self {
            append: Script::new(include_str!("lua/append.lua")),
            create_epoch: Script::new(include_str!("lua/create_epoch.lua")),
            read_range: Script::new(include_str!("lua/read_range.lua")),
            snapshot: Script::new(include_str!("lua/snapshot.lua")),
            retire_epoch: Script::new(include_str!("lua/retire_epoch.lua")),
        }
    }
}

/// One cluster's log in Redis (one server, a Sentinel-managed primary or a Redis Cluster).
#[derive(Clone)]
pub struct RedisLog {
    /// Shared: with TLS settings the clients are a few hundred bytes, and every clone of the log
    /// (one per task that reads it) would copy them.
    connector: Arc<Connector>,
    keys: Arc<ClusterKeys>,
    writer: LogConnection,
    reader: Arc<Mutex<Option<LogConnection>>>,
    scripts: Arc<Scripts>,
    max_len: usize,
}

impl RedisLog {
    /// Connects to `url` (any form [`RedisTarget`] accepts) for cluster `cluster`, retaining
    /// about `max_len` events.
    pub async fn connect(url: &str, cluster: &str, max_len: usize) -> Result<Self> {
        let connector = Connector::new(&RedisTarget::parse(url)?)?;
        let writer = connector.writer().await?;
        Ok(Self {
            connector: Arc::new(connector),
            keys: Arc::new(ClusterKeys::new(cluster)),
            writer,
            reader: Arc::new(Mutex::new(None)),
            scripts: Arc::new(Scripts::load()),
            max_len: max_len.max(1),
        })
    }

    /// The Redis keys of this cluster's log.
    pub fn keys(&self) -> &ClusterKeys {
        &self.keys
    }

    /// A dedicated connection for blocking reads, without a response timeout.
    async fn reader_connection(&self) -> Result<LogConnection> {
        let mut slot = self.reader.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let conn = self.connector.reader().await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn drop_reader(&self) {
        *self.reader.lock().await = None;
    }
}

fn refusal(status: &str, detail: &str, batch: &AppendBatch) -> LogError {
    match status {
        "stale_fence" => LogError::StaleFence {
            ours: batch.fence,
            current: detail.parse().unwrap_or(Fence::MAX),
        },
        "head_mismatch" => LogError::HeadMismatch {
            expected: batch.expected_head,
            actual: Seq(detail.parse().unwrap_or(0)),
        },
        "epoch_mismatch" => LogError::EpochMismatch {
            ours: batch.epoch.clone(),
            current: (!detail.is_empty()).then(|| Epoch(detail.to_string())),
        },
        "non_contiguous" => LogError::NonContiguous,
        other => LogError::Corrupt(format!("unexpected append status {other:?}")),
    }
}

fn parse_meta(raw: &RawMeta) -> Result<LogMeta> {
    let field = |i: usize| raw.get(i).cloned().flatten();
    let number = |i: usize| -> Result<u64> {
        field(i)
            .unwrap_or_else(|| "0".into())
            .parse()
            .map_err(|_| LogError::Corrupt(format!("meta field {i} is not a number")))
    };
    let epoch = field(0).ok_or(LogError::Missing)?;
    Ok(LogMeta {
        epoch: Epoch(epoch),
        seq: Seq(number(1)?),
        fence: number(2)?,
        created: number(3)?,
    })
}

fn parse_stream_id(id: &str) -> Result<Seq> {
    id.split('-')
        .next()
        .and_then(|s| s.parse().ok())
        .map(Seq)
        .ok_or_else(|| LogError::Corrupt(format!("bad stream id {id:?}")))
}

fn parse_entry(id: &str, fields: &[Vec<u8>]) -> Result<StoredEvent> {
    let raw = fields
        .chunks(2)
        .find(|pair| pair.first().is_some_and(|f| f == b"e"))
        .and_then(|pair| pair.get(1))
        .ok_or_else(|| LogError::Corrupt(format!("entry {id} has no `e` field")))?;
    let event = StoredEvent::from_raw(Bytes::copy_from_slice(raw))
        .map_err(|e| LogError::Corrupt(format!("entry {id}: {e}")))?;
    if event.seq() != parse_stream_id(id)? {
        return Err(LogError::Corrupt(format!(
            "entry {id} carries seq {}",
            event.seq()
        )));
    }
    Ok(event)
}

fn parse_entries(entries: &RawEntries) -> Result<Vec<StoredEvent>> {
    entries
        .iter()
        .map(|(id, fields)| parse_entry(id, fields))
        .collect()
}

impl EventLog for RedisLog {
    async fn meta(&self) -> Result<Option<LogMeta>> {
        let raw: RawMeta = redis::cmd("HMGET")
            .arg(&self.keys.meta)
            .arg(&["epoch", "seq", "fence", "created"])
            .query_async(&mut self.writer.clone())
            .await?;
        if raw.first().cloned().flatten().is_none() {
            return Ok(None);
        }
        parse_meta(&raw).map(Some)
    }

    async fn retire_epoch(&self, epoch: &Epoch, retired: &Epoch) -> Result<bool> {
        let done: i64 = self
            .scripts
            .retire_epoch
            .key(&self.keys.meta)
            .arg(epoch.as_str())
            .arg(retired.as_str())
            .invoke_async(&mut self.writer.clone())
            .await?;
        Ok(done == 1)
    }

    async fn create_epoch(&self, epoch: &Epoch, fence: Fence) -> Result<LogMeta> {
        let created = now_ms();
        let (status, detail): (String, String) = self
            .scripts
            .create_epoch
            .key(&self.keys.log)
            .key(&self.keys.objects)
            .key(&self.keys.meta)
            .arg(epoch.as_str())
            .arg(fence)
            .arg(created)
            .invoke_async(&mut self.writer.clone())
            .await?;
        if status != "ok" {
            return Err(LogError::StaleFence {
                ours: fence,
                current: detail.parse().unwrap_or(0),
            });
        }
        Ok(LogMeta {
            epoch: epoch.clone(),
            seq: Seq::ZERO,
            fence,
            created,
        })
    }

    async fn append(&self, batch: &AppendBatch) -> Result<Seq> {
        let mut invocation = self.scripts.append.prepare_invoke();
        invocation
            .key(&self.keys.log)
            .key(&self.keys.objects)
            .key(&self.keys.meta)
            .arg(batch.fence)
            .arg(batch.epoch.as_str())
            .arg(batch.expected_head.0)
            .arg(self.max_len);
        for entry in &batch.entries {
            let op = match &entry.snapshot {
                SnapshotChange::Put(key) => format!("P:{key}"),
                SnapshotChange::Delete(key) => format!("D:{key}"),
                SnapshotChange::None => "N".to_string(),
            };
            invocation
                .arg(entry.seq.0)
                .arg(entry.raw.as_ref())
                .arg(&entry.ns)
                .arg(&entry.kind)
                .arg(op);
        }
        let (status, detail): (String, String) =
            invocation.invoke_async(&mut self.writer.clone()).await?;
        if status != "ok" {
            return Err(refusal(&status, &detail, batch));
        }
        detail
            .parse()
            .map(Seq)
            .map_err(|_| LogError::Corrupt(format!("append returned head {detail:?}")))
    }

    async fn read_range(&self, after: Seq, limit: usize) -> Result<RangeRead> {
        let start = format!("{}-0", after.0.saturating_add(1));
        let reply: Option<(RawMeta, String, RawEntries)> = self
            .scripts
            .read_range
            .key(&self.keys.log)
            .key(&self.keys.meta)
            .arg(start)
            .arg(limit.max(1))
            .invoke_async(&mut self.writer.clone())
            .await?;
        let (meta, oldest, entries) = reply.ok_or(LogError::Missing)?;
        let oldest = if oldest.is_empty() {
            None
        } else {
            Some(parse_stream_id(&oldest)?)
        };
        Ok(RangeRead {
            meta: parse_meta(&meta)?,
            oldest,
            events: parse_entries(&entries)?,
        })
    }

    async fn wait_after(
        &self,
        after: Seq,
        limit: usize,
        block: Duration,
    ) -> Result<Vec<StoredEvent>> {
        let mut conn = self.reader_connection().await?;
        let block_ms = block.as_millis().clamp(1, u64::MAX as u128) as u64;
        let reply: redis::RedisResult<Option<Vec<(String, RawEntries)>>> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(limit.max(1))
            .arg("BLOCK")
            .arg(block_ms)
            .arg("STREAMS")
            .arg(&self.keys.log)
            .arg(format!("{}-0", after.0))
            .query_async(&mut conn)
            .await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) => {
                self.drop_reader().await;
                return Err(e.into());
            }
        };
        let entries = reply
            .into_iter()
            .flatten()
            .flat_map(|(_, entries)| entries)
            .collect();
        parse_entries(&entries)
    }

    async fn snapshot(&self) -> Result<SnapshotRead> {
        let reply: Option<(RawMeta, Vec<Vec<u8>>)> = self
            .scripts
            .snapshot
            .key(&self.keys.objects)
            .key(&self.keys.meta)
            .invoke_async(&mut self.writer.clone())
            .await?;
        let (meta, flat) = reply.ok_or(LogError::Missing)?;
        let objects = flat
            .chunks(2)
            .filter_map(|pair| pair.get(1))
            .map(|raw| {
                StoredEvent::from_raw(Bytes::copy_from_slice(raw))
                    .map_err(|e| LogError::Corrupt(format!("snapshot value: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SnapshotRead {
            meta: parse_meta(&meta)?,
            objects,
        })
    }
}
