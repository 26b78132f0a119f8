"""スタッフ管理's guard rails, the login/name/password rules, restricted sessions and
the enrolment QR code (pure: no broker, no database)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import uuid4

import pyotp
import pytest
from PIL import Image, ImageDraw
from sodan_console.qr import qr_svg
from sodan_console.staff_rules import (
    ENROLMENT_REQUIRED,
    LAST_ADMIN_DEMOTE,
    LAST_ADMIN_DISABLE,
    LOGIN_FORMAT,
    NAME_CONTROL,
    NAME_EMPTY,
    NAME_TOO_LONG,
    PASSWORD_CHANGE_REQUIRED,
    PASSWORD_HAS_LOGIN,
    PASSWORD_TOO_LONG,
    PASSWORD_TOO_SHORT,
    PASSWORD_TOO_SIMPLE,
    SELF_DEMOTE,
    SELF_DISABLE,
    SELF_RESET,
    StaffFacts,
    clean_display_name,
    disable_refusal,
    display_name_problem,
    generate_password,
    login_problem,
    password_problem,
    reset_refusal,
    role_change_refusal,
    session_refusal,
)
from sodan_console.twofactor import new_secret, provisioning_uri

ME = uuid4()


def _admin(*, staff_id: object = None, disabled: bool = False) -> StaffFacts:
    return StaffFacts(staff_id=staff_id or uuid4(), role="admin", disabled=disabled)  # type: ignore[arg-type]


# --- guard rails ---------------------------------------------------------------------


def test_an_admin_cannot_disable_themselves() -> None:
    assert disable_refusal(ME, _admin(staff_id=ME), enabled_admins=5) == SELF_DISABLE


def test_the_last_enabled_admin_cannot_be_disabled() -> None:
    other = _admin()
    assert disable_refusal(ME, other, enabled_admins=1) == LAST_ADMIN_DISABLE
    assert disable_refusal(ME, other, enabled_admins=2) is None
    # a disabled admin is not counted and may be disabled again harmlessly
    assert disable_refusal(ME, _admin(disabled=True), enabled_admins=1) is None
    counsellor = StaffFacts(uuid4(), "counsellor", False)
    assert disable_refusal(ME, counsellor, enabled_admins=1) is None


def test_demotion_is_refused_for_oneself_and_the_last_admin() -> None:
    me = _admin(staff_id=ME)
    assert role_change_refusal(ME, me, new_role="supervisor", enabled_admins=3) == SELF_DEMOTE
    assert role_change_refusal(ME, me, new_role="admin", enabled_admins=1) is None
    other = _admin()
    assert role_change_refusal(ME, other, new_role="counsellor", enabled_admins=1) == (
        LAST_ADMIN_DEMOTE
    )
    assert role_change_refusal(ME, other, new_role="counsellor", enabled_admins=2) is None
    counsellor = StaffFacts(uuid4(), "counsellor", False)
    assert role_change_refusal(ME, counsellor, new_role="admin", enabled_admins=1) is None
    assert role_change_refusal(ME, counsellor, new_role="supervisor", enabled_admins=1) is None


def test_resetting_ones_own_password_or_totp_goes_through_account_settings() -> None:
    assert reset_refusal(ME, _admin(staff_id=ME)) == SELF_RESET
    assert reset_refusal(ME, StaffFacts(uuid4(), "counsellor", False)) is None


# --- input rules ---------------------------------------------------------------------


@pytest.mark.parametrize("login", ["abc", "counsellor1", "yamada.hanako", "a_b-c@desk", "9" * 64])
def test_good_login_ids(login: str) -> None:
    assert login_problem(login) is None


@pytest.mark.parametrize("login", ["", "ab", "Yamada", "山田", "a b c", "-abc", "a" * 65, "abc\n"])
def test_bad_login_ids(login: str) -> None:
    assert login_problem(login) == LOGIN_FORMAT


def test_display_names() -> None:
    assert clean_display_name("  相談員 五月 ") == "相談員 五月"
    assert display_name_problem(clean_display_name("   ")) == NAME_EMPTY
    assert display_name_problem("あ" * 100) is None
    assert display_name_problem("あ" * 101) == NAME_TOO_LONG
    assert display_name_problem("名前\n二行目") == NAME_CONTROL


def test_the_password_rule() -> None:
    assert password_problem("short-pw", login="x") == PASSWORD_TOO_SHORT
    assert password_problem("a" * 129, login="x") == PASSWORD_TOO_LONG
    assert password_problem("aaaaaaaaaaaa", login="x") == PASSWORD_TOO_SIMPLE
    assert password_problem("1212121212", login="x") == PASSWORD_TOO_SIMPLE
    assert password_problem("my-Yamada-2026", login="yamada") == PASSWORD_HAS_LOGIN
    assert password_problem("correct horse battery", login="yamada") is None
    assert password_problem("はるのそよかぜ二〇二六", login="yamada") is None


def test_generated_passwords_pass_the_rule_and_differ() -> None:
    seen = {generate_password() for _ in range(50)}
    assert len(seen) == 50
    for password in seen:
        assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", password)
        assert not set(password) & set("01ilo")
        assert password_problem(password, login="abc") is None


def test_restricted_sessions() -> None:
    def refusal(**kw: bool) -> str | None:
        flags = {
            "enrol_only": False,
            "password_change_required": False,
            "allow_enrol": False,
            "allow_password_change": False,
        }
        return session_refusal(**(flags | kw))

    assert refusal() is None
    assert refusal(enrol_only=True) == ENROLMENT_REQUIRED
    assert refusal(enrol_only=True, allow_password_change=True) == ENROLMENT_REQUIRED
    assert refusal(enrol_only=True, allow_enrol=True) is None
    assert refusal(password_change_required=True) == PASSWORD_CHANGE_REQUIRED
    assert refusal(password_change_required=True, allow_password_change=True) is None
    # enrolment first, then the password, in one visit
    assert refusal(enrol_only=True, password_change_required=True, allow_enrol=True) is None


# --- the QR code ---------------------------------------------------------------------

_PATH_TOKEN = re.compile(r"([Mmh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?")


def _rasterize(svg: str, *, pixels: int = 8) -> Image.Image:
    """Draws segno's SVG (one stroked path of horizontal runs: M/m moves, h draws)
    into a bitmap, so the decoder reads what the SVG itself says."""
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    background = root.find(".//svg:path[@fill]", ns)
    modules = root.find(".//svg:path[@stroke]", ns)
    assert background is not None and modules is not None
    size = int(re.findall(r"\d+", background.attrib["d"])[2])
    image = Image.new("L", (size * pixels, size * pixels), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, a, b in _PATH_TOKEN.findall(modules.attrib["d"]):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            row = int(y)
            draw.rectangle(
                (x * pixels, row * pixels, (x + float(a)) * pixels - 1, (row + 1) * pixels - 1),
                fill=0,
            )
            x += float(a)
    return image


def test_the_enrolment_uri_names_issuer_account_and_secret() -> None:
    secret = new_secret()
    uri = provisioning_uri(secret, login="yamada", issuer="sodan 窓口")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/sodan 窓口:yamada"
    query = parse_qs(parts.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["sodan 窓口"]
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert parsed.secret == secret and parsed.digits == 6 and parsed.interval == 30


def test_the_qr_svg_decodes_back_to_the_uri() -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    uri = provisioning_uri(new_secret(), login="counsellor-9", issuer="sodan")
    svg = qr_svg(uri)
    assert svg.startswith("<svg") and "<script" not in svg
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    decoded = zxingcpp.read_barcodes(_rasterize(svg))
    assert [d.text for d in decoded] == [uri]
    assert decoded[0].format == zxingcpp.BarcodeFormat.QRCode
