"""A client's options: one frozen record, read-only on the client, evolved by ``with_options``
over what a client and its copies share (pool, pipeline's clock, the ledger of runs started)."""

from __future__ import annotations

import inspect
from typing import Any

import anyio
import attrs
import httpx
import pytest

import codeocean_async as co
from codeocean_async._config import ClientOptions
from codeocean_async.models.parent import Parent
from codeocean_async.testing import FakeCodeOcean

from .conftest import FAST_POLL

TOKEN = "cop_test_token_0123456789"
GUARD = 10


def _client(**kwargs: Any) -> co.AsyncCodeOcean:
    return co.AsyncCodeOcean(domain="acme.codeocean.com", token=TOKEN, **kwargs)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeout", 5.0),
        ("poll", co.PollPolicy(initial=9.0, maximum=9.0)),
        ("retry", co.RetryPolicy.none()),
        ("on_uncertain", "reconcile"),
        ("domain", "https://other.codeocean.com"),
        ("agent_id", "someone-else"),
    ],
)
def test_an_option_assigned_on_the_client_raises_instead_of_doing_nothing(
    name: str, value: object
) -> None:
    client = _client(agent_id="agent-1")
    before = getattr(client, name)
    with pytest.raises(AttributeError):
        setattr(client, name, value)
    assert getattr(client, name) == before


def test_the_options_record_is_frozen() -> None:
    options = ClientOptions(domain="https://a.b")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        options.poll = FAST_POLL  # type: ignore[misc]


def test_with_options_changes_the_copy_only() -> None:
    client = _client(agent_id="agent-1")
    copy = client.with_options(timeout=3, poll=FAST_POLL, on_uncertain="reconcile")
    assert (copy.timeout, copy.poll, copy.on_uncertain) == (
        httpx.Timeout(3),
        FAST_POLL,
        "reconcile",
    )
    assert (copy.domain, copy.agent_id, copy.retry) == (client.domain, "agent-1", client.retry)
    assert (client.timeout, client.poll, client.on_uncertain) == (
        co.AsyncCodeOcean(domain="a.b", token=TOKEN).timeout,
        co.PollPolicy(),
        "raise",
    )
    assert copy.with_options().timeout == httpx.Timeout(3)  # nothing given: nothing changes


def test_with_options_refuses_a_bad_value_as_the_constructor_does() -> None:
    client = _client()
    with pytest.raises(co.ConfigurationError, match="on_uncertain"):
        client.with_options(on_uncertain="maybe")  # type: ignore[arg-type]
    with pytest.raises(co.ConfigurationError, match="timeout"):
        client.with_options(timeout=-1)


@pytest.mark.anyio
async def test_a_copy_knows_the_runs_its_original_started(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    # The ledger is shared: a run started through the client is followed by its copy with
    # one listing of its capsule, which only the ledger can name (a computation's JSON does not).
    capsule = codeocean_fake.add_capsule(run_durations=(0, 0, 0))["id"]
    run = await client.computations.run(capsule_id=capsule)
    copy = client.with_options(retry=co.RetryPolicy.none())
    with anyio.fail_after(GUARD):
        [final] = await copy.computations.wait_all([run.id], strategy="list")
    assert final.outcome is co.Outcome.SUCCEEDED
    gets = [r.path for r in codeocean_fake.requests if r.method == "GET"]
    assert gets
    assert all(path.endswith(f"/capsules/{capsule}/computations") for path in gets)


def test_run_lists_exactly_the_fields_of_a_run_spec() -> None:
    # ``run``'s keywords mirror RunParams (its signature is where they are listed, once).
    signature = inspect.signature(co.Computations.run)
    keywords = {name for name, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY} - {
        "on_uncertain"
    }
    assert keywords == {field.name for field in attrs.fields(co.RunParams)}


def test_parent_is_the_one_route_lookup() -> None:
    capsule = Parent.of(co.RunParams(capsule_id="cap-1", version=2))
    pipeline = Parent.of(co.RunParams(pipeline_id="pipe-1"))
    assert (capsule.kind, capsule.id, capsule.route) == (
        "capsules",
        "cap-1",
        "capsules/{capsule_id}",
    )
    assert pipeline.route == "pipelines/{pipeline_id}"
    assert pipeline.path_params == {"pipeline_id": "pipe-1"}
    assert Parent.given(capsule_id=None, pipeline_id="pipe-1") == pipeline
    assert Parent.given(capsule_id=None, pipeline_id=None) is None
    with pytest.raises(ValueError, match="not both"):
        Parent.given(capsule_id="cap-1", pipeline_id="pipe-1")
    assert len({capsule, Parent("capsules", "cap-1")}) == 1  # frozen, hashable by value
