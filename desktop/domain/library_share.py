"""Sharing a library item privately (PROTOCOL.md §7.1.4): end-to-end encrypted, never programme-wide.

To one person: a sealed message in the direct thread whose item carries ``l`` (the catalogue entry's fields)
and the file as the message's attachment (a random key, sealed inside the message; the server holds only the
sealed bytes). To a circle: a sealed, signed circle post ``{"y": "library", "l": …, "a": …}``. Either way the
server never sees the title, the text or the plaintext hash. On arrival the entry is kept sealed in the vault
(``library-shared``) and the item shows in the Library as "Shared with you by …"; its file comes like any
attachment (``Session.download_attachment``) and is read with ``Messaging.attachment_bytes``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.domain.library_format import (
    LibraryError,
    PublishMeta,
    check_file,
    entry_body,
    new_item_id,
    parse_entry,
)
from desktop.domain.messaging import FileAttachment
from desktop.i18n import _
from sync import envelope
from sync.clock import now_ms

if TYPE_CHECKING:
    from desktop.domain.circles import CircleEvent
    from desktop.domain.library import Library, LibraryItem

SHARED = "library-shared"
POST_TYPE = "library"
EXTENSION = {
    "application/pdf": ".pdf",
    "text/markdown": ".md",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
}


def attach_receivers(library: Library) -> None:
    """Take in private shares as they are stored: a message carrying ``l``, a circle post of type library."""
    assert library.messaging is not None
    library.messaging.item_hooks["l"] = lambda message_id, author, value: _keep(library, message_id, author,
                                                                                value, "")  # fmt: skip
    if library.circles is not None:
        library.circles.on("circle-post", lambda event: _take_post(library, event))


def _take_post(library: Library, event: CircleEvent) -> None:
    content = event.content if isinstance(event.content, dict) else {}
    if content.get("y") != POST_TYPE:
        return
    assert library.messaging is not None
    library.messaging._take_attachment(event.id, content.get("a"))
    _keep(library, event.id, event.author, content.get("l"), event.circle)


def _shared(library: Library) -> dict[str, dict]:
    raw = library.vault.get_secret(SHARED)
    return json.loads(raw) if raw else {}


def _keep(library: Library, message_id: str, author: str, value: object, via: str) -> None:
    """Keep a share that arrived (or that this device sent): only a valid entry whose attachment matches it."""
    assert library.messaging is not None
    fields = parse_entry(value, message_id, private=True)
    attachment = library.messaging.attachment(message_id)
    if fields is None or attachment is None or attachment["size"] != fields["size"]:
        return
    shared = _shared(library)
    if message_id in shared:
        return
    at = now_ms(library.clock.wall)
    shared[message_id] = {**fields, "by": author, "via": via, "h": at << 16}
    library.vault.put_secret(SHARED, json.dumps(shared).encode())


def shared_items(library: Library) -> list[LibraryItem]:
    from desktop.domain.library import LibraryItem

    out = []
    for message_id, doc in _shared(library).items():
        fields = parse_entry(doc, message_id, private=True)
        if fields is not None:
            by, via, hlc = str(doc.get("by", "")), str(doc.get("via", "")), int(doc.get("h", 0))
            out.append(LibraryItem(id=message_id, author=by, private=True, shared_by=by, hlc=hlc, via=via,
                                   **fields))  # fmt: skip
    return out


def share(library: Library, source: Path | LibraryItem, meta: PublishMeta | None, to: str) -> str:
    """Seal and queue a private share (see the module's doc); ``to`` an account or a circle id."""
    messaging, circles = library.messaging, library.circles
    if messaging is None:
        raise LibraryError("no-keys", _("This device cannot encrypt yet: join the programme again."))
    if isinstance(source, Path | str):
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > envelope.MAX_ATTACHMENT:
                raise LibraryError("too-large", _("Files shared privately are limited to 25 MB."))
            data = path.read_bytes()
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise LibraryError("unreadable", _("This file cannot be read: {reason}").format(reason=reason)) from None
        mime = check_file(path.name, len(data), data[:512])
        if meta is None:
            raise LibraryError("title", _("A title is 1 to 200 characters."))
        name, item, version = path.name, new_item_id(), 1
    else:
        data = library.open_bytes(source)
        if len(data) > envelope.MAX_ATTACHMENT:
            raise LibraryError("too-large", _("Files shared privately are limited to 25 MB."))
        mime, item, version = source.mime, source.item, source.version
        name = source.title[:80] + EXTENSION.get(source.mime, "")
        meta = meta or PublishMeta(source.title, source.summary, source.specialty, source.language, source.level,
                                   source.licence or "all-rights-reserved", source.kind)  # fmt: skip
    if mime == "text/markdown" and b"\x00" in data:
        raise LibraryError("not-what-it-says", _("This file is not a Markdown text."))
    meta = meta.validate()
    fields = entry_body(meta, item, version, "", mime, len(data), hashlib.sha256(data).hexdigest(), "")
    attachment = FileAttachment(name[:200], data, mime)
    if circles is not None and circles.role(to, library.me) is not None:
        entry, wire = messaging._attach(attachment)
        with library.vault.transaction():
            post_id = circles.post(to, "circle-post", {"y": POST_TYPE, "l": fields, "a": wire})
            messaging._set_attachment(post_id, {**entry, "state": "pending-upload"})
            _keep(library, post_id, library.me, fields, to)
        return post_id
    if to == library.me or len(to) != 32:
        raise LibraryError("recipient", _("Choose a mentee or a circle to share with."))
    thread = messaging.start_direct(to)
    text = _("Shared a library item: {title}").format(title=meta.title)
    return messaging.send(thread, text[:2000], attachment, extra={"l": fields})
