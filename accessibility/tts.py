"""Read-aloud: every bot message as an mp3, cached on disk by a hash of text, language and voice.

gTTS sends its text to Google, so only the fixed bot prompts (a set the caller gives:
the domain's responses, framework questions, button labels…) may ever go to it; any
other text (e.g. a read-back that repeats a child's comment) is voiced offline by
espeak-ng. espeak-ng is also the fallback whenever gTTS cannot be reached. Both are
cached, each under its own key, so the gTTS voice replaces the offline one once
Google can be reached again.

A text's URL key is made when the message is sent (`key_for`, which notes the text
beside the key); the audio itself is made on first request (`audio_file`) or ahead of
time for all fixed prompts (`build`). A note or audio of any other text can hold a child's
words, so it is deleted once a day old (`prune_personal`, run from `key_for` now and then):
those words are kept in the database, where "delete my data" and the audit log reach them.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import subprocess
import tempfile
import time
import wave
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import lameenc
from gtts import gTTS
from gtts.tts import gTTSError

log = logging.getLogger(__name__)

LANGUAGE = "en"
GTTS_VOICE = "gtts:co.uk"  # Google's British English voice
ESPEAK_BIN = "espeak-ng"
ESPEAK_VOICE = "espeak-ng:en-gb:140"
ESPEAK_ARGS = ["-v", "en-gb", "-s", "140"]  # 140 words a minute: slower than espeak's 175, easier to follow
MP3_KBPS = 48  # speech, mono: small files for school wifi
GTTS_TIMEOUT = 5  # seconds
GTTS_RETRY_AFTER = 600  # seconds without trying gTTS again after it failed
KEY_PATTERN = re.compile(r"^[0-9a-f]{64}$")
PERSONAL_AUDIO_LIFETIME = 24 * 3600  # seconds a read-back of a child's words stays on disk
PRUNE_EVERY = 3600  # seconds between sweeps


class SpeechUnavailable(RuntimeError):
    """No voice could make the audio (espeak-ng is missing or failed)."""


def audio_key(text: str, language: str, voice: str) -> str:
    return hashlib.sha256(json.dumps([text, language, voice], ensure_ascii=False).encode()).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers never see half a file, even when two requests make the same audio at once."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def espeak_mp3(text: str) -> bytes:
    """The text spoken by espeak-ng, encoded as mp3."""
    try:
        spoken = subprocess.run(
            [ESPEAK_BIN, *ESPEAK_ARGS, "-b", "1", "--stdout"],  # -b 1: the text on stdin is UTF-8
            input=text.encode("utf-8"), capture_output=True, timeout=60, check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SpeechUnavailable(f"espeak-ng could not speak: {exc}") from exc
    # espeak-ng writes the WAV header before it knows the length; wave reads what is there.
    with wave.open(io.BytesIO(spoken.stdout)) as wav:
        pcm = wav.readframes(wav.getnframes())
        rate, channels = wav.getframerate(), wav.getnchannels()
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_KBPS)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(5)
    return bytes(encoder.encode(pcm) + encoder.flush())


class SpeechCache:
    def __init__(self, folder: Path, fixed_prompts: Iterable[str]):
        self.folder = folder
        self.fixed_prompts = frozenset(fixed_prompts)
        self._fixed_keys = frozenset(audio_key(text, LANGUAGE, GTTS_VOICE) for text in self.fixed_prompts)
        self._gtts_failed_at: float | None = None
        self._pruned_at: float | None = None

    def voice_for(self, text: str) -> str:
        return GTTS_VOICE if text in self.fixed_prompts else ESPEAK_VOICE

    def key_for(self, text: str) -> str:
        """The audio key for a message, noting its text so the audio can be made when asked for."""
        if self._pruned_at is None or time.monotonic() - self._pruned_at > PRUNE_EVERY:
            self._pruned_at = time.monotonic()
            self.prune_personal()
        key = audio_key(text, LANGUAGE, self.voice_for(text))
        note = self.folder / f"{key}.json"
        if not note.exists():
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # it can hold a child's words
            _write_atomically(note, json.dumps({"text": text, "language": LANGUAGE, "voice": self.voice_for(text)}).encode())
        return key

    def is_fixed_prompt(self, key: str) -> bool:
        """Whether a key from key_for is a fixed prompt's (the same for everyone), not anyone's own words."""
        return key in self._fixed_keys

    def audio_file(self, key: str) -> Path | None:
        """The mp3 for a key from key_for, made now if needed; None for a key never given out."""
        if not KEY_PATTERN.match(key):
            return None
        try:
            note = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return self.ensure(note["text"])[0]

    def ensure(self, text: str) -> tuple[Path, str]:
        """The audio for a text, and who made it: "cached", "gtts" or "espeak-ng"."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # it can hold a child's words
        if text in self.fixed_prompts:
            google = self.folder / f"{audio_key(text, LANGUAGE, GTTS_VOICE)}.mp3"
            if google.exists():
                return google, "cached"
            data = self._gtts(text)
            if data is not None:
                _write_atomically(google, data)
                return google, "gtts"
        offline = self.folder / f"{audio_key(text, LANGUAGE, ESPEAK_VOICE)}.mp3"
        if offline.exists():
            return offline, "cached"
        _write_atomically(offline, espeak_mp3(text))
        return offline, "espeak-ng"

    def prune_personal(self, max_age: float = PERSONAL_AUDIO_LIFETIME, now: float | None = None) -> int:
        """Delete notes and audio of texts that are not fixed prompts, once older than `max_age`
        seconds; returns how many texts went. Fixed prompts stay cached for good."""
        cutoff = (now if now is not None else time.time()) - max_age
        removed = 0
        for note in self.folder.glob("*.json"):
            try:
                if note.stat().st_mtime > cutoff:
                    continue
                text = json.loads(note.read_text(encoding="utf-8"))["text"]
            except (OSError, ValueError, KeyError):
                continue  # another request is writing or removing it
            if text in self.fixed_prompts:
                continue
            self.forget(text)
            removed += 1
        return removed

    def forget(self, text: str) -> None:
        """Delete the note and audio of a text, unless it is a fixed prompt (those hold no child's words)."""
        if text in self.fixed_prompts:
            return
        key = audio_key(text, LANGUAGE, ESPEAK_VOICE)
        (self.folder / f"{key}.mp3").unlink(missing_ok=True)
        (self.folder / f"{key}.json").unlink(missing_ok=True)

    def build(self) -> Counter:
        """Make the audio of every fixed prompt ahead of time; counts by who made it."""
        made: Counter = Counter()
        for text in sorted(self.fixed_prompts):
            self.key_for(text)
            made[self.ensure(text)[1]] += 1
        return made

    def _gtts(self, text: str) -> bytes | None:
        """Google's voice for a fixed prompt, or None when Google cannot be reached."""
        if text not in self.fixed_prompts:
            # The only way text reaches gTTS: a child's words must never leave the machine.
            raise ValueError("only fixed bot prompts may be sent to gTTS")
        if self._gtts_failed_at is not None and time.monotonic() - self._gtts_failed_at < GTTS_RETRY_AFTER:
            return None
        buffer = io.BytesIO()
        try:
            gTTS(text, lang=LANGUAGE, tld="co.uk", timeout=GTTS_TIMEOUT).write_to_fp(buffer)
        except (gTTSError, OSError) as exc:
            log.warning("gTTS not reachable, using espeak-ng for %s minutes: %s", GTTS_RETRY_AFTER // 60, exc)
            self._gtts_failed_at = time.monotonic()
            return None
        self._gtts_failed_at = None
        return buffer.getvalue()
