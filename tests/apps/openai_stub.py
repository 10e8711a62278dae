#!/usr/bin/env python3
"""A small OpenAI-compatible chat completions server for the bench suite's endpoint test.

Listens on 127.0.0.1 on a free port (written to --port-file), answers POST
/v1/chat/completions with "stream": true as server-sent events, logs every request as one
JSON line (--log), and stops by itself after --lifetime seconds. The request's "model"
chooses the behaviour, so one server covers every case:

  ok        fixed replies: P1 requests alternate a valid answer (even) and a broken one
            (odd), P2 always valid, P3 always fails its schema (a time of "3pm"), anything
            else a sentence; usage in the last chunk; prompts longer than --ctx tokens (3
            bytes each, as the usage says) get HTTP 400 with llama.cpp's message
  nousage   as ok, without usage (the client counts the content chunks)
  http500   HTTP 500 with an error body
  garbage   200 and an event stream whose data is not JSON
  html      200 and an HTML page
  truncated one content chunk, then the connection closes
  huge      an endless line (20 MiB), to hit the client's cap
Standard library only; nothing leaves the loopback interface.
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

P1_VALID = ('```json\n[{"title": "販売店向け説明資料の作成", "due_date": "2025-06-13", '
            '"priority": "high", "owner": "山本"}, {"title": "誤植チェック", "due_date": '
            '"2025-06-08", "priority": "high", "owner": null}]\n```')
P1_BROKEN = '[{"title": "販売店向け説明資料の作成", "due_date": "来週金曜", "priority": "high"'
P2_VALID = ('{"decisions": [{"summary": "公開日は7月15日", "owner": "森"}], "open_issues": '
            '[{"summary": "法務確認", "owner": "西村"}], "risks": [{"summary": "決済APIの変更", '
            '"severity": "high", "mitigation": null}]}')
P3_BAD = ('{"title": "打ち合わせ", "date": "2025-06-11", "start_time": "3pm", '
          '"duration_minutes": 90, "attendees": ["sato@example.co.jp"], "online": true}')
SENTENCE = "在宅勤務の申請はポータルから前日17時までに行います。"


class State:
    lock = threading.Lock()
    p1_count = 0
    log = None
    ctx = 3000


def reply_for(user):
    if "社内メモから" in user:
        with State.lock:
            k = State.p1_count
            State.p1_count += 1
        return P1_VALID if k % 2 == 0 else P1_BROKEN
    if "文字起こし" in user and "決まったこと" in user:
        return P2_VALID
    if "関数呼び出し" in user:
        return P3_BAD
    return SENTENCE


def sse(obj):
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def send(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        try:
            req = json.loads(body)
        except ValueError:
            self.send(400, "application/json", b'{"error": {"message": "bad JSON"}}')
            return
        if State.log:
            with State.lock, open(State.log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"path": self.path,
                                    "authorization": self.headers.get("Authorization"),
                                    "body": req}, ensure_ascii=False) + "\n")
        if self.path != "/v1/chat/completions":
            self.send(404, "text/plain", b"not found")
            return
        mode = req.get("model", "ok")
        user = req["messages"][-1]["content"]
        if mode == "http500":
            self.send(500, "application/json",
                      b'{"error": {"message": "the stub is broken on purpose", "code": 500}}')
        elif mode == "html":
            self.send(200, "text/html", b"<html><body>It works!</body></html>")
        elif mode == "garbage":
            self.start_stream()
            self.wfile.write(b"data: {this is not json\n\n")
        elif mode == "truncated":
            self.start_stream()
            self.wfile.write(sse({"choices": [{"index": 0, "delta": {"content": "途中"}}]}))
        elif mode == "huge":
            self.start_stream()
            chunk = b"data: " + b"x" * (1 << 16)
            try:
                for _ in range(320):  # 20 MiB at most, then stop
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self.stream_reply(req, user, mode != "nousage")

    def stream_reply(self, req, user, usage):
        n_prompt = len(user.encode()) // 3
        if n_prompt > State.ctx:
            msg = ('{"error": {"code": 400, "message": "the request exceeds the available '
                   'context size, try increasing it", "type": "exceed_context_size_error"}}')
            self.send(400, "application/json", msg.encode())
            return
        text = reply_for(user)
        pieces = [text[i:i + 8] for i in range(0, len(text), 8)]
        pieces = pieces[:max(1, int(req.get("max_tokens", 16)))]
        self.start_stream()
        self.wfile.write(b": stub\n\n")
        self.wfile.write(sse({"choices": [{"index": 0, "delta": {"role": "assistant"}}]}))
        for p in pieces:
            time.sleep(0.002)
            self.wfile.write(sse({"choices": [{"index": 0, "delta": {"content": p}}]}))
            self.wfile.flush()
        self.wfile.write(sse({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
        if usage:
            self.wfile.write(sse({"choices": [], "usage": {"prompt_tokens": n_prompt,
                                                           "completion_tokens": len(pieces)}}))
        self.wfile.write(b"data: [DONE]\n\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--ctx", type=int, default=3000)
    ap.add_argument("--lifetime", type=float, default=300)
    a = ap.parse_args()
    State.log = a.log
    State.ctx = a.ctx
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.replace(a.port_file + ".tmp", a.port_file)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    time.sleep(a.lifetime)
    server.shutdown()


if __name__ == "__main__":
    main()
