"""Reads a Loom token store with h5py and compares it with what the writer
was given (a JSON file the C++ test writes): tokens, document offsets, every
attribute and its type, and the storage a memory-mapped reader relies on.

Usage: store_h5py_check.py STORE.h5 EXPECTED.json
Prints "ok" and exits 0 when everything matches; otherwise prints each
mismatch and exits 1.
"""
import json
import sys

import h5py
import numpy as np


def check(store_path, expected):
    problems = []

    def expect(what, found, wanted):
        if found != wanted:
            problems.append(f"{what}: found {found!r}, expected {wanted!r}")

    with h5py.File(store_path, "r") as store:
        for split, want in expected["splits"].items():
            for name, dtype in (("tokens", expected["dtype"]), ("doc_offsets", "uint64")):
                dataset = store[f"{split}/{name}"]
                where = f"/{split}/{name}"
                expect(f"{where} dtype", dataset.dtype, np.dtype(dtype).newbyteorder("<"))
                expect(f"{where} shape", dataset.shape, (len(want[name]),))
                expect(f"{where} compression", dataset.compression, None)
                layout = dataset.id.get_create_plist().get_layout()
                expect(f"{where} layout", layout, h5py.h5d.CONTIGUOUS)
                if len(want[name]) > 0:
                    expect(f"{where} mappable", dataset.id.get_offset() is not None, True)
                expect(f"{where} values", dataset[()].tolist(), want[name])

        attrs = store.attrs
        for name in ("format_version", "vocab_size"):
            value = attrs[name]
            expect(f"{name} type", type(value), np.uint32)
            expect(name, int(value), expected[name])
        for name, want in expected["strings"].items():
            expect(f"{name} type", type(attrs[name]), str)
            expect(name, attrs[name], want)
        expect("sources", json.loads(attrs["sources"]), expected["sources"])
    return problems


def main():
    store_path, expected_path = sys.argv[1:3]
    with open(expected_path, encoding="utf-8") as file:
        expected = json.load(file)
    problems = check(store_path, expected)
    print("\n".join(problems) if problems else "ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
