#!/usr/bin/python3
"""`loom serve` driven by OpenAI's official Python client, and the README's
examples for it run as they are written.

Trains the tiny run (train_tiny_run.sh), serves it with an API key, and
checks with the `openai` package (pinned in scripts/python-clients.txt):
the model list; completions and chat completions, streamed and not, the
streams joining up to the whole replies for the same seed; n > 1; stop
strings; usage counts; logprobs (completions, echo, chat); a wrong key (AuthenticationError) and fields Loom
refuses (BadRequestError with the server's message). Then the Python and
curl examples of README.md's "Use it from the OpenAI client" section, with
the test's port, key and model name put in.

    openai_client_test.py SOURCE_DIR LOOM_BINARY

Exits 77 (skipped) when the clients are not installed
(scripts/install-python-clients.sh) or curl is missing.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
KEY = "test-key-7f3a"


def client_python(source_dir):
    found = subprocess.run([os.path.join(source_dir, "scripts/install-python-clients.sh"),
                            "--python"], capture_output=True, text=True)
    return found.stdout.strip() if found.returncode == 0 else None


def check(condition, message):
    if not condition:
        sys.exit(f"FAILED: {message}")


def start_server(loom, run_dir, work):
    log = open(os.path.join(work, "serve.err"), "w")
    server = subprocess.Popen([loom, "serve", run_dir, "--port", "0", "--threads", "1",
                               "--api-key", KEY], stdout=subprocess.PIPE, stderr=log, text=True)
    line = server.stdout.readline()
    match = re.search(r"at http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        server.kill()
        sys.exit(f"loom serve did not print its address; it printed {line!r}")
    return server, int(match.group(1))


def test_client(port):
    import openai

    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0)
    check([model.id for model in client.models.list().data] == ["tiny"], "the model list")

    # Completions: a seed repeats a text, streamed or not; n texts differ.
    settings = dict(model="tiny", prompt="the king", max_tokens=40, seed=11, temperature=1.0)
    whole = client.completions.create(**settings)
    check(whole.object == "text_completion" and len(whole.choices) == 1, "one completion")
    check(whole.choices[0].finish_reason in ("stop", "length"), "a finish reason")
    check(whole.usage.prompt_tokens == 8 and whole.usage.completion_tokens > 0,
          f"usage counts {whole.usage}")
    check(client.completions.create(**settings).choices[0].text == whole.choices[0].text,
          "the same seed gives the same text")
    streamed = "".join(chunk.choices[0].text
                       for chunk in client.completions.create(**settings, stream=True)
                       if chunk.choices)
    check(streamed == whole.choices[0].text,
          f"the stream {streamed!r} joins up to the reply {whole.choices[0].text!r}")

    several = client.completions.create(model="tiny", prompt="my lord", max_tokens=30, n=3,
                                        seed=2, stop=[" "])
    check([choice.index for choice in several.choices] == [0, 1, 2], "n = 3 choices")
    check(len({choice.text for choice in several.choices}) > 1, "n texts are n draws")
    for choice in several.choices:
        check(" " not in choice.text, f"a stop string in {choice.text!r}")

    # Chat: the answer is one message (blocks: it ends before a blank line).
    chat_settings = dict(model="tiny", max_tokens=60, seed=4, temperature=1.2,
                         messages=[{"role": "user", "content": "the king shall speak"}])
    answer = client.chat.completions.create(**chat_settings)
    message = answer.choices[0].message
    check(answer.object == "chat.completion" and message.role == "assistant", "a chat answer")
    check("\n\n" not in message.content, f"the answer {message.content!r} is one message")
    chunks = list(client.chat.completions.create(**chat_settings, stream=True,
                                                 stream_options={"include_usage": True}))
    check(chunks[0].choices[0].delta.role == "assistant", "the stream names the role first")
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    check(streamed == message.content, f"the chat stream {streamed!r} is {message.content!r}")
    check(chunks[-1].usage.completion_tokens == answer.usage.completion_tokens,
          "the stream's usage chunk counts what the reply counts")
    two = client.chat.completions.create(**chat_settings | {"n": 2})
    check(len(two.choices) == 2, "a chat with n = 2")

    # Log-probabilities, as the client's types read them.
    scored = client.completions.create(**settings, logprobs=3)
    logprobs = scored.choices[0].logprobs
    check("".join(logprobs.tokens).startswith(scored.choices[0].text) and
          len(logprobs.tokens) == scored.usage.completion_tokens, f"the tokens {logprobs.tokens}")
    check(all(value <= 0 for value in logprobs.token_logprobs), "log-probabilities are <= 0")
    check(all(len(top) in (3, 4) and top[token] == value for token, value, top in
              zip(logprobs.tokens, logprobs.token_logprobs, logprobs.top_logprobs)),
          "each step lists the 3 likeliest and the chosen token")
    offsets = [sum(map(len, logprobs.tokens[:i])) for i in range(len(logprobs.tokens))]
    check(logprobs.text_offset == offsets, f"text offsets {logprobs.text_offset}")
    streamed_logprobs = [value for chunk in client.completions.create(**settings, logprobs=3,
                                                                      stream=True)
                         if chunk.choices and chunk.choices[0].logprobs
                         for value in chunk.choices[0].logprobs.token_logprobs]
    check(streamed_logprobs == logprobs.token_logprobs, "streamed logprobs are the reply's")
    prompt = client.completions.create(model="tiny", prompt="the king", max_tokens=0, echo=True,
                                       logprobs=0)
    check(prompt.choices[0].text == "the king" and
          prompt.choices[0].logprobs.token_logprobs[0] is None and
          len(prompt.choices[0].logprobs.token_logprobs) == 8, "echo scores the prompt")
    chat_scored = client.chat.completions.create(**chat_settings, logprobs=True, top_logprobs=2)
    content = chat_scored.choices[0].logprobs.content
    check("".join(item.token for item in content).startswith(
        chat_scored.choices[0].message.content), "the chat's tokens make its answer")
    check(all(bytes(item.bytes).decode() == item.token and len(item.top_logprobs) == 2
              for item in content), "each chat token has its bytes and 2 likeliest")

    # What goes wrong says so.
    stranger = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="wrong",
                             max_retries=0)
    try:
        stranger.models.list()
        check(False, "a wrong key was let in")
    except openai.AuthenticationError as error:
        check(error.status_code == 401 and "not this server's" in str(error), str(error))
    for refused, expected in ((dict(logprobs=21), "'logprobs' must be between 0 and 20"),
                              (dict(extra_body={"top_kk": 3}),
                               "unknown field 'top_kk'; did you mean 'top_k'?")):
        try:
            client.completions.create(model="tiny", prompt="a", max_tokens=2, **refused)
            check(False, f"{refused} was accepted")
        except openai.BadRequestError as error:
            check(expected in str(error), f"{error} should say {expected!r}")
    print("openai client: models, completions, chat, streams, n, stop, usage, logprobs, "
          "errors: ok")


def readme_examples(source_dir):
    """The ```python and ```sh blocks of the README's OpenAI client section."""
    text = open(os.path.join(source_dir, "README.md"), encoding="utf-8").read()
    section = text.split("## Use it from the OpenAI client", 1)[1].split("\n## ", 1)[0]
    return (re.findall(r"```python\n(.*?)```", section, re.S),
            re.findall(r"```sh\n(.*?)```", section, re.S))


def with_test_values(example, port):
    return (example.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
            .replace("shakespeare_char_cpu", "tiny").replace("my-secret-key", KEY))


def test_readme(source_dir, python, port):
    python_examples, shell_examples = readme_examples(source_dir)
    check(python_examples and shell_examples, "the README section has its examples")
    environment = dict(os.environ, LOOM_API_KEY=KEY)
    for example in python_examples:
        result = subprocess.run([python, "-c", with_test_values(example, port)],
                                capture_output=True, text=True, env=environment, timeout=120)
        check(result.returncode == 0 and result.stdout.strip(),
              f"the README's Python example failed ({result.returncode}):\n{result.stderr}")
    # The block that starts the server is left out: the test's is running.
    shell_examples = [example for example in shell_examples if "loom serve" not in example]
    for example in shell_examples:
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", with_test_values(example, port)],
                                capture_output=True, text=True, env=environment, timeout=120)
        check(result.returncode == 0 and "data: [DONE]" in result.stdout,
              f"the README's curl example failed ({result.returncode}):\n{result.stdout}"
              f"{result.stderr}")
    print(f"README: {len(python_examples)} Python and {len(shell_examples)} shell examples ran")


def main():
    source_dir, loom = sys.argv[1], sys.argv[2]
    python = client_python(source_dir)
    if python is None:
        print("skipped: the Python clients are not installed (scripts/install-python-clients.sh)")
        return SKIP
    if not shutil.which("curl"):
        print("skipped: curl is not installed")
        return SKIP
    if sys.prefix != os.path.dirname(os.path.dirname(python)):
        # Again under the clients' environment, where `openai` is (its
        # python links to this one: compare the environments, not binaries).
        return subprocess.run([python] + sys.argv).returncode
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["bash", os.path.join(source_dir, "tests/serve/train_tiny_run.sh"), loom,
                        work], check=True, stdout=subprocess.DEVNULL)
        server, port = start_server(loom, os.path.join(work, "runs", "tiny"), work)
        try:
            test_client(port)
            test_readme(source_dir, python, port)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
