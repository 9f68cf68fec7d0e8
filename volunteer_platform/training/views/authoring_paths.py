"""Authoring pages for qualifications and paths, on both catalogues like the
module pages (see ``authoring.py`` for ``authoring_route`` and the lookups).

A path chains published modules in order; a qualification is what a module
or a path leads to."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from volunteer_platform.db import utcnow
from volunteer_platform.errors import DomainError
from volunteer_platform.extensions import db
from volunteer_platform.tenants.models import Tenant
from volunteer_platform.training import queries, services
from volunteer_platform.training.forms.authoring import PathForm, QualificationForm
from volunteer_platform.training.models import CatalogueStatus, Module, Path, PathStep
from volunteer_platform.training.views.authoring import (
    action_confirmed,
    author_url,
    authored_or_404,
    authoring_route,
    module_row,
    optional_id,
    render_authoring,
)
from volunteer_platform.training.views.common import commit_or_show

PATH_SPARE_ROWS = 3
PATH_MIN_ROWS = 5


def _path(owner: Tenant | None, path_id: int) -> Path:
    return authored_or_404(Path, path_id, owner)


# --- qualifications ------------------------------------------------------------------------------


@authoring_route("/qualifications/new", "author_qualification_new", ("GET", "POST"))
def qualification_new(owner: Tenant | None) -> Any:
    form = QualificationForm()

    def save() -> tuple[str, str]:
        qualification = services.create_qualification(
            owner, name=form.name.data, description=form.description.data,
            validity_months=form.validity_months.data, now=utcnow(),
        )
        return (_("La qualification « %(name)s » est créée : vous pouvez la choisir dans un module ou un "
                  "parcours.", name=qualification.name),
                author_url("author_modules", _anchor="qualifications"))

    done, status = commit_or_show(form, save)
    return done or render_authoring("qualification_form.html", owner, status, form=form)


# --- paths ---------------------------------------------------------------------------------------


@authoring_route("/paths", "author_paths")
def path_list(owner: Tenant | None) -> Any:
    paths = list(db.session.scalars(
        queries.owned(Path, owner).options(selectinload(Path.steps), joinedload(Path.qualification))
        .order_by(Path.title)
    ).unique())
    return render_authoring("paths.html", owner, paths=paths)


def _path_rows(count: int) -> int:
    return max(PATH_MIN_ROWS, count + PATH_SPARE_ROWS)


@authoring_route("/paths/new", "author_path_new", ("GET", "POST"))
def path_new(owner: Tenant | None) -> Any:
    form = PathForm(owner=owner, rows=_path_rows(0))

    def save() -> tuple[str, str]:
        path = services.create_path(
            owner, title=form.title.data, description=form.description.data or "",
            module_ids=form.module_ids(), qualification_id=optional_id(form.qualification_id.data),
            now=utcnow(),
        )
        return (_("Le parcours « %(title)s » est créé, en brouillon. Publiez-le pour le proposer.",
                  title=path.title),
                author_url("author_path", path_id=path.id))

    done, status = commit_or_show(form, save)
    return done or render_authoring("path_form.html", owner, status, form=form, path=None)


def _path_steps(path: Path) -> list[PathStep]:
    return list(db.session.scalars(
        select(PathStep).where(PathStep.path_id == path.id)
        .options(joinedload(PathStep.module).selectinload(Module.versions)).order_by(PathStep.position)
    ).unique())


def _path_form(owner: Tenant | None, path: Path, steps: list[PathStep], *, submitted: bool) -> PathForm:
    # Modules of the path that are no longer published stay choosable, so that saving keeps them.
    kept = [(s.module_id, module_row(s.module).title)
            for s in steps if s.module.status is not CatalogueStatus.PUBLISHED]
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

    def save() -> tuple[str, str]:
        services.update_path(path, owner, title=form.title.data, description=form.description.data or "",
                             qualification_id=optional_id(form.qualification_id.data))
        services.set_path_modules(path, owner, form.module_ids())
        return (_("Le parcours « %(title)s » est enregistré.", title=path.title),
                author_url("author_path", path_id=path.id))

    done, status = commit_or_show(form, save)
    return done or render_authoring("path_form.html", owner, status, form=form, path=path, steps=steps)


@authoring_route("/paths/<int:path_id>/status", "author_path_status", ("POST",))
def path_status(owner: Tenant | None, path_id: int) -> Any:
    """Publish, archive or bring back to draft a path."""
    path = _path(owner, path_id)
    try:
        status = CatalogueStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    if action_confirmed():
        try:
            services.set_path_status(path, owner, status)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            steps = _path_steps(path)
            form = _path_form(owner, path, steps, submitted=False)
            return render_authoring("path_form.html", owner, error.status_code, form=form, path=path, steps=steps)
        db.session.commit()
        messages = {
            CatalogueStatus.PUBLISHED: _("Le parcours est publié."),
            CatalogueStatus.ARCHIVED: _("Le parcours est archivé : il n'est plus proposé. Les attestations "
                                        "déjà délivrées restent valables."),
            CatalogueStatus.DRAFT: _("Le parcours est repassé en brouillon : il n'est plus proposé."),
        }
        flash(messages[status], "success")
    return redirect(author_url("author_path", path_id=path.id))
