"""A record kind: what members log (study, visits, problems, commitments …), declared once by
its feature and used by /mine, the saving of its dialog and the audit log.

The table, the audit log's name for the kind and whose record it is are the model's own
(``entity``, ``owner`` in ``storage.models``); the rest is here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handlers.core.i18n import Translator
from handlers.dialogs.engine import Dialog


@dataclass(frozen=True)
class RecordKind:
    model: type[Any]  # a model of storage.models with ``entity`` and ``owner``
    dialog: Dialog  # logs a record, and changes one (started with ``load``'s data)
    load: Callable[[Any], dict[str, Any]]  # a record as the dialog's data
    line: Callable[[Any, Translator], str]  # the line /mine lists a record by
    # What a member reads when a record of the kind is locked (``storage.repositories.records.LOCKS``:
    # taken over, it is changed elsewhere), a catalogue key; None for a kind that never is.
    locked: str | None = None

    @property
    def name(self) -> str:
        return str(self.model.entity)
