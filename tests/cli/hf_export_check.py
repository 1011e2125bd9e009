"""Loads `loom export --format hf` with Hugging Face's transformers alone and
checks it against what Loom computed (export_cli_test.cpp):

  - AutoModelForCausalLM loads it as GPT-2 (GPT2LMHeadModel);
  - its logits for IDS equal Loom's (LOGITS: raw float32, [len(IDS), vocab])
    within 1e-4;
  - with --corpus and --corpus-ids: AutoTokenizer encodes the corpus to
    exactly Loom's ids for it (raw int64) and decodes them back to it byte
    for byte;
  - with --texts: for each text of the JSON list [{"text", "ids",
    "decoded"}], AutoTokenizer's ids are Loom's ids and its decode of them
    is Loom's decode;
  - with --prompt and --greedy: greedy generation of (up to) 200 tokens after
    the prompt decodes to the greedy file's text (what `loom sample
    --temperature 0` printed after the prompt);
  - with --readme: the ```python example of its "Load it in transformers"
    section runs on DIR.

    hf_export_check.py DIR IDS LOGITS [--corpus F --corpus-ids F] [--texts F]
                       [--prompt P --greedy F] [--readme README.md]

Prints one line per check; exits 1 on the first that fails.
"""
import argparse
import json
import re
import subprocess
import sys

import numpy
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

TOLERANCE = 1e-4


def fail(message):
    print(f"FAILED: {message}")
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("ids")
    parser.add_argument("logits")
    parser.add_argument("--corpus")
    parser.add_argument("--corpus-ids")
    parser.add_argument("--texts")
    parser.add_argument("--prompt")
    parser.add_argument("--greedy")
    parser.add_argument("--readme")
    parser.add_argument("--architecture", default="GPT2LMHeadModel",
                        help="the class transformers must load the folder as")
    args = parser.parse_args()
    folder = args.folder
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    if type(model).__name__ != args.architecture:
        fail(f"loaded as {type(model).__name__}, not {args.architecture}")
    tokenizer = AutoTokenizer.from_pretrained(folder)

    ids = [int(i) for i in args.ids.split(",")]
    expected = numpy.fromfile(args.logits, dtype="<f4").reshape(len(ids), -1)
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].numpy()
    difference = float(numpy.abs(logits - expected).max())
    print(f"logits: {len(ids)} x {logits.shape[1]}, largest difference {difference:.2e}")
    if difference > TOLERANCE:
        fail(f"the logits differ from Loom's by {difference} > {TOLERANCE}")

    if args.corpus:
        check_tokenizer(tokenizer, args.corpus, args.corpus_ids)
    if args.texts:
        check_texts(tokenizer, args.texts)
    if args.prompt:
        check_generation(model, tokenizer, args.prompt, args.greedy)
    if args.readme:
        check_readme(args.readme, folder)


def check_tokenizer(tokenizer, corpus_path, corpus_ids_path):
    corpus = open(corpus_path, encoding="utf-8", newline="").read()
    loom_ids = numpy.fromfile(corpus_ids_path, dtype="<i8").tolist()
    encoded = tokenizer(corpus, add_special_tokens=False)["input_ids"]
    if encoded != loom_ids:
        first = next((i for i, (a, b) in enumerate(zip(encoded, loom_ids)) if a != b),
                     min(len(encoded), len(loom_ids)))
        fail(f"AutoTokenizer's ids differ from Loom's at {first} (lengths {len(encoded)}, "
             f"{len(loom_ids)})")
    if tokenizer.decode(encoded) != corpus:
        fail("AutoTokenizer's decode of the corpus is not the corpus")
    print(f"tokenizer: {len(corpus)} characters round-trip, ids equal Loom's")


def check_texts(tokenizer, texts_path):
    texts = json.load(open(texts_path, encoding="utf-8"))
    for case in texts:
        encoded = tokenizer(case["text"], add_special_tokens=False)["input_ids"]
        if encoded != case["ids"]:
            fail(f"AutoTokenizer's ids for {case['text']!r} are {encoded}, Loom's {case['ids']}")
        decoded = tokenizer.decode(case["ids"])
        if decoded != case["decoded"]:
            fail(f"AutoTokenizer decodes {case['ids']} to {decoded!r}, Loom to "
                 f"{case['decoded']!r}")
    print(f"texts: {len(texts)} texts, ids and decodes equal Loom's")


def check_generation(model, tokenizer, prompt, greedy_path):
    greedy = open(greedy_path, encoding="utf-8", newline="").read()
    prompt_ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        generated = model.generate(prompt_ids, do_sample=False, max_new_tokens=200)
    new_ids = generated[0, prompt_ids.shape[1]:].tolist()
    # Both stop at <eos> (generation_config.json's eos_token_id); Loom prints
    # the text before it.
    if tokenizer.eos_token_id in new_ids:
        new_ids = new_ids[:new_ids.index(tokenizer.eos_token_id)]
    text = tokenizer.decode(new_ids)
    if text != greedy:
        fail(f"greedy generation differs from loom sample's:\n{text!r}\n{greedy!r}")
    print(f"generate: {len(new_ids)} greedy tokens equal loom sample's")


def check_readme(readme_path, folder):
    readme = open(readme_path, encoding="utf-8").read()
    section = readme.split("## Load it in transformers", 1)[1].split("\n## ", 1)[0]
    example = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    ran = subprocess.run([sys.executable, "-c",
                          example.replace("exported/shakespeare-hf", folder)],
                         capture_output=True, text=True, timeout=300)
    if ran.returncode != 0 or not ran.stdout.strip():
        fail(f"the README's example failed ({ran.returncode}):\n{ran.stderr}")
    print("README: the example ran")


if __name__ == "__main__":
    main()
