"""What the capsule and pipeline tests share: a parent's routes on the client, and adding one
to the fake, by kind (``"capsules"`` or ``"pipelines"``)."""

from __future__ import annotations

from typing import Any

import codeocean_async as co
from codeocean_async.resources.capsules import Capsules, Pipelines
from codeocean_async.testing import FakeCodeOcean


def routes_of(client: co.AsyncCodeOcean, kind: str) -> Capsules | Pipelines:
    return client.capsules if kind == "capsules" else client.pipelines


def add_parent(fake: FakeCodeOcean, kind: str, **fields: Any) -> str:
    add = fake.add_capsule if kind == "capsules" else fake.add_pipeline
    return str(add(**fields)["id"])
