"""Authoring pages: modules and their versions, lessons, quizzes — and the
helpers that ``authoring_paths.py`` (qualifications, paths) shares.

Each page is written once, as a function of the catalogue it authors
(``owner``), and ``authoring_route`` registers it twice:

- under ``/<tenant_slug>/training/authoring`` for a structure's coordinators,
  who author the structure's own modules (``owner = g.tenant``);
- under ``/supervision/catalogue`` for association staff, who author the shared
  catalogue (``owner = None``).

Templates build links with ``author_url(endpoint, **values)``, which stays on
the blueprint of the current request.

Lookups: another structure's object is a 404, as if it did not exist; a shared
object reached from a structure is refused with the services' 403 message.
GET pages never write: editing a published module starts its new draft only
from the POST "Modifier" button.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from volunteer_platform.auth.permissions import require_role, require_supervisor
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError, NotFound
from volunteer_platform.extensions import db
from volunteer_platform.forms import ActionForm
from volunteer_platform.tenants.models import Role, Tenant
from volunteer_platform.training import queries, rendering, services
from volunteer_platform.training.forms.authoring import (
    CHOICE_ROWS,
    MAX_CHOICES,
    LessonForm,
    ModuleForm,
    QuestionForm,
    form_errors,
)
from volunteer_platform.training.models import (
    CompetenceArea,
    Lesson,
    LessonResource,
    Level,
    Module,
    ModuleVersion,
    Path,
    Qualification,
    Question,
    QuestionKind,
)
from volunteer_platform.training.views import bp, catalogue_bp
from volunteer_platform.training.views.common import commit_or_show

# A request carrying a file may be a little bigger than the file itself (the
# lesson text); anything beyond is refused before it is read.
UPLOAD_REQUEST_LIMIT = services.RESOURCE_MAX_BYTES + 1024 * 1024

Authored = TypeVar("Authored", Module, Path)
DraftContent = TypeVar("DraftContent", Lesson, Question)


# --- registration and helpers --------------------------------------------------------


def authoring_route(rule: str, endpoint: str, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """Register ``impl(owner, **url_values)`` on both blueprints under ``endpoint``."""

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        @require_role(Role.COORDINATOR)
        def in_structure(**kwargs: Any) -> Any:
            return impl(g.tenant, **kwargs)

        @require_supervisor
        def in_catalogue(**kwargs: Any) -> Any:
            return impl(None, **kwargs)

        in_structure.__name__ = in_catalogue.__name__ = endpoint
        in_structure.__doc__ = in_catalogue.__doc__ = impl.__doc__
        bp.add_url_rule("/authoring" + rule, endpoint, in_structure, methods=list(methods))
        catalogue_bp.add_url_rule(rule, endpoint, in_catalogue, methods=list(methods))
        return impl

    return register


def author_url(endpoint: str, **values: Any) -> str:
    """The URL of an authoring page on the current request's blueprint."""
    return url_for(f"{request.blueprint}.{endpoint}", **values)


def render_authoring(template: str, owner: Tenant | None, status: int = 200, **context: Any) -> Any:
    """An authoring page, with what every one uses: the catalogue's owner,
    ``author_url``, the CSRF form of its buttons and the error summary helper."""
    return render_template(
        f"training/authoring/{template}", owner=owner, author_url=author_url,
        action_form=ActionForm(formdata=None), form_errors=form_errors, **context,
    ), status


def action_confirmed() -> bool:
    """Did the button's POST carry a valid CSRF token?"""
    return ActionForm().validate_on_submit()


def authored_or_404(model: type[Authored], ident: int, owner: Tenant | None) -> Authored:
    """A module or path of ``owner``'s catalogue. Another structure's does not
    exist (404); a shared one, seen from a structure, is refused with the
    services' message (403)."""
    try:
        item = queries.get_visible(model, ident, owner)
    except NotFound:
        abort(404)
    if item.tenant_id is not None and (owner is None or item.tenant_id != owner.id):
        abort(404)
    services.check_can_author(item.tenant_id, owner)
    return item


def _module(owner: Tenant | None, module_id: int) -> Module:
    return authored_or_404(Module, module_id, owner)


def _version(owner: Tenant | None, module_id: int, version_id: int, *, draft_only: bool) -> ModuleVersion:
    """A version of the module, with its lessons and questions; 404 if it is
    not one of this module's (or not a draft, for editing pages)."""
    module = _module(owner, module_id)
    version = db.session.scalars(
        select(ModuleVersion)
        .where(ModuleVersion.id == version_id, ModuleVersion.module_id == module.id)
        .options(
            selectinload(ModuleVersion.lessons).selectinload(Lesson.resources),
            selectinload(ModuleVersion.questions).selectinload(Question.choices),
            joinedload(ModuleVersion.qualification),
        )
    ).one_or_none()
    if version is None or (draft_only and not version.is_draft):
        abort(404)
    return version


def _in_draft(model: type[DraftContent], ident: int, owner: Tenant | None) -> DraftContent:
    """A lesson or question of a draft this ``owner`` authors (404 otherwise)."""
    item = db.session.get(model, ident)
    if item is None:
        abort(404)
    _module(owner, item.version.module_id)
    if not item.version.is_draft:
        abort(404)
    return item


def _lesson(owner: Tenant | None, lesson_id: int) -> Lesson:
    return _in_draft(Lesson, lesson_id, owner)


def _question(owner: Tenant | None, question_id: int) -> Question:
    return _in_draft(Question, question_id, owner)


def optional_id(value: str | None) -> int | None:
    """A select's value: an id, or None for the empty choice."""
    return int(value) if value else None


def _version_url(version: ModuleVersion, anchor: str | None = None) -> str:
    return author_url("author_version", module_id=version.module_id, version_id=version.id, _anchor=anchor)


@dataclass
class ModuleRow:
    """A module of the list, with the versions that tell where it stands."""

    module: Module
    published: ModuleVersion | None
    draft: ModuleVersion | None

    @property
    def current(self) -> ModuleVersion:
        return self.draft or self.published or self.module.versions[-1]

    @property
    def title(self) -> str:
        return (self.published or self.current).title


def module_row(module: Module) -> ModuleRow:
    published = [v for v in module.versions if not v.is_draft]
    drafts = [v for v in module.versions if v.is_draft]
    return ModuleRow(module, published[-1] if published else None, drafts[0] if drafts else None)


# --- module list and shared catalogue ------------------------------------------------------


@authoring_route("/", "author_modules")
def module_list(owner: Tenant | None) -> Any:
    """The catalogue being authored; for a structure, the shared modules it may copy."""
    rows = sorted((module_row(m) for m in queries.authored_modules(owner)), key=lambda r: r.title.lower())
    shared: list[ModuleVersion] = []
    copied_ids: set[int] = set()
    if owner is not None:
        shared = queries.published_catalogue(None)
        copied_ids = {r.module.copied_from_id for r in rows if r.module.copied_from_id}
    qualifications = list(db.session.scalars(queries.owned(Qualification, owner).order_by(Qualification.name)))
    return render_authoring("modules.html", owner, rows=rows, shared=shared, copied_ids=copied_ids,
                            qualifications=qualifications)


@bp.post("/authoring/shared/<int:module_id>/copy")
@require_role(Role.COORDINATOR)
def author_copy(module_id: int) -> Any:
    """Copy a shared module into the structure's catalogue, as a draft to adapt."""
    try:
        source = queries.get_visible(Module, module_id, g.tenant)
    except NotFound:
        abort(404)
    if not action_confirmed():
        return redirect(url_for("training.author_modules"))
    try:
        copy = services.copy_module(source, g.tenant, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        if isinstance(error, NotFound):
            abort(404)
        flash(str(error.message), "error")
        return module_list(g.tenant)[0], error.status_code
    db.session.commit()
    flash(_("Le module « %(title)s » a été copié dans votre catalogue, en brouillon. "
            "Adaptez-le puis publiez-le.", title=copy.versions[0].title), "success")
    return redirect(url_for("training.author_module", module_id=copy.id))


# --- modules --------------------------------------------------------------------------------


def _version_fields(form: ModuleForm) -> services.VersionFields:
    return services.VersionFields(
        title=form.title.data or "",
        competence_area=CompetenceArea(form.competence_area.data),
        level=Level(form.level.data),
        summary=form.summary.data or "",
        objectives=form.objectives.data or "",
        duration_minutes=form.duration_minutes.data,
        pass_mark=form.pass_mark.data,
        requires_attendance=bool(form.requires_attendance.data),
        qualification_id=optional_id(form.qualification_id.data),
    )


@authoring_route("/modules/new", "author_module_new", ("GET", "POST"))
def module_new(owner: Tenant | None) -> Any:
    form = ModuleForm(owner=owner)

    def save() -> tuple[str, str]:
        version = services.create_module(owner, _version_fields(form), now=utcnow()).versions[0]
        return (_("Le module « %(title)s » est créé, en brouillon. Ajoutez-lui des leçons.", title=version.title),
                _version_url(version))

    done, status = commit_or_show(form, save)
    return done or render_authoring("module_form.html", owner, status, form=form)


@authoring_route("/modules/<int:module_id>", "author_module")
def module_page(owner: Tenant | None, module_id: int, status: int = 200) -> Any:
    """Where the module stands: its versions and what can be done next."""
    module = _module(owner, module_id)
    return render_authoring("module.html", owner, status, row=module_row(module), module=module)


def _module_action(owner: Tenant | None, module_id: int, act: Callable[[Module], tuple[str | None, str]]) -> Any:
    """A button of the module's page. ``act`` calls the service and returns the
    success message (None for none) and the URL to go to; a refusal shows the
    module's page again with its message. A missing CSRF token changes nothing."""
    module = _module(owner, module_id)
    if not action_confirmed():
        return redirect(author_url("author_module", module_id=module.id))
    try:
        message, next_url = act(module)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return module_page(owner, module_id, status=error.status_code)
    db.session.commit()
    if message:
        flash(message, "success")
    return redirect(next_url)


@authoring_route("/modules/<int:module_id>/edit", "author_module_edit", ("POST",))
def module_edit(owner: Tenant | None, module_id: int) -> Any:
    """Open the draft to edit, creating it from the published version if needed."""

    def act(module: Module) -> tuple[str | None, str]:
        had_draft = queries.draft_version(module) is not None
        draft = services.editable_version(module, owner, now=utcnow())
        message = None if had_draft else _(
            "La version %(n)s est créée en brouillon. La version publiée reste visible jusqu'à la "
            "publication.", n=draft.number)
        return message, _version_url(draft)

    return _module_action(owner, module_id, act)


@authoring_route("/modules/<int:module_id>/versions/<int:version_id>", "author_version", ("GET", "POST"))
def version_edit(owner: Tenant | None, module_id: int, version_id: int) -> Any:
    """The draft's page: its details, lessons and questions."""
    version = _version(owner, module_id, version_id, draft_only=True)
    form = ModuleForm(owner=owner, obj=version)
    if request.method == "GET":
        form.competence_area.data = version.competence_area.value
        form.level.data = version.level.value
        form.qualification_id.data = str(version.qualification_id or "")

    def save() -> tuple[str, str]:
        services.update_version(version, _version_fields(form), owner)
        return _("Les informations du module sont enregistrées."), _version_url(version)

    done, status = commit_or_show(form, save)
    if done:
        return done
    published = queries.latest_published_version(version.module)
    return render_authoring("version.html", owner, status, form=form, version=version, module=version.module,
                            published=published)


@authoring_route("/modules/<int:module_id>/versions/<int:version_id>/preview", "author_preview")
def preview(owner: Tenant | None, module_id: int, version_id: int) -> Any:
    """The version as a learner sees it, with the right answers shown to the author."""
    version = _version(owner, module_id, version_id, draft_only=False)
    lessons = [(lesson, rendering.render_markdown(lesson.body)) for lesson in version.lessons]
    return render_authoring("preview.html", owner, version=version, module=version.module, lessons=lessons)


@authoring_route("/modules/<int:module_id>/publish", "author_publish", ("POST",))
def publish(owner: Tenant | None, module_id: int) -> Any:
    def act(module: Module) -> tuple[str | None, str]:
        version = services.publish(module, owner, now=utcnow())
        return (_("La version %(n)s de « %(title)s » est publiée : c'est celle que suivent désormais les "
                  "bénévoles.", n=version.number, title=version.title),
                author_url("author_module", module_id=module.id))

    return _module_action(owner, module_id, act)


@authoring_route("/modules/<int:module_id>/archive", "author_archive", ("POST",))
def archive(owner: Tenant | None, module_id: int) -> Any:
    """Archive (archived=1) or bring back (archived=0) a module."""
    archived = request.form.get("archived") == "1"

    def act(module: Module) -> tuple[str | None, str]:
        services.set_archived(module, owner, archived)
        return (_("Le module est archivé : il n'est plus proposé. Les attestations déjà délivrées restent "
                  "valables.") if archived else _("Le module est de nouveau proposé."),
                author_url("author_module", module_id=module.id))

    return _module_action(owner, module_id, act)


@authoring_route("/modules/<int:module_id>/discard", "author_discard", ("POST",))
def discard(owner: Tenant | None, module_id: int) -> Any:
    """Abandon the draft of a published module."""

    def act(module: Module) -> tuple[str | None, str]:
        services.discard_draft(module, owner)
        return (_("Le brouillon est abandonné. La version publiée reste inchangée."),
                author_url("author_module", module_id=module.id))

    return _module_action(owner, module_id, act)


# --- lessons and their files ------------------------------------------------------------------


UPLOAD_ENDPOINTS = {"author_lesson_new", "author_lesson"}


def _cap_upload_size(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Cap the size of requests carrying a file. URL value preprocessors run
    before any ``before_request`` hook, so the cap holds before anything (the
    CSRF check included) reads the body."""
    if endpoint and endpoint.rsplit(".", 1)[-1] in UPLOAD_ENDPOINTS:
        request.max_content_length = UPLOAD_REQUEST_LIMIT


bp.url_value_preprocessor(_cap_upload_size)
catalogue_bp.url_value_preprocessor(_cap_upload_size)


def _upload_fits() -> bool:
    """Parse the request now; False if it is bigger than the cap."""
    try:
        request.files  # noqa: B018
    except RequestEntityTooLarge:
        return False
    return True


def _refused_upload(owner: Tenant | None, version: ModuleVersion, lesson: Lesson | None) -> Any | None:
    """The lesson form again (413) when the request is over the size cap; None when it fits."""
    if request.method != "POST" or _upload_fits():
        return None
    form = LessonForm(formdata=None, obj=lesson)
    form.file.errors = [_("Le fichier dépasse la taille maximale de 5 Mo. Rien n'a été enregistré : "
                          "réduisez le fichier puis recommencez.")]
    return render_authoring("lesson_form.html", owner, 413, form=form, version=version, lesson=lesson)


def _attach_upload(form: LessonForm, lesson: Lesson, owner: Tenant | None) -> None:
    upload = form.file.data
    if upload:
        # Read one byte more than allowed: enough for the service to refuse a bigger file.
        data = upload.stream.read(services.RESOURCE_MAX_BYTES + 1)
        services.add_resource(lesson, owner, title=form.resource_title.data or "",
                              filename=upload.filename or "", data=data)


@authoring_route("/modules/<int:module_id>/versions/<int:version_id>/lessons/new", "author_lesson_new",
                 ("GET", "POST"))
def lesson_new(owner: Tenant | None, module_id: int, version_id: int) -> Any:
    version = _version(owner, module_id, version_id, draft_only=True)
    refused = _refused_upload(owner, version, None)
    if refused is not None:
        return refused
    form = LessonForm()

    def save() -> tuple[str, str]:
        lesson = services.add_lesson(version, owner, title=form.title.data, body=form.body.data or "")
        _attach_upload(form, lesson, owner)
        return _("La leçon « %(title)s » est ajoutée.", title=lesson.title), _version_url(version, "lecons")

    done, status = commit_or_show(form, save)
    return done or render_authoring("lesson_form.html", owner, status, form=form, version=version, lesson=None)


@authoring_route("/lessons/<int:lesson_id>", "author_lesson", ("GET", "POST"))
def lesson_edit(owner: Tenant | None, lesson_id: int) -> Any:
    lesson = _lesson(owner, lesson_id)
    version = lesson.version
    refused = _refused_upload(owner, version, lesson)
    if refused is not None:
        return refused
    form = LessonForm(obj=lesson)

    def save() -> tuple[str, str]:
        services.update_lesson(lesson, owner, title=form.title.data, body=form.body.data or "")
        _attach_upload(form, lesson, owner)
        return _("La leçon « %(title)s » est enregistrée.", title=lesson.title), _version_url(version, "lecons")

    done, status = commit_or_show(form, save)
    return done or render_authoring("lesson_form.html", owner, status, form=form, version=version, lesson=lesson)


def _move_offset() -> int:
    return -1 if request.form.get("direction") == "up" else 1


@authoring_route("/lessons/<int:lesson_id>/move", "author_lesson_move", ("POST",))
def lesson_move(owner: Tenant | None, lesson_id: int) -> Any:
    lesson = _lesson(owner, lesson_id)
    if action_confirmed():
        services.move_lesson(lesson, owner, _move_offset())
        db.session.commit()
    return redirect(_version_url(lesson.version, "lecons"))


@authoring_route("/lessons/<int:lesson_id>/delete", "author_lesson_delete", ("POST",))
def lesson_delete(owner: Tenant | None, lesson_id: int) -> Any:
    lesson = _lesson(owner, lesson_id)
    version, title = lesson.version, lesson.title
    if action_confirmed():
        services.delete_lesson(lesson, owner)
        db.session.commit()
        flash(_("La leçon « %(title)s » est supprimée.", title=title), "success")
    return redirect(_version_url(version, "lecons"))


def _resource(owner: Tenant | None, resource_id: int) -> LessonResource:
    resource = db.session.get(LessonResource, resource_id)
    if resource is None:
        abort(404)
    _module(owner, resource.lesson.version.module_id)
    return resource


@authoring_route("/resources/<int:resource_id>", "author_resource")
def resource_download(owner: Tenant | None, resource_id: int) -> Any:
    """Download a lesson's file (any version: the preview of a published one links here too)."""
    resource = _resource(owner, resource_id)
    response = send_file(io.BytesIO(resource.data), mimetype=resource.content_type, as_attachment=True,
                         download_name=resource.filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@authoring_route("/resources/<int:resource_id>/delete", "author_resource_delete", ("POST",))
def resource_delete(owner: Tenant | None, resource_id: int) -> Any:
    resource = _resource(owner, resource_id)
    lesson = resource.lesson
    if not lesson.version.is_draft:
        abort(404)
    if action_confirmed():
        services.delete_resource(resource, owner)
        db.session.commit()
        flash(_("Le document est retiré de la leçon."), "success")
    return redirect(author_url("author_lesson", lesson_id=lesson.id))


# --- questions --------------------------------------------------------------------------------


def _question_data(question: Question) -> dict[str, Any]:
    rows = [{"text": c.text, "is_correct": c.is_correct} for c in question.choices][:MAX_CHOICES]
    rows += [{"text": "", "is_correct": False}] * max(0, CHOICE_ROWS - len(rows))
    return {"prompt": question.prompt, "kind": question.kind.value, "feedback": question.feedback,
            "choices": rows}


@authoring_route("/modules/<int:module_id>/versions/<int:version_id>/questions/new", "author_question_new",
                 ("GET", "POST"))
def question_new(owner: Tenant | None, module_id: int, version_id: int) -> Any:
    version = _version(owner, module_id, version_id, draft_only=True)
    form = QuestionForm()

    def save() -> tuple[str, str]:
        services.add_question(version, owner, prompt=form.prompt.data, kind=QuestionKind(form.kind.data),
                              choices=form.choice_rows(), feedback=form.feedback.data or "")
        return _("La question est ajoutée au quiz."), _version_url(version, "quiz")

    done, status = commit_or_show(form, save)
    return done or render_authoring("question_form.html", owner, status, form=form, version=version, question=None)


@authoring_route("/questions/<int:question_id>", "author_question", ("GET", "POST"))
def question_edit(owner: Tenant | None, question_id: int) -> Any:
    question = _question(owner, question_id)
    version = question.version
    form = QuestionForm() if request.method == "POST" else QuestionForm(data=_question_data(question))

    def save() -> tuple[str, str]:
        services.update_question(question, owner, prompt=form.prompt.data, kind=QuestionKind(form.kind.data),
                                 choices=form.choice_rows(), feedback=form.feedback.data or "")
        return _("La question est enregistrée."), _version_url(version, "quiz")

    done, status = commit_or_show(form, save)
    return done or render_authoring("question_form.html", owner, status, form=form, version=version, question=question)


@authoring_route("/questions/<int:question_id>/move", "author_question_move", ("POST",))
def question_move(owner: Tenant | None, question_id: int) -> Any:
    question = _question(owner, question_id)
    if action_confirmed():
        services.move_question(question, owner, _move_offset())
        db.session.commit()
    return redirect(_version_url(question.version, "quiz"))


@authoring_route("/questions/<int:question_id>/delete", "author_question_delete", ("POST",))
def question_delete(owner: Tenant | None, question_id: int) -> Any:
    question = _question(owner, question_id)
    version = question.version
    if action_confirmed():
        services.delete_question(question, owner)
        db.session.commit()
        flash(_("La question est supprimée du quiz."), "success")
    return redirect(_version_url(version, "quiz"))
