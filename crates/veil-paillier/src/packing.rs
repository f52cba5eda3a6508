//! Packing k signed values into one plaintext: slot i holds v_i at bit offset i * B.
//!
//! The plaintext is the signed integer sum_i v_i 2^(B i); negative slots borrow from the slot above,
//! and unpacking peels centered residues mod 2^B from the bottom. This is exact while every slot
//! stays in (-2^(B-1), 2^(B-1)) and k B <= |n| - 2 (then |sum| < n / 2). A slot bound is tracked
//! through every operation, which refuses to run rather than produce a wrapped slot.

use rayon::prelude::*;
use rug::Integer;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};

/// How values are laid out in a plaintext: `slots` slots of `slot_bits` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackingLayout {
    value_bits: u32,
    slot_bits: u32,
    slots: usize,
}

/// A ciphertext of packed values, with the number of slots in use and a bound on |slot|.
#[derive(Clone, Debug)]
pub struct PackedCiphertext {
    /// The ciphertext of the packed plaintext.
    pub ciphertext: Ciphertext,
    /// Layout of the plaintext.
    pub layout: PackingLayout,
    /// Number of slots in use (the rest hold zero).
    pub len: usize,
    /// Upper bound on the magnitude of every slot.
    pub bound: u128,
}

impl PackingLayout {
    /// Slots for values with |v| < 2^value_bits and `guard_bits` of headroom for sums and
    /// products: slot width B = value_bits + guard_bits + 1 (sign), as many slots as fit in |n| - 2
    /// bits. Slot width is at most 128 bits (results are `i128`).
    pub fn new(pk: &PublicKey, value_bits: u32, guard_bits: u32) -> Result<Self> {
        let slot_bits = value_bits
            .checked_add(guard_bits)
            .and_then(|b| b.checked_add(1))
            .filter(|&b| b <= 128 && value_bits >= 1)
            .ok_or(Error::Packing {
                reason: "need 1 <= value_bits and value_bits + guard_bits + 1 <= 128",
            })?;
        let slots = ((pk.bits() - 2) / slot_bits) as usize;
        Ok(PackingLayout {
            value_bits,
            slot_bits,
            slots,
        })
    }

    /// Slot width B in bits.
    pub fn slot_bits(&self) -> u32 {
        self.slot_bits
    }

    /// Slots per ciphertext.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Largest magnitude an input value may have: 2^value_bits - 1.
    pub fn max_value(&self) -> u128 {
        (1u128 << self.value_bits) - 1
    }

    /// Largest magnitude a slot holds exactly: 2^(B-1) - 1.
    pub fn capacity(&self) -> u128 {
        (1u128 << (self.slot_bits - 1)) - 1
    }

    fn check_bound(&self, bound: Option<u128>) -> Result<u128> {
        match bound {
            Some(b) if b <= self.capacity() => Ok(b),
            _ => Err(Error::SlotOverflow {
                bound_bits: bound.map_or(129, |b| 128 - b.leading_zeros()),
                capacity_bits: self.slot_bits - 1,
            }),
        }
    }

    /// sum_i v_i 2^(B i) as a signed integer.
    fn pack<T: Copy + Into<i128>>(&self, values: &[T]) -> Integer {
        let mut acc = Integer::new();
        for &v in values.iter().rev() {
            acc <<= self.slot_bits;
            acc += v.into();
        }
        acc
    }

    /// Peels `len` centered slots off a signed integer.
    fn unpack(&self, mut x: Integer, len: usize) -> Result<Vec<i128>> {
        let half = Integer::from(1) << (self.slot_bits - 1);
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            let mut slot = Integer::from(x.keep_bits_ref(self.slot_bits));
            if slot >= half {
                slot -= Integer::from(&half << 1u32);
            }
            x -= &slot;
            x >>= self.slot_bits;
            out.push(slot.to_i128().ok_or(Error::Packing {
                reason: "slot does not fit in i128",
            })?);
        }
        if x != 0 {
            return Err(Error::Packing {
                reason: "value above the last slot: the packed ciphertext overflowed",
            });
        }
        Ok(out)
    }
}

impl PublicKey {
    /// Encrypts `values` packed: ceil(len / slots) ciphertexts, in parallel.
    pub fn encrypt_packed(
        &self,
        layout: &PackingLayout,
        values: &[i64],
    ) -> Result<Vec<PackedCiphertext>> {
        let max = layout.max_value();
        if values.iter().any(|v| u128::from(v.unsigned_abs()) > max) {
            return Err(Error::Packing {
                reason: "a value exceeds the layout's value_bits",
            });
        }
        values
            .par_chunks(layout.slots.max(1))
            .map(|chunk| {
                let bound = chunk
                    .iter()
                    .map(|v| u128::from(v.unsigned_abs()))
                    .max()
                    .unwrap_or(0);
                Ok(PackedCiphertext {
                    ciphertext: self.encrypt(layout.pack(chunk))?,
                    layout: *layout,
                    len: chunk.len(),
                    bound,
                })
            })
            .collect()
    }

    /// Slot-wise sum of two packed ciphertexts of the same layout.
    pub fn add_packed(
        &self,
        a: &PackedCiphertext,
        b: &PackedCiphertext,
    ) -> Result<PackedCiphertext> {
        if a.layout != b.layout {
            return Err(Error::Packing {
                reason: "layouts differ",
            });
        }
        let bound = a.layout.check_bound(a.bound.checked_add(b.bound))?;
        Ok(PackedCiphertext {
            ciphertext: self.add(&a.ciphertext, &b.ciphertext)?,
            layout: a.layout,
            len: a.len.max(b.len),
            bound,
        })
    }

    /// Every slot times the same signed scalar: one exponentiation for all k slots.
    pub fn mul_packed_scalar(&self, a: &PackedCiphertext, k: i64) -> Result<PackedCiphertext> {
        let bound = a
            .layout
            .check_bound(a.bound.checked_mul(u128::from(k.unsigned_abs())))?;
        Ok(PackedCiphertext {
            ciphertext: self.mul_scalar(&a.ciphertext, k)?,
            layout: a.layout,
            len: a.len,
            bound,
        })
    }

    /// From E(x) (one unpacked value with |x| <= `x_bound`) and weights w_1..w_k, the packed
    /// E(x w_1, ..., x w_k) in one exponentiation by the packed exponent sum_j w_j 2^(B j).
    ///
    /// `x_bound` is the caller's promise about the encrypted value; if it is broken, slots wrap.
    pub fn mul_by_packed_weights(
        &self,
        x: &Ciphertext,
        x_bound: u128,
        layout: &PackingLayout,
        weights: &[i64],
    ) -> Result<PackedCiphertext> {
        if weights.len() > layout.slots {
            return Err(Error::Packing {
                reason: "more weights than slots",
            });
        }
        let w_max = weights
            .iter()
            .map(|w| u128::from(w.unsigned_abs()))
            .max()
            .unwrap_or(0);
        let bound = layout.check_bound(x_bound.checked_mul(w_max))?;
        let exponent = layout.pack(weights);
        Ok(PackedCiphertext {
            ciphertext: self.mul_scalar(x, exponent)?,
            layout: *layout,
            len: weights.len(),
            bound,
        })
    }
}

impl PrivateKey {
    /// Decrypts and unpacks the slots in use.
    pub fn decrypt_packed(&self, p: &PackedCiphertext) -> Result<Vec<i128>> {
        let pk = self.public_key();
        let v = self.decrypt_residue(&p.ciphertext)?;
        let half = Integer::from(pk.n() >> 1u32);
        let signed = if v > half { v - pk.n() } else { v };
        p.layout.unpack(signed, p.len)
    }

    /// Decrypts many packed ciphertexts in parallel and concatenates their slots.
    pub fn decrypt_packed_batch(&self, packed: &[PackedCiphertext]) -> Result<Vec<i128>> {
        let parts: Vec<Vec<i128>> = packed
            .par_iter()
            .map(|p| self.decrypt_packed(p))
            .collect::<Result<_>>()?;
        Ok(parts.concat())
    }
}
