"""Forms of the participation pages: the survey after a training session, the
self-assessment of a learning path, the activity report after a shift.

WTForms checks the shape (a choice among the offered ones, whole numbers in
range); the services in ``impact.services`` check the rules again.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional, StopValidation

from volunteer_platform.forms import strip_filter
from volunteer_platform.impact.models import (
    CONFIDENCE_LABELS,
    HELP_THEME_LABELS,
    SATISFACTION_LABELS,
    HelpTheme,
)
from volunteer_platform.impact.services import COMMENT_MAX
from volunteer_platform.training.models import CompetenceArea

YES, NO = "yes", "no"
YES_NO = [(YES, _l("Oui")), (NO, _l("Non"))]
CHOOSE_ONE = _l("Choisissez une réponse.")
PEOPLE_MAX = 500
#: The longest time anyone reports for one shift (the service allows the shift plus two hours).
MINUTES_MAX = 1440
INVALID_PEOPLE = _l("Indiquez un nombre entier entre 0 et %(max)d.", max=PEOPLE_MAX)
INVALID_MINUTES = _l("Indiquez un nombre entier de minutes, par exemple 90 pour une heure et demie.")


def _radio(label: Any, choices: list[tuple[str, Any]], **kwargs: Any) -> RadioField:
    """A required radio group; an answer that is not one of the choices gets the same plain message."""
    return RadioField(
        label, choices=choices, validate_choice=False,
        validators=[InputRequired(CHOOSE_ONE), AnyOf([value for value, _label in choices], message=CHOOSE_ONE)],
        **kwargs,
    )


class WholeNumberField(IntegerField):
    """A whole number typed in a box: letters or decimals get a plain message (the
    typed text is shown again), and an empty box counts as no value."""

    def __init__(self, *args: Any, invalid_message: Any = INVALID_PEOPLE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and not valuelist[0].strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(self.invalid_message)) from error

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:  # not a number: say it once, not again for the range
            raise StopValidation()


# --- survey after a training session ------------------------------------------------------------


class SurveyForm(FlaskForm):
    satisfaction = _radio(
        _l("Dans l'ensemble, êtes-vous satisfait de cette session ?"),
        [(str(score), label) for score, label in SATISFACTION_LABELS.items()],
        description=_l("De 1 (pas du tout satisfait) à 5 (très satisfait)."),
    )
    more_able_to_help = _radio(_l("Après cette session, je me sens plus capable d'aider quelqu'un."), YES_NO)
    at_ease_with_computer = _radio(_l("Je me sens à l'aise avec un ordinateur."), YES_NO)
    comment = TextAreaField(
        _l("Un commentaire ? (facultatif)"),
        description=_l("Ce qui vous a plu, ce qui manquait… N'écrivez pas de nom."),
        filters=[strip_filter],
        validators=[Optional(), Length(max=COMMENT_MAX, message=_l(
            "Le commentaire est trop long (%(max)d caractères au plus).", max=COMMENT_MAX))],
        render_kw={"rows": 4, "maxlength": COMMENT_MAX},
    )

    def answers(self) -> dict[str, Any]:
        """The keyword arguments of ``services.answer_survey``."""
        return {
            "satisfaction": int(self.satisfaction.data),
            "more_able_to_help": self.more_able_to_help.data == YES,
            "at_ease_with_computer": self.at_ease_with_computer.data == YES,
            "comment": self.comment.data or "",
        }


# --- self-assessment at the start and end of a path -------------------------------------------


class AssessmentForm(FlaskForm):
    """One confidence question per competence area; the fields are added by ``assessment_form``."""

    areas: list[CompetenceArea]

    def area_fields(self) -> list[tuple[CompetenceArea, RadioField]]:
        return [(area, self[f"area_{area.value}"]) for area in self.areas]

    def answers(self) -> dict[CompetenceArea, int]:
        return {area: int(f.data) for area, f in self.area_fields() if f.data}


def assessment_form(areas: list[CompetenceArea], **kwargs: Any) -> AssessmentForm:
    """The self-assessment form for these competence areas (those of the path)."""

    class Form(AssessmentForm):
        pass

    choices = [(str(level), label) for level, label in CONFIDENCE_LABELS.items()]
    for area in areas:
        setattr(Form, f"area_{area.value}", _radio(area.label, choices))
    form = Form(**kwargs)
    form.areas = list(areas)
    return form


# --- activity report after a shift ---------------------------------------------------------------


class ReportForm(FlaskForm):
    """How long and how many people, by theme; the theme fields are added below."""

    minutes = WholeNumberField(
        _l("Temps passé à aider (en minutes)"),
        description=_l("Par exemple 90 pour une heure et demie. Déjà rempli avec la durée de la permanence."),
        invalid_message=INVALID_MINUTES,
        validators=[InputRequired(INVALID_MINUTES),
                    NumberRange(min=0, max=MINUTES_MAX, message=INVALID_MINUTES)],
        render_kw={"inputmode": "numeric", "min": 0, "max": MINUTES_MAX},
    )

    def theme_fields(self) -> list[tuple[HelpTheme, WholeNumberField]]:
        return [(theme, self[f"theme_{theme.value}"]) for theme in HelpTheme]

    def people_by_theme(self) -> dict[HelpTheme, int]:
        return {theme: f.data or 0 for theme, f in self.theme_fields()}


for _theme in HelpTheme:
    setattr(ReportForm, f"theme_{_theme.value}", WholeNumberField(
        HELP_THEME_LABELS[_theme], default=0,
        validators=[Optional(), NumberRange(min=0, max=PEOPLE_MAX, message=INVALID_PEOPLE)],
        render_kw={"inputmode": "numeric", "min": 0, "max": PEOPLE_MAX},
    ))
del _theme
