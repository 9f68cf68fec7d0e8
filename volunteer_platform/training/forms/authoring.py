"""Forms of the authoring pages: modules, lessons, questions, qualifications, paths.

They validate shape only; the rules (pass mark range, one right answer for a
single-choice question, accepted files…) are the services'. ``owner`` is the
catalogue being authored: a structure, or None for the shared catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from volunteer_platform.extensions import db
from volunteer_platform.forms import REQUIRED, strip_filter
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.training import queries
from volunteer_platform.training.models import (
    COMPETENCE_AREA_LABELS,
    LEVEL_LABELS,
    Qualification,
    QuestionKind,
)

CHOICE_ROWS = 6  # rows shown for a new question; empty rows are ignored
MAX_CHOICES = 12
MAX_PATH_ROWS = 60
WHOLE_NUMBER = _l("Saisissez un nombre entier, par exemple 45.")
MARKDOWN_HINT = _l(
    "Mise en forme Markdown : **gras**, *italique*, une ligne « - » par élément de liste, "
    "« ## » devant un intertitre. Une image se place par son adresse : "
    "![texte qui décrit l'image](https://…)."
)


class FrenchIntegerField(IntegerField):
    """An integer field whose "not a number" message is in plain French."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(WHOLE_NUMBER)) from error


def qualification_choices(owner: Tenant | None) -> list[tuple[str, str]]:
    qualifications = db.session.scalars(queries.visible(Qualification, owner).order_by(Qualification.name))
    return [("", str(_l("Aucune")))] + [(str(q.id), q.name) for q in qualifications]


class ModuleForm(FlaskForm):
    title = StringField(_l("Titre du module"), filters=[strip_filter],
                        validators=[DataRequired(REQUIRED), Length(max=200)])
    summary = TextAreaField(_l("Résumé"), description=_l("Deux ou trois phrases : à quoi sert ce module ?"),
                            filters=[strip_filter], validators=[Optional(), Length(max=2000)])
    objectives = TextAreaField(
        _l("Objectifs"), description=_l("Ce que la personne saura faire à la fin, une idée par ligne."),
        filters=[strip_filter], validators=[Optional(), Length(max=4000)],
    )
    competence_area = SelectField(_l("Domaine de compétences"), validators=[InputRequired(REQUIRED)])
    level = SelectField(_l("Niveau"), validators=[InputRequired(REQUIRED)])
    duration_minutes = FrenchIntegerField(
        _l("Durée estimée (en minutes)"), default=60,
        validators=[InputRequired(REQUIRED),
                    NumberRange(min=1, max=10000, message=_l("Indiquez une durée entre 1 et 10 000 minutes."))],
        render_kw={"inputmode": "numeric"},
    )
    pass_mark = FrenchIntegerField(
        _l("Seuil de réussite du quiz (en %)"), default=80,
        description=_l("Pourcentage de bonnes réponses pour réussir, entre 0 et 100."),
        validators=[InputRequired(REQUIRED)], render_kw={"inputmode": "numeric"},
    )
    requires_attendance = BooleanField(_l("Une séance en présentiel est obligatoire pour terminer le module"))
    qualification_id = SelectField(
        _l("Qualification obtenue à la fin"), validators=[Optional()],
        description=_l("Facultatif. La personne l'obtient en terminant le module."),
    )

    def __init__(self, *args: object, owner: Tenant | None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.competence_area.choices = [(a.value, str(label)) for a, label in COMPETENCE_AREA_LABELS.items()]
        self.level.choices = [(lvl.value, str(label)) for lvl, label in LEVEL_LABELS.items()]
        self.qualification_id.choices = qualification_choices(owner)


class LessonForm(FlaskForm):
    title = StringField(_l("Titre de la leçon"), filters=[strip_filter],
                        validators=[DataRequired(REQUIRED), Length(max=200)])
    body = TextAreaField(_l("Contenu"), description=MARKDOWN_HINT, validators=[Optional(), Length(max=100_000)],
                         render_kw={"rows": 18})
    resource_title = StringField(
        _l("Nom du document à télécharger"), filters=[strip_filter], validators=[Optional(), Length(max=200)],
        description=_l("Facultatif, par exemple « Fiche pratique ». Sans nom, le nom du fichier est utilisé."),
    )
    file = FileField(
        _l("Document à télécharger"),
        description=_l("Facultatif. PDF, image PNG ou JPEG, texte (.txt), document ODT ou DOCX ; 5 Mo au plus."),
        render_kw={"accept": ".pdf,.png,.jpg,.jpeg,.txt,.odt,.docx"},
    )


class ChoiceRowForm(Form):
    text = StringField(_l("Texte de la réponse"), filters=[strip_filter],
                       validators=[Optional(), Length(max=1000)])
    is_correct = BooleanField(_l("Bonne réponse"))


class QuestionForm(FlaskForm):
    prompt = TextAreaField(_l("Question"), filters=[strip_filter],
                           validators=[DataRequired(REQUIRED), Length(max=2000)], render_kw={"rows": 3})
    kind = RadioField(
        _l("Type de question"), default=QuestionKind.SINGLE.value, validators=[InputRequired(REQUIRED)],
        choices=[(QuestionKind.SINGLE.value, _l("Une seule bonne réponse")),
                 (QuestionKind.MULTIPLE.value, _l("Plusieurs bonnes réponses possibles"))],
    )
    choices = FieldList(FormField(ChoiceRowForm), label=_l("Réponses proposées"),
                        min_entries=CHOICE_ROWS, max_entries=MAX_CHOICES)
    feedback = TextAreaField(
        _l("Explication après une mauvaise réponse"), filters=[strip_filter],
        description=_l("Affichée à la personne qui s'est trompée : expliquez la bonne réponse."),
        validators=[Optional(), Length(max=2000)], render_kw={"rows": 3},
    )

    def choice_rows(self) -> list[tuple[str, bool]]:
        """(text, right answer) of each row; the service ignores empty rows."""
        return [(row.form.text.data or "", bool(row.form.is_correct.data)) for row in self.choices]

    def choice_errors(self) -> list[str]:
        """The messages about the set of answers (the services' refusals)."""
        return [e for e in self.choices.errors if isinstance(e, str)]


class QualificationForm(FlaskForm):
    name = StringField(_l("Nom de la qualification"), filters=[strip_filter],
                       description=_l("Par exemple « Accompagnement aux démarches en ligne »."),
                       validators=[DataRequired(REQUIRED), Length(max=200)])
    description = TextAreaField(_l("Description"), filters=[strip_filter],
                                validators=[Optional(), Length(max=2000)])
    validity_months = FrenchIntegerField(
        _l("Durée de validité (en mois)"),
        description=_l("Facultatif. Laissez vide si la qualification n'expire pas, par exemple 24."),
        validators=[Optional(),
                    NumberRange(min=1, max=600, message=_l("Indiquez un nombre de mois entre 1 et 600."))],
        render_kw={"inputmode": "numeric"},
    )


class PathForm(FlaskForm):
    title = StringField(_l("Titre du parcours"), filters=[strip_filter],
                        description=_l("Par exemple « Aidant numérique — niveau 1 »."),
                        validators=[DataRequired(REQUIRED), Length(max=200)])
    description = TextAreaField(_l("Description"), filters=[strip_filter],
                                validators=[Optional(), Length(max=4000)])
    qualification_id = SelectField(
        _l("Qualification obtenue à la fin du parcours"), validators=[Optional()],
        description=_l("Facultatif."),
    )
    modules = FieldList(SelectField(validators=[Optional()]), label=_l("Modules du parcours, dans l'ordre"),
                        max_entries=MAX_PATH_ROWS)

    def __init__(
        self, *args: object, owner: Tenant | None, rows: int, kept: Iterable[tuple[int, str]] = (),
        **kwargs: object,
    ) -> None:
        """``kept``: (id, title) of modules already in the path but no longer
        published, still offered so that saving the path keeps them."""
        super().__init__(*args, **kwargs)
        self.qualification_id.choices = qualification_choices(owner)
        module_choices = [("", str(_l("— Aucun module —")))] + [
            (str(v.module_id), v.title) for v in queries.published_catalogue(owner)
        ] + [(str(module_id), str(_l("%(title)s (non publié)", title=title))) for module_id, title in kept]
        while len(self.modules.entries) < min(rows, MAX_PATH_ROWS):
            self.modules.append_entry()
        for position, entry in enumerate(self.modules.entries, start=1):
            entry.choices = module_choices
            entry.label.text = str(_l("Étape %(n)s", n=position))

    def step_errors(self) -> list[str]:
        """The messages about the list of modules as a whole (the services' refusals)."""
        return [e for e in self.modules.errors if isinstance(e, str)]

    def module_ids(self) -> list[int]:
        return [int(entry.data) for entry in self.modules.entries if entry.data]


def form_errors(form: FlaskForm) -> list[tuple[str, str, str]]:
    """Every error of ``form`` as (field id, label, message), including those
    inside repeated rows (answers of a question, steps of a path), for the
    error summary at the top of a page."""
    found: list[tuple[str, str, str]] = []

    def walk(field: Field) -> None:
        if isinstance(field, FieldList):
            found.extend((field.id, str(field.label.text), str(e))
                         for e in field.errors if not isinstance(e, (list, dict)))
            for entry in field.entries:
                walk(entry)
        elif isinstance(field, FormField):
            for sub in field.form:
                walk(sub)
        else:
            found.extend((field.id, str(field.label.text), str(e)) for e in field.errors)

    for field in form:
        if field.name != "csrf_token":
            walk(field)
    return found
