//! Evaluation keys uploaded once per client and kept by the server: [`KeyId`] names them,
//! [`KeyRegistry`] holds them under a memory cap with least-recently-used eviction.
//!
//! The lattice modes need the client's evaluation keys (Galois keys for the rotations, a
//! relinearization key for the accurate mode, a public key for the reply's sanitization): tens
//! to hundreds of megabytes, far more than a query. The client uploads them once
//! ([`super::Kind::Keys`]); the server parses them through the lattice module's validating
//! parsers, stores them and answers their [`KeyId`]; queries then name the id. A server that
//! does not hold the keys (never uploaded there, evicted, restarted, another server behind the
//! same load balancer) answers [`super::ErrorCode::UnknownKey`] and the client uploads again,
//! so servers share no state.
//!
//! The id is SHA-256 over a domain string, the service, the service's public parameters (the
//! model's setup: parameter fingerprint, shapes) and the key bytes: the client computes it
//! before uploading, the server recomputes it from what it received, and keys uploaded for
//! another model or service never match.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

use super::wire::{ServiceId, malformed};

/// Length of a key id on the wire.
pub const KEY_ID_LEN: usize = 32;

const DOMAIN: &[u8] = b"veil-cryptorec/service/key-id/v1\0";

/// The name of one uploaded key set (see the module docs for how it is computed).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

impl KeyId {
    /// The id of `key_bytes` uploaded for `service` whose public parameters are `parameters`.
    pub fn of(service: ServiceId, parameters: &[u8], key_bytes: &[u8]) -> KeyId {
        let mut h = Sha256::new();
        h.update(DOMAIN);
        h.update([service.code()]);
        h.update((parameters.len() as u64).to_le_bytes());
        h.update(parameters);
        h.update((key_bytes.len() as u64).to_le_bytes());
        h.update(key_bytes);
        KeyId(h.finalize().into())
    }

    /// Reads an id from exactly [`KEY_ID_LEN`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<KeyId> {
        let id: [u8; KEY_ID_LEN] = bytes
            .try_into()
            .map_err(|_| malformed("a key id is 32 bytes"))?;
        Ok(KeyId(id))
    }

    /// Splits a keyed request body into the key id and the rest.
    pub fn split(body: &[u8]) -> Result<(KeyId, &[u8])> {
        let (id, rest) = body
            .split_first_chunk::<KEY_ID_LEN>()
            .ok_or_else(|| malformed("a keyed request starts with a 32-byte key id"))?;
        Ok((KeyId(*id), rest))
    }
}

impl core::fmt::Display for KeyId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl core::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Parsed keys of some service (the handler knows their type and downcasts).
pub type LoadedKeys = Arc<dyn Any + Send + Sync>;

/// Counters of a [`KeyRegistry`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryStats {
    /// Key sets held.
    pub entries: u64,
    /// Bytes charged for them (their in-memory bound).
    pub bytes: u64,
    /// The cap.
    pub capacity: u64,
    /// Key sets stored so far.
    pub inserted: u64,
    /// Key sets evicted to make room.
    pub evicted: u64,
    /// Lookups of ids not held.
    pub misses: u64,
}

struct Entry {
    service: ServiceId,
    keys: LoadedKeys,
    bytes: u64,
    last_used: u64,
}

struct Inner {
    entries: HashMap<KeyId, Entry>,
    clock: u64,
    stats: RegistryStats,
}

/// Uploaded keys under a memory cap. Each key set is charged the memory its parsed form may
/// take (the service decides; see `Service`); inserting evicts the least recently used sets until the new one
/// fits. Keys in use by a running query stay alive (shared) until it ends, so the memory held
/// is at most the cap plus one key set per compute worker.
pub struct KeyRegistry {
    capacity: u64,
    inner: Mutex<Inner>,
}

impl core::fmt::Debug for KeyRegistry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyRegistry")
            .field("stats", &self.stats())
            .finish()
    }
}

impl KeyRegistry {
    /// An empty registry holding at most `capacity` bytes of keys.
    pub fn new(capacity: u64) -> Self {
        KeyRegistry {
            capacity,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                clock: 0,
                stats: RegistryStats {
                    capacity,
                    ..RegistryStats::default()
                },
            }),
        }
    }

    /// The cap in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The keys named `id` for `service`, marked as used; `None` if not held (or held for
    /// another service).
    pub fn get(&self, id: &KeyId, service: ServiceId) -> Option<LoadedKeys> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        match inner.entries.get_mut(id) {
            Some(e) if e.service == service => {
                e.last_used = now;
                Some(Arc::clone(&e.keys))
            }
            _ => {
                inner.stats.misses += 1;
                None
            }
        }
    }

    /// Stores `keys` (charged `bytes`) under `id`, evicting least recently used sets until they
    /// fit. Keys larger than the whole cap are refused.
    pub fn insert(
        &self,
        id: KeyId,
        service: ServiceId,
        keys: LoadedKeys,
        bytes: u64,
    ) -> Result<()> {
        if bytes > self.capacity {
            return Err(Error::TooLarge {
                what: "evaluation keys (the server's key memory)",
                len: bytes,
                max: self.capacity,
            });
        }
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        if let Some(old) = inner.entries.remove(&id) {
            inner.stats.bytes -= old.bytes;
        }
        while inner.stats.bytes + bytes > self.capacity {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.stats.bytes -= e.bytes;
                inner.stats.evicted += 1;
            }
        }
        inner.entries.insert(
            id,
            Entry {
                service,
                keys,
                bytes,
                last_used: now,
            },
        );
        inner.stats.bytes += bytes;
        inner.stats.inserted += 1;
        inner.stats.entries = inner.entries.len() as u64;
        Ok(())
    }

    /// Drops every key set (clients upload again after `UnknownKey`); the counters stay.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.stats.bytes = 0;
    }

    /// The counters.
    pub fn stats(&self) -> RegistryStats {
        let inner = self.lock();
        RegistryStats {
            entries: inner.entries.len() as u64,
            ..inner.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: u32) -> LoadedKeys {
        Arc::new(v)
    }

    #[test]
    fn ids_bind_service_parameters_and_bytes() {
        let a = KeyId::of(ServiceId::BfvFast, b"setup", b"keys");
        assert_eq!(a, KeyId::of(ServiceId::BfvFast, b"setup", b"keys"));
        assert_ne!(a, KeyId::of(ServiceId::Accurate, b"setup", b"keys"));
        assert_ne!(a, KeyId::of(ServiceId::BfvFast, b"setuq", b"keys"));
        assert_ne!(a, KeyId::of(ServiceId::BfvFast, b"setupk", b"eys"));
        assert_eq!(KeyId::from_bytes(&a.0).ok(), Some(a));
        assert!(KeyId::from_bytes(&a.0[1..]).is_err());
        assert!(KeyId::split(&a.0[..31]).is_err());
        assert_eq!(a.to_string().len(), 64);
    }

    #[test]
    fn least_recently_used_sets_are_evicted_under_the_cap() {
        let r = KeyRegistry::new(100);
        let id = |k: u8| KeyId([k; KEY_ID_LEN]);
        let s = ServiceId::BfvFast;
        r.insert(id(1), s, keys(1), 40).expect("fits");
        r.insert(id(2), s, keys(2), 40).expect("fits");
        assert!(r.get(&id(1), s).is_some()); // 1 is now more recent than 2
        r.insert(id(3), s, keys(3), 40).expect("fits");
        assert!(r.get(&id(2), s).is_none(), "2 was the least recently used");
        assert!(r.get(&id(1), s).is_some() && r.get(&id(3), s).is_some());
        assert!(r.get(&id(1), ServiceId::Accurate).is_none());
        let st = r.stats();
        assert_eq!((st.entries, st.bytes, st.evicted), (2, 80, 1));
        assert!(r.insert(id(4), s, keys(4), 101).is_err());
        // Re-inserting an id replaces it without double counting.
        r.insert(id(3), s, keys(5), 50).expect("fits");
        assert_eq!(r.stats().bytes, 90);
        let got = r
            .get(&id(3), s)
            .and_then(|k| k.downcast_ref::<u32>().copied());
        assert_eq!(got, Some(5));
    }
}
