"""Forms of the learner pages: the catalogue filters and the quiz."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import SelectField

from volunteer_platform.training.models import (
    COMPETENCE_AREA_LABELS,
    LEVEL_LABELS,
    Question,
    QuestionKind,
)

UNANSWERED = _l("Répondez à toutes les questions.")


class CatalogueFilterForm(FlaskForm):
    """Filters of the catalogue, sent by GET (nothing changes: no CSRF token)."""

    class Meta:
        csrf = False

    area = SelectField(
        _l("Domaine de compétences"),
        choices=[("", _l("Tous les domaines"))] + [(a.value, label) for a, label in COMPETENCE_AREA_LABELS.items()],
        default="",
    )
    level = SelectField(
        _l("Niveau"),
        choices=[("", _l("Tous les niveaux"))] + [(lv.value, label) for lv, label in LEVEL_LABELS.items()],
        default="",
    )

    def chosen(self) -> tuple[str | None, str | None]:
        """(area, level) to filter on; an unknown value counts as "all"."""
        self.validate()
        area = self.area.data if not self.area.errors and self.area.data else None
        level = self.level.data if not self.level.errors and self.level.data else None
        return area, level


class QuizForm(FlaskForm):
    """The quiz's CSRF token. Its questions vary with the module, so the answers
    are read from the posted fields ``q<question id>`` by ``quiz_answers``."""


def quiz_answers(
    formdata: MultiDict[str, str], questions: Iterable[Question],
) -> tuple[dict[int, list[int]], set[int]]:
    """The chosen choice ids per question, and the ids of questions left unanswered.

    Only the question's own choices count; a single-answer question needs
    exactly one.
    """
    answers: dict[int, list[int]] = {}
    unanswered: set[int] = set()
    for question in questions:
        valid = {choice.id for choice in question.choices}
        chosen: list[int] = []
        for raw in formdata.getlist(f"q{question.id}"):
            try:
                choice_id = int(raw)
            except (TypeError, ValueError):
                continue
            if choice_id in valid and choice_id not in chosen:
                chosen.append(choice_id)
        answers[question.id] = chosen
        if not chosen or (question.kind is QuestionKind.SINGLE and len(chosen) != 1):
            unanswered.add(question.id)
    return answers, unanswered
