"""Distorted-characters image for the text variant of the challenge.

Characters come from :data:`services.captcha.domain.TEXT_ALPHABET` (no 0/O, 1/I/L and the like);
each is drawn in a randomly chosen bold DejaVu face (Debian ``fonts-dejavu-core``, free licence), rotated
and jittered, then the whole line is bent by a sine wave and crossed by strokes in the text's own colour
(so a colour filter cannot strip them).

**Blocking, CPU-bound code**: call through ``asyncio.to_thread`` or a process pool. The same
``(text, seed)`` gives the same bytes; derive the seed from the challenge id.
"""

from __future__ import annotations

import functools
import io
import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

_DEJAVU_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")
_FACES = ("DejaVuSans-Bold.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansMono-Bold.ttf")
DEFAULT_TEXT_IMAGE_SIZE = (240, 80)
Seed = int | str | bytes


@functools.cache
def _font_paths() -> tuple[Path, ...]:
    found = tuple(Path(d) / f for d in _DEJAVU_DIRS for f in _FACES if (Path(d) / f).is_file())
    if not found:
        raise RuntimeError("DejaVu fonts not found: install the Debian package fonts-dejavu-core")
    return found


@functools.cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def render_text_challenge(text: str, seed: Seed, size: tuple[int, int] = DEFAULT_TEXT_IMAGE_SIZE) -> bytes:
    """PNG of ``text`` (at most 10 characters), distorted per ``seed``; ``size`` is (width, height).

    Drawn in upper case whatever the input (``ExpectedAnswer.characters`` is stored normalised, in lower
    case; answers are case-blind and the alphabet was chosen for its upper-case shapes).
    """
    text = text.strip().upper()
    if not 1 <= len(text) <= 10:
        raise ValueError("text must have 1 to 10 characters")
    rng = random.Random(seed)  # noqa: S311 - visual jitter only; the secret is the text
    width, height = size
    ink = (rng.randint(0, 90), rng.randint(0, 90), rng.randint(40, 120), 255)
    background = Image.new("RGBA", size, (rng.randint(215, 250), rng.randint(215, 250), rng.randint(215, 250), 255))
    speckle = Image.frombytes("L", size, rng.randbytes(width * height)).convert("RGBA")
    background = Image.blend(background, speckle, rng.uniform(0.08, 0.15))

    # Characters on a transparent layer, side by side with a slight overlap, the line centred.
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    step = (width - 20) / len(text)
    font_size = min(int(height * 0.58), int(step * 1.1))
    fonts = _font_paths()
    glyphs: list[Image.Image] = []
    for ch in text:
        font = _font(rng.choice(fonts), font_size + rng.randint(-4, 3))
        box = font.getbbox(ch)
        glyph = Image.new("RGBA", (int(box[2]) + 8, int(box[3]) + 8), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((4, 4), ch, font=font, fill=ink)
        glyphs.append(glyph.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC, expand=True))
    advances = [g.width * rng.uniform(0.78, 0.9) for g in glyphs]
    room = width - 8 - glyphs[-1].width
    if sum(advances[:-1]) > room:  # long text: squeeze rather than run off the edge
        advances = [a * room / sum(advances[:-1]) for a in advances]
    cursor = max(0.0, (width - sum(advances[:-1]) - glyphs[-1].width) / 2)
    for glyph, advance in zip(glyphs, advances, strict=True):
        x = max(0, min(round(cursor), width - glyph.width))
        y = round((height - glyph.height) / 2 + rng.uniform(-0.1, 0.1) * height)
        layer.alpha_composite(glyph, (x, max(0, min(y, height - glyph.height))))
        cursor += advance

    layer = _wave(layer, rng)
    draw = ImageDraw.Draw(layer)
    for _ in range(rng.randint(2, 3)):  # strokes through the text, same ink
        points = [(0.0, rng.uniform(0.3, 0.7) * height)]
        for k in range(1, 5):
            points.append((k * width / 4, rng.uniform(0.25, 0.75) * height))
        draw.line(points, fill=ink, width=rng.randint(1, 2), joint="curve")
    for _ in range(rng.randint(80, 160)):
        px, py = rng.uniform(0, width), rng.uniform(0, height)
        draw.point((px, py), fill=ink)

    background.alpha_composite(layer.filter(ImageFilter.SMOOTH))
    buffer = io.BytesIO()
    background.convert("RGB").save(buffer, "PNG", compress_level=3)
    return buffer.getvalue()


def _wave(layer: Image.Image, rng: random.Random) -> Image.Image:
    """Shift 2-pixel columns vertically along a random sine: the whole line bends."""
    width, height = layer.size
    amplitude = rng.uniform(3.0, 7.0)
    period = rng.uniform(0.7, 1.4) * width
    phase = rng.uniform(0, 2 * math.pi)
    out = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    for x in range(0, width, 2):
        dy = round(amplitude * math.sin(2 * math.pi * x / period + phase))
        out.paste(layer.crop((x, 0, x + 2, height)), (x, dy))
    return out
