"""Release kits: the checksums and signature that travel with the installers (on a USB stick, say).

``write_sums`` lists every file of a folder in ``SHA256SUMS`` (the format of ``sha256sum``, so ``sha256sum -c``
also works); ``sign`` adds ``SHA256SUMS.sig``, an Ed25519 signature by the release key (``sync.envelope``);
``check`` is what ``osler verify-release DIR`` runs: a file altered by one byte, a file missing or a signature by a
key Osler does not trust is named and the folder refused.

The public halves of trusted release keys ship with the app in ``desktop/assets/release-keys.txt`` (one base64
key per line, ``#`` comments); ``--key`` adds one for a single check. ``python -m desktop.release`` is the build's
side (``sign``, ``new-key``); the private key never enters the repository.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop.i18n import _
from sync.envelope import DeviceKey, key_fingerprint, verify_release

SUMS, SIGNATURE = "SHA256SUMS", "SHA256SUMS.sig"
TRUSTED_KEYS = Path(__file__).with_name("assets") / "release-keys.txt"
KEY_ENV = "OSLER_RELEASE_KEY"  # base64 of the raw 32-byte private key, for a build machine's secret store


@dataclass(frozen=True)
class Problem:
    name: str  # the file concerned
    message: str  # translated


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _listed(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() not in (SUMS, SIGNATURE)
    )


def write_sums(folder: Path) -> bytes:
    lines = [f"{sha256_file(p)}  {p.relative_to(folder).as_posix()}\n" for p in _listed(folder)]
    data = "".join(lines).encode()
    (folder / SUMS).write_bytes(data)
    return data


def sign(folder: Path, key: DeviceKey) -> None:
    """Write SHA256SUMS for everything in ``folder`` and sign it."""
    sums = write_sums(folder)
    (folder / SIGNATURE).write_text(base64.b64encode(key.sign_release(sums)).decode() + "\n")


def parse_public_key(text: str) -> bytes:
    raw = base64.b64decode(text.strip().split()[0], validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return raw


def trusted_keys(extra: list[bytes] | None = None) -> list[bytes]:
    keys = list(extra or [])
    if TRUSTED_KEYS.exists():
        for line in TRUSTED_KEYS.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                keys.append(parse_public_key(line))
    return keys


def check(folder: Path, keys: list[bytes]) -> tuple[list[Problem], bytes | None, list[str]]:
    """(problems, the trusted key that signed, files present but not listed). No problems means every listed
    file is there with its checksum and a trusted key signed the list."""
    problems: list[Problem] = []
    sums_path, sig_path = folder / SUMS, folder / SIGNATURE
    if not sums_path.is_file():
        return [Problem(SUMS, _("missing: without it nothing here can be checked"))], None, []
    sums = sums_path.read_bytes()
    signer = None
    if not sig_path.is_file():
        problems.append(Problem(SIGNATURE, _("missing: nothing shows who made these files")))
    else:
        try:
            signature = base64.b64decode(sig_path.read_text().strip(), validate=True)
        except (binascii.Error, ValueError, UnicodeDecodeError):
            signature = b""
        signer = next((k for k in keys if verify_release(k, sums, signature)), None)
        if signer is None:
            problems.append(
                Problem(SIGNATURE, _("the signature does not match SHA256SUMS with any release key Osler trusts"))
            )
    listed = set()
    for number, line in enumerate(sums.decode("utf-8", "replace").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name or name.startswith("/") or ".." in Path(name).parts:
            problems.append(Problem(SUMS, _("line {number} is not a checksum line").format(number=number)))
            continue
        listed.add(name)
        path = folder / name
        if not path.is_file():
            problems.append(Problem(name, _("missing")))
        elif sha256_file(path) != digest.lower():
            problems.append(Problem(name, _("altered: its checksum differs from SHA256SUMS")))
    unlisted = [p.relative_to(folder).as_posix() for p in _listed(folder)]
    return problems, signer, [n for n in unlisted if n not in listed]


def main(folder: Path, key: str | None = None) -> int:
    """``osler verify-release DIR``: 0 when the folder is exactly what the release key signed, else 1."""
    try:
        extra = [parse_public_key(Path(key).read_text() if Path(key).is_file() else key)] if key else []
    except (ValueError, binascii.Error, OSError):
        print(_("--key must be a release public key (base64) or a file holding one"), file=sys.stderr)
        return 2
    if not folder.is_dir():
        print(_("{folder}: not a folder").format(folder=folder), file=sys.stderr)
        return 2
    problems, signer, unlisted = check(folder, trusted_keys(extra))
    for problem in problems:
        print(f"{problem.name}: {problem.message}", file=sys.stderr)
    for name in unlisted:
        print(_("{name}: not covered by the signature; do not install it").format(name=name), file=sys.stderr)
    if problems or signer is None:
        print(_("REFUSED: do not install from {folder}.").format(folder=folder), file=sys.stderr)
        return 1
    count = len((folder / SUMS).read_bytes().splitlines())
    print(
        _("OK: {count} files match SHA256SUMS, signed by the release key {fingerprint}.").format(
            count=count, fingerprint=key_fingerprint(signer)
        )
    )
    return 0


def _load_private(path: str | None) -> DeviceKey:
    text = Path(path).read_text() if path else os.environ.get(KEY_ENV, "")
    if not text.strip():
        raise SystemExit(f"no release key: pass --key FILE or set {KEY_ENV}")
    return DeviceKey.from_private_bytes(base64.b64decode(text.strip(), validate=True))


def build_main(argv: list[str] | None = None) -> int:
    """The build's side: ``python -m desktop.release new-key FILE`` / ``sign DIR [--key FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m desktop.release")
    verbs = parser.add_subparsers(dest="verb", required=True)
    new = verbs.add_parser("new-key", help="write a new private release key (base64) and print its public half")
    new.add_argument("file", type=Path)
    signer = verbs.add_parser("sign", help="write SHA256SUMS and SHA256SUMS.sig for a folder")
    signer.add_argument("folder", type=Path)
    signer.add_argument("--key", help=f"private key file (else ${KEY_ENV})")
    public = verbs.add_parser("public-key", help="print the public half of a private key")
    public.add_argument("--key", help=f"private key file (else ${KEY_ENV})")
    args = parser.parse_args(argv)
    if args.verb == "new-key":
        key = DeviceKey.generate()
        args.file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(args.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(base64.b64encode(key.private_bytes()).decode() + "\n")
        print(base64.b64encode(key.public_bytes()).decode())
        return 0
    key = _load_private(args.key)
    if args.verb == "public-key":
        print(base64.b64encode(key.public_bytes()).decode())
        return 0
    sign(args.folder, key)
    print(f"signed {args.folder / SUMS} with {key_fingerprint(key.public_bytes())}")
    return 0


if __name__ == "__main__":
    sys.exit(build_main())
