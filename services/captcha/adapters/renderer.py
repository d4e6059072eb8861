"""Rendering off the event loop (implements ``MediaRenderer``): pictures and speech take tens of
milliseconds of CPU or a subprocess, run in a small thread pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from services.captcha.adapters.audio import render_audio
from services.captcha.adapters.pictures import prewarm_pictograms, render_pictogram
from services.captcha.adapters.text_image import render_text_challenge

T = TypeVar("T")


class ThreadedRenderer:
    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="render")

    async def prewarm(self) -> None:
        await self._off_loop(prewarm_pictograms)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def pictogram(self, emoji: str, seed: str) -> bytes:
        return await self._off_loop(lambda: render_pictogram(emoji, seed))

    async def characters(self, text: str, seed: str) -> bytes:
        return await self._off_loop(lambda: render_text_challenge(text, seed))

    async def speech(self, spoken: str, seed: str) -> bytes:
        return await self._off_loop(lambda: render_audio(spoken, seed))

    async def _off_loop(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)
