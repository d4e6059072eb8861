"""Pictogram rendering: one emoji glyph → a freshly distorted PNG (or WebP).

The glyphs come from Noto Color Emoji (Debian ``fonts-noto-color-emoji``; SIL Open Font License 1.1,
which permits rendering and redistributing the glyphs). It is a CBDT colour-bitmap font with a single
strike at 109 px: Pillow loads it with ``ImageFont.truetype(path, 109)`` and draws with
``embedded_color=True``. Drawing a glyph is the slow part, so every vocabulary glyph is drawn once at
start (:meth:`PictogramRenderer.prewarm`) and each request only transforms the cached RGBA image.

**Blocking, CPU-bound code.** Call it from async code through ``asyncio.to_thread`` (Pillow releases the
GIL in most of its C work) or a ``ProcessPoolExecutor`` whose initializer is :func:`prewarm_pictograms`.

Determinism: the same ``(codepoint, variation_seed)`` gives the same bytes. Callers derive the seed
from the random, per-challenge choice id, so that the same picture URL always serves the same image
(fetching it many times to average the noise away gains nothing) while two challenges showing the same
object get different pictures.
"""

from __future__ import annotations

import colorsys
import io
import random
import shutil
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from services.captcha.domain.vocabulary import VOCABULARY

PictureFormat = Literal["PNG", "WEBP"]

# The only strike size of NotoColorEmoji.ttf (a bitmap font cannot be scaled by FreeType).
NOTO_STRIKE_SIZE = 109
_KNOWN_FONT_PATHS = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",  # Debian / Ubuntu
    "/usr/share/fonts/noto/NotoColorEmoji.ttf",  # Arch
    "/usr/share/fonts/google-noto-color-emoji-fonts/NotoColorEmoji.ttf",  # Fedora
)
DEFAULT_PICTURE_SIZE = 128
Seed = int | str | bytes


class FontNotFoundError(RuntimeError):
    pass


def find_emoji_font() -> Path:
    """Path of NotoColorEmoji.ttf: the usual locations, else ``fc-match`` (fontconfig)."""
    for candidate in _KNOWN_FONT_PATHS:
        if Path(candidate).is_file():
            return Path(candidate)
    fc_match = shutil.which("fc-match")
    if fc_match:
        found = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [fc_match, "--format=%{file}", "Noto Color Emoji"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout.strip()
        if found.endswith("NotoColorEmoji.ttf") and Path(found).is_file():
            return Path(found)
    raise FontNotFoundError("Noto Color Emoji not found: install the Debian package fonts-noto-color-emoji")


class PictogramRenderer:
    """Holds the pre-drawn glyphs; :meth:`render` is thread-safe (the cache only grows)."""

    def __init__(
        self,
        font_path: Path | str | None = None,
        *,
        size: int = DEFAULT_PICTURE_SIZE,
        image_format: PictureFormat = "PNG",
    ) -> None:
        if size < 48:
            raise ValueError("size too small for a recognisable pictogram")
        self.size = size
        self.image_format: PictureFormat = image_format
        self._font = ImageFont.truetype(str(font_path or find_emoji_font()), NOTO_STRIKE_SIZE)
        self._glyphs: dict[str, Image.Image] = {}
        self._lock = threading.Lock()

    def prewarm(self, codepoints: Iterable[str] | None = None) -> int:
        """Draw and cache the glyphs (default: the whole vocabulary); returns how many are cached."""
        for cp in codepoints if codepoints is not None else (p.emoji for p in VOCABULARY):
            self._glyph(cp)
        return len(self._glyphs)

    def _glyph(self, codepoint: str) -> Image.Image:
        glyph = self._glyphs.get(codepoint)
        if glyph is not None:
            return glyph
        with self._lock:
            glyph = self._glyphs.get(codepoint)
            if glyph is None:
                side = NOTO_STRIKE_SIZE * 2
                canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
                ImageDraw.Draw(canvas).text((0, 0), codepoint, font=self._font, embedded_color=True)
                bbox = canvas.getbbox()
                if bbox is None:
                    raise ValueError(f"the emoji font has no glyph for {codepoint!r}")
                glyph = canvas.crop(bbox)
                self._glyphs[codepoint] = glyph
            return glyph

    def render(self, codepoint: str, variation_seed: Seed) -> bytes:
        """A ``size``×``size`` picture of ``codepoint``, transformed according to ``variation_seed``."""
        # Seeded PRNG on purpose: it only jitters pixels; the secrecy lies in the (random) seed.
        rng = random.Random(variation_seed)  # noqa: S311
        s = self.size
        picture = _background(rng, s)

        glyph = _recolour(rng, self._glyph(codepoint))
        if rng.random() < 0.5:  # a mirrored object is still the same object
            glyph = glyph.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        scale = rng.uniform(0.55, 0.8) * s / max(glyph.size)
        glyph = glyph.resize(
            (max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))),
            Image.Resampling.BICUBIC,
        )
        glyph = glyph.rotate(rng.uniform(-35, 35), resample=Image.Resampling.BICUBIC, expand=True)
        # Anywhere on the canvas, up to a tenth of the object over an edge.
        mx, my = glyph.width // 10, glyph.height // 10
        x = rng.randint(-mx, max(-mx, s - glyph.width + mx))
        y = rng.randint(-my, max(-my, s - glyph.height + my))
        # A soft drop shadow detaches pale objects (envelope, ring, dice) from a pale background.
        shadow = Image.new("RGBA", (s, s), (0, 0, 0, 0))
        dx, dy = rng.randint(-3, 3), rng.randint(1, 4)
        shadow.paste((20, 20, 30, rng.randint(110, 170)), (x + dx, y + dy), glyph.getchannel("A"))
        picture.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 3.0))))
        layer = Image.new("RGBA", (s, s), (0, 0, 0, 0))
        layer.paste(glyph, (x, y))  # paste clips at the edges, alpha_composite would refuse
        picture.alpha_composite(layer)

        _foreground_clutter(rng, picture)
        return _encode(picture.convert("RGB"), self.image_format, rng)


def _random_colour(rng: random.Random, lightness: tuple[float, float], alpha: int = 255) -> tuple[int, ...]:
    r, g, b = colorsys.hls_to_rgb(rng.random(), rng.uniform(*lightness), rng.uniform(0.3, 0.9))
    return (round(r * 255), round(g * 255), round(b * 255), alpha)


def _background(rng: random.Random, s: int) -> Image.Image:
    """Light random colour, coarse blotches, fine speckle and a few lines behind the object."""
    base = Image.new("RGBA", (s, s), _random_colour(rng, (0.8, 0.95)))
    # Blotches: a tiny random image upscaled (from the seeded rng, so renders are reproducible).
    cells = rng.randint(4, 10)
    blotch = Image.frombytes("RGB", (cells, cells), rng.randbytes(cells * cells * 3))
    blotch = blotch.resize((s, s), Image.Resampling.BICUBIC).convert("RGBA")
    base = Image.blend(base, blotch, rng.uniform(0.15, 0.3))
    speckle = Image.frombytes("L", (s, s), rng.randbytes(s * s)).convert("RGBA")
    base = Image.blend(base, speckle, rng.uniform(0.06, 0.14))
    draw = ImageDraw.Draw(base)
    for _ in range(rng.randint(3, 7)):
        draw.line(
            [(rng.uniform(0, s), rng.uniform(0, s)) for _ in range(rng.randint(2, 4))],
            fill=_random_colour(rng, (0.35, 0.75)),
            width=rng.randint(1, 3),
        )
    for _ in range(rng.randint(1, 3)):
        x0, y0 = rng.uniform(-s / 2, s / 2), rng.uniform(-s / 2, s / 2)
        d = rng.uniform(s / 2, s * 1.2)
        draw.arc(
            (x0, y0, x0 + d, y0 + d),
            rng.uniform(0, 360),
            rng.uniform(0, 360),
            fill=_random_colour(rng, (0.35, 0.75)),
            width=rng.randint(1, 2),
        )
    return base


def _recolour(rng: random.Random, glyph: Image.Image) -> Image.Image:
    """Small hue rotation, saturation/brightness/contrast jitter and a light tint.

    Kept small on purpose: a blue banana confuses people more than bots.
    """
    alpha = glyph.getchannel("A")
    hsv = glyph.convert("RGB").convert("HSV")
    h, sat, v = hsv.split()
    shift = rng.randint(-5, 5)  # of 255, i.e. about ±7°: a red apple must not turn orange
    h = h.point(lambda value: (value + shift) % 256)
    rgb = Image.merge("HSV", (h, sat, v)).convert("RGB")
    rgb = ImageEnhance.Color(rgb).enhance(rng.uniform(0.75, 1.3))
    rgb = ImageEnhance.Brightness(rgb).enhance(rng.uniform(0.85, 1.15))
    rgb = ImageEnhance.Contrast(rgb).enhance(rng.uniform(0.85, 1.2))
    tint = Image.new("RGB", rgb.size, _random_colour(rng, (0.3, 0.7))[:3])
    rgb = Image.blend(rgb, tint, rng.uniform(0.05, 0.15))
    out = rgb.convert("RGBA")
    out.putalpha(alpha)
    return out


def _foreground_clutter(rng: random.Random, picture: Image.Image) -> None:
    """Thin translucent strokes and dots across the object, so it cannot be cut out by colour alone."""
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    s = picture.width
    for _ in range(rng.randint(1, 3)):
        draw.line(
            [(rng.uniform(0, s), rng.uniform(0, s)) for _ in range(2)],
            fill=_random_colour(rng, (0.3, 0.7), alpha=rng.randint(70, 140)),
            width=rng.randint(1, 2),
        )
    for _ in range(rng.randint(40, 120)):
        x, y = rng.uniform(0, s), rng.uniform(0, s)
        r = rng.uniform(0.5, 1.6)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_random_colour(rng, (0.2, 0.8), alpha=rng.randint(90, 200)))
    picture.alpha_composite(overlay)


def _encode(picture: Image.Image, image_format: PictureFormat, rng: random.Random) -> bytes:
    buffer = io.BytesIO()
    if image_format == "WEBP":
        picture.save(buffer, "WEBP", quality=rng.randint(70, 85), method=2)
    else:
        # No metadata chunks: nothing in the file but pixels (no font name, no timestamp).
        picture.save(buffer, "PNG", compress_level=3)  # noisy pixels: level 3 is as small as 6, faster
    return buffer.getvalue()


_default: PictogramRenderer | None = None
_default_lock = threading.Lock()


def default_renderer() -> PictogramRenderer:
    """The process-wide renderer (created and prewarmed on first use)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                renderer = PictogramRenderer()
                renderer.prewarm()
                _default = renderer
    return _default


def prewarm_pictograms() -> None:
    """Start-up hook (and ``ProcessPoolExecutor`` initializer): load the font and draw every glyph."""
    default_renderer()


def render_pictogram(codepoint: str, variation_seed: Seed) -> bytes:
    """PNG bytes of ``codepoint`` distorted per ``variation_seed`` (blocking: run in a thread/process)."""
    return default_renderer().render(codepoint, variation_seed)
