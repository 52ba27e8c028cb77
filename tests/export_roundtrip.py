"""The export round trip (issue 11): for each scenario and target, the exported Python program,
run against `retrylab sim SCENARIO`, must make the same attempts (provider, model, order), the
same waits (to the ms; a jittered wait within its range), reinsert the same error texts and end
the same way as `retrylab run SCENARIO --json`.

usage: export_roundtrip.py RETRYLAB PYTHON WORKDIR TARGET[,TARGET] SCENARIO.toml...
Prints one line per case and `N passed, N failed`; exits 1 on a failure.
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor

SDK = {"openai-compatible": "openai", "openai-responses": "openai", "azure-openai": "openai"}
# A Retry-After from a server-side limit depends on real elapsed time, which drifts by a few
# ms between a real-time run and the virtual clock.
LIMIT_TOLERANCE_MS = 300


def secs(v) -> float:
    if isinstance(v, (int, float)):
        return float(v)
    m = re.fullmatch(r"\s*([0-9.]+|inf)\s*(ms|s|m|h)?\s*", str(v))
    if not m:
        raise ValueError(f"duration {v!r}")
    n = float(m.group(1))
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def exp_value(p: dict, attempt: int) -> float:
    mult, base = float(p.get("multiplier", 1)), float(p.get("exp_base", 2))
    lo, hi = secs(p.get("min", 0)), secs(p.get("max", "inf"))
    try:
        raw = mult * base ** (attempt - 1)
    except OverflowError:
        raw = hi
    return max(max(0, lo), min(raw, hi))


def wait_range(w: dict | None, attempt: int) -> tuple[float, float]:
    """Tenacity's (and retrylab's) lowest and highest wait after `attempt` failed."""
    if not w:
        return (0.0, 0.0)
    (name, p), = w.items()
    if name == "fixed":
        return (secs(p), secs(p))
    if name == "random":
        return (secs(p.get("min", 0)), secs(p.get("max", 1)))
    if name == "exponential":
        v = exp_value(p, attempt)
        return (v, v)
    if name == "random_exponential":
        return (secs(p.get("min", 0)), exp_value(p, attempt))
    if name == "exponential_jitter":
        initial, base = secs(p.get("initial", 1)), float(p.get("exp_base", 2))
        hi, jitter = secs(p.get("max", "inf")), secs(p.get("jitter", 1))
        raw = initial * base ** (attempt - 1)
        return (max(0, min(raw, hi)), max(0, min(raw + jitter, hi)))
    if name == "incrementing":
        v = secs(p.get("start", 0)) + secs(p.get("increment", 1)) * (attempt - 1)
        v = max(0, min(v, secs(p.get("max", "inf"))))
        return (v, v)
    if name == "chain":
        return wait_range(p[min(max(attempt, 1), len(p)) - 1], attempt) if p else (0, 0)
    if name == "sum":
        parts = [wait_range(x, attempt) for x in p]
        return (sum(a for a, _ in parts), sum(b for _, b in parts))
    if name == "decorrelated_jitter":
        # min(max, uniform(base, 3 * previous)), previous being the whole last wait (a
        # Retry-After's too): anywhere in [base, max].
        base, top = secs(p.get("base", 1)), secs(p.get("max", "inf"))
        return (min(base, top), top)
    raise ValueError(f"wait {name}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LazySim:
    """A loopback proxy that starts `retrylab sim` at the first connection: the simulator's
    outage windows and buckets count from its start, and the program's Python start-up (a
    second or more under load) must not eat into them."""

    def __init__(self, command: list[str], env: dict) -> None:
        self.command, self.env, self.sim = command, env, None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _start(self) -> int:
        with self.lock:
            if self.sim is None:
                self.sim_port = free_port()
                self.sim = subprocess.Popen(
                    self.command + ["--addr", f"127.0.0.1:{self.sim_port}"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env,
                )
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    try:
                        socket.create_connection(("127.0.0.1", self.sim_port), timeout=0.2).close()
                        break
                    except OSError:
                        time.sleep(0.01)
            return self.sim_port

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self._start()))
        except OSError:
            client.close()
            return
        def pump(a: socket.socket, b: socket.socket) -> None:
            try:
                while data := a.recv(65536):
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)

    def close(self) -> None:
        self.listener.close()
        if self.sim is not None:
            self.sim.terminate()
            self.sim.wait(timeout=10)


def lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def expected(retrylab: str, scenario: str, env: dict) -> list[dict]:
    run = subprocess.run(
        [retrylab, "run", scenario, "--json", "--speed", "max", "--no-trace"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    return lines(run.stdout)


def exported(retrylab, python, workdir, scenario, target, env) -> list[dict]:
    stem = os.path.splitext(os.path.basename(scenario))[0]
    program = os.path.join(workdir, f"{stem}.{target}.py")
    subprocess.run(
        [retrylab, "export", scenario, "--to", target, "-o", program],
        check=True, capture_output=True, env=env, timeout=60,
    )
    sim = LazySim([retrylab, "sim", "--quiet", scenario], env)
    port = sim.port
    try:
        run = subprocess.run(
            [python, program],
            capture_output=True, text=True, timeout=150,
            env={**env, "RETRYLAB_BASE_URL": f"http://127.0.0.1:{port}"},
        )
    finally:
        sim.close()
    got = lines(run.stdout)
    if not any(e.get("event") == "run_finished" for e in got):
        raise RuntimeError(f"the program ended without an outcome (exit {run.returncode}):\n{run.stderr[-2000:]}")
    return got


def hop_retry(spec: dict, hop: int) -> dict | None:
    if hop > 0:
        own = spec.get("fallback", {}).get("hops", [])[hop - 1].get("retry")
        if own is not None:
            return own
    return spec.get("retry")


def compare(spec: dict, want: list[dict], got: list[dict]) -> list[str]:
    problems = []
    # Attempts: provider and model, in order.
    w_att = [(SDK.get(e["provider"], e["provider"]), e["model"]) for e in want if e["event"] == "attempt_started"]
    g_att = [(e["provider"], e["model"]) for e in got if e["event"] == "attempt_started"]
    if w_att != g_att:
        problems.append(f"attempts: retrylab {w_att}, exported {g_att}")
    # Waits: to the ms, a jittered one within its range, Retry-After within the limit's drift.
    w_waits = [e for e in want if e["event"] == "wait_started"]
    g_waits = [e for e in got if e["event"] == "wait_started"]
    if len(w_waits) != len(g_waits):
        problems.append(f"waits: retrylab {len(w_waits)}, exported {len(g_waits)}")
    limited = bool(spec.get("sim", {}).get("limits"))
    for w, g in zip(w_waits, g_waits):
        wait_spec = (hop_retry(spec, w["hop"]) or {}).get("wait")
        lo, hi = wait_range(wait_spec, w["attempt"])
        ra_jitter = (hop_retry(spec, w["hop"]) or {}).get("retry_after_jitter")
        jittered = hi - lo > 1e-9 or bool(ra_jitter)
        ra_w, ra_g = w.get("retry_after_ms"), g.get("retry_after_ms")
        tol = LIMIT_TOLERANCE_MS if limited else 0
        if (ra_w is None) != (ra_g is None) or (ra_w is not None and abs(ra_w - ra_g) > tol):
            problems.append(f"wait after attempt {w['attempt']}: retry-after {ra_w} vs {ra_g} ms")
        if jittered:
            if not (round(lo * 1000) - 1 <= g["computed_ms"] <= round(hi * 1000) + 1):
                problems.append(f"wait after attempt {w['attempt']}: back-off {g['computed_ms']} ms outside [{lo * 1000:.0f}, {hi * 1000:.0f}]")
            # A Retry-After's jitter (retry_after_jitter) lands on top of it, within its bound.
            j = g.get("retry_after_jitter_ms") or 0
            if ra_jitter and j > round(secs(ra_jitter) * 1000):
                problems.append(f"wait after attempt {w['attempt']}: jitter {j} ms beyond {ra_jitter}")
            if abs(g["delay_ms"] - max(g["computed_ms"], (ra_g or 0) + j if ra_g is not None else 0)) > 1:
                problems.append(f"wait after attempt {w['attempt']}: {g['delay_ms']} ms is not max(back-off, retry-after + jitter)")
        elif abs(w["delay_ms"] - g["delay_ms"]) > tol or (tol == 0 and w["delay_ms"] != g["delay_ms"]):
            problems.append(f"wait after attempt {w['attempt']}: retrylab {w['delay_ms']} ms, exported {g['delay_ms']} ms")
    # Reinserted error texts.
    w_re = [e["errors"] for e in want if e["event"] == "error_reinserted"]
    g_re = [e["errors"] for e in got if e["event"] == "error_reinserted"]
    if w_re != g_re:
        problems.append(f"reinserted: retrylab {w_re}, exported {g_re}")
    # The outcome: ok with the same content, or the same error kind; the same caught errors.
    w_end = next(e for e in want if e["event"] == "run_finished")
    g_end = next(e for e in got if e["event"] == "run_finished")
    if w_end["outcome"] != g_end["outcome"]:
        problems.append(f"outcome: retrylab {w_end['outcome']}, exported {g_end['outcome']} {g_end.get('error')}")
    elif w_end["outcome"] == "ok" and w_end["content"] != g_end["content"]:
        problems.append(f"content: retrylab {w_end['content']!r}, exported {g_end['content']!r}")
    elif w_end["outcome"] == "error" and w_end["error"]["kind"] != g_end["error"]["kind"]:
        problems.append(f"error: retrylab {w_end['error']['kind']}, exported {g_end['error']['kind']}")
    hop_fails = [e["kind"] for e in got if e["event"] == "hop_failed"]
    ends_uncaught = g_end["outcome"] == "error" and g_end["error"]["kind"] != "fallback_error"
    g_caught = hop_fails[:-1] if ends_uncaught else hop_fails
    w_caught = [c["kind"] for c in w_end.get("caught") or []]
    if w_caught != g_caught:
        problems.append(f"caught: retrylab {w_caught}, exported {g_caught}")
    return problems


def case(args):
    retrylab, python, workdir, scenario, target, env = args
    name = f"{os.path.basename(scenario)} --to {target}"
    started = time.monotonic()
    try:
        with open(scenario, "rb") as f:
            spec = tomllib.load(f)
        want = expected(retrylab, scenario, env)
        got = exported(retrylab, python, workdir, scenario, target, env)
        problems = compare(spec, want, got)
    except Exception as e:  # a crash of one case is that case's failure
        problems = [f"{type(e).__name__}: {e}"]
    took = time.monotonic() - started
    return name, problems, took


def main() -> int:
    retrylab, python, workdir, targets, *scenarios = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    env = dict(os.environ)
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        env.pop(key, None)
    # Longest first: the scenarios that run on a real-time clock (outages, limits) start
    # before the others load the machine.
    def weight(path):
        text = open(path, encoding="utf-8").read()
        return 0 if ("outages" in text or "limits" in text) else 1
    jobs = [
        (retrylab, python, workdir, s, t, env)
        for s in sorted(scenarios, key=weight)
        for t in targets.split(",")
    ]
    passed = failed = 0
    with ThreadPoolExecutor(max_workers=int(os.environ.get("ROUNDTRIP_JOBS", "4"))) as pool:
        for name, problems, took in pool.map(case, jobs):
            if problems:
                failed += 1
                print(f"FAIL {name} ({took:.1f} s)")
                for p in problems:
                    print(f"     {p}")
            else:
                passed += 1
                print(f"ok   {name} ({took:.1f} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
