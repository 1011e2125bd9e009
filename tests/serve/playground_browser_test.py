#!/usr/bin/python3
"""The playground end to end in real headless Chromium.

Trains a tiny model with the built `loom`, starts `loom serve` on it, and
drives Debian's chromium through chromium-driver (Python's selenium): the
page shows the model, a prompt typed into the box and submitted streams
text into the page over several reads, the finished text equals what the
JSON API returns for the same settings, and a request over the server's
limit shows the server's message. A second server with an API key: the page
asks for the key, and works once it is given. Saves a screenshot of the
finished page.

    playground_browser_test.py LOOM_BINARY SCREENSHOT_PNG

Exits 77 (skipped) when chromium, chromedriver or selenium is missing.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77
CHROMEDRIVER = "/usr/bin/chromedriver"

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    print("skipped: Python's selenium is not installed (Debian: python3-selenium)")
    sys.exit(SKIP)

if not (shutil.which("chromium") and os.path.exists(CHROMEDRIVER)):
    print("skipped: chromium or chromium-driver is not installed")
    sys.exit(SKIP)

CORPUS_LINES = [
    "the king shall speak of love and night,",
    "my lord, the night is fair in rome.",
    "of love and night the king shall speak;",
    "fair rome, my lord, shall love the king.",
]

CONFIG = """
run: {{name: tiny, out_dir: "{folder}/runs", seed: 3, threads: 1}}
prepare: {{inputs: ["{folder}/corpus.txt"], tokenizer: char, val_fraction: 0.1}}
data: {{store: "{folder}/tiny.h5"}}
model: {{block_size: 32, n_layer: 2, n_head: 2, n_embd: 32, dropout: 0.0}}
optim: {{lr: 3.0e-3, warmup_iters: 2, lr_decay_iters: 40}}
train: {{max_iters: 40, batch_size: 8}}
eval: {{interval: 40, iters: 1, samples: 0}}
checkpoint: {{interval: 40}}
"""


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")


def train_tiny_run(loom, folder):
    with open(os.path.join(folder, "corpus.txt"), "w") as corpus:
        for i in range(400):
            corpus.write(CORPUS_LINES[i % len(CORPUS_LINES)] + "\n\n" * (i % 3 == 2))
    config = os.path.join(folder, "tiny.yaml")
    with open(config, "w") as file:
        file.write(CONFIG.format(folder=folder))
    run([loom, "prepare", config])
    run([loom, "train", config])
    return os.path.join(folder, "runs", "tiny")


def start_server(loom, run_dir, extra_args=()):
    # One LibTorch thread: with its default of every core, a machine loaded
    # by other tests (ctest -j2, builds) starves OpenMP's thread team, and the
    # tiny model streamed 5 tokens/s where it streams hundreds alone.
    server = subprocess.Popen([loom, "serve", run_dir, "--port", "0", "--max-tokens", "1500",
                               "--threads", "1", *extra_args],
                              stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()
    match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
    if not match:
        server.kill()
        sys.exit(f"loom serve did not print its address; it printed {line!r}")
    return server, match.group(1)


def start_browser():
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-default-apps", "--disable-sync", "--no-first-run",
                 "--window-size=1200,860"]:
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def post_json(url, body):
    request = urllib.request.Request(url + "v1/generate", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.load(reply)


def set_field(browser, element_id, value):
    field = browser.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(value)


def test_page(browser, url, screenshot):
    browser.get(url)
    wait = WebDriverWait(browser, 60, poll_frequency=0.05)
    info = browser.find_element(By.ID, "model-info")
    wait.until(lambda _: "tiny" in info.text)
    check("GPT 2\u00d732" in info.text and "step 40" in info.text,
          f"the header does not describe the model: {info.text!r}")

    # Typed as a user would; the seed makes the text reproducible.
    set_field(browser, "prompt", "the king")
    set_field(browser, "max_tokens", "1200")
    set_field(browser, "seed", "7")
    browser.find_element(By.ID, "stop_at_eos").click()  # on by default; off, the length is exact
    # Record the generated text's length at each change the page makes: text
    # that streams grows over many separate reads, text that came in one
    # reply would appear at once.
    browser.execute_script("""
        window.lengthsSeen = [];
        new MutationObserver(() => {
          const generated = document.getElementById('generated');
          if (generated) window.lengthsSeen.push(generated.textContent.length);
        }).observe(document.getElementById('output'),
                   {childList: true, subtree: true, characterData: true});""")
    browser.find_element(By.ID, "generate").click()
    status = browser.find_element(By.ID, "status")
    try:
        wait.until(lambda _: status.get_attribute("data-finished"))
    except TimeoutException:
        raise AssertionError(f"the generation did not finish within 60 s: {status.text!r}")
    check(status.get_attribute("data-finished") == "length",
          f"the generation did not finish by length: {status.text!r}")
    check(re.match(r"done \(length\): 1200 tokens in [\d.]+ s, \d+ tokens/s, seed 7$", status.text),
          f"unexpected status line: {status.text!r}")

    generated = browser.find_element(By.ID, "generated").get_property("textContent")
    lengths = sorted(set(browser.execute_script("return window.lengthsSeen;")))
    partial = [n for n in lengths if 0 < n < len(generated)]
    check(len(partial) >= 5,
          f"the text did not stream: it appeared at {len(partial)} partial lengths only")

    # The page sends what its controls say; the API given the same gives the same.
    values = browser.execute_script("""
        return ['temperature', 'top_k', 'top_p', 'repetition_penalty']
            .map(id => Number(document.getElementById(id).value));""")
    expected = post_json(url, {"prompt": "the king", "max_tokens": 1200, "seed": 7,
                               "temperature": values[0], "top_k": values[1], "top_p": values[2],
                               "repetition_penalty": values[3], "stop_at_eos": False})
    check(generated == expected["text"], "the page's text differs from the API's")
    prompt_shown = browser.find_element(By.CSS_SELECTOR, "#output .prompt").text
    check(prompt_shown == "the king", f"the prompt is shown as {prompt_shown!r}")
    browser.save_screenshot(screenshot)

    # Over the server's limit: the server's message, shown as an error.
    set_field(browser, "max_tokens", "5000")
    browser.find_element(By.ID, "generate").click()
    wait.until(lambda _: "error" in (status.get_attribute("class") or ""))
    check(status.text == "'max_tokens' must be from 0 to 1500 (the server's limit), got 5000",
          f"unexpected error status: {status.text!r}")
    check(browser.find_element(By.ID, "generate").is_enabled(), "the button stays disabled")


def test_key(browser, url):
    """A server with an API key: the page asks for it, then works."""
    browser.get(url)
    wait = WebDriverWait(browser, 60, poll_frequency=0.05)
    info = browser.find_element(By.ID, "model-info")
    key_field = browser.find_element(By.ID, "api_key")
    wait.until(lambda _: key_field.is_displayed())
    check(info.text == "this server needs an API key: enter it beside the prompt",
          f"the page does not ask for the key: {info.text!r}")
    key_field.send_keys("page-key")
    browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", key_field)
    wait.until(lambda _: "tiny" in info.text)
    set_field(browser, "max_tokens", "20")
    browser.find_element(By.ID, "generate").click()
    status = browser.find_element(By.ID, "status")
    wait.until(lambda _: status.get_attribute("data-finished"))
    check(status.text.startswith("done ("), f"a generation with the key: {status.text!r}")


def main():
    loom, screenshot = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.dirname(os.path.abspath(screenshot)), exist_ok=True)
    folder = tempfile.mkdtemp(prefix="loom-playground-")
    server = browser = None
    try:
        run_dir = train_tiny_run(loom, folder)
        server, url = start_server(loom, run_dir)
        browser = start_browser()
        test_page(browser, url, screenshot)
        keyed_server, keyed_url = start_server(loom, run_dir, ("--api-key", "page-key"))
        try:
            test_key(browser, keyed_url)
        finally:
            keyed_server.send_signal(signal.SIGTERM)
            keyed_server.wait(timeout=30)
        print(f"playground test passed; screenshot: {screenshot}")
    finally:
        if browser:
            browser.quit()
        if server:
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=30)
            if code != 0:
                sys.exit(f"loom serve exited with {code} on SIGTERM")
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
