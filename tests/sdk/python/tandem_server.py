"""Start and stop a real `tandem serve` for the SDK tests, and account for its processes.

Each server runs on `127.0.0.1:0` with its own temporary data dir and a random API key
(`TANDEM_API_KEY`); its address comes from the stdout line `tandem: listening on http://...`.
`stop()` sends SIGTERM, waits up to 10 s, then SIGKILLs; it then checks that every process
the server started (its Chromium browsers and their children) is gone too.

With `TANDEM_TEST_PG_URL` set (the admin URL `scripts/pg-throwaway.sh start` prints), every
server stores its records in PostgreSQL instead of SQLite: a database of its own, named after
its data dir (so a restart on the same data dir finds its records), via `--database-url`.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import secrets
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# Settings of the developer's shell that would configure the server (its LLM provider among
# them, with a real key): each test says what it runs with instead.
INHERITED_CONFIG = re.compile(r"^(TANDEM_|(OPENAI|ANTHROPIC|GEMINI|GOOGLE)_(API_KEY|BASE_URL)$)")
TANDEM_BIN = Path(os.environ.get("TANDEM_BIN", REPO / "target" / "debug" / "tandem"))
LISTENING = re.compile(r"tandem: listening on (http://\S+)")
START_TIMEOUT_S = 60.0
PG_ADMIN_URL = os.environ.get("TANDEM_TEST_PG_URL", "").rstrip("/")


def postgres_database_for(data_dir: Path) -> str:
    """The URL of the PostgreSQL database of the server on `data_dir`, created if missing."""
    name = "tandem_" + hashlib.sha1(str(data_dir).encode()).hexdigest()[:16]
    host, port = PG_ADMIN_URL.rsplit("@", 1)[1].split("/")[0].rsplit(":", 1)
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/createdb"))
    createdb = os.environ.get("TANDEM_PG_BIN", "") + "/createdb" if os.environ.get("TANDEM_PG_BIN") else bins[-1]
    done = subprocess.run(
        [createdb, "-h", host, "-p", port, "-U", "postgres", name],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise RuntimeError(f"createdb {name} failed: {done.stderr}")
    return f"{PG_ADMIN_URL}/{name}"
STOP_GRACE_S = 10.0


@dataclass(frozen=True)
class Proc:
    """A process, identified by pid and start time so that a reused pid is not confused with it."""

    pid: int
    start: int
    cmdline: tuple[str, ...]

    def alive(self) -> bool:
        stat = _read_stat(self.pid)
        return stat is not None and stat[2] == self.start and stat[1] != "Z"

    def is_browser(self) -> bool:
        """The main Chromium process of one browser (not a renderer, GPU or utility child)."""
        if not self.cmdline or not self.cmdline[0].endswith("chromium"):
            return False
        return not any(arg.startswith("--type=") for arg in self.cmdline)


def _read_stat(pid: int) -> tuple[int, str, int] | None:
    """(ppid, state, starttime) of a process, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name is in parentheses and may contain spaces: split after the last ')'.
    rest = raw[raw.rindex(")") + 2 :].split()
    return int(rest[1]), rest[0], int(rest[19])


def _read_cmdline(pid: int) -> tuple[str, ...]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ()
    return tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part)


def descendants(root: int) -> list[Proc]:
    """Every live process below `root` in the process tree (not `root` itself)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, str, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _read_stat(int(entry))
        if stat is None:
            continue
        stats[int(entry)] = stat
        children.setdefault(stat[0], []).append(int(entry))
    found: list[Proc] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        ppid_state_start = stats[pid]
        if ppid_state_start[1] != "Z":
            found.append(Proc(pid, ppid_state_start[2], _read_cmdline(pid)))
        todo.extend(children.get(pid, []))
    return found


@dataclass
class TandemServer:
    data_dir: Path
    api_key: str = field(default_factory=lambda: "tk_" + secrets.token_hex(16))
    args: tuple[str, ...] = ()
    # Extra environment for the server (e.g. TANDEM_LLM_* pointing at a scripted model).
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = field(default=None, repr=False)
    url: str = ""
    lines: list[str] = field(default_factory=list, repr=False)
    # Every process seen below the server while it ran: checked for survivors at stop().
    seen: dict[tuple[int, int], Proc] = field(default_factory=dict, repr=False)

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v3"

    def start(self) -> TandemServer:
        if not TANDEM_BIN.exists():
            raise RuntimeError(
                f"{TANDEM_BIN} does not exist: build it with `cargo build --bin tandem` "
                "or set TANDEM_BIN"
            )
        env = {k: v for k, v in os.environ.items() if not INHERITED_CONFIG.match(k)}
        env["TANDEM_API_KEY"] = self.api_key
        env.update(self.env)
        env.setdefault("RUST_LOG", "info")
        cmd = [
            str(TANDEM_BIN),
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            str(self.data_dir),
            *self.args,
        ]
        if PG_ADMIN_URL:
            cmd += ["--database-url", postgres_database_for(self.data_dir)]
        self.lines = []
        self.url = ""
        listening = threading.Event()
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
        )

        def pump(stream, lines: list[str]) -> None:
            for line in stream:
                lines.append(line.rstrip("\n"))
                match = LISTENING.search(line)
                if match and not listening.is_set():
                    self.url = match.group(1).rstrip("/")
                    listening.set()
            listening.set()  # EOF: the server exited; start() reports it

        threading.Thread(target=pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not listening.wait(0.1):
            if time.monotonic() > deadline:
                self.stop(check=False)
                raise RuntimeError(f"tandem did not print its address within {START_TIMEOUT_S}s:\n{self.log()}")
        if not self.url:
            code = self.proc.wait(timeout=5)
            raise RuntimeError(f"tandem exited with {code} before listening:\n{self.log()}")
        self.snapshot()
        return self

    def snapshot(self) -> list[Proc]:
        """Record (and return) the processes currently below the server."""
        assert self.proc is not None
        procs = descendants(self.proc.pid)
        for p in procs:
            self.seen[(p.pid, p.start)] = p
        return procs

    def browsers(self) -> list[Proc]:
        return [p for p in self.snapshot() if p.is_browser()]

    def log(self, tail: int = 200) -> str:
        return "\n".join(self.lines[-tail:])

    def stop(self, sig: int = signal.SIGTERM, check: bool = True) -> list[Proc]:
        """Stop the server with `sig` (SIGKILL after 10 s) and return the processes it left.

        With check=True, survivors are killed here (they are ours) and an AssertionError
        names them; with check=False they are returned alive for the caller to inspect.
        """
        if self.proc is None:
            return []
        if self.proc.poll() is None:
            self.snapshot()
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                if check:
                    self._kill_survivors()
                    raise AssertionError(f"tandem ignored signal {sig} for {STOP_GRACE_S}s:\n{self.log()}")
        self.proc = None
        survivors = self._wait_gone(5.0)
        if not survivors:
            self.seen.clear()
        if check and survivors:
            self._kill_survivors()
            names = "\n".join(f"  {p.pid}: {' '.join(p.cmdline)[:160]}" for p in survivors)
            raise AssertionError(f"tandem left {len(survivors)} process(es) behind:\n{names}")
        return survivors

    def _wait_gone(self, timeout: float) -> list[Proc]:
        deadline = time.monotonic() + timeout
        while True:
            alive = [p for p in self.seen.values() if p.alive()]
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.1)

    def _kill_survivors(self) -> None:
        for p in self.seen.values():
            if p.alive():
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._wait_gone(5.0)
        self.seen.clear()

    def kill_leftovers(self) -> None:
        """After a deliberate SIGKILL of the server: end the browsers it left, by pid."""
        self._kill_survivors()
