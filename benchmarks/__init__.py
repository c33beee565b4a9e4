"""Benchmarks: codeocean_async against raw httpx, raw aiohttp and the official SDK, as ratios."""
