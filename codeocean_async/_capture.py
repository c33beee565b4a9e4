"""Creating a data asset: one request, never resent blindly, and a capture's reconciliation.

A data asset create (and a capture: a computation's results as a new data asset) is a launch
like a run: the request is not idempotent, so it is sent once; when it may or may not have
created the asset (``_launch.may_have_acted``), it becomes a ``LaunchUncertainError`` with its
advice, and ``on_uncertain`` decides for a capture: raise, or reconcile by searching for the
asset it may have created (same name and mount, made from the same computation, created at or
after the request on the server's clock, not one this client was already given). Never an
older asset: a capture repeated on purpose must not adopt the first one's asset.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable

import anyio

from ._config import OnUncertain, RetryPolicy, check_on_uncertain
from ._errors import LaunchUncertainError
from ._http import HTTPPipeline
from ._launch import LaunchLedger, LaunchRequest
from ._operations import Operation, operation
from ._reconcile import earliest_created, server_clock_offset
from .models import DataAsset, DataAssetParams

__all__ = ["create_data_asset", "create_operation", "reconcile_capture"]

logger = logging.getLogger("codeocean_async")

#: A reconciliation looks at this many assets of the search at most (newest first).
_MAX_LOOKED = 1000

_CREATE = operation("data_assets.create")
#: What a request's fields need: a combined asset 3.1, a named S3 endpoint or the input
#: bucket 4.1, a cloud workstation source 4.2.
_COMBINED, _S3_ENDPOINT, _WORKSTATION = (
    _CREATE.needing("3.1.0"),
    _CREATE.needing("4.1.0"),
    _CREATE.needing("4.2.0"),
)

#: The assets a search found that the capture may have created, newest first.
Search = Callable[[], AsyncIterator[DataAsset]]


class _CreateRequest(LaunchRequest):
    __slots__ = ()
    what = "data asset create"
    acted = "created a data asset"
    advice = "Search the data assets for it before creating it again"
    route = "data_assets"


class _CaptureRequest(_CreateRequest):
    __slots__ = ()
    what = "capture"
    advice = "Search the data assets for it before capturing again"


def create_operation(params: DataAssetParams) -> Operation:
    """``data_assets.create`` asking for the server version this request's fields need."""
    source = params.source
    if source is not None and source.cloud_workstation is not None:
        return _WORKSTATION
    if source is not None and source.aws is not None:
        aws = source.aws
        if aws.endpoint_name is not None or aws.use_input_bucket is not None:
            return _S3_ENDPOINT
    return _COMBINED if params.data_asset_ids is not None else _CREATE


async def create_data_asset(
    http: HTTPPipeline,
    params: DataAssetParams,
    *,
    ledger: LaunchLedger,
    on_uncertain: OnUncertain = "raise",
    search: Search | None = None,
) -> DataAsset:
    """``POST /data_assets`` once. When it may or may not have created the asset, raise
    ``LaunchUncertainError``, or (a capture: ``search`` given, ``on_uncertain="reconcile"``)
    look for the asset it created."""
    check_on_uncertain(on_uncertain, ValueError)
    sent_at = time.time()
    hooks = (_CreateRequest if search is None else _CaptureRequest)(ledger.gate, None)
    try:
        try:
            asset = await http.call(
                create_operation(params),
                body=params,
                cast_to=DataAsset,
                idempotent=False,
                before_send=hooks.before_send,
                on_retry=hooks.on_retry,
            )
        except Exception as exc:
            uncertain = hooks.uncertain(exc, sent_at)
            if uncertain is None:
                raise
            raise uncertain from exc
    except LaunchUncertainError as error:
        if on_uncertain == "raise" or search is None:
            raise
        asset = await reconcile_capture(
            error,
            params,
            search=search,
            ledger=ledger,
            policy=http.retry,
            clock_offset=lambda: server_clock_offset(http.last_date),
        )
    ledger.claim_asset(asset.id)
    return asset


def _made_by(asset: DataAsset, params: DataAssetParams, computation_id: str) -> bool:
    provenance = asset.provenance
    return (
        asset.name == params.name
        and asset.mount == params.mount
        and provenance is not None
        and provenance.computation == computation_id
    )


async def reconcile_capture(
    error: LaunchUncertainError,
    params: DataAssetParams,
    *,
    search: Search,
    ledger: LaunchLedger,
    policy: RetryPolicy,
    clock_offset: Callable[[], float],
) -> DataAsset:
    """Find the data asset an uncertain capture created, or raise ``LaunchUncertainError``.

    Looks ``policy.reconcile_attempts`` times, ``policy.settle`` seconds apart; several
    matches raise with them as ``candidates``.
    """
    computation = params.source.computation if params.source is not None else None
    if computation is None:
        raise error  # only a capture (a computation source) is reconciled
    computation_id = computation.id
    for look in range(policy.reconcile_attempts):
        if look:
            await anyio.sleep(policy.settle)
        listed: list[DataAsset] = []
        try:
            async for asset in search():
                listed.append(asset)
                if len(listed) >= _MAX_LOOKED:
                    break
        except Exception as exc:  # a CodeOceanError, or anything else from below
            logger.warning("cannot reconcile the capture of %s: %s", computation_id, exc)
            raise error from exc
        earliest = earliest_created(
            error.sent_at, listed, offset=clock_offset(), measured=ledger.measured
        )
        found = [
            a
            for a in listed
            if a.created >= earliest
            and a.id not in ledger.captured
            and _made_by(a, params, computation_id)
        ]
        if len(found) == 1:
            logger.warning(
                "reconciled an uncertain capture of %s: data asset %s", computation_id, found[0].id
            )
            return found[0]
        if found:
            ids = ", ".join(a.id for a in found)
            raise LaunchUncertainError(
                f"the capture request may have created one of several matching data assets "
                f"({ids}); it was not resent",
                request=error.request,
                sent_at=error.sent_at,
                candidates=tuple(found),
            ) from error
    raise LaunchUncertainError(
        f"the capture request may or may not have created a data asset; it was not resent, "
        f"and {policy.reconcile_attempts} searches for data assets named {params.name!r} made "
        f"from computation {computation_id} found none created since (cause: {error.__cause__})",
        request=error.request,
        sent_at=error.sent_at,
    ) from error.__cause__
