"""The kiosk's spoken prompts: every file a form names is a small, valid Ogg Vorbis file with
sound in it, the kiosk page points at it and the service worker keeps it for offline use; and
scripts/make-audio, which writes them."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from forms import FormDefinition, load_forms
from survey_server import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
MAKE_AUDIO = ROOT / "scripts" / "make-audio"
AUDIO_DIR = STATIC_DIR / "audio"
#: Chosen with scripts/make-audio: Vorbis, mono, 16 kHz; the longest prompt is about 28 KB.
MAX_BYTES = 30 * 1024
#: The shortest prompt (a question and how to answer it) lasts about 7 s; silence is trimmed,
#: so a file with no speech in it would be far shorter.
MIN_SECONDS = 3.0


def _ogg_crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


CRC_TABLE = _ogg_crc_table()


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum (CRC-32, polynomial 0x04c11db7, not reflected, initial 0)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ CRC_TABLE[((crc >> 24) ^ byte) & 0xFF]
    return crc


@dataclass(frozen=True)
class OggVorbis:
    channels: int
    sample_rate: int
    samples: int  # granule position of the last page: PCM samples per channel
    pages: int

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate


def parse_ogg_vorbis(data: bytes) -> OggVorbis:
    """Walk every Ogg page (RFC 3533), check its checksum, read the Vorbis identification
    header (Vorbis I spec, 4.2.2) from the first page and the length from the last."""
    offset = pages = granule = 0
    first_packet = b""
    while offset < len(data):
        assert data[offset : offset + 4] == b"OggS", f"no page at byte {offset}"
        version, flags, granule, _serial, _seq, crc, segments = struct.unpack_from(
            "<BBqIIIB", data, offset + 4
        )
        assert version == 0
        lacing = data[offset + 27 : offset + 27 + segments]
        body_start = offset + 27 + segments
        end = body_start + sum(lacing)
        assert end <= len(data), "truncated page"
        page = bytearray(data[offset:end])
        page[22:26] = b"\0\0\0\0"
        assert ogg_crc(bytes(page)) == crc, f"bad checksum in page {pages}"
        if pages == 0:
            assert flags & 0x02, "the first page must begin the stream"
            first_packet = data[body_start:end]
        pages += 1
        offset = end
    assert first_packet[:7] == b"\x01vorbis", "not a Vorbis stream"
    _version, channels, rate = struct.unpack_from("<IBI", first_packet, 7)
    assert flags & 0x04, "the last page must end the stream"
    return OggVorbis(channels=channels, sample_rate=rate, samples=granule, pages=pages)


def named_prompts() -> list[str]:
    forms = load_forms()
    return sorted(
        {path for form in forms.values() for q in form.questions for path in q.audio.values()}
    )


def test_the_forms_name_a_prompt_for_every_question_and_all_exist() -> None:
    forms: dict[str, FormDefinition] = load_forms(static_dir=STATIC_DIR, check_assets=True)
    for form in forms.values():
        assert all("vi" in question.audio for question in form.questions), form.id
    assert len(named_prompts()) == 16
    assert all(path.endswith(".ogg") for path in named_prompts())


@pytest.mark.parametrize("path", named_prompts())
def test_each_prompt_is_a_small_ogg_vorbis_file_with_speech(path: str) -> None:
    data = (AUDIO_DIR / path).read_bytes()
    assert 0 < len(data) < MAX_BYTES
    ogg = parse_ogg_vorbis(data)
    assert ogg.channels == 1
    assert 16000 <= ogg.sample_rate <= 22050
    assert ogg.seconds > MIN_SECONDS
    assert ogg.pages > 2  # identification, comment/setup, then audio


def test_the_ogg_check_refuses_a_damaged_file() -> None:
    data = bytearray((AUDIO_DIR / named_prompts()[0]).read_bytes())
    data[-1] ^= 0xFF  # the last byte of the last page's body
    with pytest.raises(AssertionError, match="checksum"):
        parse_ogg_vorbis(bytes(data))
    with pytest.raises(AssertionError):
        parse_ogg_vorbis(b"ID3\x04" + bytes(data[4:]))  # an MP3 is not accepted


def page_texts(client: FlaskClient) -> dict[str, dict[str, dict[str, dict[str, list]]]]:
    """The per-language texts of the kiosk page's embedded configuration."""
    page = client.get("/kiosk/")
    assert page.status_code == 200
    match = re.search(
        r'<script type="application/json" id="kiosk-config">(.*?)</script>', page.text, re.S
    )
    assert match is not None
    texts: dict[str, dict[str, dict[str, dict[str, list]]]] = json.loads(match.group(1))["texts"]
    return texts


def test_the_kiosk_page_points_each_question_at_its_prompt(client: FlaskClient) -> None:
    texts = page_texts(client)
    forms = load_forms()
    seen = set()
    for form_id, form in forms.items():
        for question, shown in zip(
            form.questions, texts["vi"]["forms"][form_id]["questions"], strict=True
        ):
            url = f"/static/audio/{question.audio['vi']}"
            assert shown["audio"] == url
            seen.add(url)
        # No English recording: no speaker button rather than the Vietnamese voice.
        assert all(q["audio"] is None for q in texts["en"]["forms"][form_id]["questions"])
    for url in sorted(seen):
        served = client.get(url)
        assert served.status_code == 200
        assert served.mimetype == "audio/ogg"
        assert served.data == (STATIC_DIR / url.removeprefix("/static/")).read_bytes()
        served.close()


def test_the_service_worker_keeps_every_prompt_for_offline_use(client: FlaskClient) -> None:
    worker = client.get("/kiosk/sw.js").text
    for path in named_prompts():
        assert f'"/static/audio/{path}"' in worker


def test_a_recording_replacing_a_prompt_changes_the_service_worker(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    """Same URL, new bytes: sw.js must change, or kiosks would keep the old prompt cached."""
    static = tmp_path / "static"
    shutil.copytree(STATIC_DIR / "audio", static / "audio")
    app.static_folder = str(static)
    first = client.get("/kiosk/sw.js").text
    assert client.get("/kiosk/sw.js").text == first
    prompt = static / "audio" / "vi" / "phieu1" / "overall.ogg"
    prompt.write_bytes(prompt.read_bytes() + b"\0")  # any change to the bytes
    second = client.get("/kiosk/sw.js").text
    assert second != first
    assert second.splitlines()[:-1] == first.splitlines()[:-1]  # only the digest line


def run_make_audio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MAKE_AUDIO), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_make_audio_help_says_a_recording_replaces_a_prompt() -> None:
    done = run_make_audio("--help")
    assert done.returncode == 0, done.stderr
    assert "--force" in done.stdout
    assert "recording" in done.stdout
    assert "replaces a prompt" in " ".join(done.stdout.split())


def test_make_audio_writes_a_prompt_then_leaves_it_and_a_recording_alone(
    tmp_path: Path,
) -> None:
    overall = "vi/phieu1/overall.ogg"
    done = run_make_audio("--static", str(tmp_path), "--only", overall)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "audio" / overall
    ogg = parse_ogg_vorbis(written.read_bytes())
    assert (ogg.channels, ogg.sample_rate) == (1, 16000)
    assert ogg.seconds > MIN_SECONDS
    lines = done.stdout.splitlines()
    assert lines[0].startswith(overall) and lines[0].endswith("written")
    assert f"{written.stat().st_size} bytes" in lines[0]
    assert lines[-1].startswith("total: 1 prompts")

    again = run_make_audio("--static", str(tmp_path), "--only", overall)
    assert again.stdout.splitlines()[0].endswith("up to date")

    # A province's recording (here: one second of tone, no tag) survives even --force.
    recording = tmp_path / "audio" / "vi" / "phieu1" / "courtesy.ogg"
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", str(recording), "synth", "1", "sine", "440"],
        check=True,
        capture_output=True,
    )
    before = recording.read_bytes()
    forced = run_make_audio(
        "--static", str(tmp_path), "--only", overall, "--only", "vi/phieu1/courtesy.ogg", "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert [line.rsplit("  ", 1)[-1] for line in forced.stdout.splitlines()[:2]] == [
        "written",
        "kept (a recording)",
    ]
    assert recording.read_bytes() == before
