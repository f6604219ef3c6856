#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A scripted HTTP server for tests/integration/ingest_test.sh: it serves
recorded documents of ENTSO-E and Open-Meteo, and their failures.

    ingest_server.py SCRIPT.json PORTFILE LOGFILE

SCRIPT maps a path (without the query) to a list of answers, served in
order, the last one repeated:

    {"/api": [{"status": 429, "headers": {"Retry-After": "1"}},
              {"file": "a44.xml", "type": "text/xml", "etag": "\"v1\"",
               "truncate": 100},
              {"status": 304}]}

An answer: status (default 200), type (Content-Type), file (the body;
relative to SCRIPT's folder) or body (text), headers, etag (sent as ETag),
truncate (send only that many bytes of the body while Content-Length says
the whole, then close). The log shows which validators each request sent.

The port it listens on (chosen by the kernel) goes to PORTFILE once it
listens; every request is one JSON line in LOGFILE: method, target (the
request line's, absolute when it came through as a proxy), path, query,
If-None-Match, If-Modified-Since, the status answered. As a proxy it serves
the same script by path.
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

script_path, port_file, log_file = sys.argv[1:4]
with open(script_path, encoding="utf-8") as f:
    script = json.load(f)
base = os.path.dirname(os.path.abspath(script_path))
served = {path: 0 for path in script}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the log file says it all
        pass

    def record(self, status):
        url = urlsplit(self.path)
        line = {"method": self.command, "target": self.path, "path": url.path,
                "query": url.query,
                "ifNoneMatch": self.headers.get("If-None-Match"),
                "ifModifiedSince": self.headers.get("If-Modified-Since"),
                "status": status}
        with lock, open(log_file, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")

    def do_GET(self):
        path = urlsplit(self.path).path
        with lock:
            answers = script.get(path)
            if answers is None:
                answer = {"status": 404, "type": "text/plain", "body": "no such path\n"}
            else:
                i = min(served[path], len(answers) - 1)
                answer = answers[i]
                served[path] = i + 1
        status = answer.get("status", 200)
        body = b""
        if "file" in answer:
            with open(os.path.join(base, answer["file"]), "rb") as f:
                body = f.read()
        elif "body" in answer:
            body = answer["body"].encode("utf-8")
        self.record(status)
        self.send_response(status)
        if answer.get("type"):
            self.send_header("Content-Type", answer["type"])
        if answer.get("etag"):
            self.send_header("ETag", answer["etag"])
        for k, v in answer.get("headers", {}).items():
            self.send_header(k, v)
        if status == 304:
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(body)))
        cut = answer.get("truncate")
        if cut is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body if cut is None else body[:cut])
        self.wfile.flush()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w", encoding="utf-8") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
