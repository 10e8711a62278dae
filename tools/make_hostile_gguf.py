#!/usr/bin/env python3
"""Writes the hostile GGUF corpus of tests/gguf/hostile/ and its MANIFEST.

Each file is a small valid GGUF with one defect. MANIFEST lines are
"<file> <fragment>": the reader must reject the file with a message containing the
fragment. Run from the project root; the output is checked in (tests never run this)."""
import os
import struct

OUT = "tests/gguf/hostile"
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)


def s(text, width=8):
    b = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q" if width == 8 else "<I", len(b)) + b


def kv(key, vtype, payload):
    return s(key) + struct.pack("<I", vtype) + payload


def tensor(name, dims, ttype, offset):
    return s(name) + struct.pack("<I", len(dims)) + b"".join(
        struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", ttype, offset)


def gguf(kvs, infos, data=b"", version=3, n_kv=None, n_tensors=None, align=32):
    head = b"GGUF" + struct.pack("<IQQ", version,
                                 len(infos) if n_tensors is None else n_tensors,
                                 len(kvs) if n_kv is None else n_kv)
    body = head + b"".join(kvs) + b"".join(infos)
    pad = (-len(body)) % align
    return body + b"\0" * pad + data


def base_kvs():
    nested = struct.pack("<IQ", ARR, 2) + struct.pack("<IQ", I32, 2) + struct.pack(
        "<ii", 1, 2) + struct.pack("<IQ", STR, 1) + s("x")
    return [
        kv("general.architecture", STR, s("llama")),
        kv("test.u32", U32, struct.pack("<I", 7)),
        kv("test.strings", ARR, struct.pack("<IQ", STR, 2) + s("a") + s("bc")),
        kv("test.nested", ARR, nested),
    ]


def base_infos():
    return [tensor("a", [32, 2], 0, 0), tensor("b", [64], 8, 256)]  # f32 256 B, q8_0 68 B


DATA = bytes(range(256)) + bytes(68)
files = {}
valid = gguf(base_kvs(), base_infos(), DATA)
header_len = len(gguf(base_kvs(), base_infos()))

files["empty.gguf"] = (b"", "magic")
files["bad_magic.gguf"] = (b"GGML" + valid[4:], "not a GGUF file")
files["version_0.gguf"] = (valid[:4] + struct.pack("<I", 0) + valid[8:], "version 0")
files["version_4.gguf"] = (valid[:4] + struct.pack("<I", 4) + valid[8:], "version 4")
files["trunc_version.gguf"] = (valid[:6], "version")
files["trunc_counts.gguf"] = (valid[:20], "metadata count")
key_at = 24
# cut inside the first key / its string value: caught by the up-front count check
files["trunc_in_key.gguf"] = (valid[:key_at + 12], "cannot fit")
files["trunc_in_string_value.gguf"] = (valid[:key_at + 8 + 20 + 4 + 8 + 2], "cannot fit")
files["trunc_in_tensor_info.gguf"] = (valid[:header_len - 40], "tensor")
files["trunc_in_data.gguf"] = (valid[:header_len + 100], "past the end of the file")
files["huge_kv_count.gguf"] = (gguf(base_kvs(), base_infos(), DATA, n_kv=1 << 63),
                               "metadata count")
files["huge_tensor_count.gguf"] = (gguf(base_kvs(), base_infos(), DATA, n_tensors=1 << 40),
                                   "tensor count")
files["huge_array.gguf"] = (gguf([kv("k", ARR, struct.pack("<IQ", U32, 1 << 62))], []),
                            "cannot fit")
files["huge_string_array.gguf"] = (gguf([kv("k", ARR, struct.pack("<IQ", STR, 1 << 61))], []),
                                   "cannot fit")
files["huge_string.gguf"] = (gguf([kv("k", STR, struct.pack("<Q", 1 << 63) + b"abc")], []),
                             "has length")
files["huge_key.gguf"] = (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 62) +
                          b"x" * 16, "has length")
files["unknown_value_type.gguf"] = (gguf([kv("k", 13, b"\0" * 8)], []), "unknown value type")
files["unknown_array_type.gguf"] = (gguf([kv("k", ARR, struct.pack("<IQ", 99, 1))], []),
                                    "unknown value type")
deep = struct.pack("<IQ", ARR, 1) * 1000 + struct.pack("<IQ", U8, 0)
files["deep_nesting.gguf"] = (gguf([kv("k", ARR, deep)], []), "nested deeper")
files["bad_bool.gguf"] = (gguf([kv("k", BOOL, b"\x02")], []), "bool")
files["bad_bool_array.gguf"] = (gguf([kv("k", ARR, struct.pack("<IQ", BOOL, 2) + b"\x01\x05")],
                                     []), "bool")
files["empty_key.gguf"] = (gguf([kv("", U32, b"\0\0\0\0")], []), "empty metadata key")
files["nul_in_key.gguf"] = (gguf([kv("a\0b", U32, b"\0\0\0\0")], []), "NUL")
files["duplicate_key.gguf"] = (gguf([kv("k", U32, b"\0\0\0\0"), kv("k", U8, b"\0")], []),
                               "duplicate metadata key")
files["alignment_zero.gguf"] = (gguf([kv("general.alignment", U32, struct.pack("<I", 0))],
                                     []), "general.alignment")
files["alignment_not_pow2.gguf"] = (gguf([kv("general.alignment", U32, struct.pack("<I", 48))],
                                         []), "general.alignment")
files["alignment_string.gguf"] = (gguf([kv("general.alignment", STR, s("32"))], []),
                                   "general.alignment")
files["tensor_zero_dims.gguf"] = (gguf([], [s("t") + struct.pack("<IIQ", 0, 0, 0)], b"\0" * 32),
                                  "dimensions")
files["tensor_five_dims.gguf"] = (gguf([], [tensor("t", [1, 1, 1, 1, 1], 0, 0)], b"\0" * 32),
                                  "dimensions")
files["tensor_dim_zero.gguf"] = (gguf([], [tensor("t", [0], 0, 0)], b"\0" * 32), "dimension 0")
files["tensor_dim_negative.gguf"] = (gguf([], [tensor("t", [(1 << 64) - 5], 0, 0)], b"\0" * 32),
                                     "dimension 0")
files["tensor_elems_overflow.gguf"] = (gguf([], [tensor("t", [1 << 32, 1 << 32, 4], 0, 0)],
                                            b"\0" * 32), "overflows")
files["tensor_bytes_overflow.gguf"] = (gguf([], [tensor("t", [1 << 62], 0, 0)], b"\0" * 32),
                                       "overflows")
files["tensor_unknown_type.gguf"] = (gguf([], [tensor("t", [32], 77, 0)], b"\0" * 128),
                                     "unknown type")
files["tensor_partial_block.gguf"] = (gguf([], [tensor("t", [33], 2, 0)], b"\0" * 128),
                                      "whole number")
files["tensor_unaligned.gguf"] = (gguf([], [tensor("t", [4], 0, 8)], b"\0" * 64), "alignment")
files["tensor_out_of_range.gguf"] = (gguf([], [tensor("t", [64], 0, 0)], b"\0" * 64),
                                     "past the end")
files["tensor_offset_huge.gguf"] = (gguf([], [tensor("t", [4], 0, (1 << 64) - 32)], b"\0" * 64),
                                    "past the end")
files["tensors_overlap.gguf"] = (gguf([], [tensor("a", [32], 0, 0), tensor("b", [32], 0, 64)],
                                      b"\0" * 256), "overlap")
files["tensor_duplicate_name.gguf"] = (gguf([], [tensor("a", [8], 0, 0), tensor("a", [8], 0, 32)],
                                            b"\0" * 64), "duplicate tensor name")
files["tensor_empty_name.gguf"] = (gguf([], [tensor("", [8], 0, 0)], b"\0" * 64),
                                   "empty tensor name")
files["v1_truncated.gguf"] = (b"GGUF" + struct.pack("<III", 1, 0, 1) + struct.pack("<I", 200) +
                              b"x" * 16, "has length")

os.makedirs(OUT, exist_ok=True)
for old in os.listdir(OUT):
    os.remove(os.path.join(OUT, old))
with open(os.path.join(OUT, "MANIFEST"), "w") as m:
    m.write("# file, then a fragment the reader's error message must contain\n")
    for name, (data, fragment) in sorted(files.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        m.write(f"{name} {fragment}\n")
with open(os.path.join(OUT, "valid.gguf.ok"), "wb") as f:  # the base file, which must load
    f.write(valid)
print(f"{len(files)} hostile files in {OUT}")
