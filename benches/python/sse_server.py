"""A loopback server streaming one large OpenAI chat-completion SSE reply (short text deltas,
frames shaped like benches/sse.rs), prebuilt in memory so the server is never the bottleneck.
Usage: sse_server.py PORT MEGABYTES. Prints the body size in bytes once listening."""
import socket
import sys
import threading

port, mb = int(sys.argv[1]), float(sys.argv[2])
words = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]
head = ('data: {"id":"chatcmpl-AqHk9bW3mTqVvXo2ZfJcR7yD4sNeK","object":"chat.completion.chunk",'
        '"created":1736850074,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":')
tail = ',"logprobs":null,"finish_reason":null}],"usage":null}\n\n'
frames = [f'{head}{{"content":"{w}"}}{tail}' for w in words]
cycle = "".join(frames).encode()
body = bytearray()
while len(body) < mb * 1e6:
    body += cycle
body += (b'data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":'
         b'[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
reply = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n"
         + f"content-length: {len(body)}\r\n\r\n".encode() + bytes(body))


def serve(conn):
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head_end = data.index(b"\r\n\r\n") + 4
        length = 0
        for line in data[:head_end].decode("latin-1").split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        while len(data) < head_end + length:
            data += conn.recv(65536)
        conn.sendall(reply)


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
print(len(body), flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
