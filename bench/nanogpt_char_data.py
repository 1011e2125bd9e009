"""Writes a text corpus as the character-level dataset nanoGPT's train.py reads.

bench/train_bench.sh runs nanoGPT's trainer as a baseline; train.py expects
data/<dataset>/ to hold train.bin and val.bin (token ids as uint16: the first
90% of the characters, then the last 10%) and meta.pkl (vocab_size, itos,
stoi, over the corpus's distinct characters in sorted order, so the ids match
nanoGPT's own shakespeare_char dataset).

    nanogpt_char_data.py CORPUS OUT_DIR
"""

import pickle
import sys
from pathlib import Path

import numpy as np

TRAIN_FRACTION = 0.9


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} CORPUS OUT_DIR")
    corpus, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    text = corpus.read_text(encoding="utf-8")
    alphabet = sorted(set(text))
    if len(alphabet) > np.iinfo(np.uint16).max + 1:
        sys.exit(f"{corpus}: {len(alphabet)} distinct characters; uint16 ids hold at most 65536")
    char_to_id = {char: index for index, char in enumerate(alphabet)}
    ids = np.fromiter((char_to_id[char] for char in text), dtype=np.uint16, count=len(text))
    split = int(len(ids) * TRAIN_FRACTION)

    out_dir.mkdir(parents=True, exist_ok=True)
    ids[:split].tofile(out_dir / "train.bin")
    ids[split:].tofile(out_dir / "val.bin")
    meta = {
        "vocab_size": len(alphabet),
        "itos": dict(enumerate(alphabet)),
        "stoi": char_to_id,
    }
    with open(out_dir / "meta.pkl", "wb") as meta_file:
        pickle.dump(meta, meta_file)
    print(f"{corpus}: {len(alphabet)} characters, {split} train and {len(ids) - split} val tokens")


if __name__ == "__main__":
    main()
