"""Right to left: in Arabic, Persian and Urdu the whole window mirrors (the sidebar on the right, progress filling
from the right); in every UI language each message reads in its own direction (an Arabic message right-aligned
in an English UI, an English one left-aligned in an Arabic UI), and mixed text takes the paragraph direction of
its first strong character."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QProgressBar, QWidget

from desktop.app import apply_locale
from desktop.ui.direction import text_direction
from tests.screenshots import (
    FIT_VIEWS,
    SAMPLE_LINK_CODE,
    add_device_dialog,
    first_run,
    open_a_circle,
    open_a_meeting,
    open_a_project,
    open_carry,
    plan_a_mentorship,
    pump,
)

VIEWS = FIT_VIEWS
RTL = Qt.LayoutDirection.RightToLeft
LTR = Qt.LayoutDirection.LeftToRight
ARABIC_WITH_DRUG = "أعطِ المريض amoxicillin 500 mg"
ENGLISH_WITH_ARABIC = "Give 500 mg of أموكسيسيلين"


@pytest.fixture(scope="module")
def demo(qapp):
    apply_locale("en")
    with tempfile.TemporaryDirectory() as tmp:
        osler = first_run(qapp, Path(tmp), "en", "student", shots=False)
        plan_a_mentorship(osler)
        osler.window.resize(1366, 768)
        try:
            yield osler
        finally:
            osler.shutdown()
            osler.window.close()
            apply_locale("en")


def switch(osler, tag: str) -> None:
    """The language chosen in Settings: applied at once, the main screen rebuilt."""
    osler._language_changed(tag)
    pump(QApplication.instance(), 0.1)


def show(osler, view: str) -> QWidget:
    main = osler.main
    if view == "carry":
        open_carry(osler)
        pump(QApplication.instance(), 0.05)
        return main.pages.currentWidget()
    main.navigate("messages" if view == "review-queue" else view)
    if view in ("messages", "review-queue") and main.messages.queue_toggle.isChecked() != (view == "review-queue"):
        main.messages.queue_toggle.click()
    if view == "mentorships":
        main.mentorships.list.setCurrentRow(0)
    if view == "circles":
        open_a_circle(osler)
    if view == "projects":
        open_a_project(osler)
    if view == "schedule":
        open_a_meeting(osler)
        main.projects.tabs.setCurrentWidget(main.projects.board)
    pump(QApplication.instance(), 0.05)
    return main.pages.currentWidget()


def ink_columns(image: QImage, background: QColor) -> tuple[int, int]:
    """The leftmost and rightmost columns holding anything but ``background``."""
    columns = [
        x
        for x in range(image.width())
        if any(image.pixelColor(x, y).rgb() != background.rgb() for y in range(0, image.height(), 2))
    ]
    return (min(columns), max(columns)) if columns else (-1, -1)


@pytest.mark.parametrize("tag", ["ar", "fa", "ur", "en"])
def test_every_view_mirrors_in_right_to_left_languages(demo, tag) -> None:
    switch(demo, tag)
    try:
        expected = RTL if tag in ("ar", "fa", "ur") else LTR
        assert QApplication.layoutDirection() == expected
        wrong: list[str] = []
        for view in VIEWS:
            page = show(demo, view)
            for widget in [page, *page.findChildren(QWidget)]:
                if widget.isVisibleTo(demo.window) and widget.layoutDirection() != expected:
                    wrong.append(f"{view}: {type(widget).__name__} {widget.accessibleName()!r}")
            nav, pages = demo.main.nav, demo.main.pages
            nav_x = nav.mapTo(demo.window, QPoint(0, 0)).x()
            pages_x = pages.mapTo(demo.window, QPoint(0, 0)).x()
            if (nav_x > pages_x) != (expected == RTL):
                wrong.append(f"{view}: sidebar at x={nav_x}, content at x={pages_x}")
        assert wrong == []
    finally:
        switch(demo, "en")


def test_progress_bars_fill_from_the_leading_edge(demo) -> None:
    """A goal progress bar a third full: filled on the left in English, on the right in Arabic."""
    sides = {}
    for tag in ("en", "ar"):
        switch(demo, tag)
        show(demo, "mentorships")
        bars = [b for b in demo.main.mentorships.findChildren(QProgressBar) if b.isVisibleTo(demo.window)]
        assert bars, "the open plan shows its progress bar"
        bar = bars[0]
        bar.setTextVisible(False)
        bar.setRange(0, 3)
        bar.setValue(1)
        image = bar.grab().toImage()
        chunk = demo.main.palette().color(demo.main.palette().ColorRole.Highlight)
        y = image.height() // 2
        filled = [x for x in range(image.width()) if image.pixelColor(x, y).rgb() == chunk.rgb()]
        assert filled, "the bar draws its chunk in the highlight colour"
        sides[tag] = "left" if sum(filled) / len(filled) < image.width() / 2 else "right"
    switch(demo, "en")
    assert sides == {"en": "left", "ar": "right"}


def test_mixed_text_takes_the_direction_of_its_first_strong_character() -> None:
    assert text_direction(ARABIC_WITH_DRUG) == RTL
    assert text_direction(ENGLISH_WITH_ARABIC) == LTR
    assert text_direction("Amharic ሰላም") == LTR and text_direction("سلام، http://example.org") == RTL
    assert text_direction("12:30 — 500", LTR) == LTR and text_direction("12:30 — 500", RTL) == RTL


@pytest.mark.parametrize("ui", ["en", "ar"])
def test_each_message_is_shown_in_its_own_direction(demo, ui) -> None:
    """Whatever the UI language, the Arabic message sits on the right of the conversation and the English one on
    the left."""
    switch(demo, "en")
    messages = demo.main.messages
    show(demo, "messages")
    messages.thread_list.setCurrentIndex(messages.thread_model.index(0))
    pump(QApplication.instance(), 0.1)
    for text in (ARABIC_WITH_DRUG, ENGLISH_WITH_ARABIC):
        if not any(m.body == text for m in messages.pane.model.messages):
            messages.compose.setPlainText(text)
            messages.box.send_button.click()
            pump(QApplication.instance(), 0.1)
    switch(demo, ui)
    try:
        messages = demo.main.messages
        show(demo, "messages")
        messages.thread_list.setCurrentIndex(messages.thread_model.index(0))
        pump(QApplication.instance(), 0.2)
        view = messages.pane.view
        model = messages.pane.model
        view.resize(900, view.height())
        pump(QApplication.instance(), 0.1)
        viewport = view.viewport().grab().toImage()
        background = viewport.pixelColor(viewport.width() - 3, viewport.height() - 3)
        sides = {}
        for row, message in enumerate(model.messages):
            if message.body not in (ARABIC_WITH_DRUG, ENGLISH_WITH_ARABIC):
                continue
            view.scrollTo(model.index(row))
            pump(QApplication.instance(), 0.05)
            rect = view.visualRect(model.index(row))
            image = view.viewport().grab(rect).toImage()
            left, right = ink_columns(image, background)
            assert left >= 0, f"row {row} shows nothing"
            sides[message.body] = "right" if left > image.width() - right else "left"
        assert sides == {ARABIC_WITH_DRUG: "right", ENGLISH_WITH_ARABIC: "left"}
    finally:
        switch(demo, "en")


def differing(a: QImage, b: QImage) -> int:
    """How many pixels differ visibly (anti-aliasing may shift an edge by a shade)."""
    return sum(
        abs(a.pixelColor(x, y).alpha() - b.pixelColor(x, y).alpha()) > 64
        for x in range(a.width())
        for y in range(a.height())
    )


def test_icons_with_a_direction_are_mirrored_in_right_to_left(qapp) -> None:
    from desktop.ui.icons import themed

    def pixels(tag: str) -> QImage:
        apply_locale(tag)
        return themed("send").pixmap(32, 32).toImage()

    try:
        ltr, rtl = pixels("en"), pixels("ar")
        flipped = ltr.flipped(Qt.Orientation.Horizontal)
        assert differing(rtl, flipped) < differing(rtl, ltr) / 10  # the same drawing, pointing the other way
        home_en = (apply_locale("en"), themed("home").pixmap(32, 32).toImage())[1]
        home_ar = (apply_locale("ar"), themed("home").pixmap(32, 32).toImage())[1]
        assert home_ar == home_en  # a house has no direction
    finally:
        apply_locale("en")


@pytest.mark.parametrize("ui", ["en", "ar"])
def test_the_compose_box_aligns_what_is_typed_by_its_direction(demo, ui) -> None:
    switch(demo, ui)
    try:
        show(demo, "messages")
        compose = demo.main.messages.compose
        sides = {}
        for text in (ARABIC_WITH_DRUG, ENGLISH_WITH_ARABIC):
            compose.setPlainText(text)
            pump(QApplication.instance(), 0.05)
            image = compose.viewport().grab().toImage()
            background = image.pixelColor(image.width() - 2, image.height() - 2)
            left, right = ink_columns(image.copy(0, 0, image.width(), compose.fontMetrics().height() * 2), background)
            sides[text] = "right" if left > image.width() - right else "left"
        compose.clear()
        assert sides == {ARABIC_WITH_DRUG: "right", ENGLISH_WITH_ARABIC: "left"}
    finally:
        switch(demo, "en")


def test_the_ui_line_above_a_message_keeps_the_ui_direction(demo) -> None:
    """In Arabic, the author and date above an English message are an Arabic (right-to-left) isolate, so the
    Arabic date is not scrambled by the English paragraph around it."""
    switch(demo, "ar")
    try:
        model = demo.main.messages.pane.model
        show(demo, "messages")
        messages = demo.main.messages
        messages.thread_list.setCurrentIndex(messages.thread_model.index(0))
        pump(QApplication.instance(), 0.1)
        head = model.data(model.index(0)).split("\n")[0]
        assert head.startswith("\u2067") and head.endswith("\u2069")
        parts = head[1:-1].split(" · ")
        assert len(parts) >= 2 and all(p.startswith("\u2068") and p.endswith("\u2069") for p in parts)
    finally:
        switch(demo, "en")


@pytest.mark.parametrize("ui", ["en", "ar"])
def test_table_rows_are_ordered_in_their_own_direction_where_the_ui_puts_them(qapp, ui) -> None:
    """A Library title or a mentor's name in Arabic is an Arabic paragraph (a drug name inside it stays in place)
    while the column stays aligned as the UI aligns it."""
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QTableView

    from desktop.ui.direction import BidiDelegate

    apply_locale(ui)
    try:
        model = QStandardItemModel()
        for text in (ARABIC_WITH_DRUG, ENGLISH_WITH_ARABIC):
            model.appendRow(QStandardItem(text))
        table = QTableView()
        table.setModel(model)
        delegate = BidiDelegate(table, align_with_ui=True)
        ui_side = Qt.AlignmentFlag.AlignRight if ui == "ar" else Qt.AlignmentFlag.AlignLeft
        for row, direction in ((0, RTL), (1, LTR)):
            option = QStyleOptionViewItem()
            option.initFrom(table)
            delegate.initStyleOption(option, model.index(row, 0))
            assert option.direction == direction
            shown = QStyle.visualAlignment(option.direction, option.displayAlignment)
            assert shown & Qt.AlignmentFlag.AlignHorizontal_Mask & ~Qt.AlignmentFlag.AlignAbsolute == ui_side
    finally:
        apply_locale("en")


def ink_bands(image: QImage, background: QColor) -> int:
    """How many bands of text lines the image holds (rows with ink, separated by blank rows)."""
    bands, inside = 0, False
    for y in range(image.height()):
        ink = any(image.pixelColor(x, y).rgb() != background.rgb() for x in range(0, image.width(), 1))
        if ink and not inside:
            bands += 1
        inside = ink
    return bands


@pytest.mark.parametrize(
    "text",
    ["धन्यवाद! मैं इस सत्र नवजात सेप्सिस पर काम करना चाहूँगी।", "ধন্যবাদ! আমি কাজ করতে চাই।", "አመሰግናለሁ! መሥራት እፈልጋለሁ።"],
    ids=["hi", "bn", "am"],
)
def test_a_message_in_any_script_is_shown_whole(demo, text) -> None:
    """The line above and the message itself: two lines, the message not cut off by an ellipsis (Qt measured
    lines in a fallback font a little short, and dropped the message's line)."""
    switch(demo, "en")
    messages = demo.main.messages
    show(demo, "messages")
    messages.thread_list.setCurrentIndex(messages.thread_model.index(0))
    pump(QApplication.instance(), 0.1)
    messages.compose.setPlainText(text)
    messages.box.send_button.click()
    pump(QApplication.instance(), 0.2)
    view, model = messages.pane.view, messages.pane.model
    view.resize(900, view.height())
    pump(QApplication.instance(), 0.1)
    row = next(r for r, m in enumerate(model.messages) if m.body == text)
    view.scrollTo(model.index(row))
    pump(QApplication.instance(), 0.1)
    image = view.viewport().grab(view.visualRect(model.index(row))).toImage()
    full = view.viewport().grab().toImage()
    background = full.pixelColor(full.width() - 3, full.height() - 3)
    assert ink_bands(image, background) == 2


def test_the_progress_chart_runs_right_to_left_in_arabic(qapp) -> None:
    """Time runs with the reading: this week's bar and the "this week" label on the left in Arabic, the oldest
    week and "12 weeks ago" on the right (the labels used to stay where English puts them)."""
    from desktop.ui.views.progress_chart import WEEKS, ProgressChart

    def drawn(tag: str) -> tuple[list[int], int]:
        apply_locale(tag)
        chart = ProgressChart()
        chart.resize(600, 100)
        chart.set_data([0] * (WEEKS - 1) + [3], [], 0, 0)  # check-ins this week only
        image = chart.grab().toImage()
        background = image.pixelColor(1, 1)
        highlight = chart.palette().color(chart.palette().ColorRole.Highlight)
        bar = [x for x in range(image.width()) if image.pixelColor(x, 60).rgb() == highlight.rgb()]
        band = image.copy(0, image.height() - 20, image.width(), 20)  # the axis labels
        ink = [x for x in range(band.width()) if ink_columns(band.copy(x, 0, 1, band.height()), background)[0] >= 0]
        widest_gap = max((b - a, (a + b) // 2) for a, b in itertools.pairwise(ink))
        return bar, widest_gap[1]

    try:
        (en_bar, en_gap), (ar_bar, ar_gap) = drawn("en"), drawn("ar")
        assert en_bar and ar_bar
        assert min(en_bar) > 300 > max(ar_bar)  # this week: on the right in English, on the left in Arabic
        assert en_gap < 300 < ar_gap  # the short "12 weeks ago" on the leading side: its gap is nearer it
    finally:
        apply_locale("en")


def test_the_charts_axis_labels_never_run_into_each_other(qapp) -> None:
    """Swahili's legend is longer than a mentorship's chart is wide at 1024×600: it was drawn over "12 weeks
    ago"; now it gives way (elided) and the whole of it is in the tooltip."""
    from desktop.ui.views.progress_chart import ProgressChart

    try:
        for tag in ("sw", "ha", "en", "ar"):
            apply_locale(tag)
            chart = ProgressChart()
            chart.set_data([1] * 12, [], 0, 0)
            metrics = chart.fontMetrics()
            for room in (300.0, 470.0, 800.0):
                oldest, legend = chart.axis_labels(room)
                assert metrics.horizontalAdvance(oldest) + metrics.horizontalAdvance(legend) < room, (tag, room)
            whole = chart.axis_labels(10_000.0)[1]
            assert whole in chart.toolTip()
    finally:
        apply_locale("en")


def test_the_add_device_dialog_mirrors_but_its_code_reads_left_to_right(demo) -> None:
    """In Arabic the dialog is laid out right to left; the code (Latin letters and digits in groups) keeps its
    order, so what is typed on the other computer is what is shown."""
    switch(demo, "ar")
    dialog = add_device_dialog(demo)
    try:
        pump(QApplication.instance(), 0.05)
        assert dialog.layoutDirection() == RTL
        assert dialog.code.layoutDirection() == LTR
        text = dialog.code.text()
        assert text.startswith("\u2066") and text.endswith("\u2069") and text[1:-1] == SAMPLE_LINK_CODE
        assert not dialog.qr.pixmap().isNull()
    finally:
        dialog.close()
        switch(demo, "en")


def test_the_mentors_students_view_mirrors_in_arabic(qapp) -> None:
    """A mentor's Students view in Arabic: every widget right to left, the offer button on the right."""
    from tests.test_fit import _students_to_show

    apply_locale("en")
    with tempfile.TemporaryDirectory() as tmp:
        osler = first_run(qapp, Path(tmp), "en", "mentor", shots=False)
        osler.window.resize(1024, 600)
        try:
            switch(osler, "ar")
            main = osler.main
            main.navigate("mentors")
            for_you = main.students.for_you
            for_you.show_groups(_students_to_show(osler.session))
            for_you.tree.setCurrentItem(for_you.tree.topLevelItem(1).child(0))
            pump(QApplication.instance(), 0.1)
            page = main.pages.currentWidget()
            wrong = [
                f"{type(w).__name__} {w.accessibleName()!r}"
                for w in [page, *page.findChildren(QWidget)]
                if w.isVisibleTo(osler.window) and w.layoutDirection() != RTL
            ]
            assert wrong == []
            button = for_you.offer_button
            right_of_button = button.mapTo(for_you, QPoint(button.width(), 0)).x()
            assert right_of_button > for_you.width() // 2, "the offer button sits on the leading (right) side"
        finally:
            switch(osler, "en")
            osler.shutdown()
            osler.window.close()
            apply_locale("en")
