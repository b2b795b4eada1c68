"""Images drawn after the commit. A reply may carry, instead of its image, the recipe to draw it
(``Reply.image_recipe``: a maker's name and its arguments, in JSON). The image is drawn where the reply
leaves the core: the dispatcher once the command's transaction has committed (replies returned directly),
the outbox sender just before sending (answers and notices stored in the outbox). So a slow drawing
(matplotlib: 0.1–0.4 s, more on a Raspberry Pi) never holds the database's write lock, and, the recipe being
stored with the answer in the same transaction as the command's effect, a kill between the commit and the
drawing loses nothing: the sender draws it after the restart. A maker is a pure function of its arguments
(the same recipe always draws the same picture), registered by the module that owns the picture."""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.core.types import Reply

log = logging.getLogger(__name__)

Maker = Callable[..., bytes]
MAKERS: dict[str, Maker] = {}
KEEP = 4  # pictures lately drawn, by recipe (a /digest asked twice the same day draws once)

_drawn: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def image_maker(name: str) -> Callable[[Maker], Maker]:
    """Register a maker under ``name``; its keyword arguments are what a recipe gives (JSON values)."""

    def register(maker: Maker) -> Maker:
        MAKERS[name] = maker
        return maker

    return register


def recipe(maker: str, **arguments: Any) -> str:
    """The stored form of a picture to draw later: ``maker(**arguments)``."""
    return json.dumps({"maker": maker, "arguments": arguments}, ensure_ascii=False, sort_keys=True)


def draw(image_recipe: str) -> bytes | None:
    """The picture of a recipe (from the few lately drawn, or drawn now); None when it can't be drawn (an
    unknown maker, a maker that fails): the text then goes alone, as with a stored image that is gone."""
    with _lock:
        if image_recipe in _drawn:
            _drawn.move_to_end(image_recipe)
            return _drawn[image_recipe]
    try:
        wanted = json.loads(image_recipe)
        image = MAKERS[wanted["maker"]](**wanted["arguments"])
    except Exception:
        log.exception("an image could not be drawn; the text goes alone")
        return None
    with _lock:
        _drawn[image_recipe] = image
        while len(_drawn) > KEEP:
            _drawn.popitem(last=False)
    return image


def drawn(reply: Reply) -> Reply:
    """The reply with its image drawn, if it came as a recipe."""
    if reply.image is not None or not reply.image_recipe:
        return reply
    return replace(reply, image=draw(reply.image_recipe), image_recipe=None)
