"""FakeCodeOcean: an in-memory Code Ocean REST API served as a raw ASGI 3 app."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

import httpx

from ._app_assets import AssetSeeding
from ._asgi import Receive, Scope, Send, handle_http, lifespan, version_tuple
from ._clock import Clock, MonotonicClock
from ._fault_plan import FaultPlan
from ._records import Durations, ParentFields, RecordedRequest, check_durations, check_outcome
from ._seed_parents import ParentSeeding
from ._storage import FakeStorage
from ._store import Store
from ._transport import FakeTransport

if sys.version_info >= (3, 11):
    from typing import Unpack
else:
    from typing_extensions import Unpack

__all__ = ["DEMO_CAPSULE_ID", "DEMO_DATA_ASSET_ID", "FakeCodeOcean"]

_F = TypeVar("_F", bound="FakeCodeOcean")

DEMO_CAPSULE_ID = "4bc97533-6eb4-48ac-966f-648548a756d2"
DEMO_DATA_ASSET_ID = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"


class FakeCodeOcean(ParentSeeding, AssetSeeding):
    """An in-memory Code Ocean: capsules, pipelines, data assets and computations on a clock.

    Use it in process through :meth:`transport` (or as a plain ASGI app,
    ``httpx.ASGITransport(app=fake)``) or serve it with :func:`serve_in_thread`. Every route
    checks HTTP Basic auth (username = ``fake.token``, empty password) and the
    ``Min-Server-Version`` header, then answers as the real API does, unless :attr:`faults`
    (empty by default) scripts a fault for the request.

    Result and data asset files (``add_result_file``, ``add_data_asset_file``) are served by a
    second host, :attr:`storage`, through signed URLs; :meth:`transport` reaches both hosts.

    ``base_time`` is the epoch its clock starts at (2023-11-14 by default, for stable output).
    A client reconciling an uncertain run or capture trusts a server clock only near its own:
    to test a reconciliation, pass ``base_time=int(time.time())`` (the pytest plugin's
    ``codeocean_fake`` does).
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        clock: Clock | None = None,
        server_version: str = "4.8.0",
        base_time: int = 1_700_000_000,
        run_durations: Iterable[float] = (1.0, 1.0, 1.0),
    ) -> None:
        if version_tuple(server_version) is None:
            raise ValueError(f"server_version must look like '4.8.0', got {server_version!r}")
        #: Seconds a run spends initializing, running and finalizing, for capsules and
        #: pipelines added without their own ``run_durations``.
        self.run_durations: Durations = check_durations(run_durations)
        self.token = token or "cop_" + secrets.token_hex(20)
        self.clock: Clock = clock or MonotonicClock()
        self.server_version = server_version
        self._store = Store(self.clock, base_time)
        self.faults = FaultPlan()

    def __repr__(self) -> str:
        return f"FakeCodeOcean(clock={self.clock!r}, server_version={self.server_version!r})"

    @classmethod
    def with_demo_data(cls: type[_F], **kwargs: Any) -> _F:
        """A fake holding the seed page's capsule (versions 1 and 2) and its data asset."""
        fake = cls(**kwargs)
        fake.add_capsule(
            id=DEMO_CAPSULE_ID,
            name="deepTools-bamCoverage",
            slug="7607289",
            created=1_673_385_764,
            versions=(1, 2),
            description="Generates a coverage track (bigWig or bedGraph) from a BAM alignment.",
            field="Bioinformatics",
            tags=("ChIP", "Normalization"),
            run_durations=(1.0, 1.0, 1.0),
        )
        fake.add_data_asset(id=DEMO_DATA_ASSET_ID, name="Alignment", mount="Alignment")
        return fake

    # --- seeding -------------------------------------------------------------------------

    def add_capsule(self, **fields: Unpack[ParentFields]) -> dict[str, Any]:
        """Store a capsule and return its JSON (the stored dict: edits show in answers).

        Every field is optional (keywords): ``id`` (a new UUID), ``name`` (``"Capsule"``),
        ``slug``, ``versions``, ``owner``, ``owner_email``, ``description``, ``field``, ``tags``,
        ``created`` (now), ``run_outcome`` (``"succeeded"``) and ``run_durations``.
        ``versions`` holds major version numbers (released N days after ``created``) or full
        ``{major_version, minor_version, release_time}`` dicts. Runs of this capsule end with
        ``run_outcome`` after ``run_durations`` (the fake's ``run_durations`` by default: 1 s in
        each state) unless :meth:`plan_next_run` says otherwise.
        """
        return self._store.add_parent("capsule", fields, self.run_durations).json

    def add_pipeline(self, **fields: Unpack[ParentFields]) -> dict[str, Any]:
        """Store a pipeline and return its JSON; the fields are those of :meth:`add_capsule`
        (``name`` is ``"Pipeline"`` by default)."""
        return self._store.add_parent("pipeline", fields, self.run_durations).json

    def add_data_asset(
        self, *, id: str | None = None, name: str = "Data", mount: str = "data"
    ) -> dict[str, Any]:
        """Store a ready data asset and return its JSON (the stored dict)."""
        return self._store.add_data_asset(id=id, name=name, mount=mount)

    def add_computation(
        self,
        *,
        capsule_id: str | None = None,
        pipeline_id: str | None = None,
        outcome: str = "succeeded",
        durations: Iterable[float] = (0, 0, 0),
        **fields: Any,
    ) -> dict[str, Any]:
        """Store a computation created now (not logged as a POST) and return its current JSON.

        ``fields`` (``id``, ``name``, ``data_assets``, any extra key...) override the JSON.
        """
        if capsule_id is not None and pipeline_id is not None:
            raise ValueError("give capsule_id or pipeline_id, not both")
        parent = None
        for kind, parent_id in (("capsule", capsule_id), ("pipeline", pipeline_id)):
            if parent_id is not None:
                parent = self._store.find_parent(kind, parent_id)
                if parent is None:
                    raise ValueError(f"no {kind} with id {parent_id!r}")
        comp = self._store.add_computation(
            parent, outcome=outcome, durations=durations, fields={}, overrides=fields
        )
        return self._store.render(comp)

    def add_result_file(self, computation_id: str, path: str, content: bytes) -> None:
        """Put a file in a computation's results at ``path`` (``"output"``,
        ``"figures/plot.png"``: its folders appear with it). A finished computation with
        results and none seeded has ``output`` and ``results/summary.csv``."""
        with self._store.lock:
            if computation_id not in self._store.computations:
                raise ValueError(f"no computation with id {computation_id!r}")
            self._store.files.add("results", computation_id, path, content)

    def add_data_asset_file(self, data_asset_id: str, path: str, content: bytes) -> None:
        """Put a file in a data asset's files at ``path`` (its folders appear with it)."""
        with self._store.lock:
            if data_asset_id not in self._store.data_assets:
                raise ValueError(f"no data asset with id {data_asset_id!r}")
            self._store.files.add("data_assets", data_asset_id, path, content)

    def plan_next_run(
        self, *, outcome: str = "succeeded", durations: Iterable[float] | None = None
    ) -> None:
        """Queue how the next POST /computations run behaves (FIFO, one entry per run)."""
        planned: Durations | None = None if durations is None else check_durations(durations)
        with self._store.lock:
            self._store.plan.append((check_outcome(outcome), planned))

    # --- inspection ----------------------------------------------------------------------

    @property
    def computations(self) -> Mapping[str, dict[str, Any]]:
        """Every computation's JSON as of now, by id (a read-only snapshot)."""
        with self._store.lock:
            now = self.clock.now()
            return MappingProxyType({k: c.render(now) for k, c in self._store.computations.items()})

    @property
    def created_computations(self) -> list[str]:
        """The ids of the computations started by POST /computations, in order."""
        with self._store.lock:
            return list(self._store.created)

    @property
    def storage(self) -> FakeStorage:
        """The storage host the signed file URLs point at (a second ASGI app, with its own
        ``requests``); :meth:`transport` reaches it too. Over sockets, serve it with
        ``serve_in_thread(fake.storage)`` and set ``fake.storage.base_url`` to its URL."""
        return self._store.files.storage

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order (a copy)."""
        with self._store.lock:
            return list(self._store.requests)

    def reset_requests(self) -> None:
        """Forget the requests received so far."""
        with self._store.lock:
            self._store.requests.clear()

    # --- ASGI ----------------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process httpx transport to this fake and its :attr:`storage` (by host) that
        shows dropped connections.

        ``httpx.ASGITransport`` does not check Content-Length, so a connection the fake drops
        (``Fault.drop_before``/``drop_after``) raises ``httpx.RemoteProtocolError`` only
        through this transport (or over a real socket). Otherwise it is an ASGITransport.
        """
        return FakeTransport(self, storage=self.storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
        elif scope["type"] == "http":
            await handle_http(
                self._store,
                self.faults,
                token=self.token,
                server_version=self.server_version,
                scope=scope,
                receive=receive,
                send=send,
            )
        else:
            raise ValueError(f"FakeCodeOcean serves http only, not {scope['type']!r}")
