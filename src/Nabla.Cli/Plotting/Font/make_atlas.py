#!/usr/bin/env python3
"""Writes glyphs.atlas: anti-aliased coverage bitmaps of ASCII 32-126 in DejaVu Sans at the sizes the plots use,
rendered once with FreeType (through Pillow), so that the CLI draws text without a native font engine.

Needs Debian's fonts-dejavu-core and python3-pil. Run from anywhere: /usr/bin/python3 make_atlas.py
Format (little-endian): b"NGA1", font count; per font: pixel size, bold (0/1), ascent, descent (u8 each); then per
character 32..126: advance (u16, 1/64 px), left bearing, top above the baseline (i8 each), width, height (u8 each)
and width*height coverage bytes, row by row.
"""
import os
import struct

from PIL import Image, ImageDraw, ImageFont

DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = [("DejaVuSans.ttf", 12, 0), ("DejaVuSans.ttf", 14, 0), ("DejaVuSans-Bold.ttf", 16, 1)]


def main():
    out = bytearray(b"NGA1")
    out.append(len(FONTS))
    for file, size, bold in FONTS:
        font = ImageFont.truetype(os.path.join(DIR, file), size, layout_engine=ImageFont.Layout.BASIC)
        ascent, descent = font.getmetrics()
        out += bytes([size, bold, ascent, descent])
        for code in range(32, 127):
            ch = chr(code)
            advance = round(font.getlength(ch) * 64)
            x0, y0, x1, y1 = font.getbbox(ch, anchor="ls")
            w, h = max(0, x1 - x0), max(0, y1 - y0)
            out += struct.pack("<HbbBB", advance, x0, -y0, w, h)
            if w and h:
                image = Image.new("L", (w, h), 0)
                ImageDraw.Draw(image).text((-x0, -y0), ch, font=font, fill=255, anchor="ls")
                out += image.tobytes()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "glyphs.atlas")
    with open(path, "wb") as f:
        f.write(out)
    print(f"wrote {path} ({len(out)} bytes)")


if __name__ == "__main__":
    main()
