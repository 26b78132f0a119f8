"""The TOTP enrolment URI as a QR code, drawn here as SVG (segno, pure Python): the
console loads nothing from outside, and the secret never leaves for a QR service."""

from __future__ import annotations

import io

import segno

# Quiet zone and module size as the QR standard and phone cameras like them.
BORDER_MODULES = 4
SCALE = 5


def qr_svg(uri: str) -> str:
    """An SVG document (no XML declaration) of ``uri``, dark on an explicit white
    background so it scans in a dark-themed browser too."""
    code = segno.make(uri, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        scale=SCALE,
        border=BORDER_MODULES,
        dark="#000",
        light="#fff",
        xmldecl=False,
        svgclass=None,
        lineclass=None,
        title="二段階認証の登録用QRコード",
        encoding="utf-8",
    )
    return out.getvalue().decode("utf-8")
