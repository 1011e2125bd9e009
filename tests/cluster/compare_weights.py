#!/usr/bin/python3
"""Compares two `loom export` folders' model.safetensors tensor by tensor.

    compare_weights.py EXPORT_A EXPORT_B TOLERANCE

Exits 0 when both hold the same tensor names and shapes and every element
differs by at most TOLERANCE; else prints the worst tensor and exits 1.
Reads safetensors itself (an 8-byte header length, a JSON header, raw
little-endian data) so that it needs only numpy, from Debian's python3.
"""
import json
import pathlib
import struct
import sys

import numpy

DTYPES = {"F32": numpy.float32, "F16": numpy.float16, "F64": numpy.float64}


def read_tensors(folder):
    data = (pathlib.Path(folder) / "model.safetensors").read_bytes()
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_size])
    body = data[8 + header_size :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        tensors[name] = numpy.frombuffer(body[begin:end], dtype=dtype).reshape(entry["shape"])
    return tensors


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    first, second = read_tensors(sys.argv[1]), read_tensors(sys.argv[2])
    tolerance = float(sys.argv[3])
    if sorted(first) != sorted(second):
        sys.exit(f"the exports hold different tensors: {sorted(first)} vs {sorted(second)}")
    worst_name, worst = "", 0.0
    for name, tensor in first.items():
        if tensor.shape != second[name].shape:
            sys.exit(f"{name}: shape {tensor.shape} vs {second[name].shape}")
        difference = float(numpy.max(numpy.abs(tensor.astype(numpy.float64) - second[name])))
        if difference > worst:
            worst_name, worst = name, difference
    print(f"{len(first)} tensors, largest difference {worst:.3g} ({worst_name or '-'})")
    if worst > tolerance:
        sys.exit(f"{worst_name} differs by {worst:.3g} > {tolerance}")


if __name__ == "__main__":
    main()
