"""on_uncertain="reconcile": find the computation an uncertain run request started, or say so."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import anyio
import httpx
import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean, Fault

pytestmark = pytest.mark.anyio

NO_SETTLE = co.RetryPolicy(settle=0)


class Server:
    """A capsule's computation list behind a MockTransport, with run requests that can fail.

    ``fail`` names what happens to the next run requests: "drop_after" creates the computation
    and then loses the answer; "drop_before" loses the request; anything else answers normally.
    ``clock_offset`` shifts the server's clock (and its Date header) from the client's.
    """

    def __init__(self, *, clock_offset: float = 0, date_header: bool = True) -> None:
        self.computations: list[dict[str, Any]] = []
        self.fail: list[str] = []
        self.clock_offset = clock_offset
        self.date_header = date_header
        self.posts = 0
        self.lists = 0

    def now(self) -> float:
        return time.time() + self.clock_offset

    def add(self, **fields: Any) -> dict[str, Any]:
        computation = {
            "id": f"k{len(self.computations) + 1}",
            "created": int(self.now()),
            "state": "initializing",
            "owner": "me",
            **fields,
        }
        self.computations.append(computation)
        return computation

    def __call__(self, request: httpx.Request) -> httpx.Response:
        headers = (
            {"date": email.utils.formatdate(self.now(), usegmt=True)} if self.date_header else {}
        )
        if request.method == "GET":
            self.lists += 1
            return httpx.Response(200, json=self.computations, headers=headers)
        self.posts += 1
        mode = self.fail.pop(0) if self.fail else "ok"
        if mode == "drop_before":
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        body = json.loads(request.content)
        params = [{"value": v} for v in body.get("parameters", [])]
        params += [
            {"param_name": p["param_name"], "value": p["value"]}
            for p in body.get("named_parameters", [])
        ]
        assets = [
            {"id": a["id"], "mount": a.get("mount", "default")} for a in body.get("data_assets", [])
        ]
        computation = self.add(parameters=params, data_assets=assets)
        if mode == "drop_after":
            raise httpx.RemoteProtocolError("Server disconnected", request=request)
        return httpx.Response(200, json=computation, headers=headers)


def client_for(server: Server, **kwargs: Any) -> co.AsyncCodeOcean:
    kwargs.setdefault("retry", NO_SETTLE)
    return co.AsyncCodeOcean(
        domain="acme.codeocean.com",
        token="cop_x",
        transport=httpx.MockTransport(server),
        on_uncertain="reconcile",
        **kwargs,
    )


async def test_finds_the_computation_a_dropped_run_started() -> None:
    server = Server()
    # Same inputs, but created a minute before the request: not the one it started.
    server.add(parameters=[{"value": "7"}], created=int(time.time()) - 60)
    server.fail = ["drop_after"]
    async with client_for(server) as client:
        run = await client.computations.run(capsule_id="c", parameters=["7"])
    assert run.id == "k2"
    assert server.posts == 1  # never resent
    assert len(server.computations) == 2


async def test_raises_when_the_run_did_not_start() -> None:
    server = Server()
    server.fail = ["drop_before"]
    async with client_for(server, retry=co.RetryPolicy(settle=0, reconcile_attempts=3)) as client:
        with pytest.raises(co.LaunchUncertainError) as info:
            await client.computations.run(capsule_id="c")
    assert server.posts == 1
    assert server.lists == 3  # it looked three times before giving up
    assert server.computations == []
    assert info.value.candidates == ()


async def test_on_uncertain_raise_is_the_default_and_can_be_chosen_per_call() -> None:
    server = Server()
    server.fail = ["drop_after", "drop_after"]
    async with client_for(server) as client:
        with pytest.raises(co.LaunchUncertainError):
            await client.computations.run(capsule_id="c", parameters=["1"], on_uncertain="raise")
        assert (await client.computations.run(capsule_id="c", parameters=["2"])).id == "k2"
    assert server.lists == 1
    plain = co.AsyncCodeOcean(domain="a.b", token="cop_x")
    assert plain.on_uncertain == "raise"


@pytest.mark.parametrize(
    ("running", "wanted", "found"),
    [
        ({"parameters": ["1"]}, {"parameters": ["2"]}, "k2"),
        ({"named_parameters": {"t": "1"}}, {"named_parameters": {"t": "2"}}, "k2"),
        ({"data_assets": ["a"]}, {"data_assets": ["b"]}, "k2"),
        (
            {"data_assets": [co.DataAssetsRunParam("a", mount="x")]},
            {"data_assets": [co.DataAssetsRunParam("a", mount="y")]},
            "k2",
        ),
    ],
)
async def test_only_a_computation_with_the_same_inputs_matches(
    running: dict[str, Any], wanted: dict[str, Any], found: str
) -> None:
    server = Server()
    async with client_for(server) as client:
        # Another run of the capsule starts at the same moment, with other inputs.
        other = co.RunParams(capsule_id="c", **running)
        server.fail = ["drop_after"]
        with pytest.raises(co.LaunchUncertainError):
            await client.with_options(on_uncertain="raise").computations.run(other)
        server.fail = ["drop_after"]
        run = await client.computations.run(capsule_id="c", **wanted)
    assert run.id == found


async def test_never_returns_a_computation_this_client_was_already_given() -> None:
    server = Server()
    async with client_for(server) as client:
        first = await client.computations.run(capsule_id="c")  # answered normally: claimed
        server.fail = ["drop_before"]
        with pytest.raises(co.LaunchUncertainError):
            await client.computations.run(capsule_id="c")
    assert first.id == "k1"


async def test_several_matches_are_reported_not_guessed() -> None:
    server = Server()
    server.add(owner=None)  # two identical runs appear at the same time (the client knows no owner)
    server.fail = ["drop_after"]
    async with client_for(server) as client:
        with pytest.raises(co.LaunchUncertainError) as info:
            await client.computations.run(capsule_id="c")
    assert sorted(c.id for c in info.value.candidates) == ["k1", "k2"]
    assert "k1" in str(info.value)
    assert "k2" in str(info.value)


async def test_other_owners_runs_are_not_taken_once_the_owner_is_known() -> None:
    server = Server()
    async with client_for(server) as client:
        await client.computations.run(capsule_id="c")  # learns its owner id: "me"
        server.add(owner="someone-else")
        server.fail = ["drop_before"]
        with pytest.raises(co.LaunchUncertainError):
            await client.computations.run(capsule_id="c")


async def test_a_server_clock_behind_the_clients_is_allowed_for_once_measured() -> None:
    # An hour between the clocks is believed only when this client's own launches measured it
    # (issue 8: a Date header alone may come from a proxy with a skewed clock).
    server = Server(clock_offset=-3600)
    async with client_for(server) as client:
        first = await client.computations.run(capsule_id="c", parameters=["1"])  # measures
        server.fail = ["drop_after"]
        run = await client.computations.run(capsule_id="c", parameters=["2"])
    assert first.id == "k1"
    assert run.created < time.time() - 3500
    assert run.id == "k2"


async def test_an_unmeasured_server_clock_an_hour_off_is_not_believed() -> None:
    server = Server(clock_offset=-3600)
    async with client_for(server) as client:
        await client.capsules.list_computations("c")  # any answer carries the server's Date
        server.fail = ["drop_after"]
        with pytest.raises(co.LaunchUncertainError):
            await client.computations.run(capsule_id="c")
    assert server.posts == 1


async def test_without_the_servers_clock_an_old_computation_is_not_taken() -> None:
    server = Server(clock_offset=-3600, date_header=False)
    server.fail = ["drop_after"]
    async with client_for(server) as client:
        with pytest.raises(co.LaunchUncertainError):
            await client.computations.run(capsule_id="c")


async def test_a_listing_failure_keeps_the_launch_uncertain() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "POST":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(403, json={"message": "no read scope"})

    async with co.AsyncCodeOcean(
        domain="acme.codeocean.com",
        token="cop_x",
        transport=httpx.MockTransport(handler),
        on_uncertain="reconcile",
    ) as client:
        with pytest.raises(co.LaunchUncertainError) as info:
            await client.computations.run(capsule_id="c")
    assert calls == ["POST", "GET"]
    assert isinstance(info.value.__cause__, co.PermissionDeniedError)


async def test_pipelines_are_reconciled_through_their_own_list() -> None:
    paths: list[str] = []
    server = Server()

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return server(request)

    server.fail = ["drop_after"]
    async with co.AsyncCodeOcean(
        domain="acme.codeocean.com",
        token="cop_x",
        transport=httpx.MockTransport(handler),
        on_uncertain="reconcile",
        retry=NO_SETTLE,
    ) as client:
        await client.computations.run(pipeline_id="p")
    assert paths == ["/api/v1/computations", "/api/v1/pipelines/p/computations"]


async def test_bad_on_uncertain_values_are_refused() -> None:
    with pytest.raises(co.ConfigurationError):
        co.AsyncCodeOcean(domain="a.b", token="cop_x", on_uncertain="retry")  # type: ignore[arg-type]
    async with client_for(Server()) as client:
        with pytest.raises(ValueError, match="on_uncertain"):
            await client.computations.run(capsule_id="c", on_uncertain="maybe")  # type: ignore[arg-type]


class SlowSecondPost(httpx.AsyncBaseTransport):
    """The server acts on the second POST at once, but its answer takes a second to come back."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.posts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        slow = False
        if request.method == "POST":
            self.posts += 1
            slow = self.posts == 2
        response = await self.inner.handle_async_request(request)
        if slow:
            import anyio

            await anyio.sleep(1.0)
        return response


async def test_never_takes_the_computation_an_identical_launch_is_about_to_receive() -> None:
    from codeocean_async.testing import FakeCodeOcean, Fault

    fake = FakeCodeOcean()
    capsule = fake.add_capsule(run_durations=(100, 100, 100))["id"]
    fake.faults.script("POST", "/computations", Fault.server_error(502))  # did not act
    async with co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=SlowSecondPost(fake.transport()),
        allow_insecure_http=True,
        retry=co.RetryPolicy(settle=0.05),
    ) as client:
        outcomes = await client.computations.run_many(
            [{"capsule_id": capsule}] * 2, concurrency=2, on_uncertain="reconcile"
        )
    # One computation was created: exactly one spec has it; the other is honestly uncertain.
    (created,) = fake.created_computations
    got = [o.computation.id for o in outcomes if o.computation is not None]
    assert got == [created]
    uncertain = [o for o in outcomes if o.uncertain]
    assert len(uncertain) == 1
    assert "found none that matches" in str(uncertain[0].error)


# --- a skewed Date header, identical specs (issue 8, item 6) ------------------------------------


class _SkewedDate(httpx.AsyncBaseTransport):
    """A proxy whose clock is ``skew`` seconds off: it rewrites the Date header of every answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport, skew: float) -> None:
        self._inner = inner
        self._skew = skew

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        await response.aread()
        headers = dict(response.headers)
        headers["date"] = email.utils.formatdate(time.time() + self._skew, usegmt=True)
        return httpx.Response(response.status_code, headers=headers, content=response.content)


def _fake_client(fake: FakeCodeOcean, *, skew: float = 0) -> co.AsyncCodeOcean:
    return co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=_SkewedDate(fake.transport(), skew),
        allow_insecure_http=True,
        on_uncertain="reconcile",
        retry=co.RetryPolicy(settle=0.01),
    )


@pytest.mark.parametrize("measured", [False, True])
async def test_a_date_header_an_hour_behind_never_adopts_an_old_run(measured: bool) -> None:
    fake = FakeCodeOcean(base_time=int(time.time()))
    capsule = str(fake.add_capsule()["id"])
    old = fake.add_computation(
        capsule_id=capsule, parameters=[{"value": "7"}], created=int(time.time()) - 1800
    )
    async with _fake_client(fake, skew=-3600) as client:
        if measured:  # a launch of this client measured the server's clock: the Date lies
            await client.computations.run(capsule_id=capsule, parameters=["first"])
        await client.capsules.list_computations(capsule)  # the skewed Date is the latest seen
        # The run request fails without starting anything, but may have: it is uncertain.
        fake.faults.script("POST", "/computations", Fault.server_error(503))
        with pytest.raises(co.LaunchUncertainError) as info:
            await client.computations.run(capsule_id=capsule, parameters=["7"])
    assert old["id"] not in [c.id for c in info.value.candidates]
    # And when the run did start, the one it started is found, not the old one.
    fake.faults.script("POST", "/computations", Fault.drop_after())
    async with _fake_client(fake, skew=-3600) as client:
        await client.capsules.list_computations(capsule)
        run = await client.computations.run(capsule_id=capsule, parameters=["7"])
    assert run.id != old["id"]
    assert run.id == fake.created_computations[-1]


def test_trusted_offset_believes_a_sane_or_measured_clock_only() -> None:
    from codeocean_async._launch import trusted_offset

    now = time.time()
    recent = co.Computation(id="k", created=int(now) - 60, state=co.ComputationState.RUNNING)
    assert trusted_offset(-120, [], now=now, measured=None) == -120
    assert trusted_offset(-3600, [], now=now, measured=None) == 0  # unmeasured: local clock
    assert trusted_offset(-3600, [], now=now, measured=-3601) == -3600  # measured: believed
    assert trusted_offset(-3600, [], now=now, measured=-2) == -2
    # Something listed was created after the "now" the Date gives: the Date is behind.
    assert trusted_offset(-240, [recent], now=now, measured=None) == 0


async def test_identical_uncertain_launches_do_not_wait_for_requests_sent_after_the_listing() -> (
    None
):
    """A reconciliation used to wait until no identical request was on its way at all: with
    identical specs launching all the time, every worker parked (a batch 5.6x slower)."""
    from codeocean_async._launch import LaunchLedger, reconcile

    ledger = LaunchLedger()
    params = co.RunParams(capsule_id="c", parameters=["same"])
    sent_at = time.time()
    started = co.Computation(
        id="k1",
        created=int(sent_at),
        state=co.ComputationState.INITIALIZING,
        parameters=(co.Param(value="same"),),
    )

    async def listing(_: str) -> list[co.Computation]:
        return [started]

    async def identical_requests_all_the_time() -> None:
        async def one() -> None:
            with ledger.launching(params):
                await anyio.sleep(0.05)

        async with anyio.create_task_group() as tg:
            while True:
                tg.start_soon(one)
                await anyio.sleep(0.01)

    error = co.LaunchUncertainError("dropped", request=httpx.Request("POST", "x"), sent_at=sent_at)
    async with anyio.create_task_group() as tg:
        tg.start_soon(identical_requests_all_the_time)
        await anyio.sleep(0.02)
        with anyio.fail_after(10):
            found = await reconcile(
                error,
                params,
                list_computations=listing,
                ledger=ledger,
                policy=NO_SETTLE,
                clock_offset=lambda: 0.0,
            )
        tg.cancel_scope.cancel()
    assert found is started


async def test_identical_specs_with_uncertain_launches_never_share_a_computation() -> None:
    fake = FakeCodeOcean(base_time=int(time.time()))
    capsule = str(fake.add_capsule(run_durations=(5, 5, 5))["id"])
    fake.faults.script("POST", "/computations", *[Fault.drop_after()] * 6)
    async with _fake_client(fake) as client:
        with anyio.fail_after(30):
            outcomes = await client.computations.run_many(
                [{"capsule_id": capsule, "parameters": ["same"]}] * 12, concurrency=4
            )
    given = [o.computation.id for o in outcomes if o.computation is not None]
    assert len(given) == len(set(given))  # never the same computation to two launches
    assert set(given) <= set(fake.created_computations)
    missing = len(fake.created_computations) - len(given)
    assert sum(1 for o in outcomes if o.uncertain) == missing  # the others are reported
    assert sum(1 for r in fake.requests if r.method == "POST") == 12
