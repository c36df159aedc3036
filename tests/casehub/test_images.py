import io
import math
import os
import struct
import subprocess
import sys
import textwrap
import time

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image

from casehub.images import animation_pixel_budget, image_clean
from tests.images import (
    gif_canvas_bomb,
    image_bytes,
    jpeg_with_exif,
    png_claiming_size,
    upload,
)


def refused_code(data, name="x.png", content_type="image/png"):
    with pytest.raises(ValidationError) as caught:
        image_clean(upload(data, name, content_type))
    return caught.value.code


class ImageCleanTests:
    @pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
    def test_each_allowed_format_is_accepted_and_renamed(self, fmt):
        clean = image_clean(upload(image_bytes(fmt), name=f"我的照片.{fmt.lower()}"))
        assert clean.format == fmt
        assert (clean.width, clean.height) == (64, 48)
        assert "我的照片" not in clean.content.name
        assert len(clean.content.name.split(".")[0]) == 32

    def test_exif_is_stripped(self):
        clean = image_clean(upload(jpeg_with_exif(), "p.jpg", "image/jpeg"))
        stored = Image.open(io.BytesIO(clean.content.read()))
        assert not stored.getexif()

    def test_appended_script_is_not_kept(self):
        data = image_bytes("PNG") + b"<script>alert(1)</script>"
        clean = image_clean(upload(data))
        assert b"<script>" not in clean.content.read()

    def test_svg_is_refused(self):
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        assert refused_code(svg, "x.svg", "image/svg+xml") == "unsupported"

    def test_html_renamed_png_is_refused(self):
        assert refused_code(b"<html><script>alert(1)</script></html>") == "unsupported"

    def test_bmp_is_refused_even_though_pillow_reads_it(self):
        assert refused_code(image_bytes("BMP"), "x.bmp", "image/bmp") == "unsupported"

    def test_truncated_image_is_refused(self):
        data = image_bytes("JPEG", size=(400, 300))
        assert refused_code(data[: len(data) // 2], "x.jpg", "image/jpeg") == "damaged"

    def test_decompression_bomb_is_refused(self):
        assert refused_code(png_claiming_size(30_000, 30_000)) == "bomb"

    def test_hundred_megapixel_image_is_refused(self):
        assert refused_code(png_claiming_size(10_000, 10_000)) == "bomb"

    def test_image_over_our_pixel_limit_is_refused(self):
        assert refused_code(png_claiming_size(8_000, 6_000)) == "too_many_pixels"

    def test_empty_file_is_refused(self):
        assert refused_code(b"") == "empty"

    def test_oversized_file_is_refused_before_decoding(self, settings):
        data = b"\x00" * (settings.CASEHUB_MAX_IMAGE_BYTES + 1)
        assert refused_code(data) == "too_large"

    def test_messages_are_in_chinese_by_default(self):
        with pytest.raises(ValidationError) as caught:
            image_clean(upload(b""))
        assert caught.value.messages == ["文件是空的。"]


def resident_growth_mb(data: bytes) -> tuple[float, str]:
    """Clean `data` in a fresh interpreter: the growth of its peak resident
    memory over the clean (ru_maxrss, which counts Pillow's own allocations
    as tracemalloc does not), and how the clean ended."""
    script = textwrap.dedent(
        """
        import resource, sys
        import django
        django.setup()
        from django.core.exceptions import ValidationError
        from django.core.files.uploadedfile import SimpleUploadedFile
        from casehub.images import image_clean
        data = sys.stdin.buffer.read()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            image_clean(SimpleUploadedFile("a.gif", data, content_type="image/gif"))
            outcome = "kept"
        except ValidationError as error:
            outcome = error.code
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) / 1024, outcome)
        """
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "casehub.settings"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        input=data,
        capture_output=True,
        cwd=settings.BASE_DIR,
        env=env,
        timeout=120,
        check=True,
    )
    growth, outcome = done.stdout.decode().split()
    return float(growth), outcome


def timed_refusal(data):
    started = time.monotonic()
    code = refused_code(data, "moving.gif", "image/gif")
    return code, time.monotonic() - started


class AnimationBudgetTests:
    """An animation is counted as canvas × frames, before any frame is decoded."""

    @pytest.mark.parametrize("frames", [10, 30])
    def test_a_canvas_bomb_is_refused_at_once(self, frames):
        bomb = gif_canvas_bomb(6300, 6300, frames)
        assert len(bomb) < 1000
        code, seconds = timed_refusal(bomb)
        assert code == "animation_too_large"
        assert seconds < 3

    def test_the_message_says_what_to_change(self):
        with pytest.raises(ValidationError) as caught:
            image_clean(upload(gif_canvas_bomb(6300, 6300, 10), "a.gif", "image/gif"))
        assert caught.value.messages == [
            "动图每帧为 6300 × 6300 像素，所有帧合计最多 20 百万像素。"
            "请缩小尺寸、减少帧数或改传静态图片。"
        ]

    def test_refusing_the_bomb_takes_almost_no_memory(self):
        # Before the budget, 10 frames of this bomb took 12 s and 0.84 GB.
        growth, outcome = resident_growth_mb(gif_canvas_bomb(6300, 6300, 30))
        assert outcome == "animation_too_large"
        assert growth < 50

    def test_the_largest_animation_the_budget_allows_stays_under_300_mb(self):
        # Two frames of 10 MP, each decoded and kept: the worst that gets in.
        side = int(math.sqrt(animation_pixel_budget() / 2))
        growth, outcome = resident_growth_mb(gif_canvas_bomb(side, side, 2))
        assert outcome == "kept"
        assert growth < 300

    def test_canvas_times_frames_is_what_counts(self, settings):
        settings.CASEHUB_MAX_IMAGE_PIXELS = 2_000_000  # 1 MP for an animation
        assert image_clean(upload(gif_canvas_bomb(700, 700, 2), "a.gif")).width == 700
        assert refused_code(gif_canvas_bomb(700, 700, 3)) == "animation_too_large"
        # One frame alone is a still image, held to the still image's limit.
        assert image_clean(upload(gif_canvas_bomb(1400, 1400, 1), "a.gif")).width == (
            1400
        )

    def test_a_frame_reaching_past_the_canvas_counts_the_grown_canvas(self):
        # A 10 × 10 screen whose frames each claim 5000 × 5000 pixels.
        bomb = bytearray(gif_canvas_bomb(10, 10, 0)[:-1])
        for _ in range(3):
            bomb += b"\x2c" + struct.pack("<HHHHB", 0, 0, 5000, 5000, 0)
            bomb += b"\x02\x02\x44\x01\x00"
        code, seconds = timed_refusal(bytes(bomb) + b"\x3b")
        assert code == "animation_too_large"
        assert seconds < 3

    def test_the_frame_count_stops_at_the_limit(self):
        # 200,000 one-pixel frames on a one-pixel canvas: 3 MB of frame headers.
        bomb = gif_canvas_bomb(1, 1, 200_000)
        assert len(bomb) < 5 * 1024 * 1024
        code, seconds = timed_refusal(bomb)
        assert code == "too_many_frames"
        assert seconds < 1

    def test_a_small_animation_keeps_all_its_frames(self):
        frames = []
        for index in range(40):
            frame = Image.new("P", (800, 600), 0)
            frame.putpalette([255, 255, 255, 200, 30, 30])
            frame.paste(1, (index * 20, 280, index * 20 + 20, 320))
            frames.append(frame)
        out = io.BytesIO()
        frames[0].save(
            out, format="GIF", save_all=True, append_images=frames[1:], duration=80
        )
        clean = image_clean(upload(out.getvalue(), "chart.gif", "image/gif"))
        assert (clean.format, clean.width, clean.height) == ("GIF", 800, 600)
        with Image.open(io.BytesIO(clean.content.read())) as stored:
            assert stored.n_frames == 40
            stored.seek(39)
            assert stored.convert("RGB").getpixel((790, 300)) == (200, 30, 30)
