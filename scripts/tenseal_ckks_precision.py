#!/usr/bin/env python3
"""Precision (bits) of Microsoft SEAL's CKKS driven through TenSEAL's high-level API, on the same
inputs and parameters as Veil's `cargo run --release -p veil-ckks --example precision`, so that
scripts/ckks_precision.py can put the two side by side.

Run with the Python of the `.peers` virtual environment (TenSEAL installed):
    .peers/bin/python scripts/tenseal_ckks_precision.py [--n 8192 16384 32768] [--chain N=..]

Parameters: Veil's presets (seal_ckks_bench.PRESETS: coeff_mod_bit_sizes = [49] + [40] * L + [49],
L = 3, 8, 19 for N = 8192, 16384, 32768; --chain N=.. overrides), global scale 2^40, no Galois keys. Inputs, for j < N/2:
    x_j = 0.9 cos(0.37 j),   y_j = 0.9 sin(0.11 j + 0.5).
Stages:
    encode     SEAL's CKKSEncoder encode then decode of x (ckks_vector has no plaintext path)
    encrypt    encrypt then decrypt x
    product    x * y (TenSEAL relinearizes and rescales automatically)
    chebyshev  T_1..T_(2^D - 1) of x with D = min(8, L):
               T_2k = T_k^2 + T_k^2 - 1,  T_2k+1 = T_k T_(k+1) + T_k T_(k+1) - T_1
               (the factor 2 as an addition, so that it spends no level); worst over all k.
    product_exact_scale
               x * y through sealapi on the same SEAL context (own keys), decoded at SEAL's exact
               scale 2^80 / q_L, i.e. without TenSEAL's scale reset (below): SEAL's own precision
Per slot, precision = -log2 |decrypted - exact| (60 when exact, capped at 60). Prints one JSON line
per (N, stage): {"lib": "tenseal", "n", "log_q", "stage", "mean_bits", "min_bits"} (+ "depth" and "worst_k"
for chebyshev), or {"lib", "n", "stage", "error": message} when TenSEAL refuses an operation; and
one line {"lib", "n", "log_q", "stage": "scale_drift", "log2_rel_offsets": [...]} (see the quirk below).

TenSEAL quirk: after each automatic rescale it overwrites the ciphertext's scale with the global scale
2^40, although the true scale is 2^80 / q_i; the relative error |q_i / 2^40 - 1| of each rescaling
prime enters every product unnoticed (it is part of what this script measures). The "scale_drift"
line lists log2 of those offsets, from the first prime rescaled away (the top one) down.
"""
import argparse
import json
import math
import sys

import tenseal as ts
import tenseal.sealapi as seal

from seal_ckks_bench import CHAIN_HELP, LOG_SCALE, chain_bits, chains, parse_chain

CAP_BITS = 60.0
MAX_DEPTH = 8


def x_values(n):
    return [0.9 * math.cos(0.37 * j) for j in range(n // 2)]


def y_values(n):
    return [0.9 * math.sin(0.11 * j + 0.5) for j in range(n // 2)]


class Bits:
    """Running mean and minimum of per-slot precision bits."""

    def __init__(self):
        self.total, self.count, self.min = 0.0, 0, CAP_BITS

    def add(self, got, exact):
        for g, e in zip(got, exact, strict=True):
            err = abs(g - e)
            bits = CAP_BITS if err == 0 else min(CAP_BITS, -math.log2(err))
            self.total += bits
            self.count += 1
            self.min = min(self.min, bits)
        return self

    def fields(self):
        return {"mean_bits": round(self.total / self.count, 2), "min_bits": round(self.min, 2)}


def emit(n, log_q, stage, **fields):
    print(json.dumps({"lib": "tenseal", "n": n, "log_q": log_q, "stage": stage, **fields}), flush=True)


def stage_encode(ctx, n, x):
    encoder = seal.CKKSEncoder(ctx.seal_context().data)
    pt = seal.Plaintext()
    encoder.encode(x, 2.0 ** LOG_SCALE, pt)
    return Bits().add(encoder.decode_double(pt)[: n // 2], x).fields()


def stage_encrypt(ctx, n, x):
    return Bits().add(ts.ckks_vector(ctx, x).decrypt(), x).fields()


def stage_product(ctx, n, x):
    y = y_values(n)
    prod = ts.ckks_vector(ctx, x) * ts.ckks_vector(ctx, y)
    return Bits().add(prod.decrypt(), [a * b for a, b in zip(x, y)]).fields()


def stage_product_exact_scale(ctx, n, x):
    """x * y through sealapi directly (same SEAL context, own keys): relinearize, rescale_to_next,
    and decode at SEAL's own scale 2^80 / q_L instead of TenSEAL's reset to 2^40."""
    sc = ctx.seal_context().data
    keygen = seal.KeyGenerator(sc)
    pk, rk = seal.PublicKey(), seal.RelinKeys()
    keygen.create_public_key(pk)
    keygen.create_relin_keys(rk)
    encoder, encryptor = seal.CKKSEncoder(sc), seal.Encryptor(sc, pk)
    evaluator, decryptor = seal.Evaluator(sc), seal.Decryptor(sc, keygen.secret_key())
    y = y_values(n)
    cts = []
    for values in (x, y):
        pt, ct = seal.Plaintext(), seal.Ciphertext()
        encoder.encode(values, 2.0 ** LOG_SCALE, pt)
        encryptor.encrypt(pt, ct)
        cts.append(ct)
    prod = seal.Ciphertext()
    evaluator.multiply(cts[0], cts[1], prod)
    evaluator.relinearize_inplace(prod, rk)
    evaluator.rescale_to_next_inplace(prod)
    out = seal.Plaintext()
    decryptor.decrypt(prod, out)
    got = encoder.decode_double(out)[: n // 2]
    return Bits().add(got, [a * b for a, b in zip(x, y)]).fields()


def stage_chebyshev(ctx, n, x, depth):
    """T_1..T_(2^depth - 1); keeps only the T_j that a later T_k still needs (memory at N = 32768)."""
    top = 2 ** depth - 1
    acos_x = [math.acos(v) for v in x]
    t = {1: ts.ckks_vector(ctx, x)}
    bits, worst_k = Bits().add(t[1].decrypt(), x), 1
    for k in range(2, top + 1):
        half = k // 2
        if k % 2 == 0:
            sq = t[half] * t[half]
            tk = sq + sq - 1
        else:
            prod = t[half] * t[half + 1]
            tk = prod + prod - t[1]
        before = bits.min
        bits.add(tk.decrypt(), [math.cos(k * a) for a in acos_x])
        if bits.min < before:
            worst_k = k
        if 2 * k - 1 <= top:
            t[k] = tk
        if k % 2 == 1 and half > 1:
            del t[half]  # T_j is last used by T_(2j+1); T_1 stays
    return {"depth": depth, **bits.fields(), "worst_k": worst_k}


def scale_drift(n, bits):
    """log2 |q_i / 2^40 - 1| of every rescaling prime SEAL picked (the relative error TenSEAL's scale
    reset puts into each rescaled product), top level first."""
    primes = [m.value() for m in seal.CoeffModulus.Create(n, bits)][1:-1]
    return [round(math.log2(abs(q / 2.0 ** LOG_SCALE - 1)), 2) for q in reversed(primes)]


def run(n, table):
    bits = chain_bits(n, table)
    log_q = sum(bits)
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, n, coeff_mod_bit_sizes=bits)
    ctx.global_scale = 2.0 ** LOG_SCALE
    x = x_values(n)
    depth = min(MAX_DEPTH, len(bits) - 2)
    stages = [
        ("encode", lambda: stage_encode(ctx, n, x)),
        ("encrypt", lambda: stage_encrypt(ctx, n, x)),
        ("product", lambda: stage_product(ctx, n, x)),
        ("chebyshev", lambda: stage_chebyshev(ctx, n, x, depth)),
        ("product_exact_scale", lambda: stage_product_exact_scale(ctx, n, x)),
    ]
    emit(n, log_q, "scale_drift", log2_rel_offsets=scale_drift(n, bits))
    for name, fn in stages:
        try:
            emit(n, log_q, name, **fn())
        except (ValueError, RuntimeError) as e:
            extra = {"depth": depth} if name == "chebyshev" else {}
            emit(n, log_q, name, **extra, error=f"{type(e).__name__}: {e}")
            print(f"tenseal N={n} {name}: {e}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[8192, 16384, 32768])
    ap.add_argument("--chain", type=parse_chain, action="append", default=[], help=CHAIN_HELP)
    args = ap.parse_args()
    table = chains(args.chain)
    for n in args.n:
        run(n, table)


if __name__ == "__main__":
    main()
