"""Authoring pages: modules and their versions, lessons, quizzes, qualifications, paths.

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
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from volunteer_platform.auth.permissions import require_role, require_supervisor
from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError, NotFound
from volunteer_platform.extensions import db
from volunteer_platform.forms import ActionForm, apply_domain_error
from volunteer_platform.tenants.models import Role, Tenant
from volunteer_platform.training import queries, rendering, services
from volunteer_platform.training.forms.authoring import (
    CHOICE_ROWS,
    MAX_CHOICES,
    LessonForm,
    ModuleForm,
    PathForm,
    QualificationForm,
    QuestionForm,
    form_errors,
)
from volunteer_platform.training.models import (
    CatalogueStatus,
    CompetenceArea,
    Lesson,
    LessonResource,
    Level,
    Module,
    ModuleVersion,
    Path,
    PathStep,
    Qualification,
    Question,
    QuestionKind,
)
from volunteer_platform.training.views import bp, catalogue_bp

# A request carrying a file may be a little bigger than the file itself (the
# lesson text); anything beyond is refused before it is read.
UPLOAD_REQUEST_LIMIT = services.RESOURCE_MAX_BYTES + 1024 * 1024
PATH_SPARE_ROWS = 3
PATH_MIN_ROWS = 5


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


def _render(template: str, owner: Tenant | None, status: int = 200, **context: Any) -> Any:
    return render_template(
        f"training/authoring/{template}", owner=owner, author_url=author_url,
        action_form=ActionForm(formdata=None), form_errors=form_errors, **context,
    ), status


def _status(form: Any, error: DomainError | None = None) -> int:
    if form.errors:
        return 422
    return error.status_code if error is not None else 200


def _action_ok() -> bool:
    return ActionForm().validate_on_submit()


def _check_owned(tenant_id: int | None, owner: Tenant | None) -> None:
    """Another structure's content does not exist (404); the shared catalogue,
    seen from a structure, is refused with the services' message (403)."""
    if tenant_id is not None and (owner is None or tenant_id != owner.id):
        abort(404)
    services.check_can_author(tenant_id, owner)


def _module(owner: Tenant | None, module_id: int) -> Module:
    try:
        module = queries.get_visible(Module, module_id, owner)
    except NotFound:
        abort(404)
    _check_owned(module.tenant_id, owner)
    return module


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


def _lesson(owner: Tenant | None, lesson_id: int) -> Lesson:
    """A lesson of a draft this ``owner`` authors (404 otherwise)."""
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        abort(404)
    _module(owner, lesson.version.module_id)
    if not lesson.version.is_draft:
        abort(404)
    return lesson


def _question(owner: Tenant | None, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    _module(owner, question.version.module_id)
    if not question.version.is_draft:
        abort(404)
    return question


def _path(owner: Tenant | None, path_id: int) -> Path:
    try:
        path = queries.get_visible(Path, path_id, owner)
    except NotFound:
        abort(404)
    _check_owned(path.tenant_id, owner)
    return path


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


def _row(module: Module) -> ModuleRow:
    published = [v for v in module.versions if not v.is_draft]
    drafts = [v for v in module.versions if v.is_draft]
    return ModuleRow(module, published[-1] if published else None, drafts[0] if drafts else None)


# --- module list and shared catalogue ------------------------------------------------------


@authoring_route("/", "author_modules")
def module_list(owner: Tenant | None) -> Any:
    """The catalogue being authored; for a structure, the shared modules it may copy."""
    rows = sorted((_row(m) for m in queries.authored_modules(owner)), key=lambda r: r.title.lower())
    shared: list[ModuleVersion] = []
    copied_ids: set[int] = set()
    if owner is not None:
        shared = [v for v in queries.published_versions(owner) if v.module.tenant_id is None]
        copied_ids = {r.module.copied_from_id for r in rows if r.module.copied_from_id}
    qualifications = list(db.session.scalars(queries.owned(Qualification, owner).order_by(Qualification.name)))
    return _render("modules.html", owner, rows=rows, shared=shared, copied_ids=copied_ids,
                   qualifications=qualifications)


@bp.post("/authoring/shared/<int:module_id>/copy")
@require_role(Role.COORDINATOR)
def author_copy(module_id: int) -> Any:
    """Copy a shared module into the structure's catalogue, as a draft to adapt."""
    try:
        source = queries.get_visible(Module, module_id, g.tenant)
    except NotFound:
        abort(404)
    if not _action_ok():
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
        qualification_id=int(form.qualification_id.data) if form.qualification_id.data else None,
    )


@authoring_route("/modules/new", "author_module_new", ("GET", "POST"))
def module_new(owner: Tenant | None) -> Any:
    form = ModuleForm(owner=owner)
    if form.validate_on_submit():
        try:
            module = services.create_module(owner, _version_fields(form), now=utcnow())
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            version = module.versions[0]
            flash(_("Le module « %(title)s » est créé, en brouillon. Ajoutez-lui des leçons.",
                    title=version.title), "success")
            return redirect(_version_url(version))
    return _render("module_form.html", owner, _status(form), form=form)


@authoring_route("/modules/<int:module_id>", "author_module")
def module_page(owner: Tenant | None, module_id: int, status: int = 200) -> Any:
    """Where the module stands: its versions and what can be done next."""
    module = _module(owner, module_id)
    return _render("module.html", owner, status, row=_row(module), module=module)


@authoring_route("/modules/<int:module_id>/edit", "author_module_edit", ("POST",))
def module_edit(owner: Tenant | None, module_id: int) -> Any:
    """Open the draft to edit, creating it from the published version if needed."""
    module = _module(owner, module_id)
    if not _action_ok():
        return redirect(author_url("author_module", module_id=module.id))
    had_draft = queries.draft_version(module) is not None
    try:
        draft = services.editable_version(module, owner, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return module_page(owner, module_id, status=error.status_code)
    db.session.commit()
    if not had_draft:
        flash(_("La version %(n)s est créée en brouillon. La version publiée reste visible jusqu'à la "
                "publication.", n=draft.number), "success")
    return redirect(_version_url(draft))


@authoring_route("/modules/<int:module_id>/versions/<int:version_id>", "author_version", ("GET", "POST"))
def version_edit(owner: Tenant | None, module_id: int, version_id: int) -> Any:
    """The draft's page: its details, lessons and questions."""
    version = _version(owner, module_id, version_id, draft_only=True)
    form = ModuleForm(owner=owner, obj=version)
    if request.method == "GET":
        form.competence_area.data = version.competence_area.value
        form.level.data = version.level.value
        form.qualification_id.data = str(version.qualification_id or "")
    if form.validate_on_submit():
        try:
            services.update_version(version, _version_fields(form), owner)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Les informations du module sont enregistrées."), "success")
            return redirect(_version_url(version))
    published = queries.latest_published_version(version.module)
    return _render("version.html", owner, _status(form), form=form, version=version,
                   module=version.module, published=published)


@authoring_route("/modules/<int:module_id>/versions/<int:version_id>/preview", "author_preview")
def preview(owner: Tenant | None, module_id: int, version_id: int) -> Any:
    """The version as a learner sees it, with the right answers shown to the author."""
    version = _version(owner, module_id, version_id, draft_only=False)
    lessons = [(lesson, rendering.render_markdown(lesson.body)) for lesson in version.lessons]
    return _render("preview.html", owner, version=version, module=version.module, lessons=lessons)


@authoring_route("/modules/<int:module_id>/publish", "author_publish", ("POST",))
def publish(owner: Tenant | None, module_id: int) -> Any:
    module = _module(owner, module_id)
    if not _action_ok():
        return redirect(author_url("author_module", module_id=module.id))
    try:
        version = services.publish(module, owner, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return module_page(owner, module_id, status=error.status_code)
    db.session.commit()
    flash(_("La version %(n)s de « %(title)s » est publiée : c'est celle que suivent désormais les "
            "bénévoles.",
            n=version.number, title=version.title), "success")
    return redirect(author_url("author_module", module_id=module.id))


@authoring_route("/modules/<int:module_id>/archive", "author_archive", ("POST",))
def archive(owner: Tenant | None, module_id: int) -> Any:
    """Archive (archived=1) or bring back (archived=0) a module."""
    module = _module(owner, module_id)
    archived = request.form.get("archived") == "1"
    if _action_ok():
        try:
            services.set_archived(module, owner, archived)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return module_page(owner, module_id, status=error.status_code)
        db.session.commit()
        flash(_("Le module est archivé : il n'est plus proposé. Les attestations déjà délivrées restent "
                "valables.") if archived else _("Le module est de nouveau proposé."), "success")
    return redirect(author_url("author_module", module_id=module.id))


@authoring_route("/modules/<int:module_id>/discard", "author_discard", ("POST",))
def discard(owner: Tenant | None, module_id: int) -> Any:
    """Abandon the draft of a published module."""
    module = _module(owner, module_id)
    if _action_ok():
        try:
            services.discard_draft(module, owner)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return module_page(owner, module_id, status=error.status_code)
        db.session.commit()
        flash(_("Le brouillon est abandonné. La version publiée reste inchangée."), "success")
    return redirect(author_url("author_module", module_id=module.id))


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


def _too_large(form: LessonForm) -> None:
    form.file.errors = [_("Le fichier dépasse la taille maximale de 5 Mo. Rien n'a été enregistré : "
                          "réduisez le fichier puis recommencez.")]


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
    if request.method == "POST" and not _upload_fits():
        form = LessonForm(formdata=None)
        _too_large(form)
        return _render("lesson_form.html", owner, 413, form=form, version=version, lesson=None)
    form = LessonForm()
    if form.validate_on_submit():
        try:
            lesson = services.add_lesson(version, owner, title=form.title.data, body=form.body.data or "")
            _attach_upload(form, lesson, owner)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("La leçon « %(title)s » est ajoutée.", title=lesson.title), "success")
            return redirect(_version_url(version, "lecons"))
    return _render("lesson_form.html", owner, _status(form), form=form, version=version, lesson=None)


@authoring_route("/lessons/<int:lesson_id>", "author_lesson", ("GET", "POST"))
def lesson_edit(owner: Tenant | None, lesson_id: int) -> Any:
    lesson = _lesson(owner, lesson_id)
    version = lesson.version
    if request.method == "POST" and not _upload_fits():
        form = LessonForm(formdata=None, obj=lesson)
        _too_large(form)
        return _render("lesson_form.html", owner, 413, form=form, version=version, lesson=lesson)
    form = LessonForm(obj=lesson)
    if form.validate_on_submit():
        try:
            services.update_lesson(lesson, owner, title=form.title.data, body=form.body.data or "")
            _attach_upload(form, lesson, owner)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("La leçon « %(title)s » est enregistrée.", title=lesson.title), "success")
            return redirect(_version_url(version, "lecons"))
    return _render("lesson_form.html", owner, _status(form), form=form, version=version, lesson=lesson)


def _move_offset() -> int:
    return -1 if request.form.get("direction") == "up" else 1


@authoring_route("/lessons/<int:lesson_id>/move", "author_lesson_move", ("POST",))
def lesson_move(owner: Tenant | None, lesson_id: int) -> Any:
    lesson = _lesson(owner, lesson_id)
    if _action_ok():
        services.move_lesson(lesson, owner, _move_offset())
        db.session.commit()
    return redirect(_version_url(lesson.version, "lecons"))


@authoring_route("/lessons/<int:lesson_id>/delete", "author_lesson_delete", ("POST",))
def lesson_delete(owner: Tenant | None, lesson_id: int) -> Any:
    lesson = _lesson(owner, lesson_id)
    version, title = lesson.version, lesson.title
    if _action_ok():
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
    if _action_ok():
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
    if form.validate_on_submit():
        try:
            services.add_question(version, owner, prompt=form.prompt.data, kind=QuestionKind(form.kind.data),
                                  choices=form.choice_rows(), feedback=form.feedback.data or "")
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("La question est ajoutée au quiz."), "success")
            return redirect(_version_url(version, "quiz"))
    return _render("question_form.html", owner, _status(form), form=form, version=version, question=None)


@authoring_route("/questions/<int:question_id>", "author_question", ("GET", "POST"))
def question_edit(owner: Tenant | None, question_id: int) -> Any:
    question = _question(owner, question_id)
    version = question.version
    form = QuestionForm() if request.method == "POST" else QuestionForm(data=_question_data(question))
    if form.validate_on_submit():
        try:
            services.update_question(question, owner, prompt=form.prompt.data, kind=QuestionKind(form.kind.data),
                                     choices=form.choice_rows(), feedback=form.feedback.data or "")
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("La question est enregistrée."), "success")
            return redirect(_version_url(version, "quiz"))
    return _render("question_form.html", owner, _status(form), form=form, version=version, question=question)


@authoring_route("/questions/<int:question_id>/move", "author_question_move", ("POST",))
def question_move(owner: Tenant | None, question_id: int) -> Any:
    question = _question(owner, question_id)
    if _action_ok():
        services.move_question(question, owner, _move_offset())
        db.session.commit()
    return redirect(_version_url(question.version, "quiz"))


@authoring_route("/questions/<int:question_id>/delete", "author_question_delete", ("POST",))
def question_delete(owner: Tenant | None, question_id: int) -> Any:
    question = _question(owner, question_id)
    version = question.version
    if _action_ok():
        services.delete_question(question, owner)
        db.session.commit()
        flash(_("La question est supprimée du quiz."), "success")
    return redirect(_version_url(version, "quiz"))


# --- qualifications ------------------------------------------------------------------------------


@authoring_route("/qualifications/new", "author_qualification_new", ("GET", "POST"))
def qualification_new(owner: Tenant | None) -> Any:
    form = QualificationForm()
    if form.validate_on_submit():
        try:
            qualification = services.create_qualification(
                owner, name=form.name.data, description=form.description.data,
                validity_months=form.validity_months.data, now=utcnow(),
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("La qualification « %(name)s » est créée : vous pouvez la choisir dans un module ou un "
                    "parcours.", name=qualification.name), "success")
            return redirect(author_url("author_modules", _anchor="qualifications"))
    return _render("qualification_form.html", owner, _status(form), form=form)


# --- paths ---------------------------------------------------------------------------------------


@authoring_route("/paths", "author_paths")
def path_list(owner: Tenant | None) -> Any:
    paths = list(db.session.scalars(
        queries.owned(Path, owner).options(selectinload(Path.steps), joinedload(Path.qualification))
        .order_by(Path.title)
    ).unique())
    return _render("paths.html", owner, paths=paths)


def _path_rows(count: int) -> int:
    return max(PATH_MIN_ROWS, count + PATH_SPARE_ROWS)


@authoring_route("/paths/new", "author_path_new", ("GET", "POST"))
def path_new(owner: Tenant | None) -> Any:
    form = PathForm(owner=owner, rows=_path_rows(0))
    if form.validate_on_submit():
        qualification = form.qualification_id.data
        try:
            path = services.create_path(
                owner, title=form.title.data, description=form.description.data or "",
                module_ids=form.module_ids(), qualification_id=int(qualification) if qualification else None,
                now=utcnow(),
            )
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Le parcours « %(title)s » est créé, en brouillon. Publiez-le pour le proposer.",
                    title=path.title), "success")
            return redirect(author_url("author_path", path_id=path.id))
    return _render("path_form.html", owner, _status(form), form=form, path=None)


def _path_steps(path: Path) -> list[PathStep]:
    return list(db.session.scalars(
        select(PathStep).where(PathStep.path_id == path.id)
        .options(joinedload(PathStep.module).selectinload(Module.versions)).order_by(PathStep.position)
    ).unique())


def _path_form(owner: Tenant | None, path: Path, steps: list[PathStep], *, submitted: bool) -> PathForm:
    # Modules of the path that are no longer published stay choosable, so that saving keeps them.
    kept = [(s.module_id, _row(s.module).title) for s in steps if s.module.status is not CatalogueStatus.PUBLISHED]
    rows = _path_rows(len(steps))
    if submitted:
        return PathForm(owner=owner, rows=rows, kept=kept)
    data = {"title": path.title, "description": path.description,
            "qualification_id": str(path.qualification_id or ""),
            "modules": [str(s.module_id) for s in steps]}
    return PathForm(formdata=None, owner=owner, rows=rows, kept=kept, data=data)


@authoring_route("/paths/<int:path_id>", "author_path", ("GET", "POST"))
def path_edit(owner: Tenant | None, path_id: int) -> Any:
    path = _path(owner, path_id)
    steps = _path_steps(path)
    form = _path_form(owner, path, steps, submitted=request.method == "POST")
    if form.validate_on_submit():
        qualification = form.qualification_id.data
        try:
            services.update_path(path, owner, title=form.title.data, description=form.description.data or "",
                                 qualification_id=int(qualification) if qualification else None)
            services.set_path_modules(path, owner, form.module_ids())
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Le parcours « %(title)s » est enregistré.", title=path.title), "success")
            return redirect(author_url("author_path", path_id=path.id))
    return _render("path_form.html", owner, _status(form), form=form, path=path, steps=steps)


@authoring_route("/paths/<int:path_id>/status", "author_path_status", ("POST",))
def path_status(owner: Tenant | None, path_id: int) -> Any:
    """Publish, archive or bring back to draft a path."""
    path = _path(owner, path_id)
    try:
        status = CatalogueStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    if _action_ok():
        try:
            services.set_path_status(path, owner, status)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            steps = _path_steps(path)
            form = _path_form(owner, path, steps, submitted=False)
            return _render("path_form.html", owner, error.status_code, form=form, path=path, steps=steps)
        db.session.commit()
        messages = {
            CatalogueStatus.PUBLISHED: _("Le parcours est publié."),
            CatalogueStatus.ARCHIVED: _("Le parcours est archivé : il n'est plus proposé. Les attestations "
                                        "déjà délivrées restent valables."),
            CatalogueStatus.DRAFT: _("Le parcours est repassé en brouillon : il n'est plus proposé."),
        }
        flash(messages[status], "success")
    return redirect(author_url("author_path", path_id=path.id))
