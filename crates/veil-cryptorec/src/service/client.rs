//! The client: one connection, the model information, one function per mode.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use veil_paillier::PrivateKey;

use crate::error::{Error, Result};
use crate::fast::{Query, Randomness, encrypt_query, layout};
use crate::model::UserRatings;

use super::info::{InfoLimits, ModelInfo};
use super::io::{Incoming, read_message, write_all_within};
use super::paillier::{PaillierParameters, decrypt_answer, encode_request};
use super::wire::{self, Kind, ServiceId};
use crate::fast::prove_key;

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
}

impl Default for ClientOptions {
    /// 10 s to connect, 60 s to write, 300 s for an answer (a d = 500 model over Paillier takes
    /// 4.4 s per query on 2 cores, more behind other clients), 256 MiB answers.
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(60),
            answer_timeout: Duration::from_secs(300),
            info: InfoLimits::default(),
            max_answer_bytes: 256 << 20,
        }
    }
}

/// A connection to a CryptoRec server, with the model information it sent.
#[derive(Debug)]
pub struct Client {
    conn: Connection,
    info: ModelInfo,
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
        Ok(Client { conn, info })
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

    /// The fast mode over BFV: not in this build yet (the lattice module is being written);
    /// never a fake answer.
    pub fn bfv_fast(&mut self, _user: &UserRatings) -> Result<Vec<i128>> {
        Err(Error::Unavailable {
            what: ServiceId::BfvFast.name(),
            reason: "in this build",
        })
    }

    /// The accurate mode (one fine-tuning step under lattice HE): not in this build yet.
    pub fn accurate(&mut self, _user: &UserRatings) -> Result<Vec<f32>> {
        Err(Error::Unavailable {
            what: ServiceId::Accurate.name(),
            reason: "in this build",
        })
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
        write_all_within(&mut self.stream, &message, self.options.write_timeout)?;
        self.sent += message.len() as u64;
        let wait = self.options.answer_timeout;
        let limit = |k: Kind| match k {
            Kind::Error => (4 + wire::MAX_REASON_BYTES) as u64,
            k if k == expect => max_payload,
            _ => 0,
        };
        let incoming = read_message(&mut self.stream, Instant::now() + wait, wait, wait, limit)?;
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
