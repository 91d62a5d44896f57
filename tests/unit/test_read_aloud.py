"""Read-aloud: gTTS only ever hears fixed bot prompts, audio is cached, and espeak-ng is a
working offline voice. gTTS is replaced by a recorder here because no test may reach Google."""
from __future__ import annotations

import time

import pytest

from accessibility import tts
from accessibility.tts import GTTS_VOICE, LANGUAGE, SpeechCache, audio_key
from bot.chat.prompts import domain_text, fixed_prompts, support
from framework.loader import load_framework
from framework.settings import Settings
from tests.stack import app_client

FAKE_MP3 = b"ID3" + b"\x00" * 2000


class RecordingGTTS:
    """Stands in for gtts.gTTS: records every text it is given, as if Google spoke it."""

    texts: list[str] = []

    def __init__(self, text: str, **kwargs):
        RecordingGTTS.texts.append(text)

    def write_to_fp(self, fp) -> None:
        fp.write(FAKE_MP3)


@pytest.fixture
def google(monkeypatch) -> list[str]:
    RecordingGTTS.texts = []
    monkeypatch.setattr(tts, "gTTS", RecordingGTTS)
    return RecordingGTTS.texts


def is_mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def test_fixed_prompts_cover_every_source_and_no_fill_in():
    prompts = fixed_prompts()
    york = load_framework("york")
    assert domain_text("utter_opening") in prompts
    assert york.areas[0].statements[0].question in prompts
    assert york.areas[0].prompts["children_young_people"].intro in prompts
    assert {"Yes", "Skip", "Tap buttons", "Carry on", "Did that help?", "A bit"} <= prompts
    assert f"Last time, I asked you this. {york.areas[0].statements[0].question} You said no." in prompts
    assert set(support().messages) <= prompts
    assert not any("{" in p for p in prompts)


def test_gtts_never_hears_a_childs_words(tmp_path, google):
    """A read-back that repeats a child's comment goes through the whole audio path (the API's
    key, then the audio request); only fixed prompts may reach gTTS."""
    settings = Settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    readback = "Do you feel safe at school? Yes.\nYou said: \u201cmy brother Sam shouts at night\u201d"
    question = load_framework("york").areas[0].statements[0].question
    with app_client(settings) as client:
        speech = client.app.state.chat.speech
        for text in (readback, question, "my brother Sam shouts at night"):
            response = client.get(f"/api/audio/{speech.key_for(text)}.mp3")
            assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
            assert is_mp3(response.content)
    assert google == [question]  # the fixed prompt did go to gTTS: the recorder works
    assert set(google) <= fixed_prompts()


def test_only_fixed_prompts_can_be_sent_to_gtts_even_when_asked_directly(tmp_path, google):
    speech = SpeechCache(tmp_path, {"Hello."})
    with pytest.raises(ValueError):
        speech._gtts("a child's words")
    path, made_by = speech.ensure("a child's words")
    assert made_by == "espeak-ng" and google == []


def test_audio_is_cached_by_text_language_and_voice(tmp_path, google):
    speech = SpeechCache(tmp_path, {"Hello."})
    key = speech.key_for("Hello.")
    assert key == audio_key("Hello.", LANGUAGE, GTTS_VOICE)
    first = speech.audio_file(key)
    again = speech.audio_file(key)
    assert first == again and first.name == f"{key}.mp3"
    assert google == ["Hello."]  # made once
    assert speech.ensure("Hello.")[1] == "cached"
    assert speech.key_for("Hello!") != key


def test_a_read_back_of_a_childs_words_leaves_the_disk_after_a_day(tmp_path, google):
    speech = SpeechCache(tmp_path, {"Hello."})
    fixed, personal = speech.key_for("Hello."), speech.key_for("You said: my mum shouts")
    speech.audio_file(fixed), speech.audio_file(personal)
    assert len(list(tmp_path.glob("*.mp3"))) == 2
    assert speech.prune_personal() == 0  # an hour-old read-back is still wanted
    a_day_later = time.time() + 24 * 3600 + 60
    assert speech.prune_personal(now=a_day_later) == 1
    left = "".join(p.read_text(encoding="utf-8", errors="ignore") for p in tmp_path.iterdir())
    assert "my mum shouts" not in left and speech.audio_file(personal) is None
    assert speech.audio_file(fixed).exists()  # fixed prompts stay cached


def test_espeak_is_the_voice_when_google_cannot_be_reached(tmp_path, monkeypatch):
    """No internet here: the real gTTS fails, and espeak-ng makes a playable mp3."""
    speech = SpeechCache(tmp_path, {"Do you feel safe at school?"})
    path, made_by = speech.ensure("Do you feel safe at school?")
    assert made_by == "espeak-ng"
    data = path.read_bytes()
    assert is_mp3(data) and len(data) > 4000  # about two seconds of 48 kbps speech
    # Google is not tried again for a while: the next prompt goes straight to espeak-ng.
    monkeypatch.setattr(tts, "gTTS", lambda *a, **k: pytest.fail("gTTS tried again straight after failing"))
    assert speech.ensure("Do you feel safe at school?")[1] == "cached"


def test_unknown_audio_key_is_404(tmp_path):
    settings = Settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    with app_client(settings) as client:
        assert client.get(f"/api/audio/{'0' * 64}.mp3").status_code == 404
        assert client.get("/api/audio/..%2F..%2Fheard.mp3").status_code == 404


def test_symbols_are_served_with_cache_headers(tmp_path):
    settings = Settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    with app_client(settings) as client:
        response = client.get("/symbols/1F44D.svg")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert "max-age" in response.headers["cache-control"]
        assert b"<svg" in response.content
        assert client.get("/symbols/NOPE.svg").status_code == 404
        assert client.get("/symbols/..%2Fpackage.svg").status_code == 404
