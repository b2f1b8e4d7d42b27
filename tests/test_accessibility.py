"""Screen readers (issue 13): every control a person can reach has a name a screen reader says, in every view
and role, and status changes are announced through Qt's accessibility events."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QAbstractSpinBox, QComboBox, QWidget

from desktop.domain.onboarding import Step

PASSPHRASE = "violet harbour lantern"


def spoken_name(widget: QWidget) -> str:
    """The accessible name set on ``widget``: Osler names every control itself rather than rely on what Qt
    derives from a button's text (with its & mnemonic) or a buddy label."""
    return widget.accessibleName()


def unnamed(window: QWidget) -> list[str]:
    missing = []
    for widget in window.findChildren(QWidget):
        if not widget.focusPolicy() & Qt.FocusPolicy.TabFocus or widget.window() is not window:
            continue
        parent = widget.parentWidget()
        if widget.objectName().startswith("qt_") or isinstance(
            parent, QAbstractItemView | QAbstractSpinBox | QComboBox
        ):
            continue  # Qt's own parts of a composite control
        if not spoken_name(widget).strip():
            missing.append(f"{type(widget).__name__} in {type(widget.parentWidget()).__name__}")
    return missing


@pytest.fixture
def announced(monkeypatch):
    from desktop.ui import announce

    heard: list[tuple[str, bool]] = []
    monkeypatch.setattr(announce, "listeners", [lambda source, text, assertive: heard.append((text, assertive))])
    return heard


def test_every_first_run_and_unlock_screen_names_its_controls(make_app, tmp_path):
    page = make_app(tmp_path / "data")
    window = page.app.window
    seen = {}
    seen["language"] = unnamed(window)
    page.choose_language("en")
    seen["passphrase"] = unnamed(window)
    page.create_vault(PASSPHRASE)
    assert page.on_onboarding(Step.PROGRAM)
    seen["programme"] = unnamed(window)
    page._press(page.screen.link_choice)
    seen["link"] = unnamed(window)
    page._press(page.screen.back_button)
    page._press(page.screen.restore_choice)
    seen["restore"] = unnamed(window)
    page._press(page.screen.back_button)
    page._press(page.screen.join_choice)
    seen["recovery"] = unnamed(window)
    key = page.recovery_key()
    page.confirm_recovery(key)
    seen["join"] = unnamed(window)
    page.app.shutdown()
    again = make_app(tmp_path / "data")
    seen["unlock"] = unnamed(again.app.window)
    again._press(again.screen.forgot_button)
    seen["recover"] = unnamed(again.app.window)
    missing = {screen: names for screen, names in seen.items() if names}
    assert not missing, repr(missing)


@pytest.mark.parametrize("role", ["student", "mentor", "admin"])
def test_every_view_names_every_control_it_lets_focus(make_app, role):
    page = make_app()
    page.first_run_to_program(PASSPHRASE)
    page.explore_demo(role)
    seen = {}
    for view in page.screen.views:
        page.open_view(view)
        assert page.screen.current_view == view
        seen[view] = unnamed(page.app.window)
    missing = {view: names for view, names in seen.items() if names}
    assert not missing, repr(missing)


def test_status_changes_are_announced(make_app, announced):
    page = make_app()
    page.enter_demo(PASSPHRASE)
    page.open_view("messages")
    view = page.screen.messages
    view.thread_list.setCurrentIndex(view.thread_model.index(0))
    page.qtbot.keyClicks(view.compose, "Hello")
    page.qtbot.keyClick(view.compose, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert ("Queued: it goes out with the next sync.", False) in announced
    page.lock()
    page.unlock("not my passphrase at all")
    assert any("passphrase" in text.casefold() and assertive for text, assertive in announced)  # errors at once


def test_the_add_device_dialog_names_every_control(make_app, server):
    page = make_app()
    page.set_up_in(server.url, server.invite(), "Amina Laptop", "violet harbour lantern")
    page.show_devices()
    dialog = page.open_add_device()
    assert unnamed(dialog) == []
    assert dialog.code.accessibleName() and dialog.qr.accessibleName() and dialog.qr.accessibleDescription()
    dialog.close()
