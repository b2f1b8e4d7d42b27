"""``osler verify-release DIR``: a folder of installers from a USB stick is checked against the signed SHA256SUMS."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from desktop.app import main
from desktop.release import SIGNATURE, SUMS, sign
from sync.envelope import DeviceKey


@pytest.fixture
def kit(tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "kit"
    (folder / "windows").mkdir(parents=True)
    (folder / "osler_0.1.0_amd64.deb").write_bytes(bytes(range(256)) * 40)
    (folder / "windows" / "osler-setup.exe").write_bytes(b"MZ" + b"\x90" * 5000)
    (folder / "USB-KIT.md").write_text("# How to install Osler\n")
    key = DeviceKey.generate()
    sign(folder, key)
    return folder, base64.b64encode(key.public_bytes()).decode()


def verify(folder: Path, key: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["verify-release", str(folder), "--key", key])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_signed_kit_passes(kit: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    folder, key = kit
    code, out, err = verify(folder, key, capsys)
    assert code == 0, err
    assert "OK: 3 files" in out
    assert (folder / SUMS).read_text().count("  ") == 3  # sha256sum's own format: `sha256sum -c` works too


def test_a_flipped_byte_names_the_file(kit: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    folder, key = kit
    target = folder / "windows" / "osler-setup.exe"
    data = bytearray(target.read_bytes())
    data[1234] ^= 0x01
    target.write_bytes(bytes(data))
    code, out, err = verify(folder, key, capsys)
    assert code == 1
    assert "windows/osler-setup.exe: altered" in err
    assert "REFUSED" in err and "OK" not in out


def test_a_missing_file_names_it(kit: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    folder, key = kit
    (folder / "osler_0.1.0_amd64.deb").unlink()
    code, _out, err = verify(folder, key, capsys)
    assert code == 1
    assert "osler_0.1.0_amd64.deb: missing" in err


def test_a_signature_by_another_key_is_refused(kit: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    folder, _key = kit
    other = base64.b64encode(DeviceKey.generate().public_bytes()).decode()
    code, _out, err = verify(folder, other, capsys)
    assert code == 1
    assert f"{SIGNATURE}: the signature does not match" in err


def test_sums_rewritten_after_tampering_break_the_signature(
    kit: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Whoever alters an installer and writes a matching SHA256SUMS still lacks the release key."""
    folder, key = kit
    (folder / "osler_0.1.0_amd64.deb").write_bytes(b"something else")
    signature = (folder / SIGNATURE).read_bytes()
    sign(folder, DeviceKey.generate())
    (folder / SIGNATURE).write_bytes(signature)
    code, _out, err = verify(folder, key, capsys)
    assert code == 1
    assert f"{SIGNATURE}: the signature does not match" in err


def test_a_missing_signature_and_an_extra_file_are_named(
    kit: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, key = kit
    (folder / SIGNATURE).unlink()
    (folder / "osler-setup-NEW.exe").write_bytes(b"MZ")
    code, _out, err = verify(folder, key, capsys)
    assert code == 1
    assert f"{SIGNATURE}: missing" in err
    assert "osler-setup-NEW.exe: not covered by the signature" in err


def test_a_folder_without_sums_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = base64.b64encode(DeviceKey.generate().public_bytes()).decode()
    code, _out, err = verify(tmp_path, key, capsys)
    assert code == 1
    assert f"{SUMS}: missing" in err
