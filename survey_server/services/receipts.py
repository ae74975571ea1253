"""The receipt slip and its QR code: PNG at 300 dpi, PDF, SVG; and the record of prints.

The QR holds ``<PUBLIC_BASE_URL>/q/<token>``. It is drawn module by module at a whole number of
printer dots per module, so that every module has the same size on paper (a scaled QR with
uneven modules is what makes cheap phone cameras fail).
"""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib
import qrcode
from flask_babel import force_locale, gettext
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select

from ..extensions import DbSession
from ..models import Dossier, ReceiptPrint
from ..timeutil import LOCAL_TZ

DPI = 300
MM_PER_INCH = 25.4
#: The printed side of the QR, without its quiet zone (issue 4: 2 × 2 cm).
QR_SIDE_MM = 20.0
QUIET_MODULES = 4
SLIP_WIDTH_MM = 80.0  # a thermal receipt roll; fits an A4/A5 office print too
FLAG_CENTRE_NETWORK = "centre_network_after_print"
_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@dataclass(frozen=True)
class QrFigures:
    """What a printed QR measures: for the issue note and the CLI."""

    version: int
    modules: int  # per side, without the quiet zone
    error_correction: str
    dots_per_module: int
    dpi: int

    @property
    def module_mm(self) -> float:
        return self.dots_per_module * MM_PER_INCH / self.dpi

    @property
    def side_mm(self) -> float:
        return self.modules * self.module_mm

    def describe(self) -> str:
        return (
            f"QR version {self.version} ({self.modules}×{self.modules} modules, "
            f"level {self.error_correction}), {self.dots_per_module} dots per module at "
            f"{self.dpi} dpi = {self.module_mm:.3f} mm, {self.side_mm:.1f} mm wide "
            f"(+{QUIET_MODULES} modules quiet zone each side)"
        )


@dataclass(frozen=True)
class Slip:
    image: Image.Image
    figures: QrFigures

    def png(self) -> bytes:
        out = io.BytesIO()
        self.image.save(out, format="PNG", dpi=(DPI, DPI))
        return out.getvalue()

    def pdf(self) -> bytes:
        out = io.BytesIO()
        self.image.convert("RGB").save(out, format="PDF", resolution=DPI)
        return out.getvalue()


def qr_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/q/{token}"


def _matrix(data: str) -> tuple[list[list[bool]], int]:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix(), int(code.version or 0)


def qr_image(
    data: str, side_mm: float = QR_SIDE_MM, dpi: int = DPI
) -> tuple[Image.Image, QrFigures]:
    """A 1-bit QR image with its quiet zone, ``side_mm`` wide at most (whole dots per module)."""
    matrix, version = _matrix(data)
    modules = len(matrix)
    dots = max(1, int(side_mm / MM_PER_INCH * dpi / modules))
    side = (modules + 2 * QUIET_MODULES) * dots
    image = Image.new("1", (side, side), 1)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                left = (x + QUIET_MODULES) * dots
                top = (y + QUIET_MODULES) * dots
                draw.rectangle((left, top, left + dots - 1, top + dots - 1), fill=0)
    return image, QrFigures(version, modules, "M", dots, dpi)


def qr_png(data: str, side_mm: float = QR_SIDE_MM, dpi: int = DPI) -> tuple[bytes, QrFigures]:
    image, figures = qr_image(data, side_mm, dpi)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue(), figures


def qr_svg(data: str, side_mm: float = QR_SIDE_MM) -> str:
    """The QR as SVG, ``side_mm`` wide plus its quiet zone; one path, crisp edges."""
    matrix, _ = _matrix(data)
    modules = len(matrix)
    full = modules + 2 * QUIET_MODULES
    size = side_mm * full / modules
    path = "".join(
        f"M{x + QUIET_MODULES} {y + QUIET_MODULES}h1v1h-1z"
        for y, row in enumerate(matrix)
        for x, dark in enumerate(row)
        if dark
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" '
        f'width="{size:.2f}mm" height="{size:.2f}mm" shape-rendering="crispEdges">'
        f'<rect width="{full}" height="{full}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    # DejaVu Sans has every Vietnamese glyph and ships with matplotlib.
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(_FONTS / name), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and font.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines


def _dots(mm: float) -> int:
    return round(mm / MM_PER_INCH * DPI)


def slip_texts(dossier: Dossier) -> dict[str, str]:
    """The slip's wording, always in Vietnamese (it is handed to the citizen)."""
    due = dossier.due_at.astimezone(LOCAL_TZ)
    with force_locale("vi"):
        return {
            "heading": gettext("Rate the service you received"),
            "code": gettext("Dossier code: %(code)s", code=dossier.code),
            "procedure": gettext("Procedure: %(procedure)s", procedure=dossier.procedure),
            "due": gettext(
                "Appointment to return the result: %(date)s",
                date=due.strftime("%H:%M %d/%m/%Y"),
            ),
            "invitation": gettext(
                "Scan the QR code with your phone camera to rate the officers who served you."
            ),
        }


def render_slip(dossier: Dossier, url: str) -> Slip:
    """The printable slip: QR (2 × 2 cm) on the left, the dossier facts beside it, the
    invitation underneath; 80 mm wide at 300 dpi."""
    texts = slip_texts(dossier)
    qr, figures = qr_image(url)
    margin = _dots(3)
    width = _dots(SLIP_WIDTH_MM)
    column = width - 2 * margin - qr.width - _dots(2)
    body, bold = _font(_dots(2.9)), _font(_dots(3.2), bold=True)
    line_height = _dots(4.2)
    right: list[tuple[str, ImageFont.FreeTypeFont]] = [
        (line, bold) for line in _wrap(texts["heading"], bold, column)
    ]
    for key in ("code", "procedure", "due"):
        right += [(line, body) for line in _wrap(texts[key], body, column)]
    bottom = _wrap(texts["invitation"], body, width - 2 * margin)
    top_height = max(qr.height, len(right) * line_height)
    height = 2 * margin + top_height + _dots(1.5) + len(bottom) * line_height
    slip = Image.new("L", (width, height), 255)
    slip.paste(qr.convert("L"), (margin, margin))
    draw = ImageDraw.Draw(slip)
    x = margin + qr.width + _dots(2)
    for index, (line, font) in enumerate(right):
        draw.text((x, margin + index * line_height), line, font=font, fill=0)
    y = margin + top_height + _dots(1.5)
    for index, line in enumerate(bottom):
        draw.text((margin, y + index * line_height), line, font=body, fill=0)
    return Slip(slip, figures)


def dossier_by_code(session: DbSession, code: str) -> Dossier | None:
    """The dossier of a code taken from a URL, or None. A code no dossier can have (NUL, which
    PostgreSQL cannot even compare, or longer than the column) is not looked up."""
    if not code or len(code) > 64 or "\x00" in code:
        return None
    return session.scalar(select(Dossier).where(Dossier.code == code))


def record_print(session: DbSession, dossier: Dossier, via: str, now: dt.datetime) -> None:
    """Remember that the slip (or the QR) was printed now; the caller commits."""
    session.add(ReceiptPrint(dossier=dossier, printed_at=now, via=via))


def network_flags(
    session: DbSession, dossier: Dossier, address: str | None, now: dt.datetime, window_seconds: int
) -> tuple[str, ...]:
    """``centre_network_after_print`` when an answer comes from one of the dossier centre's
    networks within ``window_seconds`` of a print of its receipt (staff answering for the
    citizen at the desk?). The answer is kept; the flag sends it to review."""
    if not address or not _in_networks(address, dossier.centre.networks or []):
        return ()
    since = now - dt.timedelta(seconds=window_seconds)
    printed = session.scalar(
        select(ReceiptPrint.id).where(
            ReceiptPrint.dossier_id == dossier.id, ReceiptPrint.printed_at >= since
        )
    )
    return (FLAG_CENTRE_NETWORK,) if printed is not None else ()


def _in_networks(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for cidr in networks:
        try:
            if ip in ipaddress.ip_network(cidr, strict=False):
                return True
        except ValueError:
            continue
    return False
