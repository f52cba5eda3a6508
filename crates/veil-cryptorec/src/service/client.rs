//! The client: one connection, the model information, one function per mode.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use veil_paillier::PrivateKey;

use crate::error::{Error, Result};
use crate::fast::{Query, Randomness, encrypt_query, layout};
use crate::model::UserRatings;

use super::info::{InfoLimits, ModelInfo};
use super::io::{Incoming, read_message, write_all_within};
use super::keys::{KEY_ID_LEN, KeyId};
use super::lattice::{accurate_bfv_bounds, accurate_bounds, bfv_bounds};
use super::paillier::{PaillierParameters, decrypt_answer, encode_request};
use super::wire::{self, ErrorCode, Kind, ServiceId};
use crate::fast::prove_key;
use crate::lattice::{
    AccurateBfvClient, AccurateBfvSetup, AccurateClient, AccurateSetup, FastClient, PublicSetup,
};

/// Settings of a [`Client`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    /// Longest wait for the TCP connection.
    pub connect_timeout: Duration,
    /// Longest time to write a whole request.
    pub write_timeout: Duration,
    /// Longest wait for a whole answer, server computation and queueing included.
    pub answer_timeout: Duration,
    /// Limits on the model information.
    pub info: InfoLimits,
    /// Longest answer accepted when its exact size is not known in advance.
    pub max_answer_bytes: u64,
    /// Longest time to write a whole key upload (lattice modes).
    pub key_upload_timeout: Duration,
    /// Accept lattice parameters below 128-bit security (tests only).
    pub allow_below_128_bit_security: bool,
}

impl Default for ClientOptions {
    /// 10 s to connect, 60 s to write, 300 s for an answer (a d = 500 model over Paillier takes
    /// 4.4 s per query on 2 cores, more behind other clients), 256 MiB answers, 600 s for a key
    /// upload, 128-bit security.
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(60),
            answer_timeout: Duration::from_secs(300),
            info: InfoLimits::default(),
            max_answer_bytes: 256 << 20,
            key_upload_timeout: Duration::from_secs(600),
            allow_below_128_bit_security: false,
        }
    }
}

/// A connection to a CryptoRec server, with the model information it sent.
#[derive(Debug)]
pub struct Client {
    conn: Connection,
    info: ModelInfo,
    uploads: u64,
}

#[derive(Debug)]
struct Connection {
    stream: TcpStream,
    options: ClientOptions,
    sent: u64,
    received: u64,
}

impl Client {
    /// Connects to `addr` and asks for the model information.
    pub fn connect(addr: impl ToSocketAddrs, options: ClientOptions) -> Result<Client> {
        let io = |what: &str, source| Error::Io {
            path: what.to_string(),
            source,
        };
        let addrs: Vec<_> = addr
            .to_socket_addrs()
            .map_err(|e| io("resolving the server address", e))?
            .collect();
        let mut last = None;
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, options.connect_timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(io(&format!("connecting to {a}"), e)),
            }
        }
        let stream = stream.ok_or_else(|| {
            last.unwrap_or(Error::Invalid {
                reason: "the server address resolves to nothing",
            })
        })?;
        let _ignored = stream.set_nodelay(true);
        let mut conn = Connection {
            stream,
            options,
            sent: 0,
            received: 0,
        };
        let limits = options.info;
        let payload = conn.round_trip(Kind::InfoRequest, &[], Kind::Info, limits.max_payload())?;
        let info = ModelInfo::decode(&payload, &limits)?;
        Ok(Client {
            conn,
            info,
            uploads: 0,
        })
    }

    /// The server's model information.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Bytes sent and received on this connection so far (headers included).
    pub fn traffic(&self) -> (u64, u64) {
        (self.conn.sent, self.conn.received)
    }

    /// Sends one query body for `service` and returns the answer body (at most `max_answer`
    /// bytes; an error message from the server becomes [`Error::Refused`]).
    pub fn exchange(
        &mut self,
        service: ServiceId,
        body: &[u8],
        max_answer: u64,
    ) -> Result<Vec<u8>> {
        let offered = self.info.service(service).ok_or(Error::Unavailable {
            what: service.name(),
            reason: "on this server",
        })?;
        if body.len() as u64 > offered.max_request_bytes {
            return Err(Error::TooLarge {
                what: "query",
                len: body.len() as u64,
                max: offered.max_request_bytes,
            });
        }
        let payload = wire::encode_service(service, body);
        let mut answer =
            self.conn
                .round_trip(Kind::Query, &payload, Kind::Answer, max_answer + 1)?;
        let (got, _) = wire::decode_service(&answer)?;
        if got != service {
            return Err(wire::malformed("an answer for another service"));
        }
        answer.remove(0);
        Ok(answer)
    }

    /// The fast mode over Paillier: encrypts the user's ratings under `sk`, sends them with the
    /// public key, and returns the decrypted integers v_i (divide by `params.output_scale` and
    /// add the user's mean: [`crate::quant::dequantize`]).
    pub fn paillier_fast(
        &mut self,
        sk: &PrivateKey,
        user: &UserRatings,
        randomness: Randomness<'_>,
    ) -> Result<Vec<i128>> {
        let query = encrypt_query(sk, &self.info.params, user, randomness)?;
        self.paillier_fast_query(sk, &query)
    }

    /// [`Client::paillier_fast`] for a query encrypted beforehand (under `sk`).
    pub fn paillier_fast_query(&mut self, sk: &PrivateKey, query: &Query) -> Result<Vec<i128>> {
        let body = self.paillier_request(sk, query)?;
        self.paillier_send(sk, &body)
    }

    /// The request body of a query (key, its proof and the ciphertexts), checked against the
    /// server's key sizes: encode once, send many times ([`Client::paillier_send`]).
    pub fn paillier_request(&self, sk: &PrivateKey, query: &Query) -> Result<Vec<u8>> {
        let offered = self
            .info
            .service(ServiceId::PaillierFast)
            .ok_or(Error::Unavailable {
                what: ServiceId::PaillierFast.name(),
                reason: "on this server",
            })?;
        let keys = PaillierParameters::decode(&offered.parameters)?;
        let bits = sk.public_key().bits();
        if !(keys.min_modulus_bits..=keys.max_modulus_bits).contains(&bits) {
            return Err(Error::Paillier(veil_paillier::Error::InvalidKeySize {
                bits,
                min: keys.min_modulus_bits,
                max: keys.max_modulus_bits,
            }));
        }
        encode_request(sk.public_key(), &prove_key(sk)?, query)
    }

    /// Sends an encoded Paillier request and decrypts the answer; the answer's size is known
    /// exactly beforehand and nothing longer is read.
    pub fn paillier_send(&mut self, sk: &PrivateKey, body: &[u8]) -> Result<Vec<i128>> {
        let params = self.info.params;
        let pk = sk.public_key();
        let count = params.items.div_ceil(layout(pk, &params)?.slots());
        let expected = 8 + (count * pk.ciphertext_len()) as u64;
        let answer = self.exchange(ServiceId::PaillierFast, body, expected)?;
        decrypt_answer(sk, &params, &answer)
    }

    /// The public parameters of an offered service.
    fn parameters(&self, service: ServiceId) -> Result<&[u8]> {
        self.info
            .service(service)
            .map(|s| s.parameters.as_slice())
            .ok_or(Error::Unavailable {
                what: service.name(),
                reason: "on this server",
            })
    }

    /// A fast-mode BFV client (fresh secret key) for this server's setup.
    pub fn bfv_client(&self) -> Result<FastClient> {
        let setup = self.parameters(ServiceId::BfvFast)?;
        FastClient::new(setup, self.conn.options.allow_below_128_bit_security)
    }

    /// An accurate-mode client (fresh secret key) for this server's setup.
    pub fn accurate_client(&self) -> Result<AccurateClient> {
        let setup = self.parameters(ServiceId::Accurate)?;
        AccurateClient::new(setup, self.conn.options.allow_below_128_bit_security)
    }

    /// Names `key_bytes` (made by the lattice client for `service`) for this server's setup;
    /// nothing is sent ([`Client::upload_keys`] sends them, queries upload them when needed).
    pub fn keys(&self, service: ServiceId, key_bytes: Vec<u8>) -> Result<UploadedKeys> {
        let id = KeyId::of(service, self.parameters(service)?, &key_bytes);
        Ok(UploadedKeys {
            service,
            id,
            bytes: key_bytes,
        })
    }

    /// Uploads keys; the server answers their id, which must be the one computed here.
    pub fn upload_keys(&mut self, keys: &UploadedKeys) -> Result<()> {
        let payload = wire::encode_service(keys.service, &keys.bytes);
        let answer =
            self.conn
                .round_trip(Kind::Keys, &payload, Kind::KeyId, (1 + KEY_ID_LEN) as u64)?;
        let (service, id) = wire::decode_service(&answer)?;
        if service != keys.service || KeyId::from_bytes(id)? != keys.id {
            return Err(wire::malformed(
                "the server named the keys differently (another model or parameters?)",
            ));
        }
        self.uploads += 1;
        Ok(())
    }

    /// Key uploads made on this connection (first ones and re-uploads after `UnknownKey`).
    pub fn uploads(&self) -> u64 {
        self.uploads
    }

    /// Sends one keyed query (the key id, then `query`); if the server does not hold the keys
    /// (`UnknownKey`: never uploaded there, or evicted), uploads them and asks again, once.
    pub fn keyed_exchange(
        &mut self,
        keys: &UploadedKeys,
        query: &[u8],
        max_answer: u64,
    ) -> Result<Vec<u8>> {
        let mut body = Vec::with_capacity(KEY_ID_LEN + query.len());
        body.extend_from_slice(&keys.id.0);
        body.extend_from_slice(query);
        match self.exchange(keys.service, &body, max_answer) {
            Err(Error::Refused {
                code: ErrorCode::UnknownKey,
                ..
            }) => {
                self.upload_keys(keys)?;
                self.exchange(keys.service, &body, max_answer)
            }
            other => other,
        }
    }

    /// The fast mode over BFV: encrypts the user's ratings under `client`'s key and returns
    /// the decrypted integers v_i (exactly [`crate::quant::QuantizedModel::predict_integers`];
    /// [`crate::quant::dequantize`] gives the predictions). `keys` are `client`'s
    /// ([`FastClient::key_bytes`] through [`Client::keys`]), uploaded if the server lacks them.
    pub fn bfv_fast(
        &mut self,
        client: &FastClient,
        keys: &UploadedKeys,
        user: &UserRatings,
    ) -> Result<Vec<i128>> {
        let (query, _) = client.query(user)?;
        let reply = self.bfv_send(keys, &query)?;
        client.decode_integers(&reply)
    }

    /// Sends an encrypted BFV query (bytes of [`FastClient::query`]) and returns the reply
    /// bytes, at most the longest reply the setup allows.
    pub fn bfv_send(&mut self, keys: &UploadedKeys, query: &[u8]) -> Result<Vec<u8>> {
        let setup = PublicSetup::from_bytes(
            self.parameters(ServiceId::BfvFast)?,
            self.conn.options.allow_below_128_bit_security,
        )?;
        let (_, _, reply) = bfv_bounds(&setup);
        self.keyed_exchange(keys, query, reply)
    }

    /// The accurate mode, one step: the predictions after one fine-tuning step on the user's
    /// ratings (or the fast-mode ones when the step raised the user's loss, as the plaintext
    /// step reverts; [`AccurateClient::decode`]).
    pub fn accurate(
        &mut self,
        client: &AccurateClient,
        keys: &UploadedKeys,
        user: &UserRatings,
    ) -> Result<Vec<f32>> {
        let (query, state) = client.query(user)?;
        let reply = self.accurate_send(keys, &query)?;
        client.decode(&state, &reply)
    }

    /// An exact accurate-mode client (fresh secret key) for this server's setup.
    pub fn accurate_bfv_client(&self) -> Result<AccurateBfvClient> {
        let setup = self.parameters(ServiceId::AccurateBfv)?;
        AccurateBfvClient::new(setup, self.conn.options.allow_below_128_bit_security)
    }

    /// The accurate mode's one step as an exact circuit over BFV: the predictions after the
    /// step (or the fast-mode ones when it raised the user's loss; [`AccurateBfvClient::decode`]).
    pub fn accurate_bfv(
        &mut self,
        client: &AccurateBfvClient,
        keys: &UploadedKeys,
        user: &UserRatings,
    ) -> Result<Vec<f32>> {
        let (query, state) = client.query(user)?;
        let reply = self.accurate_bfv_send(keys, &query)?;
        client.decode(&state, &reply)
    }

    /// Sends an encrypted exact accurate-mode query and returns the reply bytes.
    pub fn accurate_bfv_send(&mut self, keys: &UploadedKeys, query: &[u8]) -> Result<Vec<u8>> {
        let setup = AccurateBfvSetup::from_bytes(
            self.parameters(ServiceId::AccurateBfv)?,
            self.conn.options.allow_below_128_bit_security,
        )?;
        let (_, _, reply) = accurate_bfv_bounds(&setup);
        self.keyed_exchange(keys, query, reply)
    }

    /// Sends an encrypted accurate-mode query and returns the reply bytes.
    pub fn accurate_send(&mut self, keys: &UploadedKeys, query: &[u8]) -> Result<Vec<u8>> {
        let setup = AccurateSetup::from_bytes(
            self.parameters(ServiceId::Accurate)?,
            self.conn.options.allow_below_128_bit_security,
        )?;
        let (_, _, reply) = accurate_bounds(&setup);
        self.keyed_exchange(keys, query, reply)
    }
}

/// A lattice client's evaluation keys as sent to servers: the bytes (kept, to upload again
/// after `UnknownKey`) and their [`KeyId`].
#[derive(Clone)]
pub struct UploadedKeys {
    service: ServiceId,
    id: KeyId,
    bytes: Vec<u8>,
}

impl UploadedKeys {
    /// The id queries name.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The service.
    pub fn service(&self) -> ServiceId {
        self.service
    }

    /// The key bytes' length.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for an empty key set (never made by the lattice clients).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl core::fmt::Debug for UploadedKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UploadedKeys")
            .field("service", &self.service)
            .field("id", &self.id)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl Connection {
    fn round_trip(
        &mut self,
        kind: Kind,
        payload: &[u8],
        expect: Kind,
        max_payload: u64,
    ) -> Result<Vec<u8>> {
        let message = wire::encode(kind, payload)?;
        let write_timeout = if kind == Kind::Keys {
            self.options.key_upload_timeout
        } else {
            self.options.write_timeout
        };
        write_all_within(&mut self.stream, &message, write_timeout)?;
        self.sent += message.len() as u64;
        let wait = self.options.answer_timeout;
        let limit = |k: Kind| match k {
            Kind::Error => (4 + wire::MAX_REASON_BYTES) as u64,
            k if k == expect => max_payload,
            _ => 0,
        };
        let incoming = read_message(
            &mut self.stream,
            Instant::now() + wait,
            wait,
            wait,
            limit,
            |_| Ok(wait),
        )?;
        let Incoming::Message(got, payload) = incoming else {
            return Err(Error::Io {
                path: "connection".into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ),
            });
        };
        self.received += (wire::HEADER_LEN + payload.len()) as u64;
        if got == Kind::Error {
            let (code, reason) = wire::decode_error(&payload)?;
            return Err(Error::Refused { code, reason });
        }
        if got != expect {
            return Err(wire::malformed("an unexpected message kind"));
        }
        Ok(payload)
    }
}
