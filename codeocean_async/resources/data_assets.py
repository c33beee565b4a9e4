"""``client.data_assets``: the data asset routes, waiting until one is ready, and captures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping

import anyio

from .._capture import create_data_asset
from .._config import OnUncertain, PollPolicy
from .._errors import DataAssetFailedError
from .._ids import check_id
from .._polling import Followed, StateFollower, check_timeout
from ..models import (
    ComputationSource,
    DataAsset,
    DataAssetParams,
    DataAssetSearchParams,
    DataAssetSortBy,
    Source,
    Target,
)
from ..models.computations import Computation
from ..models.shared import SortOrder
from .data_asset_routes import DataAssetRoutes

__all__ = ["DATA_ASSET", "DataAssets"]

#: What a wait on a data asset follows: ``draft`` until ``ready`` or ``failed``.
DATA_ASSET: Followed[DataAsset] = Followed(
    what="data asset",
    cls=DataAsset,
    id_name="data_asset_id",
    id_of=lambda a: a.id,
    state_of=lambda a: a.state,
    finished=lambda a: a.finished,
    goal="become ready",
)


class DataAssets(DataAssetRoutes):
    """``client.data_assets``: data assets, their files, waits and captures."""

    async def wait_until_ready(
        self,
        data_asset: DataAsset | str,
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        raise_on_failure: bool = True,
    ) -> DataAsset:
        """Wait until the data asset is ``ready`` (or ``failed``) and return its final state.

        ``failed`` raises ``DataAssetFailedError`` (its ``failure_reason`` in the message)
        unless ``raise_on_failure=False``. At the deadline ``WaitTimeoutError`` carries the
        last state seen (``.last``); ``timeout=0`` is one look. The schedule is the client's
        ``poll`` policy by default; a cancelled task or an outer deadline stops it at once.
        """
        final: DataAsset | None = None
        follower = StateFollower(
            self.get,
            data_asset,
            timeout=timeout,
            poll=poll or self._options.poll,
            followed=DATA_ASSET,
        )
        async for state in follower:
            final = state
        assert final is not None  # a follower always yields, ending on a terminal state
        if raise_on_failure and not final.ready:
            raise DataAssetFailedError(
                f"data asset {final.id} ({final.name}) is {final.state}"
                f"{f': {final.failure_reason}' if final.failure_reason else ''}",
                data_asset=final,
            )
        return final

    async def capture(
        self,
        computation: Computation | str,
        *,
        name: str,
        mount: str,
        tags: Iterable[str] | None = None,
        description: str | None = None,
        custom_metadata: Mapping[str, str | int | float] | None = None,
        path: str | None = None,
        target: Target | None = None,
        wait: bool = True,
        timeout: float | None = None,
        on_uncertain: OnUncertain | None = None,
    ) -> DataAsset:
        """A computation's results (or the folder ``path`` of them) as a new data asset, and,
        with ``wait=True``, waited until it is ready::

            asset = await client.data_assets.capture(run, name="sorted", mount="sorted")

        ``timeout`` bounds the whole call's wait: what the create request took counts (at
        least one look is made). A ``failed`` asset raises ``DataAssetFailedError``.

        The capture request is never resent once it may have reached the server. When it may
        or may not have created the asset, ``on_uncertain`` decides (the client's by
        default): ``"raise"`` raises ``LaunchUncertainError``; ``"reconcile"`` searches for
        the asset it created (same name and mount, from this computation, created since the
        request; never an older one) and carries on with it, or raises if there is none.
        """
        computation_id = computation.id if isinstance(computation, Computation) else computation
        check_id(computation_id, "computation_id")
        check_timeout(timeout)
        if isinstance(tags, str):
            raise TypeError("tags must be a list of strings, not one string")
        params = DataAssetParams(
            name=name,
            mount=mount,
            tags=() if tags is None else tuple(tags),
            description=description,
            custom_metadata=custom_metadata,
            source=Source(computation=ComputationSource(id=computation_id, path=path)),
            target=target,
        )
        started = anyio.current_time()
        asset = await create_data_asset(
            self._http,
            params,
            ledger=self._bound.ledger,
            on_uncertain=on_uncertain or self._options.on_uncertain,
            search=lambda: self._newest_named(name),
        )
        if not wait:
            return asset
        left = None if timeout is None else max(0.0, timeout - (anyio.current_time() - started))
        return await self.wait_until_ready(asset, timeout=left)

    def _newest_named(self, name: str) -> AsyncIterator[DataAsset]:
        """The data assets called ``name``, newest first (what a reconciliation looks through)."""
        phrase = name.replace('"', " ")
        return self.iter_search(
            DataAssetSearchParams(
                query=f'name:"{phrase}"',
                sort_field=DataAssetSortBy.CREATED,
                sort_order=SortOrder.DESC,
                limit=100,
            )
        )
