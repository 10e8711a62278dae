#!/usr/bin/env python3
"""Rewrites a dense GGUF decoder as a mixture of experts whose N experts are all copies of
the dense feed-forward, with a zero router: every token picks experts of equal weight, so
the model computes exactly what the dense one does. Tests use it to check MoE loading and
routing for architectures without reference logits (e.g. qwen3 -> qwen3moe).

usage: gguf_dense_to_moe.py IN.gguf OUT.gguf NEW_ARCH N_EXPERTS N_USED
Reads only what synthetic models hold: F32 tensors and scalar/string/array metadata."""
import struct
import sys

SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from("<" + fmt, self.d, self.p)
        self.p += struct.calcsize("<" + fmt)
        return v[0]

    def string(self):
        n = self.take("Q")
        s = self.d[self.p:self.p + n]
        self.p += n
        return s

    def value(self, t):
        if t in SCALARS:
            return self.take(SCALARS[t])
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("I"), self.take("Q")
            return (et, [self.value(et) for _ in range(n)])
        raise ValueError(f"value type {t}")


def pack_value(t, v):
    if t in SCALARS:
        return struct.pack("<" + SCALARS[t], v)
    if t == 8:
        return struct.pack("<Q", len(v)) + v
    et, items = v
    return struct.pack("<IQ", et, len(items)) + b"".join(pack_value(et, x) for x in items)


def main():
    src, dst, arch, n_exp, n_used = sys.argv[1], sys.argv[2], sys.argv[3].encode(), int(sys.argv[4]), int(sys.argv[5])
    data = open(src, "rb").read()
    r = Reader(data)
    assert r.d[:4] == b"GGUF" and struct.unpack_from("<I", data, 4)[0] == 3
    r.p = 8
    n_tensors, n_kv = r.take("Q"), r.take("Q")
    kvs = []
    for _ in range(n_kv):
        k = r.string()
        t = r.take("I")
        kvs.append([k, t, r.value(t)])
    old = dict((k, (t, v)) for k, t, v in kvs)[b"general.architecture"][1]
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take("I")
        dims = [r.take("Q") for _ in range(nd)]
        ttype, off = r.take("I"), r.take("Q")
        infos.append((name, dims, ttype, off))
    align = 32
    base = (r.p + align - 1) // align * align
    n_ff = None
    out_kvs = []
    for k, t, v in kvs:
        if k == b"general.architecture":
            v = arch
        elif k.startswith(old + b"."):
            k = arch + k[len(old):]
        if k == arch + b".feed_forward_length":
            n_ff = v
        out_kvs.append((k, t, v))
    out_kvs += [(arch + b".expert_count", 4, n_exp), (arch + b".expert_used_count", 4, n_used),
                (arch + b".expert_feed_forward_length", 4, n_ff)]
    tensors = []  # (name, dims, bytes)
    for name, dims, ttype, off in infos:
        assert ttype == 0, "F32 tensors only"
        n = 1
        for x in dims:
            n *= x
        blob = data[base + off:base + off + 4 * n]
        for part in (b"ffn_gate", b"ffn_up", b"ffn_down"):
            if name.endswith(b"." + part + b".weight"):
                layer = name[:-len(part + b".weight")]
                tensors.append((layer + part + b"_exps.weight", dims + [n_exp], blob * n_exp))
                if part == b"ffn_gate":
                    tensors.append((layer + b"ffn_gate_inp.weight", [dims[0], n_exp],
                                    b"\0" * (4 * dims[0] * n_exp)))
                break
        else:
            tensors.append((name, dims, blob))
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(out_kvs))
    for k, t, v in out_kvs:
        head += struct.pack("<Q", len(k)) + k + struct.pack("<I", t) + pack_value(t, v)
    offset, body = 0, b""
    for name, dims, blob in tensors:
        head += struct.pack("<Q", len(name)) + name + struct.pack("<I", len(dims))
        head += b"".join(struct.pack("<Q", x) for x in dims) + struct.pack("<IQ", 0, offset)
        pad = (len(blob) + align - 1) // align * align - len(blob)
        body += blob + b"\0" * pad
        offset += len(blob) + pad
    head += b"\0" * ((align - len(head) % align) % align)
    open(dst, "wb").write(head + body)


main()
