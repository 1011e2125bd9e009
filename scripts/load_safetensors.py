#!/usr/bin/python3
"""Load a model written by `loom export` and run it, with torch and numpy only.

    loom export runs/shakespeare_char_cpu --out exported
    scripts/load_safetensors.py exported --text "ROMEO:"     # char and byte tokenizers
    scripts/load_safetensors.py exported --ids 2,31,18,20

It reads model.safetensors with numpy and json (no safetensors package),
rebuilds the model that config.json describes (GPT or the LSTM baseline) in
plain torch, runs it on the token ids and prints the most likely next tokens.
With --expect FILE (little-endian float32 logits [tokens, vocab_size], as
Loom's round-trip test writes them) it compares its logits with those and
exits 1 when one differs by more than --tolerance.

The tensor names and shapes are listed in Loom's
include/loom/export/model_export.hpp and README.md ("Exporting"). The
functions below are meant to be copied: read_safetensors() and
forward() are all a Python program needs to use an exported model.
"""

import argparse
import json
import math
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

# safetensors' dtype names to numpy's. numpy has no bfloat16: its bits are
# read as int16 and reinterpreted by torch.
NUMPY_DTYPES = {"F32": "<f4", "F16": "<f2", "BF16": "<i2"}
ALIAS_PREFIX = "alias:"  # metadata "alias:NAME": "STORED NAME" (tied weights)


def read_safetensors(path):
    """Returns ({name: tensor}, metadata) of a safetensors file.

    The file is 8 bytes of header length (little-endian), a JSON header
    {name: {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}, then
    the tensors' bytes; data_offsets count from the end of the header.
    Aliases named in the metadata (a tied output projection) are added as
    the same tensor under their second name.
    """
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    header_length = int.from_bytes(raw[:8].tobytes(), "little")
    header = json.loads(raw[8:8 + header_length].tobytes())
    metadata = header.pop("__metadata__", {})
    data_start = 8 + header_length
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        values = raw[data_start + begin:data_start + end].view(NUMPY_DTYPES[entry["dtype"]])
        tensor = torch.from_numpy(values.copy()).reshape(entry["shape"])
        if entry["dtype"] == "BF16":
            tensor = tensor.view(torch.bfloat16)
        tensors[name] = tensor
    for key, stored in metadata.items():
        if key.startswith(ALIAS_PREFIX):
            tensors[key[len(ALIAS_PREFIX):]] = tensors[stored]
    return tensors, metadata


def norm(x, weights, prefix, config):
    """LayerNorm or RMSNorm (config["norm"]) over the last dimension."""
    if config.get("norm", "layernorm") == "rmsnorm":
        mean_square = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(mean_square + config["layer_norm_eps"]) * weights[prefix + ".weight"]
    # Biases exist only with config["bias"]; weights.get gives None otherwise.
    return F.layer_norm(x, (x.shape[-1],), weights[prefix + ".weight"],
                        weights.get(prefix + ".bias"), config["layer_norm_eps"])


def rotate(x, base):
    """Rotary positions on heads [batch, heads, time, head_width]: channels d
    and d + head_width/2 turn together by position * base^(-2d/head_width)."""
    time, head_width = x.shape[-2], x.shape[-1]
    half = head_width // 2
    inverse_frequency = 1.0 / base ** (torch.arange(0, head_width, 2, dtype=torch.float64)
                                       / head_width)
    angle = torch.arange(time, dtype=torch.float64)[:, None] * inverse_frequency
    angle = torch.cat([angle, angle], dim=-1)
    rotated_half = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * angle.cos().float() + rotated_half * angle.sin().float()


def linear(x, weights, prefix):
    return F.linear(x, weights[prefix + ".weight"], weights.get(prefix + ".bias"))


def causal_self_attention(x, weights, prefix, config):
    batch, time, width = x.shape
    heads = config["n_head"]
    head_width = width // heads
    # One matmul gives q, k and v side by side; each splits into heads.
    q, k, v = linear(x, weights, prefix + ".c_attn").split(width, dim=2)
    q, k, v = (part.view(batch, time, heads, head_width).transpose(1, 2) for part in (q, k, v))
    if config.get("qk_norm", False):
        q = norm(q, weights, prefix + ".q_norm", config)
        k = norm(k, weights, prefix + ".k_norm", config)
    if config["positions"] == "rope":
        q, k = rotate(q, config["rope_base"]), rotate(k, config["rope_base"])
    # Loom scales q (not the scores) and masks with a -inf bias above the
    # diagonal; the same order of operations gives the same rounding.
    scores = (q * (1.0 / math.sqrt(head_width))) @ k.transpose(-2, -1)
    scores = scores + torch.full((time, time), -math.inf).triu(1)
    y = torch.softmax(scores, dim=-1) @ v
    y = y.transpose(1, 2).reshape(batch, time, width)
    return linear(y, weights, prefix + ".c_proj")


def mlp(x, weights, prefix, config):
    hidden = linear(x, weights, prefix + ".c_fc")
    if config.get("mlp", "standard") == "swiglu":
        gate, up = hidden.chunk(2, dim=-1)  # c_fc's rows: the gate's, then up's
        hidden = F.silu(gate) * up
    else:
        # Loom's GELU is the exact (erf) one, torch's default.
        hidden = F.gelu(hidden) if config["activation"] == "gelu" else F.relu(hidden)
    return linear(hidden, weights, prefix + ".c_proj")


def gpt_forward(weights, config, ids):
    """Logits [batch, time, vocab_size] of Loom's GPT (pre-norm blocks)."""
    time = ids.shape[1]
    x = F.embedding(ids, weights["wte.weight"])
    if config["positions"] == "learned":
        x = x + weights["wpe.weight"][:time]
    elif config["positions"] == "sinusoidal":
        x = x + weights["sinusoids"][:time]
    for i in range(config["n_layer"]):
        block = f"h.{i}"
        x = x + causal_self_attention(norm(x, weights, block + ".ln_1", config), weights,
                                      block + ".attn", config)
        x = x + mlp(norm(x, weights, block + ".ln_2", config), weights, block + ".mlp", config)
    x = norm(x, weights, "ln_f", config)
    return F.linear(x, weights["lm_head.weight"])


def lstm_forward(weights, config, ids):
    """Logits of Loom's LSTM baseline: its weights are torch.nn.LSTM's, by name."""
    width = config["n_embd"]
    lstm = torch.nn.LSTM(width, width, num_layers=config["n_layer"], bias=config["bias"],
                         batch_first=True)
    lstm.load_state_dict({name[len("lstm."):]: tensor for name, tensor in weights.items()
                          if name.startswith("lstm.")})
    hidden, _ = lstm(F.embedding(ids, weights["wte.weight"]))
    return F.linear(hidden, weights["lm_head.weight"])


def forward(weights, config, ids):
    """Next-token logits [batch, time, vocab_size] for int64 ids [batch, time],
    time <= config["block_size"], each position seeing only those before it."""
    # Exports in bf16/fp16 are computed in float32, as Loom evaluates.
    weights = {name: tensor.float() for name, tensor in weights.items()}
    with torch.no_grad():
        if config["arch"] == "gpt":
            return gpt_forward(weights, config, ids)
        if config["arch"] == "lstm":
            return lstm_forward(weights, config, ids)
    raise ValueError(f"config.json: unknown arch {config['arch']!r}")


# --- text in and out, for the char and byte tokenizers ----------------------
# Ids 0-3 are <pad> <unk> <bos> <eos> in every Loom tokenizer. bpe and
# unigram tokenizers need SentencePiece: give them --ids.

def encode(tokenizer, text):
    if tokenizer["kind"] == "char":
        ids = {char: 4 + index for index, char in enumerate(tokenizer["chars"])}
        return [ids.get(char, 1) for char in text]
    if tokenizer["kind"] == "byte":
        return [4 + byte for byte in text.encode("utf-8")]
    sys.exit(f"--text needs a char or byte tokenizer, this one is {tokenizer['kind']!r}: "
             "give --ids")


def piece(tokenizer, token_id):
    if token_id < 4:
        return tokenizer["specials"][token_id]
    if tokenizer["kind"] == "char":
        return tokenizer["chars"][token_id - 4]
    if tokenizer["kind"] == "byte":
        return f"<0x{token_id - 4:02X}>"
    return f"<{token_id}>"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=pathlib.Path, help="folder written by `loom export`")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--ids", help="token ids, comma-separated")
    source.add_argument("--text", help="text to encode (char and byte tokenizers)")
    parser.add_argument("--expect", type=pathlib.Path,
                        help="float32 logits [tokens, vocab_size] to compare with")
    parser.add_argument("--tolerance", type=float, default=1e-5,
                        help="largest absolute difference accepted by --expect")
    args = parser.parse_args()

    config = json.loads((args.export / "config.json").read_text())
    tokenizer = json.loads((args.export / "tokenizer.json").read_text())
    weights, _ = read_safetensors(args.export / "model.safetensors")
    ids = ([int(i) for i in args.ids.split(",")] if args.ids is not None
           else encode(tokenizer, args.text))
    if not 1 <= len(ids) <= config["block_size"]:
        sys.exit(f"{len(ids)} tokens: the model reads 1 to block_size = {config['block_size']}")
    logits = forward(weights, config, torch.tensor([ids]))[0]  # [tokens, vocab_size]

    if args.expect is not None:
        expected = torch.from_numpy(np.fromfile(args.expect, dtype="<f4")).reshape(logits.shape)
        difference = (logits - expected).abs().max().item()
        print(f"{config['arch']}: {logits.shape[0]} x {logits.shape[1]} logits, "
              f"largest difference from {args.expect.name} {difference:.3g} "
              f"(tolerance {args.tolerance:g})")
        return 0 if difference <= args.tolerance else 1

    probabilities = torch.softmax(logits[-1], dim=-1)
    top = torch.topk(probabilities, k=min(5, probabilities.numel()))
    print(f"{config['arch']}, {len(ids)} tokens in; most likely next tokens:")
    for probability, token_id in zip(top.values.tolist(), top.indices.tolist()):
        print(f"  {token_id:6d} {piece(tokenizer, token_id)!r:12} {probability:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
