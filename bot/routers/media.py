"""Read-aloud audio and OpenMoji symbols for the widget."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from accessibility.symbols import svg_path
from accessibility.tts import SpeechUnavailable
from bot.chat.gateway import speech_cache
from bot.chat.schemas import ErrorOut
from framework.settings import get_settings

router = APIRouter(tags=["media"])

# Audio for a key never changes (the key is a hash of text and voice), but the gTTS voice may
# replace the offline one once Google is reachable, so browsers keep it a day.
AUDIO_CACHE = "public, max-age=86400"
# A read-back of a child's own words: kept by no browser or proxy (a shared school iPad).
PERSONAL_AUDIO_CACHE = "private, no-store"
SYMBOL_CACHE = "public, max-age=604800"  # a week: OpenMoji changes only when the package is updated
NOT_FOUND = ErrorOut(error="Not found.").model_dump(exclude_none=True)


@router.get(
    "/api/audio/{key}.mp3", response_class=FileResponse, summary="A bot message read aloud",
    responses={200: {"content": {"audio/mpeg": {}}}, 404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
async def audio(key: str):
    speech = speech_cache(get_settings().var_dir / "audio")
    try:
        path = await run_in_threadpool(speech.audio_file, key)
    except SpeechUnavailable:
        return JSONResponse(ErrorOut(error="Read-aloud is not working now.").model_dump(exclude_none=True), status_code=503)
    if path is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    cache = AUDIO_CACHE if speech.is_fixed_prompt(key) else PERSONAL_AUDIO_CACHE
    return FileResponse(path, media_type="audio/mpeg", headers={"Cache-Control": cache})


@router.get(
    "/symbols/{code}.svg", response_class=FileResponse, summary="An OpenMoji symbol",
    responses={200: {"content": {"image/svg+xml": {}}}, 404: {"model": ErrorOut}},
)
async def symbol(code: str):
    path = svg_path(get_settings().openmoji_dir, code)
    if path is None:
        return JSONResponse(NOT_FOUND, status_code=404)
    return FileResponse(path, media_type="image/svg+xml", headers={"Cache-Control": SYMBOL_CACHE})
