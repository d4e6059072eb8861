"""Audio version of a challenge: the word spoken in French, varied and lightly noised.

Pipeline (Debian packages ``espeak-ng`` and ``sox``; for OGG output ``libsox-fmt-base``, which ``sox``
pulls in):
1. ``espeak-ng`` with the French voice and a per-challenge variant, speed, pitch and word gap, text on
   stdin (never on the command line: no option injection, nothing in ``ps``), WAV on stdout;
2. Python pads the speech with a random lead-in and writes it, with a white-noise track made from the
   seeded PRNG, into a private temporary directory (``tempfile.TemporaryDirectory``: random name, mode
   0700, removed afterwards) — no fixed or guessable path in shared /tmp;
3. ``sox -m`` mixes the speech with the noise at a low random level, band-limits and normalises, and
   writes WAV (every browser plays 16-bit PCM WAV) or OGG Vorbis into that directory, read back.

Every child process runs with a fixed argv (no shell), a minimal environment and a timeout.

**Blocking code** (two subprocesses, ~50–100 ms): call it through ``asyncio.to_thread`` or a process
pool, never on the event loop. The same ``(word, seed)`` gives the same clip; derive the seed from the
challenge id so that replaying the audio URL gives the same clip.
"""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

AudioFormat = Literal["wav", "ogg"]
Seed = int | str | bytes

MEDIA_TYPES: dict[AudioFormat, str] = {"wav": "audio/wav", "ogg": "audio/ogg"}
MAX_SPOKEN_LENGTH = 200
# espeak-ng voice variants that stay intelligible in French (f = female, m = male timbres).
_VARIANTS = ("m1", "m2", "m3", "m4", "m6", "f1", "f2", "f3", "f4")
# A minimal environment: no inherited secrets, predictable locale for espeak-ng's UTF-8 input.
_ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}


class AudioRenderError(RuntimeError):
    """espeak-ng or sox failed, timed out, or is not installed."""


@dataclass(frozen=True, slots=True)
class _Pcm:
    rate: int
    channels: int
    sample_width: int
    frames: bytes


def render_audio(
    word: str,
    seed: Seed,
    *,
    audio_format: AudioFormat = "wav",
    timeout: float = 10.0,
    repeat: bool = True,
) -> bytes:
    """The clip for ``word`` (e.g. ``Challenge.spoken``) in ``audio_format``; see the module docstring.

    With ``repeat`` the word is said twice ("Pantalon. Je répète : Pantalon."), as a listener may miss
    the start of the clip.
    """
    word = " ".join(word.split())
    if not word or len(word) > MAX_SPOKEN_LENGTH:
        raise ValueError("word must be non-empty and short")
    rng = random.Random(seed)  # noqa: S311 - variation only; the secret is the word
    espeak, sox = _tool("espeak-ng"), _tool("sox")
    text = f"{word}. Je répète : {word}." if repeat else f"{word}."
    speech_argv = [
        espeak,
        "-v",
        f"fr+{rng.choice(_VARIANTS)}",
        "-s",
        str(rng.randint(125, 160)),  # words per minute (default 175): a bit slower than usual
        "-p",
        str(rng.randint(30, 70)),  # pitch 0-99
        "-g",
        str(rng.randint(2, 8)),  # extra gap between words, in 10 ms units
        "-a",
        str(rng.randint(120, 170)),  # amplitude
        "-b",
        "1",  # input is UTF-8
        "--stdin",
        "--stdout",
    ]
    pcm = _parse_wav(_run(speech_argv, text.encode("utf-8"), timeout))

    # Random silence before (shifts the word in time) and after, then noise as long as the whole clip.
    frame = pcm.sample_width * pcm.channels
    lead = b"\0" * frame * int(pcm.rate * rng.uniform(0.15, 0.5))
    tail = b"\0" * frame * int(pcm.rate * rng.uniform(0.2, 0.4))
    speech = lead + pcm.frames + tail
    noise = rng.randbytes(len(speech))  # uniform white noise at full scale, scaled down by sox -v

    with tempfile.TemporaryDirectory(prefix="captcha-audio-") as private:
        speech_path, noise_path = Path(private) / "speech.wav", Path(private) / "noise.wav"
        # Output to a (seekable) file so that sox writes the real sizes in the WAV header.
        out_path = Path(private) / f"clip.{audio_format}"
        _write_wav(speech_path, pcm, speech)
        _write_wav(noise_path, pcm, noise)
        out_type = ["-t", "ogg", "-C", "3"] if audio_format == "ogg" else ["-t", "wav", "-e", "signed", "-b", "16"]
        mix_argv = [
            sox,
            "-R",  # repeatable: dither seeded with a constant, so same seed → same bytes
            "-V1",  # errors only on stderr
            "-m",
            "-v",
            "1.0",
            str(speech_path),
            "-v",
            f"{rng.uniform(0.015, 0.04):.3f}",  # light noise, well below the voice (SNR ~ 10-18 dB)
            str(noise_path),
            *out_type,
            str(out_path),
            "highpass",
            str(rng.randint(60, 140)),
            "lowpass",
            str(rng.randint(5000, 7500)),
            "gain",
            "-n",
            f"-{rng.uniform(1.0, 3.0):.1f}",  # normalise to a random peak just below full scale
        ]
        _run(mix_argv, None, timeout, expect_output=False)
        clip = out_path.read_bytes()
    if not clip:
        raise AudioRenderError("sox produced an empty clip")
    return clip


def _tool(name: str) -> str:
    path = shutil.which(name, path=_ENV["PATH"])
    if path is None:
        raise AudioRenderError(f"{name} is not installed (Debian package {name})")
    return path


def _run(argv: list[str], stdin: bytes | None, timeout: float, *, expect_output: bool = True) -> bytes:
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv from trusted values, no shell
            argv,
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            timeout=timeout,  # run() kills the child when it expires
            check=False,
            env=_ENV,
        )
    except subprocess.TimeoutExpired as exc:
        raise AudioRenderError(f"{Path(argv[0]).name} timed out after {timeout} s") from exc
    except OSError as exc:
        raise AudioRenderError(f"{Path(argv[0]).name} could not start: {exc}") from exc
    if done.returncode != 0 or (expect_output and not done.stdout):
        detail = done.stderr.decode("utf-8", "replace").strip()[:300]
        raise AudioRenderError(f"{Path(argv[0]).name} failed ({done.returncode}): {detail}")
    return done.stdout


def _parse_wav(data: bytes) -> _Pcm:
    """PCM of espeak-ng's streamed WAV, whose RIFF/data sizes are placeholders (0x7fffffff)."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioRenderError("espeak-ng did not produce a WAV stream")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if chunk_id == b"fmt ":
            _tag, channels, rate, _byte_rate, _align, bits = struct.unpack_from("<HHIIHH", data, pos + 8)
            fmt = (rate, channels, bits // 8)
        elif chunk_id == b"data":
            if fmt is None:
                break
            frames = data[pos + 8 :]  # to the end: the size field is not to be trusted
            frame = fmt[1] * fmt[2]
            return _Pcm(fmt[0], fmt[1], fmt[2], frames[: len(frames) // frame * frame])
        pos += 8 + size + (size & 1)
    raise AudioRenderError("espeak-ng WAV stream without fmt/data chunk")


def _write_wav(path: Path, pcm: _Pcm, frames: bytes) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(pcm.channels)
        out.setsampwidth(pcm.sample_width)
        out.setframerate(pcm.rate)
        out.writeframes(frames)


def wav_duration(data: bytes) -> float:
    """Duration in seconds of a WAV clip (as produced here; used by tests and the benchmark)."""
    pcm = _parse_wav(data)
    return len(pcm.frames) / (pcm.rate * pcm.channels * pcm.sample_width)
