//! The responder side of WhatsApp's Noise handshakes (XX for a first connect, IK for
//! a client that cached our static key), and the framed transport that follows.

use anyhow::{anyhow, bail, Context, Result};
use buffa::Message as _;
use wacore_binary::consts::{NOISE_PATTERN_IK, NOISE_PATTERN_XX, WA_CONN_HEADER};
use wacore_libsignal::protocol::KeyPair;
use wacore_noise::{NoiseCipher, NoiseHandshake};
use waproto::buffa;
use waproto::whatsapp::{self as wa, HandshakeMessage};

use crate::cert::ServerIdentity;

/// What the client proved and said in its handshake.
pub struct Handshaked {
    pub client_static: [u8; 32],
    pub payload: wa::ClientPayload,
    pub pattern: &'static str,
    pub transport: Transport,
}

/// A handshake waiting for the client's finish message (XX only).
pub enum Step {
    /// Send `server_hello`, then feed the client's next frame to [`XxPending::finish`].
    Xx { server_hello: Vec<u8>, pending: Box<XxPending> },
    /// IK completed in one round trip: send `server_hello` and go.
    Ik { server_hello: Vec<u8>, done: Box<Handshaked> },
}

pub struct XxPending {
    noise: NoiseHandshake,
    server_eph: KeyPair,
}

fn key32(bytes: &[u8], what: &str) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|_| anyhow!("{what}: expected 32 bytes, got {}", bytes.len()))
}

fn kp_pub(kp: &KeyPair) -> Result<[u8; 32]> {
    key32(kp.public_key.public_key_bytes(), "public key")
}

/// Answers a ClientHello.
pub fn respond(identity: &ServerIdentity, client_hello: &[u8]) -> Result<Step> {
    let msg = HandshakeMessage::decode_from_slice(client_hello).context("ClientHello")?;
    let hello = msg.client_hello.into_option().ok_or_else(|| anyhow!("no client_hello"))?;
    let client_eph = key32(hello.ephemeral.as_deref().unwrap_or_default(), "client ephemeral")?;
    let server_eph = KeyPair::generate(&mut rand::rng());
    let server_eph_pub = kp_pub(&server_eph)?;
    let static_priv = identity.static_kp.private_key.serialize();

    if let (Some(enc_static), Some(enc_payload)) = (hello.r#static, hello.payload) {
        // IK: <- s ; -> e, es, s, ss, payload ; <- e, ee, se, payload(cert)
        let mut noise = NoiseHandshake::new(NOISE_PATTERN_IK, &WA_CONN_HEADER)?;
        noise.authenticate(&identity.static_pub());
        noise.authenticate(&client_eph);
        noise.mix_shared_secret(static_priv, &client_eph)?;
        let client_static = key32(&noise.decrypt(&enc_static).context("IK static")?, "client static")?;
        noise.mix_shared_secret(static_priv, &client_static)?;
        let payload = noise.decrypt(&enc_payload).context("IK payload")?;
        noise.authenticate(&server_eph_pub);
        noise.mix_shared_secret(server_eph.private_key.serialize(), &client_eph)?;
        noise.mix_shared_secret(server_eph.private_key.serialize(), &client_static)?;
        let cert = noise.encrypt(&identity.chain)?;
        let server_hello = server_hello(server_eph_pub, None, cert);
        let (client_write, client_read) = noise.finish()?;
        let payload = wa::ClientPayload::decode_from_slice(&payload).context("ClientPayload")?;
        return Ok(Step::Ik {
            server_hello,
            done: Box::new(Handshaked {
                client_static,
                payload,
                pattern: "IK",
                transport: Transport::new(client_write, client_read),
            }),
        });
    }

    // XX: -> e ; <- e, ee, s, es, payload(cert) ; -> s, se, payload
    let mut noise = NoiseHandshake::new(NOISE_PATTERN_XX, &WA_CONN_HEADER)?;
    noise.authenticate(&client_eph);
    noise.authenticate(&server_eph_pub);
    noise.mix_shared_secret(server_eph.private_key.serialize(), &client_eph)?;
    let enc_static = noise.encrypt(&identity.static_pub())?;
    noise.mix_shared_secret(static_priv, &client_eph)?;
    let cert = noise.encrypt(&identity.chain)?;
    Ok(Step::Xx {
        server_hello: server_hello(server_eph_pub, Some(enc_static), cert),
        pending: Box::new(XxPending { noise, server_eph }),
    })
}

fn server_hello(ephemeral: [u8; 32], enc_static: Option<Vec<u8>>, cert: Vec<u8>) -> Vec<u8> {
    HandshakeMessage {
        server_hello: buffa::MessageField::some(wa::handshake_message::ServerHello {
            ephemeral: Some(ephemeral.to_vec()),
            r#static: enc_static,
            payload: Some(cert),
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

impl XxPending {
    pub fn finish(mut self, client_finish: &[u8]) -> Result<Handshaked> {
        let msg = HandshakeMessage::decode_from_slice(client_finish).context("ClientFinish")?;
        let finish = msg.client_finish.into_option().ok_or_else(|| anyhow!("no client_finish"))?;
        let (Some(enc_static), Some(enc_payload)) = (finish.r#static, finish.payload) else {
            bail!("client_finish without static or payload");
        };
        let client_static = key32(&self.noise.decrypt(&enc_static).context("XX static")?, "client static")?;
        self.noise.mix_shared_secret(self.server_eph.private_key.serialize(), &client_static)?;
        let payload = self.noise.decrypt(&enc_payload).context("XX payload")?;
        let payload = wa::ClientPayload::decode_from_slice(&payload).context("ClientPayload")?;
        let (client_write, client_read) = self.noise.finish()?;
        Ok(Handshaked { client_static, payload, pattern: "XX", transport: Transport::new(client_write, client_read) })
    }
}

/// The encrypted frame transport after the handshake. The initiator's write key is
/// our read key and vice versa; each direction counts its own frames.
pub struct Transport {
    read: NoiseCipher,
    write: NoiseCipher,
    read_counter: u32,
    write_counter: u32,
}

impl Transport {
    fn new(client_write: NoiseCipher, client_read: NoiseCipher) -> Self {
        Self { read: client_write, write: client_read, read_counter: 0, write_counter: 0 }
    }

    pub fn decrypt(&mut self, frame: &[u8]) -> Result<Vec<u8>> {
        let mut buf = frame.to_vec();
        self.read.decrypt_in_place_with_counter(self.read_counter, &mut buf).context("frame decrypt")?;
        self.read_counter = self.read_counter.checked_add(1).ok_or_else(|| anyhow!("read counter exhausted"))?;
        Ok(buf)
    }

    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let out = self.write.encrypt_with_counter(self.write_counter, plaintext)?;
        self.write_counter = self.write_counter.checked_add(1).ok_or_else(|| anyhow!("write counter exhausted"))?;
        Ok(out)
    }
}

/// Splits the byte stream into 3-byte-length-prefixed frames, after stripping the
/// connection header (`WA` + magic + dictionary version, optionally preceded by an
/// `ED` edge-routing pre-intro) that opens the stream.
pub struct Framer {
    buf: Vec<u8>,
    header_seen: bool,
}

impl Default for Framer {
    fn default() -> Self {
        Self::new()
    }
}

impl Framer {
    pub fn new() -> Self {
        Self { buf: Vec::new(), header_seen: false }
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>> {
        if !self.header_seen {
            let mut skip = 0;
            if self.buf.starts_with(b"ED\x00\x01") {
                if self.buf.len() < 7 {
                    return Ok(None);
                }
                let len = (usize::from(self.buf[4]) << 16) | (usize::from(self.buf[5]) << 8) | usize::from(self.buf[6]);
                skip = 7 + len;
            }
            if self.buf.len() < skip + 4 {
                return Ok(None);
            }
            if self.buf[skip..skip + 4] != WA_CONN_HEADER {
                bail!("bad connection header {:02x?}", &self.buf[skip..skip + 4]);
            }
            self.buf.drain(..skip + 4);
            self.header_seen = true;
        }
        if self.buf.len() < 3 {
            return Ok(None);
        }
        let len = (usize::from(self.buf[0]) << 16) | (usize::from(self.buf[1]) << 8) | usize::from(self.buf[2]);
        if self.buf.len() < 3 + len {
            return Ok(None);
        }
        let frame = self.buf[3..3 + len].to_vec();
        self.buf.drain(..3 + len);
        Ok(Some(frame))
    }
}

/// Prefixes a payload with its 3-byte length.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut out = Vec::with_capacity(3 + len);
    out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8]);
    out.extend_from_slice(payload);
    out
}
