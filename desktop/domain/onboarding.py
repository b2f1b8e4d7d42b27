"""The first-run flow as a state machine with no Qt in it (after Electrum's wizard), so every path is tested
without a screen; ``desktop/ui/onboarding.py`` only draws the current step.

language → passphrase → (vault created) → choice, then one of:
- join: recovery key shown → confirmed → server address + invite → device registered → profile → finished;
- demo: recovery key shown → confirmed → the demo programme starts → finished;
- link to my account on another device: server address + code (or the QR text) → waiting for the other device
  → finished (the account's history comes with the first sync; no new recovery key: the vault is sealed to the
  account's recovery key);
- restore with my recovery key: server address + key → finished.
The recovery key made with the vault is shown only on the paths that start a new account.

Slow work (creating the vault, registering the device) is not done here: a step answers with what to do, the UI
runs it on a worker thread and reports the result back (``vault_created``, ``joined``, ``failed``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from zxcvbn import zxcvbn

from desktop.i18n import N_
from desktop.vault.store import MIN_PASSPHRASE_CHARS
from sync.client.errors import InsecureServerURL, WrongServer
from sync.client.transport import check_server_url, is_loopback


class Step(StrEnum):
    LANGUAGE = "language"
    PASSPHRASE = "passphrase"  # noqa: S105 - a step name
    CREATING = "creating"
    RECOVERY = "recovery"
    CONFIRM_RECOVERY = "confirm-recovery"
    PROGRAM = "program"
    JOIN = "join"
    JOINING = "joining"
    PROFILE = "profile"
    DEMO = "demo"  # the demo programme is starting
    LINK = "link"
    LINKING = "linking"
    RESTORE = "restore"
    RESTORING = "restoring"
    FINISHED = "finished"


STRENGTH_LABELS = (N_("Very weak"), N_("Weak"), N_("Fair"), N_("Strong"), N_("Very strong"))
MIN_SCORE = 2
_INVITE = re.compile(r"^[A-Za-z0-9]{4}(-?[A-Za-z0-9]{4}){2,4}$")


@dataclass(frozen=True)
class PassphraseCheck:
    score: int  # 0..4 (zxcvbn)
    label: str  # untranslated; show with _()
    problems: tuple[str, ...]  # untranslated sentences
    acceptable: bool


def check_passphrase(passphrase: str, repeat: str | None = None, hints: tuple[str, ...] = ()) -> PassphraseCheck:
    """How hard ``passphrase`` is to guess (zxcvbn: dictionaries, names, dates, keyboard patterns), and what
    stops it from being used. ``hints`` are words a guesser would try first (the person's name, "osler")."""
    score = zxcvbn(passphrase[:100], user_inputs=["osler", "mentor", "student", *hints])["score"] if passphrase else 0
    problems = []
    if len(passphrase.strip()) < MIN_PASSPHRASE_CHARS:
        problems.append(N_("Use at least 8 characters."))
    elif score < MIN_SCORE:
        problems.append(N_("Too easy to guess: add another uncommon word or two."))
    if repeat is not None and repeat != passphrase:
        problems.append(N_("The two passphrases differ."))
    return PassphraseCheck(score, STRENGTH_LABELS[score], tuple(problems), not problems)


class AddressProblem(ValueError):
    """Why a typed server address cannot be used; ``message`` is untranslated (show it with _())."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def server_address(typed: str) -> str:
    """The server's base URL from what a person typed: a full URL, or ``host``, ``host:port``, ``host/path``,
    which get https (PROTOCOL.md §1), except this computer (127.0.0.1, localhost, ::1), which gets http."""
    text = typed.strip()
    if not text:
        raise AddressProblem(N_("Enter the server address your programme gave you, like mentors.example.org."))
    if any(c.isspace() for c in text):
        raise AddressProblem(N_("A server address has no spaces. Check the address your programme gave you."))
    if "://" not in text:
        try:
            host = urlsplit(f"//{text}").hostname or ""
        except ValueError:
            host = ""
        text = f"{'http' if is_loopback(host) else 'https'}://{text}"
    try:
        port = urlsplit(text).port
    except ValueError:
        raise AddressProblem(N_("The port after “:” must be a number from 1 to 65535, like :8470.")) from None
    if port == 0:
        raise AddressProblem(N_("The port after “:” must be a number from 1 to 65535, like :8470."))
    try:
        return check_server_url(text)
    except InsecureServerURL:
        raise AddressProblem(
            N_("That address uses plain http. Use the https address your programme gave you.")
        ) from None
    except WrongServer:
        raise AddressProblem(
            N_("That does not look like a web address. Check the address your programme gave you.")
        ) from None


def recovery_groups(key: str) -> list[str]:
    return key.split("-")


class Onboarding:
    def __init__(self, locales: list[str], rng: random.Random | None = None) -> None:
        self.locales = locales
        self.step = Step.LANGUAGE
        self.locale: str | None = None
        self.recovery_key: str | None = None
        self.confirm_indices: tuple[int, int] = (0, 0)
        self.demo = False
        self.server_url: str | None = None
        self.typed_address, self.invite = "", ""  # as typed on the join page, shown again after an error
        self.path: str | None = None  # "join", "demo", "link" or "restore", once chosen
        self.link_code = ""  # as typed (or pasted: the QR text) on the link page
        self.typed_key = ""  # the recovery key as typed on the restore page, kept only until restored
        self.role: str | None = None
        self.code = ""  # the link code, once parsed
        self.error: str | None = None  # untranslated, or a translated sentence from a service
        self._rng = rng or random.SystemRandom()
        self._history: list[Step] = []

    # -- moving ---------------------------------------------------------------------------------------------

    def _go(self, step: Step, remember: bool = True) -> Step:
        if remember:
            self._history.append(self.step)
        self.step, self.error = step, None
        return step

    def can_go_back(self) -> bool:
        return bool(self._history) and self.step in (
            Step.PASSPHRASE,
            Step.JOIN,
            Step.RECOVERY,
            Step.CONFIRM_RECOVERY,
            Step.LINK,
            Step.RESTORE,
        )

    def back(self) -> Step:
        """One step back where that makes sense (never back across the vault's creation)."""
        if self.can_go_back():
            self.step, self.error = self._history.pop(), None
        return self.step

    def _expect(self, *steps: Step) -> None:
        if self.step not in steps:
            raise RuntimeError(f"onboarding is at {self.step}, not {', '.join(steps)}")

    # -- steps ----------------------------------------------------------------------------------------------

    def choose_language(self, tag: str) -> Step:
        self._expect(Step.LANGUAGE)
        if tag not in self.locales:
            raise ValueError(f"no catalog for {tag!r}")
        self.locale = tag
        return self._go(Step.PASSPHRASE)

    def submit_passphrase(self, passphrase: str, repeat: str) -> PassphraseCheck:
        """Check the passphrase; when acceptable, move to CREATING (the UI now creates the vault)."""
        self._expect(Step.PASSPHRASE)
        check = check_passphrase(passphrase, repeat)
        if check.acceptable:
            self._go(Step.CREATING, remember=False)
        else:
            self.error = check.problems[0]
        return check

    def vault_created(self, recovery_key: str) -> Step:
        self._expect(Step.CREATING)
        self.recovery_key = recovery_key
        self._history.clear()
        return self._go(Step.PROGRAM, remember=False)

    def recovery_written(self) -> Step:
        """The person says they wrote the key down: ask for two of its groups back to be sure."""
        self._expect(Step.RECOVERY)
        count = len(recovery_groups(self.recovery_key or ""))
        first, second = sorted(self._rng.sample(range(count), 2))
        self.confirm_indices = (first, second)
        return self._go(Step.CONFIRM_RECOVERY)

    def confirm_recovery(self, first: str, second: str) -> bool:
        self._expect(Step.CONFIRM_RECOVERY)
        groups = recovery_groups(self.recovery_key or "")
        typed = [first.strip().upper().replace("O", "0"), second.strip().upper().replace("O", "0")]
        expected = [groups[i].replace("O", "0") for i in self.confirm_indices]
        if typed != expected:
            self.error = N_("Those groups do not match the key shown. Check what you wrote down.")
            return False
        self.recovery_key = None  # shown once: not kept any longer than needed
        self._history = [Step.PROGRAM]  # back from the join page: the choice again, the key not shown twice
        self._go(Step.DEMO if self.path == "demo" else Step.JOIN, remember=False)
        return True

    def _new_account(self, path: str, then: Step) -> Step:
        """Join and demo start a new account: the vault's recovery key is shown (and checked) first."""
        self._expect(Step.PROGRAM)
        self.path = path
        return self._go(Step.RECOVERY if self.recovery_key else then)

    def choose_demo(self) -> Step:
        """The UI starts the demo programme once the step is DEMO, then calls ``demo_started``."""
        return self._new_account("demo", Step.DEMO)

    def demo_started(self) -> Step:
        self._expect(Step.DEMO)
        self.demo = True
        self.recovery_key = None
        return self._go(Step.FINISHED, remember=False)

    def choose_join(self) -> Step:
        return self._new_account("join", Step.JOIN)

    def choose_link(self) -> Step:
        self._expect(Step.PROGRAM)
        self.path = "link"
        return self._go(Step.LINK)

    def choose_restore(self) -> Step:
        self._expect(Step.PROGRAM)
        self.path = "restore"
        return self._go(Step.RESTORE)

    def submit_link(self, server_url: str, code_text: str) -> bool:
        """Check the address and the code (typed, or the QR text pasted, which names the server itself); when
        fine, move to LINKING (the UI now links this device). What was typed is kept for the page."""
        from desktop.domain.devices import LinkProblem, parse_link_text

        self._expect(Step.LINK)
        self.typed_address, self.link_code = server_url, code_text
        if not code_text.strip():
            self.error = N_("Type the code your other device shows, like K7Q4-M2XP-9A3F-RTWZ, or paste its link.")
            return False
        try:
            url_in_link, self.code = parse_link_text(code_text)
        except LinkProblem as problem:
            self.error = str(problem)
            return False
        try:
            self.server_url = server_address(url_in_link or server_url)
        except AddressProblem as problem:
            self.error = problem.message
            return False
        if url_in_link and not server_url.strip():
            self.typed_address = self.server_url
        self._go(Step.LINKING, remember=False)
        return True

    def submit_restore(self, server_url: str, key_text: str) -> bool:
        """Check the address and that a key was typed; when fine, move to RESTORING."""
        self._expect(Step.RESTORE)
        self.typed_address, self.typed_key = server_url, key_text
        try:
            self.server_url = server_address(server_url)
        except AddressProblem as problem:
            self.error = problem.message
            return False
        if len(key_text.replace("-", "").replace(" ", "")) < 16:
            self.error = N_("Type your whole recovery key, the groups of letters and digits you wrote down.")
            return False
        self._go(Step.RESTORING, remember=False)
        return True

    def linked(self, role: str) -> Step:
        """Linked or restored: this device belongs to the account, whose profile exists already."""
        self._expect(Step.LINKING, Step.RESTORING)
        self.role, self.recovery_key, self.typed_key = role, None, ""
        self._history.clear()
        return self._go(Step.FINISHED, remember=False)

    def submit_join(self, server_url: str, invite: str) -> bool:
        """Validate the address and invite; when fine, move to JOINING (the UI now registers the device). What
        was typed is kept, so the page shows it again after an error."""
        self._expect(Step.JOIN)
        self.typed_address, self.invite = server_url, invite
        try:
            self.server_url = server_address(server_url)
        except AddressProblem as problem:
            self.error = problem.message
            return False
        if not _INVITE.match(invite.strip()):
            self.error = N_("An invite code is 12 letters and digits, like ABCD-EFGH-JKLM.")
            return False
        self._go(Step.JOINING, remember=False)
        return True

    def joined(self, role: str) -> Step:
        self._expect(Step.JOINING)
        self.role = role
        self._history.clear()
        return self._go(Step.PROFILE, remember=False)

    def failed(self, message: str) -> Step:
        """The slow work of CREATING, JOINING, LINKING or RESTORING failed: back to where the person can fix it
        (what they typed is still there)."""
        self._expect(Step.CREATING, Step.JOINING, Step.LINKING, Step.RESTORING, Step.DEMO)
        back = {Step.CREATING: Step.PASSPHRASE, Step.LINKING: Step.LINK, Step.RESTORING: Step.RESTORE}
        self.step = back.get(self.step, Step.JOIN if self.step == Step.JOINING else Step.PROGRAM)
        self.error = message
        return self.step

    def submit_profile(self, name: str) -> bool:
        self._expect(Step.PROFILE)
        if not 1 <= len(name.strip()) <= 80:
            self.error = N_("Enter the name mentors and students will see (up to 80 characters).")
            return False
        return self._go(Step.FINISHED) is Step.FINISHED
