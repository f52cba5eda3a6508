#!/usr/bin/env python3
"""TenSEAL peer for `veil reacthe infer`: the same trained network (model JSON from
`veil reacthe train --out`) on the same standardised test features (`--export-test`), in the same
layout (one CKKS vector per feature, one sample per slot), with TenSEAL's CKKS on the same chain
(N = 16384, q = 49 + 8 x 40 bits, P = 49, scale 2^40). Prints the server time and the output error
against the float model (numpy).

Usage: .peers/bin/python crates/veil-reacthe/scripts/tenseal_peer.py MODEL.json TEST.csv
"""
import json
import sys
import time

import numpy as np
import tenseal as ts


def matrix(d):
    return np.array(d["data"], dtype=float).reshape(d["dim"])


def main():
    model = json.load(open(sys.argv[1]))
    x = np.loadtxt(sys.argv[2], delimiter=",", ndmin=2)
    arch = model["arch"]
    act = arch["activation"]
    if "Power" not in act or act["Power"]["power"] != 2 or not arch["residual"]:
        sys.exit("only residual z + alpha z^2 networks")
    alpha = act["Power"]["alpha"]
    w_in, b_in = matrix(model["input"]["w"]), np.array(model["input"]["b"]["data"])
    hidden = [(matrix(h["w"]), np.array(h["b"]["data"])) for h in model["hidden"]]
    w_out, b_out = matrix(model["head"]["w"]), np.array(model["head"]["b"]["data"])

    # Float reference.
    h = x @ w_in.T + b_in
    for w, b in hidden:
        z = h @ w.T + b
        h = h + z + alpha * z * z
    want = h @ w_out.T + b_out

    ctx = ts.context(ts.SCHEME_TYPE.CKKS, 16384, coeff_mod_bit_sizes=[49] + [40] * 8 + [49])
    ctx.global_scale = 2**40
    t = time.perf_counter()
    cols = [ts.ckks_vector(ctx, x[:, j].tolist()) for j in range(x.shape[1])]
    enc = time.perf_counter() - t

    def dense(w, b, inputs):
        out = []
        for row, bias in zip(w, b):
            acc = None
            for c, v in zip(row, inputs):
                term = v * float(c)
                acc = term if acc is None else acc + term
            out.append(acc + float(bias))
        return out

    t = time.perf_counter()
    h = dense(w_in, b_in, cols)
    for w, b in hidden:
        z = dense(w, b, h)
        # z * (alpha z) + z, as veil's server: 3 levels per block.
        h = [hi + (zi * (zi * alpha)) + zi for hi, zi in zip(h, z)]
    out = dense(w_out, b_out, h)
    server = time.perf_counter() - t
    got = np.array([o.decrypt() for o in out]).T[: x.shape[0]]
    err = np.abs(got - want)
    if want.shape[1] > 1:
        flipped = int((got.argmax(1) != want.argmax(1)).sum())
    elif model["task"] == "Binary":
        flipped = int(((got[:, 0] > 0) != (want[:, 0] > 0)).sum())
    else:
        flipped = 0
    print(f"TenSEAL {ts.__version__}: {x.shape[0]} samples, encrypt {enc:.2f} s, server {server:.2f} s, "
          f"max err {err.max():.2e}, mean err {err.mean():.2e}, flipped {flipped}/{x.shape[0]}")


if __name__ == "__main__":
    main()
