"""All configuration in one place, read from `LGSP_*` environment variables.

Defaults make the embedded mode work with no environment at all: SQLite under `./.lgsp`, the
built-in topology, a demo client with a well-known secret (refused outside the dev profile).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, StringConstraints, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from formats.codes import CENTRAL_ORGAN_ID

DEMO_CLIENT_SECRET = "lgsp-demo-secret"  # noqa: S105 - published on purpose; refused in production
FEDERATION_SECRET = "lgsp-federation-dev-secret"  # noqa: S105 - same: refused in production
_DEFAULT_CATALOG_DIR = Path(__file__).resolve().parent.parent / "services"


class Settings(BaseSettings):
    # The fields' docstrings are for readers: with `use_attribute_docstrings` pydantic read this
    # file's source at every start to copy them into descriptions nothing used (~35 ms).
    model_config = SettingsConfigDict(env_prefix="LGSP_", env_nested_delimiter="__", extra="ignore")

    profile: Literal["dev", "production"] = "dev"
    """`dev` allows the published demo secret; `production` refuses it."""

    data_dir: Path = Path(".lgsp")
    """Where the embedded SQLite database lives."""

    database_url: str | None = None
    """SQLAlchemy URL; unset means SQLite at `<data_dir>/lgsp.db`. Plain `postgresql://` works."""

    sqlite_busy_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    """How long a write waits for another connection's lock on the SQLite file before it fails;
    PostgreSQL ignores it."""

    audit_writer_socket: str | None = None
    """Set by `lgsp serve --workers N` on an SQLite file for its workers: the Unix socket of the
    one process that writes their audit records (`lgsp.audit.writer_service`)."""

    startup_hold_seconds: float = Field(default=60.0, gt=0, le=3600)
    """How long `lgsp serve` holds a request that comes while the bus is still starting (it
    answers `/healthz` from its first moment) before answering it 503 `STARTING`; a request
    the bus opens in time for is served as if it had come then."""

    workers: int = Field(default=1, ge=1, le=64)
    """Processes serving this bus on its database: `lgsp serve --workers N` tells each of them.
    With one, on SQLite (whose data dir no other bus process opens), a reset may leave alone a
    mock nothing has changed since the last reset (`SystemConfig.sole_writer`)."""

    systems_sole_writer: bool | None = None
    """Whether this process alone writes its mock systems' rows, so that a reset may leave
    alone a mock nothing has changed since the last one. Unset: only with one worker on SQLite,
    whose data dir no other process opens. True (assigned by the operator, who knows it): also
    on PostgreSQL, for one `lgsp serve` on a database or schema of its own, as a test suite
    runs it; refused with `workers` above one. False: every reset seeds every mock again."""

    seed: int = 2024
    """Seed for generated data: the same seed gives the same citizens."""

    population: int = Field(default=200, ge=1, le=100_000)
    """Citizens generated per province."""

    catalog_dir: Path = _DEFAULT_CATALOG_DIR
    """Folder of service catalog files (`*.toml`, one per service)."""

    topology_file: Path | None = None
    """TOML file describing instances and their systems; unset means the built-in topology."""

    era: Literal["2026", "2024"] = "2026"
    """Built-in topology: "2026", today's provinces (An Giang, Đồng Tháp, Lâm Đồng, Cần Thơ, Gia
    Lai), the seeded old ones their history, their old paths deprecated; "2024", the five seeded
    provinces as they were before 1 July 2025."""

    legacy_path_sunset: date = date(2027, 7, 1)
    """Assigned: the date an old province's path (`/lgsp/kiengiang/…`, era 2026) is announced to
    stop answering, in its `Sunset` header; two years after the merger."""

    public_url: str = "http://127.0.0.1:8000"
    """Base URL the bus is reached at; instance issuers and printed URLs derive from it."""

    token_ttl_seconds: int = Field(default=3600, ge=1, le=86_400)
    """Lifetime of issued access tokens; as short as 1 s, so that a client's handling of an
    expired token is tested in seconds (the bus's own callers renew theirs before expiry)."""

    jwt_algorithms: list[Literal["RS256"]] = ["RS256"]
    """Signature algorithms accepted when verifying tokens: an explicit list, never `none`."""

    client_cache_seconds: float = Field(default=2.0, ge=0, le=300)
    """How long a client's rights and revocation are cached; 0 reads them on every call."""

    vdxp_sdk_max_skew_seconds: int = Field(default=86_400, ge=0, le=7 * 86_400)
    """How far a VDXP SDK call's signed `XroadVnpt-timestamp` may be from the bus's clock; 0
    checks none (assigned: no source says the axis enforces a window). A day by default: the
    SDK stamps once, when its service object is made, so a short window ends a long-lived
    client, while no window at all would let a captured read call (`getReceivedEdocList`,
    `getEdoc`) be replayed for ever, since the SDK sends no nonce."""

    vdxp_sdk_max_ahead_seconds: int = Field(default=300, ge=0, le=3600)
    """How far after the bus's clock a VDXP SDK call's timestamp may be, when a window is
    checked: a clock's drift (assigned: 5 minutes). The window counts back from the stamp, so a
    stamp a day ahead would make a captured call replayable for two."""

    vdxp_sdk_max_file_bytes: int = Field(default=21 * 1024 * 1024, ge=1024, le=1024**3)
    """Largest file a VDXP SDK `sendEdoc` may carry, multipart framing included (assigned:
    an edXML document is at most 20 MiB, formats.edxml.EdxmlLimits)."""

    login_max_failures: int = Field(default=10, ge=0, le=1000)
    """Failed token requests per client id from one address in the window (×10 per address of
    an instance); 0 = no limit."""

    login_window_seconds: float = Field(default=60.0, gt=0, le=86_400)
    """The sliding window of `login_max_failures`."""

    rate_limit_per_second: float = Field(default=0.0, ge=0, le=1_000_000)
    """Calls each client may make per second to each service, unless the client has its own
    rate (`lgsp clients create --rate`); 0 = no limit. Counted per process."""

    rate_limit_burst: int = Field(default=0, ge=0, le=1_000_000)
    """Calls a client may make at once after an idle spell; 0 = one second's worth."""

    verify_rate_per_minute: float = Field(default=30.0, ge=0, le=1_000_000)
    """Calls each client may make per minute, at its instance, to operations that confirm a
    guess of personal data (`verify_citizen`): each is one guess of a date of birth. The bus's
    own system and federation clients are not counted. 0 = no limit."""

    verify_rate_burst: int = Field(default=10, ge=1, le=1_000_000)
    """Such calls a client may make at once after an idle spell."""

    max_body_bytes: int = Field(default=25 * 1024 * 1024, ge=1024, le=1024**3)
    """Largest request body the gateway accepts (413 above it): an edXML document with its
    attachments may be up to 20 MiB (formats.edxml.EdxmlLimits)."""

    server_header_max_bytes: int = Field(default=64 * 1024, ge=4096, le=16 * 1024 * 1024)
    """Bytes a request line and its header fields may take on the wire, complete or not: a
    longer header block is answered 431 and its connection closed (`lgsp serve`)."""

    server_header_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    """Time a connection has to send a whole header block, from its first byte (or from the
    connection itself): later, 408 and closed (`lgsp serve`)."""

    server_body_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    """Time a request body has beyond what `server_body_min_rate` allows for the bytes that
    have come; slower, the connection is closed (`lgsp serve`)."""

    server_body_min_rate: int = Field(default=16 * 1024, ge=1, le=1024**3)
    """Bytes per second a request body must average after `server_body_timeout_seconds`."""

    server_max_connections: int = Field(default=1000, ge=1, le=1_000_000)
    """Client connections one `lgsp serve` process holds; one more closes the connection that has
    waited longest for a request (else 503). Lowered to fit the process's descriptor limit."""

    forwarded_allow_ips: str = Field(default="", max_length=4096)
    """Reverse proxies (comma-separated addresses or networks, `*` for any) whose
    `X-Forwarded-For` and `X-Forwarded-Proto` name the client; empty (the default): none, the
    connection's own address is the client's. uvicorn's default trusted 127.0.0.1, so any local
    process could name itself any address and slip the per-address login limit."""

    server_keepalive_timeout_seconds: int = Field(default=5, ge=1, le=3600)
    """How long an idle keep-alive connection is kept between two requests (`lgsp serve`)."""

    server_keepalive_max_requests: int = Field(default=1000, ge=0, le=1_000_000)
    """Requests one connection may carry; the last is answered with `Connection: close`. 0 = no
    limit."""

    upstream_timeout_seconds: float = Field(default=10.0, gt=0)
    """Timeout for each call from a gateway to the system that owns a service."""

    demo_client_id: str = Field(default="demo", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    """Client provisioned on every instance at start, with admin rights and every service."""

    demo_client_secret: SecretStr = SecretStr(DEMO_CLIENT_SECRET)
    """Secret of the demo client; the published default is refused in the production profile."""

    signing_key_secret: SecretStr | None = None
    """Encrypts the instances' private signing keys in the database; unset, a random key is
    kept in `<data_dir>/signing-keys.secret`. Several processes on one database need the same
    one: set this (a long random value) or share the data dir."""

    federation_secret: SecretStr = SecretStr(FEDERATION_SECRET)
    """Shared by every process of one deployment: each LGSP's credentials on NDXP, and NDXP's on
    each LGSP, are derived from it, so separate processes need no credential exchange."""

    ndxp_url: str | None = Field(default=None, pattern=r"^https?://")
    """Base URL of the national instance when another process serves it (`lgsp serve
    --ndxp-url`), e.g. http://ndxp:8000/ndxp; overrides the topology file's `url` for NDXP."""

    outbox_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often an idle outbox worker looks for due messages: a fallback, for messages another
    process stored or whose worker died. A hand-over or re-drive in this process wakes the
    worker once committed, and a failed attempt is looked for again once due (issue 21: at
    0.2 s, the polls of an idle bus cost over 1% of a core, a tenth of a ms per request at the
    cross-province hop's rate)."""

    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    """Failed deliveries before a message is dead (then only an admin re-drive sends it)."""

    outbox_backoff_seconds: float = Field(default=0.5, gt=0, le=3600)
    """Wait before the second attempt; it doubles with each failure."""

    outbox_backoff_max_seconds: float = Field(default=60.0, gt=0, le=86_400)
    """The longest wait between two attempts."""

    outbox_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    """How long a worker owns a message it is delivering; a crashed worker's messages are
    delivered again once their lease ends (the recipient deduplicates)."""

    audit_checkpoint_seconds: float = Field(default=1.0, ge=0, le=3600)
    """How often each moved audit head is signed and appended to `<data_dir>/audit-checkpoints.jws`
    (and once when the bus stops), so that `lgsp audit verify` detects deleted newest records;
    0 writes only when the bus stops."""

    log_format: Literal["text", "json"] = "text"
    """`lgsp serve`'s log lines: `text` for people, `json` (one object a line) for collectors."""

    access_log: bool = True
    """`lgsp serve` logs a line per request (uvicorn's access log; id numbers and personal
    query parameters masked, `lgsp.masking`). Off, a load test saves the few percent of CPU it
    costs; the journal still keeps the exchanges."""

    fault_header_enabled: bool | None = None
    """Obey the `X-LGSP-Fault` request header; unset means on in the dev profile and off in
    production, where the header is ignored like any unknown header."""

    fault_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    """How long each process caches an instance's fault rules; a rule added by the CLI or
    another process applies within this time (0 reads them on every call)."""

    journal_enabled: bool = True
    """Keep a journal of the exchanges each instance serves, with their bodies
    (`GET {base}/admin/journal`, `POST {base}/admin/journal/verify`)."""

    journal_max_entries: int = Field(default=1000, ge=1, le=1_000_000)
    """Exchanges kept per instance: the newest this many (older ones are pruned)."""

    journal_retention_seconds: float = Field(default=3600.0, gt=0, le=30 * 86_400)
    """Exchanges older than this are no longer listed, and are pruned."""

    journal_max_body_bytes: int = Field(default=16 * 1024, ge=0, le=1024 * 1024)
    """Bytes kept of each request and response body; the rest is cut (marked `truncated`)."""

    journal_unmasked: bool = False
    """Keep bodies as sent, personal data included (dev profile only: production refuses it).
    Off, CCCD/CMND numbers and names are masked before anything is stored."""

    journal_wait_max_seconds: float = Field(default=60.0, gt=0, le=60)
    """The longest one `POST {base}/admin/journal/wait` holds its connection, whatever
    `timeout_seconds` it asks (assigned: 60 s, nginx's default idle timeout)."""

    trusted_roots_file: Path | None = None
    """PEM file of the root certificates the embedded document systems trust signers under
    (examples/edxml/test-ca-root.pem is a test CA's); unset, every edXML signature is reported
    `untrusted`."""

    crl_cache_seconds: float = Field(default=5.0, ge=0, le=86_400)
    """How long an embedded document system keeps the roots and the CRL it fetched from the
    bus's test CA before fetching them again (assigned: 5 s): a revocation is seen within it."""

    mocks_sign: bool = True
    """Give each embedded document system a certificate from the bus's test CA for every agency
    it serves (made on first start, kept in `<data_dir>/ca`), with which it signs the documents
    it composes."""

    document_clock_skew_seconds: float = Field(default=300.0, ge=0, le=86_400)
    """How far ahead of now a document's PromulgationDate, a status message's Timestamp or a
    TraceHeader Timestamp may be before the embedded document systems and the national axis
    refuse it, 422 `INVALID_EDXML` with rule `future_dated`, and a dossier's progress entry
    before the national portal does (assigned: 300 s for clocks that differ; the sources are
    silent)."""

    central_agencies: dict[
        Annotated[str, StringConstraints(pattern=CENTRAL_ORGAN_ID)],
        Annotated[str, StringConstraints(min_length=1, max_length=200)],
    ] = Field(default_factory=dict)
    """Central bodies beside VPCP (`000.00.00.G22`, sourced, DOMAIN.md §6.2) that the national
    document axis serves, organ id (`…G` and two digits) → name: assigned, the sources list no
    other central code with its body. As JSON: `LGSP_CENTRAL_AGENCIES='{"000.00.00.G14":
    "Bộ Nội vụ"}'`."""

    signature_policies: dict[str, Literal["report", "refuse"]] = Field(default_factory=dict)
    """Per instance, what its document system does with a document whose signature is not
    valid: `report` it (the default) or `refuse` it, 422 `SIGNATURE_INVALID` naming the reason.
    As JSON: `LGSP_SIGNATURE_POLICIES='{"kiengiang": "refuse"}'`."""

    @field_validator("database_url")
    @classmethod
    def _use_async_driver(cls, value: str | None) -> str | None:
        """Accept the plain URLs users paste, and pick the async drivers we install."""
        if value is None or value == "":
            return None
        for plain, driver in (
            ("postgresql://", "postgresql+psycopg://"),
            ("postgres://", "postgresql+psycopg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(plain):
                return driver + value.removeprefix(plain)
        return value

    @model_validator(mode="after")
    def _refuse_published_secrets_in_production(self) -> Self:
        if self.profile != "production":
            return self
        for name, value, published in (
            ("LGSP_DEMO_CLIENT_SECRET", self.demo_client_secret, DEMO_CLIENT_SECRET),
            ("LGSP_FEDERATION_SECRET", self.federation_secret, FEDERATION_SECRET),
        ):
            if value.get_secret_value() == published:
                raise ValueError(
                    f"{name} is the published default; set another one to run the production "
                    "profile"
                )
        if self.journal_unmasked:
            raise ValueError(
                "LGSP_JOURNAL_UNMASKED keeps personal data in the journal; the production "
                "profile refuses it"
            )
        return self

    @model_validator(mode="after")
    def _refuse_a_sole_writer_of_several_workers(self) -> Self:
        if self.systems_sole_writer and self.workers > 1:
            raise ValueError(
                "LGSP_SYSTEMS_SOLE_WRITER says one process writes the systems' rows, but "
                f"LGSP_WORKERS is {self.workers}"
            )
        return self

    @property
    def systems_sole_writer_here(self) -> bool:
        """`systems_sole_writer`, or where unset whether one process serves an SQLite file."""
        if self.systems_sole_writer is not None:
            return self.systems_sole_writer
        from sqlalchemy.engine import make_url  # not at import: `lgsp serve` answers before it

        sqlite = make_url(self.systems_database_url).get_backend_name() == "sqlite"
        return self.workers == 1 and sqlite

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'lgsp.db').resolve()}"

    @property
    def systems_database_url(self) -> str:
        """Where the mock systems a process mounts keep their data: on PostgreSQL the bus's
        database (their own tables), on SQLite a file of their own beside the bus's
        (`lgsp-systems.db`). A system hands calls over to the bus inside its own write
        transaction (`mocks/bus.py`): in one SQLite file, the bus's write would wait for it."""
        from sqlalchemy.engine import make_url  # not at import: `lgsp serve` answers before it

        url = make_url(self.resolved_database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return self.resolved_database_url
        path = Path(url.database or "")
        systems = path.with_name(f"{path.stem}-systems{path.suffix}")
        return url.set(database=str(systems)).render_as_string(hide_password=False)
