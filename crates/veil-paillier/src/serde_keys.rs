//! Serde for keys: `{"n": <base64url>}` and `{"p": .., "q": ..}`, validated on the way in.

use rug::Integer;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::keys::{PrivateKey, PublicKey};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicKeyRepr {
    #[serde(with = "crate::serde_int")]
    n: Integer,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivateKeyRepr {
    #[serde(with = "crate::serde_int")]
    p: Integer,
    #[serde(with = "crate::serde_int")]
    q: Integer,
}

impl Drop for PrivateKeyRepr {
    fn drop(&mut self) {
        crate::secret::wipe_integer(&mut self.p);
        crate::secret::wipe_integer(&mut self.q);
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PublicKeyRepr {
            n: self.n().clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let repr = PublicKeyRepr::deserialize(d)?;
        PublicKey::from_modulus(repr.n).map_err(serde::de::Error::custom)
    }
}

impl Serialize for PrivateKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PrivateKeyRepr {
            p: (*self.p).clone(),
            q: (*self.q).clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for PrivateKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut repr = PrivateKeyRepr::deserialize(d)?;
        let (p, q) = (core::mem::take(&mut repr.p), core::mem::take(&mut repr.q));
        PrivateKey::from_primes(p, q).map_err(|e: Error| serde::de::Error::custom(e))
    }
}
