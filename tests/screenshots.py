"""``make screenshots``: render every screen a person meets to PNG files under ``screenshots/``, in a real X
window (Xvfb), so a person can look at them. Run it under ``xvfb-run``; the Makefile does.

Every view, and the first run, in each of the 12 UI languages: ``screenshots/<tag>/*.png`` (a message in the
language's own script is sent in each). Besides, every view is rendered at 1024×600 and 1366×768 at 100 % and at
2560×1600 at 200 % (a second process with ``QT_SCALE_FACTOR=2`` on a 2560×1600 screen), in the light, dark and
high-contrast themes: ``screenshots/fit/<theme>-<width>x<height>@<scale>-<view>.png``."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop import i18n
from desktop.app import OslerApp, apply_locale
from desktop.domain.onboarding import Step
from desktop.ui.main_window import BASE_VIEWS
from desktop.ui.theme import Theme
from desktop.vault import KdfParams

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
THEMES = ("light", "dark", "contrast")
# the sidebar's views, a mentor's review queue, and Settings → Sync without the internet
FIT_VIEWS = (*BASE_VIEWS[:2], "review-queue", *BASE_VIEWS[2:], "carry")
LANGUAGES = ("en", "fr", "es", "pt", "ar", "fa", "ur", "sw", "hi", "bn", "am", "ha")  # the UI languages, by tag
# A message written in each language (sent, then one in the box), so every script shows in the screenshots.
SAMPLE_MESSAGES = {
    "en": "Thank you! I would love to work on neonatal sepsis this term.",
    "fr": "Merci ! J'aimerais travailler sur le sepsis néonatal ce semestre.",
    "es": "¡Gracias! Me encantaría trabajar en sepsis neonatal este semestre.",
    "pt": "Obrigada! Gostaria muito de trabalhar com sepse neonatal neste semestre.",
    "ar": "شكرًا! أودّ العمل على الإنتان الوليدي هذا الفصل، مع amoxicillin 500 mg.",
    "fa": "سپاسگزارم! دوست دارم این ترم روی سپسیس نوزادی کار کنم.",
    "ur": "شکریہ! میں اس سمسٹر نوزائیدہ سیپسس پر کام کرنا چاہوں گی۔",
    "sw": "Asante! Ningependa kufanya kazi kuhusu sepsisi ya watoto wachanga muhula huu.",
    "hi": "धन्यवाद! मैं इस सत्र नवजात सेप्सिस पर काम करना चाहूँगी।",
    "bn": "ধন্যবাদ! আমি এই সেমিস্টারে নবজাতকের সেপসিস নিয়ে কাজ করতে চাই।",
    "am": "አመሰግናለሁ! በዚህ ሴሚስተር በጨቅላ ሕፃናት ሴፕሲስ ላይ መሥራት እፈልጋለሁ።",
    "ha": "Na gode! Ina so in yi aiki kan sepsis na jarirai a wannan zangon karatu.",
}
FIT_SIZES = {1: ((1024, 600), (1366, 768)), 2: ((1280, 800),)}  # logical pixels: 1280×800 at 200 % is 2560×1600


def pump(app: QApplication, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def shoot(app: QApplication, osler: OslerApp, name: str) -> None:
    pump(app)
    path = OUT / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    osler.window.grab().save(str(path))
    print(path)


SAMPLE_LINK_CODE = "K7Q4-M2XP-9A3F-RTWZ"


def add_device_dialog(osler: OslerApp):  # type: ignore[no-untyped-def]
    """Settings → "Add a device…" as it looks with a code (a sample one: no server is asked), shown."""
    from desktop.domain.devices import LinkOffer
    from desktop.ui.link_dialog import AddDeviceDialog

    osler.main.navigate("settings")
    dialog = AddDeviceDialog(osler.session, osler.window)
    qr_text = f"osler-link:https://mentors.example.org#{SAMPLE_LINK_CODE}"
    dialog.display(LinkOffer(SAMPLE_LINK_CODE, qr_text, osler.session.now_ms() + 600_000))
    dialog._tick()
    dialog.show()
    return dialog


def shoot_widget(app: QApplication, widget, name: str) -> None:  # type: ignore[no-untyped-def]
    pump(app)
    path = OUT / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(path))
    print(path)


def first_run(app: QApplication, folder: Path, tag: str, role: str, shots: bool) -> OslerApp:
    """Through the first run into the demo programme as ``role``, shooting each step when ``shots``."""
    osler = OslerApp(folder, kdf_params=KdfParams.floor())
    osler.window.show()
    screen = osler.onboarding

    def maybe(name: str) -> None:
        if shots:
            shoot(app, osler, f"{tag}/{name}")

    maybe("01-language")
    for row in range(screen.languages.count()):  # the language asked for, when this build has its catalog
        if screen.languages.item(row).data(Qt.ItemDataRole.UserRole) == tag:
            screen.languages.setCurrentRow(row)
    screen._choose_language()
    screen.new_passphrase.setText("violet harbour lantern")
    screen.confirm_passphrase.setText("violet harbour lantern")
    maybe("02-passphrase")
    screen._create()
    while screen.flow.step is not Step.PROGRAM:
        pump(app, 0.05)
    maybe("03-programme")
    if shots:  # the steps of a person who already has an account, then back to the choice
        screen._choose_link()
        screen.server_url.setText("mentors.example.org")
        screen.link_code.setText("K7Q4-M2XP-9A3F-RTWZ")
        maybe("03a-link")
        screen._back()
        screen._choose_restore()
        screen.server_url.setText("mentors.example.org")
        maybe("03b-restore")
        screen._back()
    screen.demo_role.setCurrentIndex(screen.demo_role.findData(role))
    screen._choose_demo()
    maybe("04-recovery-key")
    key = screen.flow.recovery_key or ""
    screen._recovery_written()
    maybe("05-confirm-key")
    first, second = screen.flow.confirm_indices
    screen.group_first.setText(key.split("-")[first])
    screen.group_second.setText(key.split("-")[second])
    screen._confirm()
    while osler.main is None:
        pump(app, 0.05)
    pump(app, 1.5)
    if tag in LANGUAGES and str(i18n.current_locale()) != tag:  # no catalog yet: Babel's locale (direction, formats)
        osler._language_changed(tag)
        osler.main.navigate("home")
    osler.main.refresh()
    return osler


def plan_a_mentorship(osler: OslerApp) -> None:
    """Accept the demo mentor's offer and give the plan a few weeks of history, so the chart has something."""
    plans = osler.session.mentorships
    now = int(time.time() * 1000)
    offer = next(r for r in plans.requests() if r.state == "pending")
    plans.answer(offer.id, accept=True)
    day = 24 * 3600 * 1000
    for weeks_ago, goal, done in ((6, "Read three key papers", True), (1, "Draft the research question", False)):
        goal_id = plans.add_goal(offer.id, goal, now - weeks_ago * 7 * day)
        if done:
            plans.set(offer.id, f"goal:{goal_id}:done", True)
    plans.add_goal(offer.id, "Submit the ethics form", now + 20 * day)
    for days_ago in (60, 46, 32, 25, 11, 10, 3):
        plans.check_in(offer.id, "Read a paper", "", "Next paper", now - days_ago * day)
    view = osler.main.mentorships
    view.refresh()
    view.list.setCurrentRow(0)


def open_a_circle(osler: OslerApp) -> None:
    """The Circles page at its fullest: a circle this person leads (so the lead's tools show), open, with a
    journal club, a pin and a topic whose threaded replies are open. Made once per vault (offline: queued)."""
    session, main = osler.session, osler.main
    circles = session.circles
    if not circles.circles():
        circle = circles.create("Global surgery research group", about="Weekly, across 14 countries")
        talk = main.circles.discussions
        topic = talk.start_topic(circle, "Protocol for the appendicitis cohort", "Draft attached in the library.")
        first = talk.reply(circle, topic, "Who checks the exclusion criteria?")
        talk.reply(circle, topic, "I can, by Friday.", parent=first)
        talk.announce(circle, "Ethics approval granted", "We can start collecting data.")
        talk.journal_club(circle, "The FEAST trial", "material", session.now_ms() + 7 * 86_400_000)
        main.circles.refresh()
        session.sync_now()  # sent before the screen is measured: "5 items waiting" would change the status bar
        bar = osler.window.sync_bar
        for _ in range(200):
            pump(QApplication.instance(), 0.05)
            if bar.status is not None and bar.status.queued == 0 and not bar.status.syncing:
                break
    view = main.circles
    view.open_circle(circles.circles()[0].id)
    view.topics.topic_list.setCurrentRow(view.topics.topic_list.count() - 1)


def open_a_meeting(osler: OslerApp) -> None:
    """The Schedule page with meetings in every place (made once per vault, then sent): a weekly video call with
    the demo mentor, confirmed; a live text session of mine waiting for their answer; a phone call they proposed,
    waiting for mine; the confirmed one open."""
    session, meetings = osler.session, osler.session.meetings
    me = session.program.credentials.account.hex()
    plan = session.mentorships.mentorships()[0]
    mentor = plan.mentor if plan.student == me else plan.student
    if not meetings.meetings():
        hour, day = 3_600_000, 86_400_000
        base = session.now_ms() // hour * hour + day  # tomorrow, on the hour
        weekly = meetings.propose(
            mentor,
            "video",
            "Research question: neonatal sepsis in district hospitals",
            [(base, base + hour)],
            link="https://meet.example.org/amina-research",
            mentorship=plan.id,
            rrule="FREQ=WEEKLY",
        )
        stamp = session.messaging.clock.now
        meetings._receive({"op": "accept", "i": weekly, "r": 1, "c": 0, "h": stamp(), "a": mentor}, mentor)
        meetings.propose(
            mentor,
            "live-text",
            "Exam plan",
            [(base + 2 * day, base + 2 * day + hour), (base + 3 * day, base + 3 * day + hour)],
            mentorship=plan.id,
        )
        theirs = {
            "op": "propose",
            "i": "ab" * 16,
            "o": me,
            "k": "phone",
            "t": "Ethics form",
            "l": "",
            "z": "Europe/London",
        }
        theirs.update(
            {"s": [[base + 4 * day, base + 4 * day + hour]], "rr": "", "m": plan.id, "h": stamp(), "a": mentor}
        )
        meetings._receive(theirs, mentor)
        session.sync_now()  # sent before the screen is measured: "3 items waiting" would change the status bar
        bar = osler.window.sync_bar
        for _ in range(200):
            pump(QApplication.instance(), 0.05)
            if bar.status is not None and bar.status.queued == 0 and not bar.status.syncing:
                break
    view = osler.main.schedule
    view.refresh()
    view.upcoming.setCurrentRow(1)


def open_a_project(osler) -> None:
    """A project (one with a long title, tasks in every column, CRediT rows, a decision and an author is started
    when the person has none), opened on its stage path."""
    page, projects = osler.main.projects, osler.session.projects
    if not projects.projects():
        project = projects.create("Neonatal sepsis in district hospitals: a multi-centre audit of antibiotic use")
        for n, state in enumerate(("todo", "doing", "done") * 4):
            projects.add_task(project, f"Task {n}: check the ethics committee's comments on the consent form", state)
        projects.set_credit(project, projects.me, {"conceptualization": "lead", "writing-original-draft": "equal"})
        projects.add_decision(project, "We follow the WHO definition of possible serious bacterial infection")
        projects.set_author(project, "Amina Yusuf", 1.0, corresponding=True)
        osler.session.engine.sync_once()  # sent, as a minute later: the status bar's queue line is another matter
        page.refresh()
    page.list.setCurrentRow(0)
    page.tabs.setCurrentIndex(0)
    assert page.tabs.isEnabled()


def sample_carried(person: str | None, fingerprint: str, state: str, records: int, size: int):  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    return SimpleNamespace(
        request=fingerprint.replace(" ", "").lower() * 2,
        device=fingerprint.replace(" ", "").lower() * 2,
        fingerprint=fingerprint,
        person=person,
        records=records,
        size=size,
        blob_bytes=0,
        received_ms=0,
        state=state,
        answer_size=None,
    )


def open_carry(osler: OslerApp) -> None:
    """Settings → Sync without the internet, as a carrier sees it: another student's file just imported (whose,
    how much, Carry or Refuse), the list of files carried for others in each state, an export's sentence."""
    from types import SimpleNamespace

    osler.main.open_carry()
    panel = osler.main.settings.carry
    items = [
        sample_carried("Amina Wanjiru Mwangi-Okafor", "3F2A 9C1B 77D0 12AE", "waiting", 142, 1_300_000),
        sample_carried(None, "A1B2 C3D4 E5F6 0718", "over-budget", 9, 27_000_000),
        sample_carried("Baraka Otieno", "77D0 12AE 3F2A 9C1B", "answered", 12, 84_000),
        sample_carried("Fatima Haidari", "0C0C 1D1D 2E2E 3F3F", "refused", 3, 9_000),
    ]
    panel.show_items(items)
    panel._show_offer(items[0])
    stick = Path("/media/usb-stick/osler-request-3F2A9C1B-20261201T031500Z.oslersync")
    panel._exported(SimpleNamespace(path=stick, data=None, records=142, blob_bytes=0, size=1_300_000))


def show_state(osler: OslerApp, view: str, attachment: Path) -> None:
    """``view`` in the state that used to push the window out: a plan open, a file attached, a row selected."""
    main = osler.main
    if view == "carry":
        open_carry(osler)
        return
    main.navigate("messages" if view == "review-queue" else view)
    messages = main.messages
    if view in ("messages", "review-queue") and messages.queue_toggle.isChecked() != (view == "review-queue"):
        messages.queue_toggle.click()
    if view == "messages":
        messages.thread_list.setCurrentIndex(messages.thread_model.index(0))
        messages.set_attachment(attachment)
    if view == "mentors":
        main.mentors.table.selectRow(2)
    if view == "mentorships":
        main.mentorships.list.setCurrentRow(0)
    if view == "library":
        main.library.table.selectRow(0)
    if view == "circles":
        open_a_circle(osler)
    if view == "projects":
        open_a_project(osler)
    if view == "schedule":
        open_a_meeting(osler)


def fit_matrix(app: QApplication, scale: int) -> None:
    """Every view at this process's scale, at each of its sizes, in each theme."""
    folder = OUT / "fit"
    folder.mkdir(parents=True, exist_ok=True)
    apply_locale("en")
    with tempfile.TemporaryDirectory() as tmp:
        osler = first_run(app, Path(tmp), "en", "student", shots=False)
        plan_a_mentorship(osler)
        attachment = Path(tmp) / "Literature review of neonatal sepsis management in district hospitals (draft 3).pdf"
        attachment.write_bytes(b"x" * 180_000)
        for theme in THEMES:
            Theme.of(app).apply(theme)
            for width, height in FIT_SIZES[scale]:
                osler.window.resize(width, height)
                for view in FIT_VIEWS:
                    show_state(osler, view, attachment)
                    shoot(app, osler, f"fit/{theme}-{width * scale}x{height * scale}@{scale}-{view}")
        osler.lock()
        for theme in THEMES:
            Theme.of(app).apply(theme)
            for width, height in FIT_SIZES[scale]:
                osler.window.resize(width, height)
                shoot(app, osler, f"fit/{theme}-{width * scale}x{height * scale}@{scale}-unlock")
        osler.shutdown()
        Theme.of(app).apply("light")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    if "--fit-only" in sys.argv:  # the 200 % process
        fit_matrix(app, int(os.environ.get("QT_SCALE_FACTOR", "1")))
        return
    fit_matrix(app, 1)
    env = dict(os.environ, QT_SCALE_FACTOR="2")
    subprocess.run(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 2560x1600x24",
            sys.executable,
            "-m",
            "tests.screenshots",
            str(OUT),
            "--fit-only",
        ],
        env=env,
        check=True,
    )
    for tag in LANGUAGES:  # one app per language, every view: screenshots/<tag>/*.png
        apply_locale(tag)
        with tempfile.TemporaryDirectory() as tmp:
            osler = first_run(app, Path(tmp), tag, "student", shots=True)
            for number, view in enumerate(BASE_VIEWS, start=10):
                osler.main.navigate(view)
                if view == "circles":
                    open_a_circle(osler)
                if view == "projects":
                    open_a_project(osler)
                if view == "mentors":
                    osler.main.mentors.table.selectRow(2)
                if view == "mentorships":
                    plan_a_mentorship(osler)
                if view == "library":
                    osler.main.library.table.selectRow(0)
                if view == "schedule":
                    open_a_meeting(osler)
                if view == "messages":
                    messages = osler.main.messages
                    messages.thread_list.setCurrentIndex(messages.thread_model.index(0))
                    messages.compose.setPlainText(SAMPLE_MESSAGES[tag])
                    messages.box.send_button.click()
                    pump(app, 0.2)
                    messages.compose.setPlainText(SAMPLE_MESSAGES[tag])
                shoot(app, osler, f"{tag}/{number}-{view}")
                if view == "messages":
                    messages.queue_toggle.click()
                    shoot(app, osler, f"{tag}/{number}b-review-queue")
                    messages.queue_toggle.click()
                if view == "schedule":
                    osler.main.schedule.propose()
                    pump(app, 0.2)
                    shoot_widget(app, osler.main.schedule.dialog, f"{tag}/{number}b-propose-meeting")
                    osler.main.schedule.dialog.close()
            open_carry(osler)
            shoot(app, osler, f"{tag}/18-carry")
            dialog = add_device_dialog(osler)
            shoot_widget(app, dialog, f"{tag}/19-add-device")
            dialog.close()
            osler.lock()
            shoot(app, osler, f"{tag}/20-unlock")
            osler.shutdown()
        with tempfile.TemporaryDirectory() as tmp:
            osler = first_run(app, Path(tmp), tag, "admin", shots=False)
            shoot(app, osler, f"{tag}/29-admin-home")
            osler.main.navigate("programme")
            shoot(app, osler, f"{tag}/30-programme")
            osler.main.programme.propose()
            osler.main.programme.pairs.scrollToTop()
            shoot(app, osler, f"{tag}/31-programme-proposals")
            osler.shutdown()


if __name__ == "__main__":
    main()
