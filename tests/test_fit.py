"""Every screen fits the screens Osler's people have: a 1024×600 netbook, a 1366×768 laptop, 200 % on a 2560×1600
display (1280×800 logical), and the OS's text at 150 % and 200 %. For each view, in the states that used to push
the window out (a plan open, a file attached, a long list), the window keeps the size it was given, no widget
asks for more than the window has, every visible button and label shows its whole text (font metrics against
geometry) or, if elided, says it in a tooltip, and the sidebar's labels are whole."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QStyle,
    QStyleOptionButton,
    QWidget,
)

from desktop.app import apply_locale
from tests.screenshots import (
    FIT_VIEWS,
    LANGUAGES,
    first_run,
    open_a_circle,
    open_a_meeting,
    open_a_project,
    open_carry,
    plan_a_mentorship,
    pump,
)

# (width, height, text scale): logical pixels, as Qt lays out; 200 % on 2560×1600 is 1280×800 logical.
SIZES = [
    (1024, 600, 1.0),
    (1366, 768, 1.0),
    (1280, 800, 1.0),
    (1366, 768, 1.5),
    (1280, 800, 2.0),
]
VIEWS = FIT_VIEWS


def sizes_at(scale: float) -> list[tuple[int, int]]:
    """The screen sizes checked at this text scale."""
    return [(width, height) for width, height, text_scale in SIZES if text_scale == scale]


def visible_text(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def scrolls_vertically(widget: QWidget) -> bool:
    """Inside a scroll area's page: its height may exceed the window (it scrolls), its width may not."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def problems_of(window: QWidget, size: QSize) -> list[str]:
    found: list[str] = []
    if window.size() != size:
        found.append(f"window resized itself to {window.width()}×{window.height()}")
    hint = window.minimumSizeHint()
    if hint.width() > size.width() or hint.height() > size.height():
        found.append(f"window needs {hint.width()}×{hint.height()}")
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.width() <= 0:
            continue
        name = f"{type(widget).__name__} {widget.accessibleName() or widget.objectName()!r}"
        minimum = widget.minimumSizeHint().expandedTo(widget.minimumSize())
        if minimum.width() > size.width() or (minimum.height() > size.height() and not scrolls_vertically(widget)):
            found.append(f"{name} needs {minimum.width()}×{minimum.height()}")
        if isinstance(widget, QScrollArea) and widget.widget() is not None:
            inner = widget.widget().minimumSizeHint().width()
            if inner > widget.viewport().width():
                found.append(f"{name} scrolls sideways: its page needs {inner} px of {widget.viewport().width()}")
        metrics = widget.fontMetrics()
        if isinstance(widget, QPushButton) and widget.text():
            option = QStyleOptionButton()
            widget.initStyleOption(option)
            room = widget.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, option, widget)
            icon = widget.iconSize().width() + 4 if not widget.icon().isNull() else 0
            need = metrics.horizontalAdvance(visible_text(widget.text())) + icon
            if need > room.width() or metrics.height() > room.height():
                found.append(f"button {widget.text()!r} clipped: text {need} px in {room.width()}×{room.height()}")
        elif isinstance(widget, QAbstractButton) and not isinstance(widget, QCheckBox) and widget.text():
            if widget.width() < widget.minimumSizeHint().width():
                found.append(f"{name} {widget.text()!r} clipped")
        elif isinstance(widget, QCheckBox) and widget.text():
            if widget.width() < widget.sizeHint().width():
                found.append(f"check box {widget.text()!r} clipped: {widget.width()} < {widget.sizeHint().width()}")
        elif isinstance(widget, QLabel) and widget.text() and widget.pixmap().isNull():
            room = widget.contentsRect()
            if widget.wordWrap():
                if widget.heightForWidth(room.width()) > room.height() + 1:
                    found.append(f"label {widget.text()[:40]!r} cut: needs {widget.heightForWidth(room.width())} px")
            elif widget.textFormat() != 1 and "<" not in widget.text():  # plain text
                lines = visible_text(widget.text()).splitlines() or [""]
                need = max(metrics.horizontalAdvance(line) for line in lines)
                if need > room.width() + 1 and not widget.toolTip():
                    found.append(f"label {widget.text()[:40]!r} cut: {need} px in {room.width()}")
        if isinstance(widget, QListWidget) and widget.objectName() == "navigation":
            room = widget.viewport().width()
            for row in range(widget.count()):
                item = widget.item(row)
                need = metrics.horizontalAdvance(item.text()) + widget.iconSize().width() + 24
                if need > room:
                    found.append(f"sidebar label {item.text()!r} cut: {need} px in {room}")
    return found


def put_in_state(osler, view: str, attachment: Path) -> None:
    main = osler.main
    if view == "carry":
        open_carry(osler)
        return
    main.navigate("messages" if view == "review-queue" else view)
    messages = main.messages
    if view == "messages":
        if messages.queue_toggle.isChecked():
            messages.queue_toggle.click()
        messages.thread_list.setCurrentIndex(messages.thread_model.index(0))
        messages.set_attachment(attachment)  # a long file name used to widen the window
    if view == "review-queue" and not messages.queue_toggle.isChecked():
        messages.queue_toggle.click()
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


_open_demos: list = []  # the demo apps this module's fixtures hold open


def _close(osler) -> None:  # type: ignore[no-untyped-def]
    if osler in _open_demos:
        _open_demos.remove(osler)
        osler.shutdown()
        osler.window.close()
        osler.window.deleteLater()


def _close_the_others() -> None:
    """A module fixture's app lives until the module ends, so the last scaled demo and the polyglot lived on behind
    the fixtures built after them, and every font and language change those made re-laid out their windows too.
    pytest runs a module fixture's tests together (a parametrized one's param by param), so when the next fixture
    is built, the apps before it are done: they are closed then, and their own teardown finds them closed."""
    for osler in list(_open_demos):
        _close(osler)


@contextlib.contextmanager
def _student_with_a_plan(qapp, point_size: float):
    """A student in the demo programme with a mentorship plan and a long-named attachment to send, built with the
    OS's text at ``point_size``; the app font is put back afterwards."""
    _close_the_others()
    before = QApplication.font()
    font = QApplication.font()
    font.setPointSizeF(point_size)
    QApplication.setFont(font)
    with tempfile.TemporaryDirectory() as tmp:
        osler = first_run(qapp, Path(tmp), "en", "student", shots=False)
        _open_demos.append(osler)
        plan_a_mentorship(osler)
        attachment = Path(tmp) / ("Literature review of neonatal sepsis management in district hospitals " * 2)[:200]
        attachment.write_bytes(b"x" * 2048)
        try:
            yield osler, attachment
        finally:
            _close(osler)
            QApplication.setFont(before)


@pytest.fixture(scope="module", params=sorted({scale for _w, _h, scale in SIZES}), ids=lambda s: f"text{s:g}x")
def demo(request, qapp):
    """A student in the demo programme with a mentorship plan, built with the OS's text at ``scale``."""
    with _student_with_a_plan(qapp, QApplication.font().pointSizeF() * request.param) as (osler, attachment):
        yield request.param, osler, attachment


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_fits(demo, view) -> None:
    scale, osler, attachment = demo
    failures: dict[str, list[str]] = {}
    for width, height in sizes_at(scale):
        size = QSize(width, height)
        osler.window.resize(size)
        osler.window.show()
        pump(QApplication.instance(), 0.05)
        put_in_state(osler, view, attachment)
        pump(QApplication.instance(), 0.1)
        found = problems_of(osler.window, size)
        if found:
            failures[f"{width}×{height} text {scale:g}×"] = found
    assert not failures, "\n".join(f"{where}: {p}" for where, ps in failures.items() for p in ps[:40])


def test_every_projects_tab_fits(demo) -> None:
    """Each tab of an open project (path, board, files, decisions, authorship, CRediT) at every size."""
    scale, osler, attachment = demo
    failures: dict[str, list[str]] = {}
    for width, height in sizes_at(scale):
        size = QSize(width, height)
        osler.window.resize(size)
        osler.window.show()
        put_in_state(osler, "projects", attachment)
        for tab in range(osler.main.projects.tabs.count()):
            osler.main.projects.tabs.setCurrentIndex(tab)
            pump(QApplication.instance(), 0.05)
            found = problems_of(osler.window, size)
            if found:
                failures[f"{width}×{height} text {scale:g}× tab {tab}"] = found
    assert not failures, "\n".join(f"{where}: {p}" for where, ps in failures.items() for p in ps[:40])


def test_every_circle_tab_fits(demo) -> None:
    """Each tab of an open circle (discussion, members, library, meetings with its week grid) at every size."""
    scale, osler, attachment = demo
    failures: dict[str, list[str]] = {}
    for width, height in sizes_at(scale):
        size = QSize(width, height)
        osler.window.resize(size)
        osler.window.show()
        put_in_state(osler, "circles", attachment)
        for tab in range(osler.main.circles.tabs.count()):
            osler.main.circles.tabs.setCurrentIndex(tab)
            pump(QApplication.instance(), 0.05)
            found = problems_of(osler.window, size)
            if found:
                failures[f"{width}×{height} text {scale:g}× tab {tab}"] = found
    osler.main.circles.tabs.setCurrentIndex(0)
    assert not failures, "\n".join(f"{where}: {p}" for where, ps in failures.items() for p in ps[:40])


def test_unlock_screen_fits(demo) -> None:
    scale, osler, _attachment = demo
    osler.lock()
    try:
        for width, height in sizes_at(scale):
            size = QSize(width, height)
            osler.window.resize(size)
            pump(QApplication.instance(), 0.05)
            assert problems_of(osler.window, size) == []
    finally:
        osler.unlock_screen.passphrase.setText("violet harbour lantern")
        osler.unlock_screen.passphrase.returnPressed.emit()
        deadline_pumps = 0
        while osler.main is None and deadline_pumps < 600:
            pump(QApplication.instance(), 0.05)
            deadline_pumps += 1


@pytest.fixture(scope="module")
def polyglot(qapp):
    """One demo student whose language is switched from Settings, as a person would, through all 12, with the
    OS's text at 100 % (building it closes the last scaled ``demo``, see ``_close_the_others``)."""
    apply_locale("en")
    size = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).pointSizeF()
    try:
        with _student_with_a_plan(qapp, size) as (osler, attachment):
            yield osler, attachment
    finally:
        apply_locale("en")


@pytest.mark.parametrize("tag", LANGUAGES)
def test_every_view_fits_in_every_language(polyglot, tag) -> None:
    """At 1366×768, in each of the 12 languages, no view clips a label or a button, and in Arabic, Persian and
    Urdu every view is laid out right to left."""
    osler, attachment = polyglot
    size = QSize(1366, 768)
    osler._language_changed(tag)
    expected = Qt.LayoutDirection.RightToLeft if tag in ("ar", "fa", "ur") else Qt.LayoutDirection.LeftToRight
    failures: list[str] = []
    try:
        osler.window.resize(size)
        osler.window.show()
        for view in VIEWS:
            put_in_state(osler, view, attachment)
            pump(QApplication.instance(), 0.05)
            failures += [f"{view}: {p}" for p in problems_of(osler.window, size)]
            page = osler.main.pages.currentWidget()
            if page.layoutDirection() != expected:
                failures.append(f"{view}: laid out {page.layoutDirection().name}")
    finally:
        osler._language_changed("en")
    assert not failures, "\n".join(failures[:60])


def test_add_device_dialog_fits(demo) -> None:
    """The "Add a device" dialog with a code, its QR image and the countdown, on each screen size: it fits the
    screen, and nothing in it is cut."""
    from desktop.domain.devices import LinkOffer
    from desktop.ui.link_dialog import AddDeviceDialog

    scale, osler, _attachment = demo
    dialog = AddDeviceDialog(osler.session, osler.window)
    code = "K7Q4-M2XP-9A3F-RTWZ"
    dialog.display(LinkOffer(code, f"osler-link:https://mentors.example.org#{code}", osler.session.now_ms() + 600_000))
    dialog._tick()
    failures: list[str] = []
    try:
        dialog.show()
        for width, height in sizes_at(scale):
            size = dialog.sizeHint().boundedTo(QSize(width, height))
            dialog.resize(size)
            pump(QApplication.instance(), 0.05)
            failures += [f"{width}×{height}: {p}" for p in problems_of(dialog, size)]
    finally:
        dialog.close()
    assert not failures, "\n".join(failures[:40])


@pytest.mark.parametrize("scale", [1.0, 2.0], ids=lambda s: f"text{s:g}x")
def test_first_run_choice_link_and_restore_steps_fit(make_app, scale) -> None:
    """The choice (join, link, restore, demo) and the link and restore steps, at 1024×600 and at 200 %."""
    before = QApplication.font()
    font = QApplication.font()
    font.setPointSizeF(before.pointSizeF() * scale)
    QApplication.setFont(font)
    failures: list[str] = []
    try:
        page = make_app()
        page.first_run_to_program("violet harbour lantern")
        screen = page.screen
        for step in ("program", "link", "restore"):
            if step == "link":
                screen._choose_link()
            if step == "restore":
                screen._back()
                screen._choose_restore()
            for width, height in sizes_at(scale):
                size = QSize(width, height)
                page.app.window.resize(size)
                pump(QApplication.instance(), 0.05)
                failures += [f"{step} {width}×{height}: {p}" for p in problems_of(page.app.window, size)]
    finally:
        QApplication.setFont(before)
    assert not failures, "\n".join(failures[:40])


@pytest.fixture(scope="module", params=[1.0, 2.0], ids=lambda s: f"text{s:g}x")
def demo_mentor(request, qapp):
    """A mentor in the demo programme, built with the OS's text at ``scale``, on the Students view's "For you"
    tab with a student chosen (the reasons and the offer shown)."""
    _close_the_others()
    before = QApplication.font()
    font = QApplication.font()  # the system's size times the scale (another module fixture may have set its own)
    font.setPointSizeF(QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).pointSizeF() * request.param)
    QApplication.setFont(font)
    with tempfile.TemporaryDirectory() as tmp:
        osler = first_run(qapp, Path(tmp), "en", "mentor", shots=False)
        _open_demos.append(osler)
        try:
            yield request.param, osler
        finally:
            _close(osler)
            QApplication.setFont(before)


def _students_to_show(session) -> dict:
    """Demo students in each group, with long reasons: one who asked, one introduced, one in a circle."""
    from desktop.domain.matching import Reason
    from desktop.domain.students import StudentEntry

    students = session.students()[:3]
    asked = Reason("asked", 0.0, "Asked you to mentor them: “{text}”", {"text": "Could you help me " * 8})
    intro = Reason("introduced", 4.5, "The programme introduced you (match score {score})", {"score": 4.5})
    circle = Reason("circle", 0.0, "Member of your circle “{circle}”", {"circle": "Neonatal sepsis research group"})
    return {
        "asked": [StudentEntry(students[0], "asked", (asked, circle), request="r")],
        "introduced": [StudentEntry(students[1], "introduced", (intro,))],
        "circles": [StudentEntry(students[2], "circles", (circle, circle))],
    }


def test_the_mentors_students_view_fits(demo_mentor) -> None:
    scale, osler = demo_mentor
    main = osler.main
    failures: dict[str, list[str]] = {}
    for width, height in sizes_at(scale):
        size = QSize(width, height)
        osler.window.resize(size)
        osler.window.show()
        main.navigate("mentors")
        for_you = main.students.for_you
        main.students.tabs.setCurrentWidget(for_you)
        tree = for_you.tree
        for_you.show_groups(_students_to_show(osler.session))
        for group in range(tree.topLevelItemCount()):  # each group's student chosen: answer, or offer
            tree.setCurrentItem(tree.topLevelItem(group).child(0))
            pump(QApplication.instance(), 0.1)
            found = problems_of(osler.window, size)
            if found:
                failures[f"{width}×{height} text {scale:g}× group {group}"] = found
    assert not failures, "\n".join(f"{where}: {p}" for where, ps in failures.items() for p in ps[:40])


def test_the_mentors_library_and_its_publish_dialog_fit(demo_mentor) -> None:
    """A mentor's Library (with Publish…, New version…, Share privately…) and the "Share privately" dialog."""
    from desktop.ui.views.library_publish import SHARE, PublishDialog

    scale, osler = demo_mentor
    failures: list[str] = []
    for width, height in sizes_at(scale):
        size = QSize(width, height)
        osler.window.resize(size)
        osler.window.show()
        osler.main.navigate("library")
        pump(QApplication.instance(), 0.1)
        assert osler.main.library.publishing.isVisible()
        failures += [f"{width}×{height} library: {p}" for p in problems_of(osler.window, size)]
        dialog = PublishDialog(osler.session, SHARE, None, osler.window)
        try:
            dialog.show()
            bounded = dialog.sizeHint().boundedTo(size)
            dialog.resize(bounded)
            pump(QApplication.instance(), 0.05)
            failures += [f"{width}×{height} dialog: {p}" for p in problems_of(dialog, bounded)]
        finally:
            dialog.close()
    assert not failures, "\n".join(failures[:40])
