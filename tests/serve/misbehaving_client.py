#!/usr/bin/python3
"""Clients that misbehave towards `loom serve`, for its load test and bench.

    misbehaving_client.py slow-reader PORT SECONDS
        Starts streaming a 100,000-token generation with a 4 KB receive
        buffer and reads nothing for SECONDS: once the buffers are full the
        server's writes block, and after its --write-timeout it drops the
        client. Then reads what is left for up to 5 s and prints
        "received=BYTES dropped=0|1".
    misbehaving_client.py silent PORT SECONDS
        Connects and sends nothing for up to SECONDS; prints "dropped=1" if
        the server hung up meanwhile (httplib's read timeout), else
        "dropped=0".
"""
import socket
import sys
import time


def slow_reader(port, seconds):
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.connect(("127.0.0.1", port))
    body = b'{"prompt": "the king", "max_tokens": 100000, "stream": true}'
    client.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: loom\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    time.sleep(seconds)
    client.settimeout(5)
    received, dropped = 0, False
    try:
        while True:
            data = client.recv(1 << 16)
            if not data:
                dropped = True
                break
            received += len(data)
    except socket.timeout:
        pass
    except ConnectionResetError:
        dropped = True
    print(f"received={received} dropped={int(dropped)}")


def silent(port, seconds):
    client = socket.create_connection(("127.0.0.1", port))
    client.settimeout(seconds)
    try:
        dropped = client.recv(1) == b""
    except socket.timeout:
        dropped = False
    except ConnectionResetError:
        dropped = True
    print(f"dropped={int(dropped)}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("slow-reader", "silent"):
        sys.exit(__doc__)
    {"slow-reader": slow_reader, "silent": silent}[sys.argv[1]](int(sys.argv[2]), float(sys.argv[3]))
